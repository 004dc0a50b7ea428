"""Static reform microsimulation."""
from __future__ import annotations

import numpy as np
import pytest

from welfare_eval import survey
from welfare_eval.exceptions import ParameterError
from welfare_eval.simulate import Reform, reformed_amounts, simulate
from welfare_eval.targeting import BPNT, PKH

EXACT = 1e-9  # sums of a few thousand rupiah amounts


@pytest.fixture(scope="module")
def s(tables):
    return tables["survey"]


def _rows(t):
    f = t.to_frame()
    return f.set_index("estimand")


def test_no_reform_changes_nothing(s):
    f = _rows(simulate(s, PKH, Reform(), design=survey.SUSENAS))
    for m in ("headcount", "poverty_gap", "gini", "extreme_headcount"):
        assert f.loc[f"{m}: change", "estimate"] == pytest.approx(0, abs=1e-15)
    assert f.loc["yearly cost (Rp): change", "estimate"] == pytest.approx(0, abs=EXACT)


def test_doubling_benefits_lowers_poverty_and_doubles_cost(s):
    f = _rows(simulate(s, BPNT, Reform(amount_factor=2.0), design=survey.SUSENAS))
    assert f.loc["headcount: change", "estimate"] < 0
    assert f.loc["yearly cost (Rp): after", "estimate"] == pytest.approx(2 * f.loc["yearly cost (Rp): before",
                                                                                   "estimate"], rel=1e-12)
    assert f.loc["headcount: change", "std_error"] > 0
    # cost estimate equals the weighted sum of amounts
    assert f.loc["yearly cost (Rp): before", "estimate"] == pytest.approx((s["weight"] * s["bpnt_amount"]).sum(),
                                                                         rel=1e-12)


def test_budget_neutral_keeps_the_cost(s):
    f = _rows(simulate(s, BPNT, Reform(max_decile=2, budget_neutral=True), design=survey.SUSENAS))
    assert f.loc["yearly cost (Rp): change", "estimate"] == pytest.approx(0, abs=1e-3 * f.loc[
        "yearly cost (Rp): before", "estimate"])


def test_cut_off_and_coverage_rules(s):
    w = s["weight"].to_numpy()
    new = reformed_amounts(s, BPNT, Reform(max_decile=2), weights=w, household_size="hh_size")
    assert (new[s["decile"] > 2] == 0).all() and (new[s["decile"] <= 2] > 0).all()
    new = reformed_amounts(s, BPNT, Reform(coverage_rate=0.6), weights=w, household_size="hh_size")
    p = w * s["hh_size"].to_numpy()
    assert np.sum(p * (new > 0)) / p.sum() == pytest.approx(0.6, abs=p.max() / p.sum())


@pytest.mark.parametrize("bad", [{"amount_factor": -1}, {"max_decile": 11}, {"coverage_rate": 1.2}],
                         ids=["factor", "decile", "coverage"])
def test_bad_reform(bad):
    with pytest.raises(ParameterError):
        Reform(**bad)
