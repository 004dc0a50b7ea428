"""Test panel of the doubly robust Callaway-Sant'Anna cross-check against csdid (committed CSV).

    python tests/reference/make_staggered_covariates_data.py

500 units, periods 1-5, cohorts 3, 4, 5 and never treated (0); the cohort depends on two
time-invariant covariates that also shape the outcome's trend (so conditional and unconditional
parallel trends differ); sampling weights, strata and PSUs constant within units.
"""
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    rng = np.random.default_rng(20240615)
    n, T = 500, 5
    x1 = rng.normal(size=n)
    x2 = rng.binomial(1, 0.5, n)
    score = 0.8 * x1 - 0.5 * x2 + rng.logistic(size=n)
    cohort = np.select([score > 1.2, score > 0.4, score > -0.3], [3, 4, 5], 0)
    stratum = rng.integers(1, 5, n)
    psu = stratum * 100 + rng.integers(1, 7, n)
    w = np.round(rng.uniform(10, 40, n) * (1 + 0.5 * x2), 3)
    rows = []
    alpha = rng.normal(size=n)
    for t in range(1, T + 1):
        treated = (cohort > 0) & (t >= cohort)
        y = alpha + 0.3 * t + 0.4 * t * x1 - 0.2 * t * x2 + treated * (1.0 + 0.25 * (t - cohort)) + rng.normal(0, 1, n)
        for i in range(n):
            rows.append((i + 1, t, cohort[i], round(y[i], 6), round(x1[i], 6), x2[i], w[i], stratum[i], psu[i]))
    pd.DataFrame(rows, columns=["id", "period", "cohort", "y", "x1", "x2", "w", "stratum", "psu"]).to_csv(
        HERE / "staggered_covariates_data.csv", index=False)
