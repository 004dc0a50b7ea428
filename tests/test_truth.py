"""truth.json agrees with the tables the generator wrote."""
from __future__ import annotations

import numpy as np
import pytest

from welfare_eval.poverty import fgt_value, gini_value

EXACT = 1e-12  # recomputing the same sums in the same order


def test_household_counts_per_kabupaten(truth, tables):
    reg = tables["registry"]
    for kab, block in truth["population"]["kabupaten"].items():
        sub = reg[reg["kab_code"] == kab]
        assert len(sub) == block["households"]
        assert int(sub["hh_size"].sum()) == block["persons"]
        assert int(sub["pkh"].sum()) == block["pkh_households"]
        assert int(sub["bpnt"].sum()) == block["bpnt_households"]


def test_poverty_values_recompute_from_the_hidden_population(truth, tables):
    pop = tables["truth_population"].merge(tables["registry"][["hh_id", "hh_size", "kab_code"]], on="hh_id")
    w = pop["hh_size"].to_numpy(float)
    prov = truth["population"]["province"]
    for a in (0, 1, 2):
        assert fgt_value(pop["cons_pc"], pop["poverty_line"], w, a) == pytest.approx(prov[f"fgt{a}"], abs=EXACT)
        assert fgt_value(pop["cons_pre"], pop["poverty_line"], w, a) == pytest.approx(prov[f"fgt{a}_pre"], abs=EXACT)
    assert gini_value(pop["cons_pc"], w) == pytest.approx(prov["gini"], abs=EXACT)


def test_post_transfer_consumption_adds_the_transfers(tables):
    pop = tables["truth_population"].merge(tables["registry"], on="hh_id")
    t = (pop["pkh_amount"] + pop["bpnt_amount"]) / 12 / pop["hh_size"]
    assert np.allclose(pop["cons_pc"] - pop["cons_pre"], t, rtol=0, atol=1e-6)


def test_survey_is_drawn_from_the_population(truth, tables):
    s, pop = tables["survey"], tables["truth_population"]
    merged = s.merge(pop, on="hh_id", suffixes=("", "_pop"))
    assert len(merged) == len(s)
    assert np.array_equal(merged["cons_pc"].to_numpy(), merged["cons_pc_pop"].to_numpy())
    assert truth["survey_design"] == {"households": len(s), "psus": s["psu"].nunique(), "strata": s["strata"].nunique()}
    # expansion weights add up to the households of each stratum only in expectation; roughly here
    assert s["weight"].sum() == pytest.approx(truth["population"]["province"]["households"], rel=0.25)


def test_panel_and_disbursement_match(truth, tables):
    p, d = tables["panel"], tables["disbursement"]
    assert p["hh_id"].nunique() == truth["panel"]["n_households"]
    assert sorted(p["wave"].unique()) == truth["panel"]["waves"]
    # TKSK starts in the cohort's first wave and never stops
    treated = p["tksk"] == ((p["tksk_cohort"] > 0) & (p["wave"] >= p["tksk_cohort"]))
    assert treated.all()
    assert len(d) == truth["disbursement"]["rows"]
    assert d["allocated_amount"].sum() == pytest.approx(truth["disbursement"]["allocated_total"], rel=1e-12)
    assert d["disbursed_amount"].sum() == pytest.approx(truth["disbursement"]["disbursed_total"], rel=1e-12)


def test_effects_in_truth_have_every_estimand(truth):
    tk = truth["panel"]["tksk"]
    for outcome in ("kks_independent", "knows_program", "has_savings", "kube_member", "business_income", "graduated"):
        cells = tk[outcome]["att_gt"]
        assert {c["cohort"] for c in cells} == set(truth["panel"]["cohorts"])
        assert set(tk[outcome]) == {"att_simple", "att_gt", "att_dynamic", "att_group", "population"}
    for outcome in ("cons_pc", "poor", "extreme_poor", "child_out_of_school", "child_stunted", "early_marriage"):
        assert {"ATT", "ATE"} <= set(truth["panel"]["pkh"][outcome])
