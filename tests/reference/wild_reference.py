"""Reference values of the wild (cluster) bootstrap from pyfixest + wildboottest, for
welfare_eval.impact.wild (the package's own numpy version, which draws the same weights).

For each case of wild_data.csv: pyfixest's ``Feols.wildboottest`` t statistic, WCR p-value (null
imposed) and the 95% quantile of |t*| of the WCU draws (null not imposed), the quantities
``regression(..., wild_bootstrap=)`` reports; and ``pf.rwolf`` / ``pf.wyoung`` adjusted p-values of
an outcome family, with and without clusters. Written to wild_reference.json; versions to
wild_versions.txt.

Run (needs the optional wildboottest, which brings numba): ``python tests/reference/wild_reference.py``
"""
from __future__ import annotations

import json
import platform
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
import pyfixest as pf

HERE = Path(__file__).resolve().parent

#: name, clusters, weights, draws, fixed effects (None or a column), covariates
CASES = [
    ("G8_webb", 8, "webb", 999, None, ["x"]),
    ("G12_webb_fe", 12, "webb", 399, "fe", ["x"]),
    ("G20_rademacher", 20, "rademacher", 1999, None, ["x"]),
    ("G6_enumerated", 6, "rademacher", 999, None, []),        # 2^6 < 999: all 64 sign patterns
    ("G40_rademacher", 40, "rademacher", 999, None, ["x"]),
]
FAMILY = [("family_G30", "g", 999), ("family_hc", None, 199)]


def make_data() -> pd.DataFrame:
    """Unbalanced clusters, treatment by cluster, cluster shocks larger among the treated, five
    correlated outcomes; one block of rows per case."""
    rng = np.random.default_rng(20261130)
    frames = []
    for name, G in [*((c[0], c[1]) for c in CASES), ("family_G30", 30), ("family_hc", 30)]:
        sizes = rng.integers(8, 40, G)
        g = np.repeat(np.arange(G), sizes)
        d = (rng.permutation(G) < G // 2)[g].astype(int)
        x = rng.normal(size=len(g))
        common = rng.normal(size=len(g))
        out = {"case": name, "g": g, "d": d, "x": x, "fe": rng.integers(0, 3, len(g))}
        for k in range(4):
            out[f"y{k}"] = (0.2 * d + 0.5 * x + rng.normal(0, 0.6, G)[g] * (1 + d) + 0.6 * common
                            + rng.normal(size=len(g)))
        frames.append(pd.DataFrame(out))
    return pd.concat(frames, ignore_index=True)


def main() -> None:
    data = make_data()
    data.round(6).to_csv(HERE / "wild_data.csv", index=False)
    data = pd.read_csv(HERE / "wild_data.csv")  # the values the test reads
    ssc = pf.ssc(k_adj=True, k_fixef="full", G_adj=True, G_df="min")
    ref: dict = {}
    for name, _G, wtype, reps, fe, cov in CASES:
        df = data[data["case"] == name].reset_index(drop=True)
        fml = "y0 ~ " + " + ".join(["d", *cov]) + (f" | {fe}" if fe else "")
        m = pf.feols(fml, data=df, vcov={"CRV1": "g"}, ssc=ssc, fixef_rm="none")
        r = m.wildboottest(reps=reps, cluster="g", param="d", seed=7, weights_type=wtype, impose_null=True)
        _, tstar = m.wildboottest(reps=reps, cluster="g", param="d", seed=7, weights_type=wtype,
                                  impose_null=False, return_bootstrapped_t_stats=True)
        ref[name] = {"formula": fml, "weights": wtype, "reps": reps, "seed": 7, "t": float(r["t value"]),
                     "p_wcr": float(r["Pr(>|t|)"]),
                     "q95_wcu": float(np.quantile(np.abs(np.asarray(tstar, float)), 0.95))}
    for name, cluster, reps in FAMILY:
        df = data[data["case"] == name].reset_index(drop=True)
        fits = pf.feols("y0 + y1 + y2 + y3 ~ d + x", data=df, vcov={"CRV1": cluster} if cluster else "hetero")
        rw = pf.rwolf(fits, "d", reps=reps, seed=11).T.reset_index(drop=True)
        wy = pf.wyoung(fits, "d", reps=reps, seed=11).T.reset_index(drop=True)
        ref[name] = {"cluster": cluster, "reps": reps, "seed": 11,
                     "romano_wolf": rw["RW Pr(>|t|)"].astype(float).tolist(),
                     "westfall_young": wy["WY Pr(>|t|)"].astype(float).tolist()}
    (HERE / "wild_reference.json").write_text(json.dumps(ref, indent=2, sort_keys=True) + "\n")
    (HERE / "wild_versions.txt").write_text(
        f"python {platform.python_version()}\nnumpy {version('numpy')}\npandas {version('pandas')}\n"
        f"pyfixest {version('pyfixest')}\nwildboottest {version('wildboottest')}\nnumba {version('numba')}\n")


if __name__ == "__main__":
    main()
