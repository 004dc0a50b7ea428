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
    w = synth.generate(3, 0.3)
    p = w.panel.copy()
    p["y"] = p["knows_program"].astype(float)
    return p, w.truth["panel"]["tksk"]


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
