"""Callaway-Sant'Anna against csdid (an independent port of R's did), Goodman-Bacon identity,
recovery of the TKSK effects built into the synthetic panel."""
from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
import pytest

from welfare_eval import synth
from welfare_eval.exceptions import DataValidationError, ParameterError
from welfare_eval.impact.staggered import att_gt, goodman_bacon, staggered_did

EST_RTOL = 1e-6   # point estimates against the reference implementation
SE_RTOL = 1e-4    # analytical standard errors (both from influence functions)
EXACT = 1e-10     # the Bacon decomposition adds up to the TWFE coefficient


@pytest.fixture(scope="module")
def panel():
    p, truth = synth.generate_panel(3, 0.3)  # the province's panel, without the rest
    p["y"] = p["knows_program"].astype(float)
    return p, truth["tksk"]


def _csdid(p, control):
    from csdid.att_gt import ATTgt

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        return ATTgt(yname="y", tname="wave", idname="hh_id", gname="tksk_cohort",
                     data=p[["hh_id", "wave", "tksk_cohort", "y"]].copy(),
                     control_group=[control]).fit(est_method="dr", bstrap=False)


@pytest.mark.parametrize("control,ours", [("nevertreated", "never_treated"), ("notyettreated", "not_yet_treated")],
                         ids=["never", "not-yet"])
def test_group_time_effects_match_csdid(panel, control, ours):
    p, _ = panel
    ref = _csdid(p, control).results
    got = att_gt(p, outcome="y", unit="hh_id", time="wave", cohort="tksk_cohort", control_group=ours).cells
    assert list(zip(ref["group"], ref["year"])) == list(zip(got["cohort"], got["time"]))
    np.testing.assert_allclose(got["att"], ref["att"], rtol=EST_RTOL, atol=1e-12)
    np.testing.assert_allclose(got["se"], ref["se"], rtol=SE_RTOL)


@pytest.mark.parametrize("kind", ["simple", "dynamic", "group", "calendar"])
def test_aggregations_match_csdid(panel, kind):
    p, _ = panel
    a = _csdid(p, "nevertreated")
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        ag = a.aggte(typec=kind, bstrap=False).atte
    got = staggered_did(p, outcome="y", unit="hh_id", time="wave", cohort="tksk_cohort", aggregate=kind,
                        bootstrap=None).to_frame()
    overall = got.iloc[0]
    assert overall["estimate"] == pytest.approx(ag["overall_att"], rel=EST_RTOL)
    assert overall["std_error"] == pytest.approx(ag["overall_se"], rel=SE_RTOL)
    if kind == "dynamic":
        np.testing.assert_allclose(got["estimate"].iloc[1:], ag["att_egt"], rtol=EST_RTOL, atol=1e-12)
        np.testing.assert_allclose(got["std_error"].iloc[1:], ag["se_egt"], rtol=SE_RTOL)


def test_bootstrap_agrees_with_analytical_and_gives_a_wider_uniform_band(panel):
    p, _ = panel
    kw = dict(outcome="y", unit="hh_id", time="wave", cohort="tksk_cohort", aggregate="dynamic")
    a = staggered_did(p, bootstrap=None, **kw).to_frame()
    b = staggered_did(p, bootstrap=1999, seed=1, **kw).to_frame()
    np.testing.assert_allclose(b["std_error"], a["std_error"], rtol=0.1)   # bootstrap noise at 1,999 draws
    assert ((b["band_upper"] - b["band_lower"]) > (b["ci_upper"] - b["ci_lower"])).all()


def test_bacon_decomposition_adds_up_to_twfe(panel):
    p, _ = panel
    gb = goodman_bacon(p, outcome="y", unit="hh_id", time="wave", cohort="tksk_cohort")
    assert gb["weight"].sum() == pytest.approx(1.0, abs=EXACT)
    assert (gb["estimate"] * gb["weight"]).sum() == pytest.approx(gb.attrs["twfe"], abs=EXACT)
    assert (gb["type"] == "later vs earlier treated (forbidden)").any()


