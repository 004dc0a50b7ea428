"""Why the PKH intervals under-covered on the synthetic province: a small-sample effect.

The synthetic province's PKH comparison (last panel wave, households with a PKH component) is
simulated here without the province: deciles oversampled 3:1 in 1-4, the programme's receipt
rules (eligible deciles 1-3: logit 1.3 + 0.3 female head + 0.15 min(components, 4); above:
-2 - 0.45 (decile - 4)), and a rare binary outcome (children out of school: 16% where there are
school-age children, falling with welfare, halved by PKH). Receipt depends only on the
covariates, the propensity model is right, and the truth is the sample ATT, so any shortfall in
coverage belongs to the interval, not to the truth file.

Run: ``python tests/reference/coverage_small_sample.py [REPS]`` (about 15 minutes at 400 reps on
two cores). Output (2026-11-28, 400 replications each, Monte Carlo SE of a coverage near 95%
about 1.1 points) is in coverage_small_sample.txt.
"""
from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd
from scipy.special import expit

from welfare_eval import impact

COV = ["elig", "female_elig", "comp_elig", "decile_nonelig", "pmt_score"]


def draw(n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, float]:
    dec = rng.choice(np.arange(1, 11), n, p=np.r_[[3] * 4, [1] * 6] / 18)
    pmt = (dec - 1 + rng.random(n)) / 10
    fem = rng.random(n) < 0.2
    nc = rng.integers(1, 6, n)
    elig = dec <= 3
    p = np.where(elig, expit(1.3 + 0.3 * fem + 0.15 * np.minimum(nc, 4)), expit(-2 - 0.45 * (dec - 4)))
    d = (rng.random(n) < p).astype(float)
    a = -2 * pmt + rng.normal(0, 0.3, n)
    school = rng.random(n) < 0.76
    q0 = np.where(school, np.clip(0.16 - 0.15 * (a - a.mean()), 0.06, 0.4), 0.0)
    y = (rng.random(n) < np.where(d == 1, 0.5 * q0, q0)).astype(float)
    e = elig.astype(float)
    df = pd.DataFrame({"y": y, "d": d, "elig": e, "female_elig": fem * e, "comp_elig": np.minimum(nc, 4) * e,
                       "decile_nonelig": dec * (1 - e), "pmt_score": pmt})
    return df, float((-0.5 * q0[d == 1]).mean())


def covers(e, truth: float, normal: bool) -> bool:
    lo, hi = (e.estimate - 1.959964 * e.std_error, e.estimate + 1.959964 * e.std_error) if normal else e.conf_int()
    return lo <= truth <= hi


def main(reps: int) -> None:
    for n in (940, 4700):
        rng = np.random.default_rng(n)
        rows, t0 = [], time.perf_counter()
        for _ in range(reps):
            df, truth = draw(n, rng)
            a = impact.aipw(df, outcome="y", treatment="d", covariates=COV, estimand="ATT", bootstrap=499)
            m = impact.matching(df, outcome="y", treatment="d", covariates=COV, n_neighbors=4)
            ess = next(g.value for g in a.diagnostics if g.name == "effective_sample")
            rows.append((covers(a, truth, True), covers(a, truth, False), covers(m, truth, True), ess,
                         a.estimate - truth, a.std_error))
        r = np.array(rows, dtype=float)
        print(f"n = {n} households with a PKH component, {reps} replications ({time.perf_counter() - t0:.0f} s); "
              f"effective comparison units (Kish) mean {r[:, 3].mean():.0f}")
        print(f"  AIPW estimate +- 1.96 se : coverage {r[:, 0].mean():.3f}  (SD of error / mean se "
              f"{r[:, 4].std(ddof=1) / r[:, 5].mean():.3f}; corr(error, se) {np.corrcoef(r[:, 4], r[:, 5])[0, 1]:.2f})")
        print(f"  AIPW bootstrap-t (499)   : coverage {r[:, 1].mean():.3f}")
        print(f"  matching, 4 NN, AI se    : coverage {r[:, 2].mean():.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 400)
