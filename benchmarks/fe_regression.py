"""Fixed-effects regression: welfare-eval's `regression` against pyfixest's `feols` on the same data.

    .venv/bin/python benchmarks/fe_regression.py [--rows 10000000]

ROWS rows, a 0/1 treatment, two covariates, two high-dimensional fixed effects (households'
kecamatan-like groups with 10,000 levels and 60 periods), CR1 errors clustered by the first. Each
side runs in a fresh process (so peak resident memory is its own) after a warm-up fit on a small
sample (numba compilation is not counted); best of 2. welfare-eval also computes the E-value and
Oster's delta (from the same fit, no second pass). Prints both times, the ratio, peak memory, and
the largest difference in the coefficient and its standard error.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd


def make(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f1 = rng.integers(0, 10_000, rows).astype(np.int32)
    f2 = rng.integers(0, 60, rows).astype(np.int16)
    x1, x2 = rng.normal(size=rows), rng.normal(size=rows)
    d = (rng.random(rows) < 0.3 + 0.2 * (f1 % 2)).astype(np.int8)
    y = 0.5 * d + 0.8 * x1 - 0.3 * x2 + 0.001 * f1 + 0.01 * f2 + rng.normal(size=rows)
    return pd.DataFrame({"y": y, "d": d, "x1": x1, "x2": x2, "f1": f1, "f2": f2})


def child(side: str, rows: int) -> None:
    import pyfixest as pf

    from welfare_eval.impact import regression

    def run(df):
        if side == "pyfixest":
            m = pf.feols("y ~ d + x1 + x2 | f1 + f2", data=df, vcov={"CRV1": "f1"})
            t = m.tidy().loc["d"]
            return float(t["Estimate"]), float(t["Std. Error"])
        e = regression(df, outcome="y", treatment="d", covariates=["x1", "x2"], fixed_effects=["f1", "f2"],
                       cluster="f1")
        return e.estimate, e.std_error

    run(make(20_000, 1))  # warm-up: numba compilation
    df = make(rows)
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        est, se = run(df)
        times.append(time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MB on Linux
    print(json.dumps({"side": side, "best": min(times), "times": times, "peak_mb": peak, "est": est, "se": se}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--child", default=None)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.rows)
        return
    out = {}
    for side in ("pyfixest", "welfare-eval"):
        res = subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--child", side],
                             capture_output=True, text=True, check=True)
        out[side] = json.loads(res.stdout.strip().splitlines()[-1])
    p, w = out["pyfixest"], out["welfare-eval"]
    print(f"{args.rows:,} rows, fixed effects f1 (10,000 levels) + f2 (60), CR1 by f1; best of 2 after warm-up")
    print(f"pyfixest feols:          {p['best']:6.2f} s   peak {p['peak_mb']:,.0f} MB   (times {p['times']})")
    print(f"welfare-eval regression: {w['best']:6.2f} s   peak {w['peak_mb']:,.0f} MB   (times {w['times']})")
    print(f"ratio welfare-eval / pyfixest: {w['best'] / p['best']:.2f}x (target <= 1.5x)")
    print(f"largest difference: coefficient {abs(w['est'] - p['est']):.2e}, SE {abs(w['se'] - p['se']):.2e} "
          "(welfare-eval counts the absorbed fixed effects in K, as Stata and R sandwich do; see methods)")


if __name__ == "__main__":
    main()