def test_callaway_santanna_recovers_the_truth(world_full):
    # one realization of the whole province's panel: within 3 SEs of the built-in effect (the naive
    # TWFE's miss is tested in test_synth and over many seeds in test_impact_montecarlo)
    p = world_full.panel.copy()
    truth = world_full.truth["panel"]["tksk"]
    for outcome in ("knows_program", "has_savings", "kks_independent", "graduated"):
        p["y"] = p[outcome].astype(float)
        data = p[p["pkh"]] if truth[outcome]["population"] == "PKH households" else p
        for kind in ("simple", "dynamic"):
            cs = staggered_did(data, outcome="y", unit="hh_id", time="wave", cohort="tksk_cohort", bootstrap=None,
                               cluster="kec_code", aggregate=kind).to_frame()
            if kind == "simple":
                assert abs(cs["estimate"].iloc[0] - truth[outcome]["att_simple"]) < 3 * cs["std_error"].iloc[0]
            else:
                post = cs[cs["event_time"].isin([0, 1, 2])]
                for _, row in post.iterrows():
                    target = truth[outcome]["att_dynamic"][str(row["event_time"])]
                    assert abs(row["estimate"] - target) < 3 * row["std_error"], (outcome, row["event_time"])


def test_bad_input(panel):
    p, _ = panel
    with pytest.raises(DataValidationError, match="unbalanced"):
        att_gt(p.iloc[1:], outcome="y", unit="hh_id", time="wave", cohort="tksk_cohort")
    with pytest.raises(ParameterError, match="control_group"):
        att_gt(p, outcome="y", unit="hh_id", time="wave", cohort="tksk_cohort", control_group="all")
    q = p.copy()
    q.loc[q.index[0], "y"] = np.nan
    with pytest.raises(DataValidationError, match="missing"):
        att_gt(q, outcome="y", unit="hh_id", time="wave", cohort="tksk_cohort")
    never = p[p["tksk_cohort"] > 0]
    with pytest.raises(DataValidationError, match="not_yet_treated"):
        att_gt(never, outcome="y", unit="hh_id", time="wave", cohort="tksk_cohort")


# --- covariates (doubly robust, IPW, regression), weights, anticipation, base period ------------

from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

REF_DIR = Path(__file__).resolve().parent / "reference"
COV_DATA = pd.read_csv(REF_DIR / "staggered_covariates_data.csv")
COV_REF = pd.read_csv(REF_DIR / "staggered_covariates_reference.csv", keep_default_na=False)
#: Against csdid (tests/reference/staggered_covariates_reference.py): the same DRDID formulas;
#: only the logit is solved differently (statsmodels IRLS there, Newton here), which moved the
#: results by at most 2e-12 relative on this panel; the margin is for other BLAS builds.
CS_RTOL = 1e-8


def _case_kwargs(case: str) -> dict:
    m, cg, bp, ant, w = case.split("-")
    return dict(method=m, control_group=cg, base_period=bp, anticipation=int(ant[3:]),
                weights=None if w == "unweighted" else "w")


COV_KW = dict(outcome="y", unit="id", time="period", cohort="cohort", covariates=["x1", "x2"])


@pytest.mark.parametrize("case", sorted(COV_REF["case"].unique()))
def test_covariates_match_csdid(case):
    ref = COV_REF[COV_REF["case"] == case].astype({"estimate": float})
    ref = ref.assign(se=pd.to_numeric(ref["se"]))     # empty (NaN) for the zero cell of a universal base
    kw = _case_kwargs(case)
    cells = att_gt(COV_DATA, **COV_KW, **kw).cells
    r = ref[ref["kind"] == "cell"].astype({"cohort": int, "time": int})
    m = cells.merge(r, on=["cohort", "time"], how="outer", validate="one_to_one")
    assert len(m) == len(r) == len(cells)
    np.testing.assert_allclose(m["att"], m["estimate"], rtol=CS_RTOL, atol=1e-12)
    np.testing.assert_allclose(m["se_x"], m["se_y"], rtol=CS_RTOL, atol=1e-12)
    simple = staggered_did(COV_DATA, **COV_KW, **kw, aggregate="simple", bootstrap=None)
    s = ref[ref["kind"] == "simple"].iloc[0]
    assert simple.to_frame()["estimate"].iloc[0] == pytest.approx(s["estimate"], rel=CS_RTOL)
    assert simple.to_frame()["std_error"].iloc[0] == pytest.approx(s["se"], rel=CS_RTOL)
    dyn = staggered_did(COV_DATA, **COV_KW, **kw, aggregate="dynamic", bootstrap=None).to_frame()
    d = ref[ref["kind"] == "dynamic"]
    ours = dict(zip(dyn["event_time"].astype(str), zip(dyn["estimate"], dyn["std_error"])))
    assert set(ours) == set(d["event_time"].astype(str))
    for e, est, se in zip(d["event_time"].astype(str), d["estimate"], d["se"]):
        assert ours[e][0] == pytest.approx(est, rel=CS_RTOL, abs=1e-12), e
        assert ours[e][1] == pytest.approx(se, rel=CS_RTOL, abs=1e-12, nan_ok=True), e


