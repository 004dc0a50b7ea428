"""Speed of the Fay-Herriot model against samplics, the Python tool an analyst would otherwise use.

    .venv/bin/python benchmarks/small_area.py [--areas 500] [--with-samplics PYTHON]

Fits REML with the analytic (Prasad-Rao) MSE for AREAS simulated areas with three covariates:
welfare-eval's ``small_area.fay_herriot`` (best of 5) against samplics' ``EblupAreaModel`` fit +
predict (best of 5) run by the interpreter given with --with-samplics (samplics needs numpy >= 2.1
and polars, which the workbench does not install; e.g. a venv made with
``python3 -m venv /tmp/sae-venv && /tmp/sae-venv/bin/pip install samplics pandas``). Prints times,
the ratio and the largest difference of the EBLUPs and MSEs. Also times the kecamatan pipeline
``small_area.area_poverty`` on the full-scale synthetic province (69 kecamatan, 100 bootstrap
replicates) when ``data/synthetic`` exists.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from welfare_eval import small_area

REPEATS = 5

SAMPLICS_SCRIPT = """
import json, sys, time, warnings
warnings.simplefilter("ignore")
import numpy as np, pandas as pd
from samplics.sae import EblupAreaModel
from samplics.utils.types import FitMethod
d = pd.read_csv(sys.argv[1])
X = d[["x1", "x2", "x3"]].to_numpy()
best = 1e9
for _ in range({repeats}):
    t0 = time.perf_counter()
    m = EblupAreaModel(method=FitMethod.reml)
    m.fit(yhat=d["y"].to_numpy(), X=X, area=d["area"].to_numpy(), error_std=np.sqrt(d["v"].to_numpy()), tol=1e-10,
          maxiter=1000)
    m.predict(X=X, area=d["area"].to_numpy())
    best = min(best, time.perf_counter() - t0)
print(json.dumps({{"seconds": best, "est": [float(np.ravel(m.area_est[a])[0]) for a in d["area"]],
                  "mse": [float(np.ravel(m.area_mse[a])[0]) for a in d["area"]]}}))
"""


def simulate(m: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(m, 3))
    theta = 0.2 + x @ np.array([0.03, 0.02, -0.01]) + rng.normal(0, 0.03, m)
    v = rng.uniform(0.0005, 0.004, m)
    return pd.DataFrame(x, columns=["x1", "x2", "x3"]).assign(y=theta + rng.normal(0, np.sqrt(v)), v=v,
                                                               area=np.arange(m))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--areas", type=int, default=500, help="number of simulated areas")
    ap.add_argument("--with-samplics", default=None, metavar="PYTHON",
                    help="interpreter of an environment with samplics installed")
    a = ap.parse_args()
    d = simulate(a.areas)
    best = 1e9
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        fit = small_area.fay_herriot(d, estimate="y", variance="v", covariates=["x1", "x2", "x3"], area="area")
        best = min(best, time.perf_counter() - t0)
    print(f"Fay-Herriot REML + Prasad-Rao MSE, {a.areas} areas: welfare-eval {best:.4f} s (best of {REPEATS})")
    if a.with_samplics:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "d.csv"
            d.to_csv(path, index=False, float_format="%.17g")
            out = subprocess.run([a.with_samplics, "-c", SAMPLICS_SCRIPT.format(repeats=REPEATS), str(path)],
                                 capture_output=True, text=True, check=True)
            ref = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"  samplics {ref['seconds']:.4f} s: welfare-eval is {ref['seconds'] / best:.0f}x faster; "
              f"largest difference: EBLUP {np.max(np.abs(fit.frame['estimate'] - ref['est'])):.1e}, "
              f"MSE {np.max(np.abs(fit.frame['mse'] - ref['mse'])):.1e}")
    province = Path("data/synthetic")
    if (province / "survey.parquet").exists():
        s, r = pd.read_parquet(province / "survey.parquet"), pd.read_parquet(province / "registry.parquet")
        t0 = time.perf_counter()
        small_area.area_poverty(s, r, bootstrap=100, seed=1)
        print(f"Kecamatan P0 (direct, registry covariates over {len(r):,} households, Fay-Herriot, 100 bootstrap "
              f"replicates, benchmarking): {time.perf_counter() - t0:.2f} s")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
