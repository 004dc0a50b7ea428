"""welfare_eval.survey and .poverty against R's survey package.

The reference values come from tests/reference/survey_reference.R (R and package versions in
survey_versions.txt) run on tests/reference/survey_data.csv; R is not needed to run these tests.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from welfare_eval import poverty, survey
from welfare_eval.survey import SurveyDesign

HERE = Path(__file__).resolve().parent / "reference"
EST_TOL = 1e-7       # stored R output at 17 significant digits: estimates (relative)
SE_RTOL = 1e-6       # standard errors, relative (the bar; observed agreement ~1e-12)
DEFF_RTOL = 1e-6

DATA = pd.read_csv(HERE / "survey_data.csv")
LONELY = pd.read_csv(HERE / "survey_lonely.csv")
REF = pd.read_csv(HERE / "survey_reference.csv", dtype={"domain": str})
REF["deff"] = pd.to_numeric(REF["deff"], errors="coerce")  # R writes NA padded with spaces
DESIGN = SurveyDesign(weights="w", strata="strata", psu="psu")


def _prep(d: pd.DataFrame) -> pd.DataFrame:
    d = d.copy()
    d["poor"] = (d["y"] < d["z"]).astype(float)
    return d


def _domain_labels(table, cols) -> list[str]:
    f = table.to_frame()
    if not cols:
        return ["all"] * len(f)
    return ["|".join(str(v) for v in row) for row in f[list(cols)].itertuples(index=False)]


def _check(table, case, estimand, cols=(), deff=False):
    ref = REF[(REF["case"] == case) & (REF["estimand"] == estimand)].set_index("domain")
    assert len(ref), (case, estimand)
    got = table.to_frame()
    labels = _domain_labels(table, cols)
    assert sorted(labels) == sorted(ref.index), case
    for label, (_, row) in zip(labels, got.iterrows()):
        r = ref.loc[label]
        np.testing.assert_allclose(row["estimate"], r["estimate"], rtol=EST_TOL, err_msg=f"{case} {label}")
        np.testing.assert_allclose(row["std_error"], r["std_error"], rtol=SE_RTOL, err_msg=f"{case} {label} SE")
        if deff:
            np.testing.assert_allclose(row["deff"], r["deff"], rtol=DEFF_RTOL, err_msg=f"{case} {label} deff")


def test_mean_overall():
    _check(survey.mean(DATA, "y", design=DESIGN, deff=True), "mean", "y", deff=True)


def test_mean_by_two_domains():
    _check(survey.mean(DATA, "y", design=DESIGN, by=["region", "urban"], deff=True), "mean_by_region_urban", "y",
           ("region", "urban"), deff=True)


def test_total_by_domain():
    _check(survey.total(DATA, "y", design=DESIGN, by="region"), "total_by_region", "y", ("region",))


def test_ratio_by_domain():
    _check(survey.ratio(DATA, "y", "x", design=DESIGN, by="region"), "ratio_by_region", "y/x", ("region",))


def test_proportion_by_domain():
    _check(
        survey.proportion(_prep(DATA), "poor", design=DESIGN, by="region", deff=True),
        "proportion_by_region",
        "poor",
        ("region",),
        deff=True,
    )


@pytest.mark.parametrize("alpha,var", [(0, "poor"), (1, "gap"), (2, "gap2")], ids=["P0", "P1", "P2"])
def test_fgt_person_level(alpha, var):
    kw = dict(welfare="y", poverty_line="z", alpha=alpha, design=DESIGN, household_size="hh_size", deff=True)
    _check(poverty.fgt(DATA, by="region", **kw), "fgt_by_region", var, ("region",), deff=True)
    _check(poverty.fgt(DATA, **kw), "fgt", var, deff=True)


def test_finite_population_correction():
    d = SurveyDesign(weights="w", strata="strata", psu="psu", fpc="fpc_n")
    _check(survey.mean(DATA, "y", design=d, by="region"), "fpc_mean_by_region", "y", ("region",))


@pytest.mark.parametrize("rule", ["remove", "certainty", "adjust", "average"])
def test_lonely_psu_rules(rule):
    d = SurveyDesign(weights="w", strata="strata", psu="psu", lonely_psu=rule)
    _check(survey.mean(LONELY, "y", design=d), f"lonely_{rule}", "y")
    _check(survey.mean(LONELY, "y", design=d, by="region"), f"lonely_{rule}_by_region", "y", ("region",))


def test_jackknife_replicates():
    d = SurveyDesign(weights="w", strata="strata", psu="psu", replicates="jackknife")
    _check(survey.mean(DATA, "y", design=d, by="region"), "jkn_mean_by_region", "y", ("region",))


def test_simple_random_sampling():
    _check(survey.mean(DATA, "y", by="region"), "srs_mean_by_region", "y", ("region",))


def test_versions_are_recorded():
    text = (HERE / "survey_versions.txt").read_text()
    assert text.startswith("R version") and "survey " in text
