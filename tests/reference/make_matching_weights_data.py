"""Test data of the weighted-matching cross-check against R's MatchIt (``s.weights``), committed CSV.

    python tests/reference/make_matching_weights_data.py

Sampling weights depend on a covariate (x3 units are under-sampled, so they carry larger weights)
and the effect varies with x1, so the weighted and unweighted ATT differ.
"""
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    rng = np.random.default_rng(41)
    n = 900
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    x3 = (rng.random(n) < 0.4).astype(int)
    d = (rng.random(n) < 1 / (1 + np.exp(-(-0.6 + 0.8 * x1 - 0.5 * x2 + 0.6 * x3)))).astype(int)
    y = 2.0 + 1.0 * d + 1.2 * x1 + 0.7 * x2 - 0.5 * x3 + 0.8 * d * x3 + 0.5 * d * x1 + rng.normal(size=n)
    w = np.where(x3 == 1, 3.0, 1.0) * rng.uniform(0.5, 1.5, n)
    pd.DataFrame({"y": y.round(6), "d": d, "x1": x1.round(6), "x2": x2.round(6), "x3": x3,
                  "w": w.round(6)}).to_csv(HERE / "matching_weights_data.csv", index=False)
