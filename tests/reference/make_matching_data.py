"""Test data of the matching cross-check against R's MatchIt and Matching (committed CSV).

    python tests/reference/make_matching_data.py
"""
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    rng = np.random.default_rng(23)
    n = 800
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    x3 = (rng.random(n) < 0.4).astype(int)
    d = (rng.random(n) < 1 / (1 + np.exp(-(-0.7 + 0.8 * x1 - 0.5 * x2 + 0.6 * x3)))).astype(int)
    y = 2.0 + 1.0 * d + 1.2 * x1 + 0.7 * x2 - 0.5 * x3 + 0.5 * d * x1 + rng.normal(size=n)
    pd.DataFrame({"y": y.round(6), "d": d, "x1": x1.round(6), "x2": x2.round(6), "x3": x3}).to_csv(
        HERE / "matching_data.csv", index=False)
