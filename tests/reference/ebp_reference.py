"""Reference values for welfare_eval.small_area.nested_error_fit / ebp from samplics' EbUnitModel.

Run in an environment with samplics (see fay_herriot_reference.py):

    /tmp/sae-venv/bin/python tests/reference/ebp_reference.py

writes ebp_sample.csv (20 areas x 12 sampled households), ebp_census.csv (the 20 x 250 households
outside the sample), ebp_reference.csv (samplics' REML beta, sigma2_u, sigma2_e of the log model,
fitted by statsmodels MixedLM to tol 1e-12, and its EB headcount per area from 4,000 Monte Carlo
draws with the sampled households' observed welfare included) and ebp_versions.txt.

samplics 0.6.0's EbUnitModel checks its method as a string and passes it on to EblupUnitModel,
which accepts only the FitMethod enum, so a fit fails as shipped; the script sets the enum after
construction.
"""
from __future__ import annotations

import platform
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

warnings.simplefilter("ignore")
import samplics  # noqa: E402
import statsmodels  # noqa: E402
from samplics.sae import EbUnitModel  # noqa: E402
from samplics.utils.types import FitMethod  # noqa: E402

HERE = Path(__file__).parent
LINE = 9.0e5  # the poverty line (rupiah per capita per month)
DRAWS = 4000


def make(seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    areas, n_s, n_r = 20, 12, 250
    rows = []
    u = rng.normal(0, 0.15, areas)
    for a in range(areas):
        for k in range(n_s + n_r):
            educ = rng.integers(0, 13)
            size = rng.integers(1, 8)
            urban = rng.random() < 0.3
            t = 13.6 + 0.03 * educ - 0.06 * size + 0.15 * urban + u[a] + rng.normal(0, 0.45)
            rows.append((f"A{a:02d}", k < n_s, float(educ), float(size), float(urban), float(np.exp(t))))
    d = pd.DataFrame(rows, columns=["area", "sampled", "head_educ", "hh_size", "urban", "cons_pc"])
    return d[d["sampled"]].drop(columns="sampled"), d[~d["sampled"]].drop(columns=["sampled", "cons_pc"])


def main() -> None:
    s, c = make()
    s.to_csv(HERE / "ebp_sample.csv", index=False, float_format="%.17g")
    c.to_csv(HERE / "ebp_census.csv", index=False, float_format="%.17g")
    cov = ["head_educ", "hh_size", "urban"]
    # samplics 0.6.0: EbUnitModel checks a string method, then hands it to EblupUnitModel, which
    # accepts only the FitMethod enum; giving the enum after construction is what makes fit() run
    m = EbUnitModel(method="REML", boxcox=0.0, constant=0.0)
    m.method = FitMethod.reml
    m.fit(s["cons_pc"].to_numpy(), s[cov].to_numpy(), s["area"].to_numpy(), tol=1e-12, maxiter=1000)
    np.random.seed(20261129)
    m.predict(c[cov].to_numpy(), c["area"].to_numpy(), indicator=lambda y, pl: np.mean(y < pl),
              number_samples=DRAWS, pl=LINE, show_progress=False)
    rows = [{"quantity": "beta", "name": n, "value": float(b)}
            for n, b in zip(["(Intercept)", *cov], np.ravel(m.fixed_effects))]
    rows += [{"quantity": "sigma2_u", "name": "", "value": float(np.ravel(m.re_std)[0]) ** 2},
             {"quantity": "sigma2_e", "name": "", "value": float(np.ravel(m.error_std)[0]) ** 2}]
    rows += [{"quantity": "headcount", "name": a, "value": float(np.ravel(v)[0])} for a, v in m.area_est.items()]
    pd.DataFrame(rows).to_csv(HERE / "ebp_reference.csv", index=False, float_format="%.17g")
    (HERE / "ebp_versions.txt").write_text(
        f"samplics {samplics.__version__}\nstatsmodels {statsmodels.__version__}\nnumpy {np.__version__}\n"
        f"python {platform.python_version()}\nMonte Carlo draws {DRAWS}, numpy seed 20261129\n")


if __name__ == "__main__":
    main()
