"""Poverty and inequality estimators: hand-computed values, the Gini linearization, bad input."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from welfare_eval import poverty, survey
from welfare_eval.exceptions import DataValidationError, ParameterError
from welfare_eval.survey import SurveyDesign

EXACT = 1e-12         # hand-computed toy data
FD_RTOL = 1e-5        # finite-difference derivative against the analytic influence (step 1e-6 of a weight)
JK_RTOL = 0.15        # jackknife and linearization agree to within a few percent on 700 PSUs; generous bound

TOY = pd.DataFrame({"y": [100.0, 200.0, 300.0, 400.0], "z": [250.0] * 4, "w": [1.0, 2.0, 1.0, 1.0],
                    "size": [2, 1, 3, 1]})


def test_fgt_by_hand():
    d = SurveyDesign(weights="w")
    # persons: w*size = 2, 2, 3, 1 -> poor rows 1 and 2 (y < 250): 4 of 8 persons
    p0 = poverty.fgt(TOY, welfare="y", poverty_line="z", alpha=0, design=d, household_size="size").estimate[0]
    assert p0 == pytest.approx(4 / 8, abs=EXACT)
    p1 = poverty.fgt(TOY, welfare="y", poverty_line=250, alpha=1, design=d, household_size="size").estimate[0]
    assert p1 == pytest.approx((2 * 0.6 + 2 * 0.2) / 8, abs=EXACT)
    p2 = poverty.fgt(TOY, welfare="y", poverty_line=250, alpha=2, design=d).estimate[0]  # households: w = 1,2,1,1
    assert p2 == pytest.approx((1 * 0.36 + 2 * 0.04) / 5, abs=EXACT)
    w = poverty.watts(TOY, welfare="y", poverty_line=250, design=d).estimate[0]
    assert w == pytest.approx((np.log(2.5) + 2 * np.log(1.25)) / 5, abs=EXACT)


def test_gini_matches_the_point_formula_and_pairwise_definition(tables):
    s = tables["survey"]
    g = poverty.gini(s, welfare="cons_pc", design=survey.SUSENAS, household_size="hh_size").estimate[0]
    p = s["weight"].to_numpy() * s["hh_size"].to_numpy()
    y = s["cons_pc"].to_numpy()
    pair = np.sum(p[:, None] * p[None, :] * np.abs(y[:, None] - y[None, :])) / (
        2 * p.sum() ** 2 * np.average(y, weights=p)
    )
    assert g == pytest.approx(pair, abs=1e-12)
    assert g == pytest.approx(poverty.gini_value(y, p), abs=EXACT)


def test_gini_influence_is_the_derivative_with_respect_to_each_weight(tables):
    s = tables["survey"].iloc[:120]
    dom = survey.domains(s, None)
    y, size, w = s["cons_pc"].to_numpy(), s["hh_size"].to_numpy(float), s["weight"].to_numpy()
    g0, scores = poverty.gini_parts(y, size, dom, w)
    for k in (0, 17, 63, 119):
        h = 1e-6 * w[k]
        w1 = w.copy()
        w1[k] += h
        fd = (poverty.gini_parts(y, size, dom, w1)[0][0] - g0[0]) / h
        assert fd == pytest.approx(scores[k], rel=FD_RTOL, abs=1e-12), k
    assert np.sum(w * scores) == pytest.approx(0, abs=1e-12)  # a ratio of degree-0: Euler


def test_gini_standard_error_agrees_with_the_jackknife(world_full):
    s = world_full.survey
    lin = poverty.gini(s, welfare="cons_pc", design=survey.SUSENAS, household_size="hh_size")
    jk = poverty.gini(s, welfare="cons_pc", household_size="hh_size",
                      design=SurveyDesign(weights="weight", strata="strata", psu="psu", replicates="jackknife"))
    assert jk.estimate[0] == pytest.approx(lin.estimate[0], abs=EXACT)
    assert jk.std_error[0] == pytest.approx(lin.std_error[0], rel=JK_RTOL)


def test_change_pre_post_has_the_covariance(tables):
    s = tables["survey"].copy()
    s["cons_pre"] = s["cons_pc"] - (s["pkh_amount"] + s["bpnt_amount"]) / 12 / s["hh_size"]
    t = poverty.change(s, before="cons_pre", after="cons_pc", measure="fgt0", poverty_line="poverty_line",
                       design=survey.SUSENAS, household_size="hh_size").to_frame()
    before, after, diff = t["estimate"]
    assert diff == pytest.approx(after - before, abs=EXACT)
    assert diff < 0
    se_b, se_a, se_d = t["std_error"]
    assert se_d < np.hypot(se_b, se_a)  # positively correlated estimates: the difference is more precise
    g = poverty.change(s, before="cons_pre", after="cons_pc", measure="gini", design=survey.SUSENAS,
                       household_size="hh_size").to_frame()
    assert g["estimate"].iloc[2] < 0


def test_extreme_lines_are_selectable(tables):
    s = tables["survey"]
    rates = [poverty.extreme_poverty(s, welfare="cons_pc", line=line, design=survey.SUSENAS,
                                     household_size="hh_size").estimate[0]
             for line in ("extreme_190_2011ppp", "extreme_215_2017ppp", "extreme_300_2021ppp")]
    assert rates[0] <= rates[1] <= rates[2]
    with pytest.raises(ParameterError, match="must be one of"):
        poverty.extreme_poverty(s, welfare="cons_pc", line="extreme_100")


def test_intervals_use_design_degrees_of_freedom(tables):
    s = tables["survey"]
    t = poverty.fgt(s, welfare="cons_pc", poverty_line="poverty_line", design=survey.SUSENAS,
                    ci_method="wald").to_frame()
    assert t["df"].iloc[0] == s["psu"].nunique() - s["strata"].nunique()
    half = (t["ci_upper"] - t["ci_lower"]).iloc[0] / 2
    from scipy import stats
    assert half == pytest.approx(stats.t.ppf(0.975, t["df"].iloc[0]) * t["std_error"].iloc[0], rel=1e-12)
    # the default logit interval: symmetric on the logit scale, with the same t quantile (whole sample:
    # the domain's degrees of freedom are the design's)
    lg = poverty.fgt(s, welfare="cons_pc", poverty_line="poverty_line", design=survey.SUSENAS).to_frame()
    assert lg["ci_df"].iloc[0] == t["df"].iloc[0]
    p, se = lg["estimate"].iloc[0], lg["std_error"].iloc[0]
    logit = np.log(lg[["ci_lower", "ci_upper"]].iloc[0] / (1 - lg[["ci_lower", "ci_upper"]].iloc[0]))
    assert (logit.iloc[1] - logit.iloc[0]) / 2 == pytest.approx(
        stats.t.ppf(0.975, t["df"].iloc[0]) * se / (p * (1 - p)), rel=1e-12)
    t90 = poverty.fgt(s, welfare="cons_pc", poverty_line="poverty_line", design=survey.SUSENAS).to_frame(level=0.9)
    assert (t90["ci_upper"] - t90["ci_lower"]).iloc[0] < 2 * half


# --- bad input: a clear error or a documented NaN with a note, never a silent wrong number -----

def _bad(tables, **changes):
    s = tables["survey"].copy()
    for col, (row, value) in changes.items():
        s[col] = s[col].astype(object) if isinstance(value, str) else s[col].astype(float)
        s.loc[row, col] = value
    return s


@pytest.mark.parametrize("changes,match", [
    ({"weight": (3, np.nan)}, "1 missing"),
    ({"weight": (3, -2.0)}, "1 negative"),
    ({"weight": (3, 0.0)}, "1 zero"),
    ({"poverty_line": (5, 0.0)}, "poverty line is zero or negative"),
    ({"cons_pc": (5, "banyak")}, "not numbers"),
    ({"cons_pc": (5, -1.0)}, "negative"),
    ({"cons_pc": (5, np.nan)}, "missing values"),
], ids=["weight-missing", "weight-negative", "weight-zero", "line-zero", "welfare-text", "welfare-negative",
        "welfare-missing"])
def test_bad_input_is_a_clear_error(tables, changes, match):
    s = _bad(tables, **changes)
    with pytest.raises(DataValidationError, match=match):
        poverty.fgt(s, welfare="cons_pc", poverty_line="poverty_line", design=survey.SUSENAS)


def test_domain_with_one_psu_in_a_stratum_is_fine_but_a_stratum_with_one_psu_is_not(tables):
    s = tables["survey"]
    first = s["strata"].iloc[0]
    keep = (s["strata"] != first) | (s["psu"] == s.loc[s["strata"] == first, "psu"].iloc[0])
    lonely = s[keep]
    with pytest.raises(DataValidationError, match="single PSU"):
        poverty.fgt(lonely, welfare="cons_pc", poverty_line="poverty_line", design=survey.SUSENAS)
    d = SurveyDesign(weights="weight", strata="strata", psu="psu", lonely_psu="adjust")
    assert np.isfinite(poverty.fgt(lonely, welfare="cons_pc", poverty_line="poverty_line", design=d).std_error).all()
    # a domain reaching a single PSU of a stratum is estimated within the full design
    one = s.assign(dom=np.where(s["psu"] == s["psu"].iloc[0], "a", "b"))
    t = poverty.fgt(one, welfare="cons_pc", poverty_line="poverty_line", design=survey.SUSENAS, by="dom")
    assert np.isfinite(t.std_error).all()


def test_empty_domain_is_nan_with_a_note(tables):
    s = tables["survey"].copy()
    s["kab"] = pd.Categorical(s["kab_code"], categories=[*sorted(s["kab_code"].unique()), "7699"])
    f = poverty.fgt(s, welfare="cons_pc", poverty_line="poverty_line", design=survey.SUSENAS, by="kab").to_frame()
    empty = f[f["kab"] == "7699"].iloc[0]
    assert empty["nobs"] == 0 and np.isnan(empty["estimate"]) and np.isnan(empty["std_error"])
    assert "empty domain" in empty["notes"]
    assert np.isfinite(f.loc[f["kab"] != "7699", "std_error"]).all()


def test_unknown_by_column(tables):
    with pytest.raises(ParameterError, match="'by' parameter names column"):
        survey.mean(tables["survey"], "cons_pc", by="kabupaten")


@pytest.mark.parametrize("alpha", [-1, "two", True], ids=["negative", "text", "bool"])
def test_bad_alpha(tables, alpha):
    with pytest.raises(ParameterError, match="'alpha' parameter of fgt"):
        poverty.fgt(tables["survey"], welfare="cons_pc", poverty_line=500000, alpha=alpha)


def test_change_gives_levels_share_intervals_and_the_difference_a_symmetric_one(tables):
    s = tables["survey"].copy()
    s["cons_pre"] = s["cons_pc"] - (s["pkh_amount"] + s["bpnt_amount"]) / 12 / s["hh_size"]
    t = poverty.change(s, before="cons_pre", after="cons_pc", measure="fgt0", poverty_line="poverty_line",
                       design=survey.SUSENAS, by="kab_code", household_size="hh_size").to_frame()
    levels = t[~t["estimand"].str.startswith("change")]
    assert (levels["ci_method"] == "logit").all()
    assert ((levels["ci_lower"] >= 0) & (levels["ci_upper"] <= 1)).all()
    diff = t[t["estimand"].str.startswith("change")]
    assert diff["ci_method"].isna().all()
    from scipy import stats
    half = (diff["ci_upper"] - diff["ci_lower"]) / 2
    np.testing.assert_allclose(half, stats.t.ppf(0.975, diff["df"]) * diff["std_error"], rtol=1e-12)
