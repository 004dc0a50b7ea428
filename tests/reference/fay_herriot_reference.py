"""Reference values for welfare_eval.small_area.fay_herriot from samplics' EblupAreaModel.

samplics needs numpy >= 2.1 and polars, which the workbench does not depend on, so it runs in its
own environment and its answers are committed:

    python3 -m venv /tmp/sae-venv && /tmp/sae-venv/bin/pip install samplics pandas
    /tmp/sae-venv/bin/python tests/reference/fay_herriot_reference.py

writes fay_herriot_data.csv (69 synthetic kecamatan: a direct poverty rate, its variance and two
registry covariates), fay_herriot_reference.csv (per method: sigma2_u, beta, and each area's
EBLUP and MSE) and fay_herriot_versions.txt. Fisher scoring is run to a relative tolerance of
1e-13 so that its root equals the workbench's Brent root to ~1e-12.

samplics 0.6.0's ML fit stops after two Fisher-scoring steps whatever the tolerance: its ML score
is a length-1 array, so after the first step sigma2_v is an array and `sigma2_v += step` also
changes `sigma2_v_previous`, which names the same array; the relative change reads 0. This script
therefore restarts the ML fit from its own last value until sigma2_u changes by less than 1e-13
(each restart is two more of samplics' own Fisher steps), and records how many restarts it took.
"""
from __future__ import annotations

import platform
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

warnings.simplefilter("ignore", FutureWarning)   # samplics announces that it is archived
import samplics  # noqa: E402
from samplics.sae import EblupAreaModel  # noqa: E402
from samplics.utils.types import FitMethod  # noqa: E402

HERE = Path(__file__).parent


def make_data(seed: int = 20261129, m: int = 69) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    share_dtks = rng.uniform(0.1, 0.6, m)        # share of households in registry deciles 1-4
    mean_school = rng.normal(7.5, 1.5, m)         # mean years of schooling of household heads
    truth = 0.02 + 0.35 * share_dtks - 0.008 * (mean_school - 7.5) + rng.normal(0, 0.025, m)
    n = rng.integers(8, 120, m)                   # sampled households
    variance = np.clip(truth, 0.02, None) * (1 - np.clip(truth, 0.02, None)) / n * rng.uniform(1.2, 2.5, m)
    direct = truth + rng.normal(0, np.sqrt(variance))
    return pd.DataFrame({"kec_code": [f"76{k:05d}" for k in range(m)], "direct": direct, "variance": variance,
                         "n": n, "share_dtks": share_dtks, "mean_school": mean_school})


def main() -> None:
    d = make_data()
    d.to_csv(HERE / "fay_herriot_data.csv", index=False, float_format="%.17g")
    rows = []
    for method in ("REML", "ML", "FH"):
        model = EblupAreaModel(method=getattr(FitMethod, method.lower()))
        start, restarts = 0.01, 0
        while True:
            model.fit(yhat=d["direct"].to_numpy(), X=d[["share_dtks", "mean_school"]].to_numpy(),
                      area=d["kec_code"].to_numpy(), error_std=np.sqrt(d["variance"].to_numpy()), intercept=True,
                      tol=1e-13, maxiter=1000, re_std_start=start)
            new = float(np.ravel(model.re_std)[0])
            if method != "ML" or abs(new ** 2 - start ** 2) <= 1e-13 * new ** 2 or restarts >= 200:
                break
            start, restarts = new, restarts + 1
        rows.append({"method": method, "quantity": "restarts", "area": "", "value": restarts})
        model.predict(X=d[["share_dtks", "mean_school"]].to_numpy(), area=d["kec_code"].to_numpy(), intercept=True)
        rows.append({"method": method, "quantity": "sigma2_u", "area": "", "value": float(np.ravel(model.re_std)[0]) ** 2})
        for name, b in zip(("(Intercept)", "share_dtks", "mean_school"), model.fixed_effects):
            rows.append({"method": method, "quantity": "beta", "area": name, "value": float(np.ravel(b)[0])})
        for a in d["kec_code"]:
            rows.append({"method": method, "quantity": "eblup", "area": a, "value": float(np.ravel(model.area_est[a])[0])})
            rows.append({"method": method, "quantity": "mse", "area": a, "value": float(np.ravel(model.area_mse[a])[0])})
    pd.DataFrame(rows).to_csv(HERE / "fay_herriot_reference.csv", index=False, float_format="%.17g")
    (HERE / "fay_herriot_versions.txt").write_text(
        f"samplics {samplics.__version__}\nnumpy {np.__version__}\npandas {pd.__version__}\n"
        f"python {platform.python_version()}\n")


if __name__ == "__main__":
    main()