def test_unit_weights_leave_the_estimator_unchanged():
    a = staggered_did(COV_DATA, **COV_KW, bootstrap=None, aggregate="dynamic").to_frame()
    b = staggered_did(COV_DATA.assign(one=3.0), **COV_KW, weights="one", bootstrap=None, aggregate="dynamic").to_frame()
    np.testing.assert_allclose(b["estimate"], a["estimate"], rtol=1e-12)
    np.testing.assert_allclose(b["std_error"], a["std_error"], rtol=1e-10)


def test_design_standard_errors():
    """A design of units as their own PSUs (one stratum) gives the analytical SE times sqrt(n/(n-1));
    strata and PSUs change the SE, not the estimate."""
    from welfare_eval.survey import SurveyDesign

    n = COV_DATA["id"].nunique()
    a = staggered_did(COV_DATA, **COV_KW, weights="w", bootstrap=None).to_frame()
    b = staggered_did(COV_DATA, **COV_KW, design=SurveyDesign(weights="w"), bootstrap=None).to_frame()
    c = staggered_did(COV_DATA, **COV_KW, design=SurveyDesign(weights="w", strata="stratum", psu="psu"),
                      bootstrap=None).to_frame()
    assert b["estimate"].iloc[0] == a["estimate"].iloc[0] == c["estimate"].iloc[0]
    assert b["std_error"].iloc[0] == pytest.approx(a["std_error"].iloc[0] * np.sqrt(n / (n - 1)), rel=1e-10)
    assert c["std_error"].iloc[0] != pytest.approx(a["std_error"].iloc[0], rel=1e-3)
    assert "design-based" in c["method"].iloc[0]


