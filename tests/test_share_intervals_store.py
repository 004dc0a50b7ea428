"""Every rate the poverty, targeting and simulation reports store has an interval inside [0, 1] (issue 11).

The report notebooks' own cells are run here (``notebook_cells.run_notebook``) and store their rows
into a store of the test's, so the rows here are the rows of ``results.csv`` for the same data; the
notebooks also run in kernels in the runner tests, nbval and ``make report``.
"""
from __future__ import annotations

import re

import pytest
from notebook_cells import run_notebook

from welfare_eval.report import store
from welfare_eval.report.targeting_view import ADMINISTRATIVE

#: Estimands that are shares or rates of the reports (not differences, ratios around 1, or money).
RATE = re.compile(r"^(FGT\(|extreme FGT\(|\w+_rate$|\w+_incidence$|benefit_cost_ratio|"
                  r"(headcount|extreme_headcount|poverty_gap|severity): (before|after)$)")


@pytest.mark.parametrize("kabupaten", ["all", "7606"], ids=["province", "mamuju-tengah"])
def test_every_stored_rate_interval_lies_in_the_unit_interval(province, tmp_path, kabupaten):
    path = tmp_path / "results"
    path.mkdir()
    for notebook in ("10_poverty_profile", "20_targeting", "50_policy_simulation"):
        run_notebook(notebook, data_dir=str(province), kabupaten=kabupaten, language="id", min_cell=1,
                     results=str(path))
    rows = store.read(path)
    # rates over every record of an administrative file (late payments) have no sampling interval
    admin = rows["method"].astype(str) == ADMINISTRATIVE
    assert admin.any() and rows.loc[admin, ["ci_lower", "ci_upper"]].isna().all().all()
    rates = rows[rows["estimand"].astype(str).str.match(RATE) & rows["estimate"].notna() & ~admin]
    assert {"FGT(alpha=0)", "coverage_rate", "exclusion_error_rate", "headcount: before"} <= set(rates["estimand"])
    bad = rates[~((rates["ci_lower"] >= 0) & (rates["ci_upper"] <= 1))]
    assert bad.empty, bad[["notebook", "estimand", "group", "estimate", "ci_lower", "ci_upper"]].to_string()
    # a cell estimated at 0 has a one-sided interval, not "0% (0% - 0%)"
    zero = rates[rates["estimate"] == 0]
    assert (zero["ci_upper"] > 0).all()
    assert not rows["group"].fillna("").str.contains("ci_method|ci_n|ci_df|poor_before").any()
