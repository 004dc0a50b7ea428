"""Test data of the weighted IPW/AIPW cross-check against R survey (committed CSV).

    python tests/reference/make_impact_weights_data.py

A stratified two-stage sample: 4 strata, 8 to 12 PSUs each, 10 to 30 units per PSU, unequal
weights that depend on a covariate (so the weighted and unweighted estimands differ), a PSU
shock in the outcome, and receipt that depends on both covariates.
"""
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    rng = np.random.default_rng(20241115)
    rows = []
    for h in range(4):
        for j in range(int(rng.integers(8, 13))):
            m = int(rng.integers(10, 31))
            shock = rng.normal(0, 0.5)
            x1 = rng.normal(0.2 * h, 1, m)
            x2 = rng.binomial(1, 0.4, m)
            w = rng.uniform(20, 60, m) * (1 + 0.8 * (x1 > 0)) * (1 + 0.25 * h)
            p = 1 / (1 + np.exp(-(-0.4 + 0.8 * x1 - 0.6 * x2 + 0.15 * h)))
            dd = rng.binomial(1, p)
            y = 2 + (1.0 + 0.5 * x1) * dd + 1.2 * x1 + 0.7 * x2 + 0.1 * x1**2 + shock + rng.normal(0, 1, m)
            for i in range(m):
                rows.append((h + 1, j + 1, round(w[i], 4), round(x1[i], 6), x2[i], dd[i], round(y[i], 6)))
    pd.DataFrame(rows, columns=["stratum", "psu", "w", "x1", "x2", "d", "y"]).to_csv(
        HERE / "impact_weights_data.csv", index=False)