def _selection_panel(seed: int, n: int = 6000):
    """Units with a high x join the programme early and have a steeper trend: parallel trends hold
    only given x. True effect 1.0 in every treated cell."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    u = 1.2 * x + rng.logistic(size=n)
    cohort = np.select([u > 1.5, u > 0.5], [3, 4], 0)
    rows = []
    alpha = rng.normal(size=n)
    for t in range(1, 6):
        y = alpha + 0.5 * t * x + 1.0 * ((cohort > 0) & (t >= cohort)) + rng.normal(size=n)
        rows.append(pd.DataFrame({"id": np.arange(n), "period": t, "cohort": cohort, "y": y, "x": x}))
    return pd.concat(rows, ignore_index=True)


@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
def test_covariates_recover_the_effect_where_the_unconditional_estimator_is_biased(method):
    p = _selection_panel(11)
    kw = dict(outcome="y", unit="id", time="period", cohort="cohort", bootstrap=None)
    plain = staggered_did(p, **kw).to_frame().iloc[0]
    adj = staggered_did(p, **kw, covariates=["x"], method=method).to_frame().iloc[0]
    assert abs(plain["estimate"] - 1.0) > 5 * plain["std_error"]        # biased without x
    assert abs(adj["estimate"] - 1.0) < RECOVERY_Z * adj["std_error"]   # recovered with it


#: One realization lies within this many standard errors of the truth.
RECOVERY_Z = 3.0


def test_bad_staggered_input():
    with pytest.raises(DataValidationError, match="covariate\\(s\\) 'k' are constant among the"):
        att_gt(COV_DATA.assign(k=np.where(COV_DATA["cohort"] == 0, 1.0, COV_DATA["x1"])),
               outcome="y", unit="id", time="period", cohort="cohort", covariates=["x1", "k"])
    with pytest.raises(DataValidationError, match="1 negative"):
        att_gt(COV_DATA.assign(w=COV_DATA["w"].where(COV_DATA.index != 3, -1.0)), **COV_KW, weights="w")
    with pytest.raises(DataValidationError, match="missing"):
        att_gt(COV_DATA.assign(w=COV_DATA["w"].where(COV_DATA.index != 3)), **COV_KW, weights="w")
    with pytest.raises(DataValidationError, match="sums to zero"):
        att_gt(COV_DATA.assign(w=0.0), **COV_KW, weights="w")
    with pytest.raises(DataValidationError, match="changes within 1 units"):
        att_gt(COV_DATA.assign(w=COV_DATA["w"].where(COV_DATA.index != 3, 99.0)), **COV_KW, weights="w")
    from welfare_eval.survey import SurveyDesign
    with pytest.raises(ParameterError, match="weights='x1' but a design whose weights column is 'w'"):
        att_gt(COV_DATA, **COV_KW, weights="x1", design=SurveyDesign(weights="w"))
    for name, value in (("method", "aipw"), ("base_period", "fixed"), ("anticipation", -1)):
        with pytest.raises(ParameterError, match=name):
            att_gt(COV_DATA, **COV_KW, **{name: value})


@pytest.mark.parametrize("kind", ["simple", "dynamic", "group", "calendar"])
@pytest.mark.parametrize("control", ["never_treated", "not_yet_treated"], ids=["never", "not-yet"])
def test_weights_without_covariates_match_csdid(kind, control):
    """Weights alone (no covariates) in every aggregation, against csdid run here."""
    from csdid.att_gt import ATTgt

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        cs = ATTgt(yname="y", tname="period", idname="id", gname="cohort", data=COV_DATA.copy(),
                   control_group=control.replace("_", ""), weights_name="w")
        cs.fit(est_method="dr", bstrap=False)
        cs.aggte(typec=kind, bstrap=False)
    got = staggered_did(COV_DATA, outcome="y", unit="id", time="period", cohort="cohort", control_group=control,
                        weights="w", aggregate=kind, bootstrap=None).to_frame()
    assert got["estimate"].iloc[0] == pytest.approx(cs.atte["overall_att"], rel=CS_RTOL)
    assert got["std_error"].iloc[0] == pytest.approx(cs.atte["overall_se"], rel=CS_RTOL)


# ------------------------------------------------------------------------------------------------
# the synthetic province with a targeted TKSK roll-out (synth.generate(tksk_rollout="targeted"))

#: The unconditional estimate is called biased when the truth lies outside its 95% interval and
#: more than this many (kecamatan-clustered) standard errors away.
BIASED_Z = 3.0
TARGETED_OUTCOMES = ["knows_program", "kks_independent", "has_savings", "kube_member"]


@pytest.fixture(scope="module")
def targeted_world():
    from welfare_eval.config import DEFAULT_SEED

    panel, truth = synth.generate_panel(DEFAULT_SEED, 1.0, tksk_rollout="targeted")  # the panel, not the rest
    return panel, truth


@pytest.mark.slow
@pytest.mark.parametrize("outcome", TARGETED_OUTCOMES, ids=TARGETED_OUTCOMES)
def test_targeted_rollout_biases_plain_cs_and_dr_recovers_the_truth(targeted_world, outcome):
    """TKSK goes first to the kecamatan with the lowest mean PMT score, and without TKSK the
    empowerment outcomes of poorer households rise faster: unconditional parallel trends fail,
    parallel trends given the PMT score hold. The truth is truth.json's simple ATT."""
    panel, panel_truth = targeted_world
    truth = panel_truth["tksk"][outcome]["att_simple"]
    assert panel_truth["tksk_rollout"] == "targeted"
    p = panel.assign(y=panel[outcome].astype(float))
    kw = dict(outcome="y", unit="hh_id", time="wave", cohort="tksk_cohort", bootstrap=None, cluster="kec_code")
    plain = staggered_did(p, **kw).to_frame().iloc[0]
    dr = staggered_did(p, **kw, covariates=["pmt_score"], method="dr").to_frame().iloc[0]
    assert not plain["ci_lower"] <= truth <= plain["ci_upper"], (truth, plain["ci_lower"], plain["ci_upper"])
    assert abs(plain["estimate"] - truth) > BIASED_Z * plain["std_error"]
    assert dr["ci_lower"] <= truth <= dr["ci_upper"], (truth, dr["ci_lower"], dr["ci_upper"])


def test_default_rollout_is_unchanged_and_bad_rollout_stops():
    w = synth.generate(5, 0.02)
    assert "tksk_rollout" not in w.truth["panel"]
    for generator in (synth.generate, synth.generate_panel):
        with pytest.raises(ParameterError, match="'tksk_rollout' parameter of synth"):
            generator(5, 0.02, tksk_rollout="random")


@pytest.mark.parametrize("column, match", [("period", "time column 'period' has 1 missing"),
                                           ("id", "unit column 'id' has 1 missing"),
                                           ("cohort", "Cohort 'cohort' has 1 missing")], ids=["time", "unit", "cohort"])
def test_missing_panel_keys_stop(column, match):
    data = COV_DATA.copy()
    data[column] = data[column].astype(float)
    data.loc[3, column] = np.nan
    with pytest.raises(DataValidationError, match=match):
        att_gt(data, outcome="y", unit="id", time="period", cohort="cohort")
