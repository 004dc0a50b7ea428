"""Reference values for staggered_did with covariates, weights, anticipation and base periods:
csdid (the Python port of R did, with DRDID's panel estimators), analytical standard errors.

    python tests/reference/staggered_covariates_reference.py   (from the repository root)

Writes staggered_covariates_reference.csv (every ATT(g, t), and the simple and dynamic
aggregations) and staggered_covariates_versions.txt; the tests read only the CSV.
"""
import contextlib
import io
import platform
import warnings
from importlib.metadata import version
from pathlib import Path

import pandas as pd
from csdid.att_gt import ATTgt

HERE = Path(__file__).resolve().parent
#: (method, control group, base period, anticipation, weights)
CASES = [(m, "never_treated", "varying", 0, w) for m in ("dr", "ipw", "reg") for w in (None, "w")] + [
    ("dr", "not_yet_treated", "varying", 0, "w"),
    ("dr", "never_treated", "universal", 0, "w"),
    ("dr", "not_yet_treated", "universal", 1, "w"),
    ("ipw", "not_yet_treated", "varying", 1, None),
    ("reg", "never_treated", "universal", 1, None),
]


def case_id(m, cg, bp, ant, w):
    return f"{m}-{cg}-{bp}-ant{ant}-{'w' if w else 'unweighted'}"


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    data = pd.read_csv(HERE / "staggered_covariates_data.csv")
    rows = []
    for m, cg, bp, ant, w in CASES:
        cs = ATTgt(yname="y", tname="period", idname="id", gname="cohort", data=data, xformla="y~x1+x2",
                   control_group=cg.replace("_", ""), weights_name=w, anticipation=ant)
        with contextlib.redirect_stdout(io.StringIO()):
            r = cs.fit(est_method=m, base_period=bp, bstrap=False).results
            cid = case_id(m, cg, bp, ant, w)
            for g, t, a, s in zip(r["group"], r["year"], r["att"], r["se"]):
                rows.append({"case": cid, "kind": "cell", "cohort": int(g), "time": int(t), "event_time": "",
                             "estimate": a, "se": s})
            cs.aggte(typec="simple", bstrap=False)
            rows.append({"case": cid, "kind": "simple", "cohort": "", "time": "", "event_time": "",
                         "estimate": cs.atte["overall_att"], "se": cs.atte["overall_se"]})
            cs.aggte(typec="dynamic", bstrap=False)
            rows.append({"case": cid, "kind": "dynamic", "cohort": "", "time": "", "event_time": "all",
                         "estimate": cs.atte["overall_att"], "se": cs.atte["overall_se"]})
            for e, a, s in zip(cs.atte["egt"], cs.atte["att_egt"], cs.atte["se_egt"]):
                rows.append({"case": cid, "kind": "dynamic", "cohort": "", "time": "", "event_time": int(e),
                             "estimate": a, "se": s})
    pd.DataFrame(rows).to_csv(HERE / "staggered_covariates_reference.csv", index=False, float_format="%.17g")
    (HERE / "staggered_covariates_versions.txt").write_text(
        f"Python {platform.python_version()}\ncsdid {version('csdid')}\ndrdid {version('drdid')}\n"
        f"statsmodels {version('statsmodels')}\nnumpy {version('numpy')}\n")
