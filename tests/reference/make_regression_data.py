"""Test data of the cluster-robust regression cross-check (committed CSV).

    python tests/reference/make_regression_data.py
"""
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    rng = np.random.default_rng(11)
    n, G = 600, 24
    g = rng.integers(0, G, n)
    f = rng.integers(0, 8, n)
    x = rng.normal(size=n) + 0.3 * f
    d = (rng.random(n) < 0.3 + 0.02 * g).astype(int)
    y = 1.0 + 0.5 * d + 0.8 * x + 0.2 * f + rng.normal(0, 0.6, G)[g] + rng.normal(size=n)
    w = rng.uniform(0.5, 3.0, n)
    pd.DataFrame({"y": y.round(6), "d": d, "x": x.round(6), "f": f, "g": g, "w": w.round(4)}).to_csv(
        HERE / "regression_data.csv", index=False)
