"""ASPIRE, CEQ and targeting indicators: hand values, identities, conventions, records."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from welfare_eval import survey, targeting
from welfare_eval.exceptions import DataValidationError, ParameterError
from welfare_eval.targeting import BPNT, PKH, Program

EXACT = 1e-12     # identities that hold term by term
IDENTITY = 1e-10  # identities between two computations of the same ratio (floating-point order differs)

TOY = pd.DataFrame({
    "cons_pc": [100.0, 150.0, 300.0, 500.0], "hh_size": [2, 1, 1, 2], "w": [1.0, 1.0, 2.0, 1.0],
    "amount": [600.0, 0.0, 1200.0, 0.0],  # Rp per year: 25 and 100 per capita per month
})
PROG = Program("toy", amount="amount")


def test_toy_values_by_hand():
    d = survey.SurveyDesign(weights="w")
    cov = targeting.coverage(TOY, PROG, design=d).estimate[0]
    assert cov == pytest.approx((2 + 2) / (2 + 1 + 2 + 2), abs=EXACT)   # persons w*s: 2, 1, 2, 2
    ade = targeting.adequacy(TOY, PROG, design=d).estimate[0]
    assert ade == pytest.approx((2 * 25 + 2 * 100) / (2 * 100 + 2 * 300), abs=EXACT)
    err = targeting.targeting_errors(TOY, PROG, poverty_line=200.0, design=d).to_frame().set_index("estimand")
    # pre-transfer: 75, 150, 200, 500 -> target (poor, y_pre < 200): rows 1, 2 -> persons 2 + 1
    assert err.loc["inclusion_error_rate", "estimate"] == pytest.approx(2 / (2 + 2), abs=EXACT)  # row 3 per non-poor
    assert err.loc["exclusion_error_rate", "estimate"] == pytest.approx(1 / 3, abs=EXACT)       # row 2 per poor
    assert err.loc["inclusion_error_rate", "threshold"] == "poverty_line"
    assert err.loc["inclusion_error_rate", "normalized_by"] == "non-target"


@pytest.fixture(scope="module")
def s(tables):
    return tables["survey"]


@pytest.mark.parametrize("program", [PKH, BPNT], ids=["PKH", "BPNT"])
def test_poverty_reduction_efficiency_equals_benefit_cost_ratio(s, program):
    red = targeting.poverty_reduction(s, program, poverty_line="poverty_line", design=survey.SUSENAS,
                                      by="kab_code").to_frame()
    ceq = targeting.ceq_efficiency(s, program, poverty_line="poverty_line", design=survey.SUSENAS,
                                   by="kab_code").to_frame()
    bcr = red[red["estimand"] == "benefit_cost_ratio"].set_index("kab_code")
    pre = ceq[ceq["estimand"] == "poverty_reduction_efficiency"].set_index("kab_code")
    np.testing.assert_allclose(pre["estimate"], bcr["estimate"], rtol=0, atol=EXACT)
    np.testing.assert_allclose(pre["std_error"], bcr["std_error"], rtol=0, atol=EXACT)


@pytest.mark.parametrize("program", [PKH, BPNT], ids=["PKH", "BPNT"])
def test_poverty_gap_efficiency_equals_gap_reduction_with_one_line(s, program):
    kw = dict(poverty_line=520_000.0, design=survey.SUSENAS, by="urban")
    red = targeting.poverty_reduction(s, program, **kw).to_frame()
    ceq = targeting.ceq_efficiency(s, program, **kw).to_frame()
    gap = red[red["estimand"] == "poverty_gap_reduction_rate"].set_index("urban")
    pge = ceq[ceq["estimand"] == "poverty_gap_efficiency"].set_index("urban")
    np.testing.assert_allclose(pge["estimate"], gap["estimate"], rtol=IDENTITY)
    np.testing.assert_allclose(pge["std_error"], gap["std_error"], rtol=1e-8)


@pytest.mark.parametrize("fn", [targeting.beneficiary_incidence, targeting.benefit_incidence],
                         ids=["beneficiary", "benefit"])
def test_incidence_shares_sum_to_one(s, fn):
    q = targeting.weighted_quantile_groups(s, welfare="cons_pc", n=5, weights="weight", household_size="hh_size")
    t = fn(s, PKH, groups=q, design=survey.SUSENAS, by="urban").to_frame()
    sums = t.groupby("urban")["estimate"].sum()
    np.testing.assert_allclose(sums, 1.0, atol=EXACT)
    assert (t["std_error"].gt(0) | t["notes"].str.contains("zero standard error")).all()


def test_coverage_of_all_is_the_population_weighted_mean_of_group_coverages(s):
    total = targeting.coverage(s, PKH, design=survey.SUSENAS).estimate[0]
    by = targeting.coverage(s, PKH, design=survey.SUSENAS, by="kab_code").to_frame()
    pop = survey.total(s, "hh_size", design=survey.SUSENAS, by="kab_code").to_frame()
    assert np.average(by["estimate"], weights=pop["estimate"]) == pytest.approx(total, abs=EXACT)


def test_quota_threshold_uses_the_programme_coverage(s):
    e = targeting.targeting_errors(s, BPNT, threshold="quota", design=survey.SUSENAS).to_frame()
    e2 = targeting.targeting_errors(s, BPNT, threshold="quota", normalize="beneficiaries",
                                    design=survey.SUSENAS).to_frame()
    # with a quota equal to coverage, targets and beneficiaries are as many people, so errors per
    # beneficiary are equal up to the one household that straddles the quota
    p = s["weight"] * s["hh_size"]
    straddle = p.max() / (p * s["bpnt"]).sum()
    assert e2["estimate"].iloc[0] == pytest.approx(e2["estimate"].iloc[1], abs=straddle)
    assert set(e["normalized_by"]) == {"non-target", "target"} and set(e2["normalized_by"]) == {"beneficiaries"}
    with pytest.raises(ParameterError, match="'normalize' parameter"):
        targeting.targeting_errors(s, BPNT, threshold="quota", normalize="poor")
    with pytest.raises(ParameterError, match="'quota' parameter"):
        targeting.targeting_errors(s, BPNT, threshold="quota", quota=1.5)


def test_overlap_shares_sum_to_one(s):
    t = targeting.overlap(s, design=survey.SUSENAS, by="kab_code").to_frame()
    np.testing.assert_allclose(t.groupby("kab_code")["estimate"].sum(), 1.0, atol=EXACT)


def test_cgh_is_progressive_for_pmt_targeted_programmes(s):
    for prog in (PKH, BPNT):
        assert targeting.cgh(s, prog, design=survey.SUSENAS).estimate[0] > 1


def test_survey_estimates_near_the_population_truth(world_full):
    # one full-size sample: PKH coverage of the poor before all transfers (truth.json's definition)
    # lies within 3.5 standard errors of the population value
    s, truth = world_full.survey, world_full.truth["population"]["targeting"]
    pre_poor = s["cons_pc"] - (s["pkh_amount"] + s["bpnt_amount"]) / 12 / s["hh_size"] < s["poverty_line"]
    for prog, key in ((PKH, "pkh_coverage_of_poor_rate"), (BPNT, "bpnt_coverage_of_poor_rate")):
        c = targeting.coverage(s.assign(pre_poor=pre_poor), prog, design=survey.SUSENAS, by="pre_poor")
        got = c.get(pre_poor=True)
        assert abs(got.estimate - truth[key]) < 3.5 * got.std_error, prog.name


def test_transfer_larger_than_welfare_is_an_error(s):
    bad = s.copy()
    bad.loc[0, "pkh_amount"] = 1e9
    with pytest.raises(DataValidationError, match="transfer exceeds welfare"):
        targeting.coverage(bad, PKH, design=survey.SUSENAS)


def test_full_indicator_table(s):
    t = targeting.indicator_table(s, design=survey.SUSENAS, by="kab_code").to_frame()
    assert len(t) >= 6 * 20
    # on the small test sample some kabupaten have no poor: those cells say why
    assert (t["std_error"].notna() | t["notes"].str.startswith("not computable")).all()
    assert {"program", "estimand", "kab_code", "estimate", "std_error", "ci_lower", "ci_upper"} <= set(t.columns)


def test_disbursement_reconciliation(tables, truth):
    r = targeting.reconcile_disbursement(tables["disbursement"])
    assert r["allocated"].sum() == pytest.approx(truth["disbursement"]["allocated_total"], rel=1e-12)
    assert r["paid"].sum() == pytest.approx(truth["disbursement"]["disbursed_total"], rel=1e-12)
    total_late = r["late"].sum() / r["records"].sum()
    assert total_late == pytest.approx(truth["disbursement"]["late_over_30_days_rate"], abs=1e-12)
    assert set(r["channel"]) <= {"bank", "pos", "e-warong"}


def test_reductions_with_replicate_weights(s):
    # the replicate path recomputes each reduction per replicate: same estimates, SEs of the same size
    jk = survey.SurveyDesign(weights="weight", strata="strata", psu="psu", replicates="jackknife")
    lin = targeting.poverty_reduction(s, PKH, poverty_line="poverty_line", design=survey.SUSENAS).to_frame()
    rep = targeting.poverty_reduction(s, PKH, poverty_line="poverty_line", design=jk).to_frame()
    np.testing.assert_allclose(rep["estimate"], lin["estimate"], rtol=1e-10)
    np.testing.assert_allclose(rep["std_error"], lin["std_error"], rtol=0.25)


def test_data_quality_findings_have_a_severity_heading():
    from welfare_eval.report.strings import t

    assert t("severity", "en") == "Severity"


# ------------------------------------------------------------------------------------------------
# one definition of "poor" (issue 11): coverage of the poor + exclusion error = 1

#: coverage of the poor and the exclusion error are a/d and (d - a)/d of the same totals: they sum to 1
#: up to floating-point rounding of two divisions
SUM_TO_ONE = 1e-12


@pytest.mark.parametrize("program", [PKH, BPNT], ids=["PKH", "BPNT"])
@pytest.mark.parametrize("by", [None, "kab_code", ["kab_code", "urban"]], ids=["province", "kabupaten", "kab-area"])
def test_coverage_of_poor_and_exclusion_error_sum_to_one(s, program, by):
    kw = {"poverty_line": "poverty_line", "design": survey.SUSENAS, "by": by}
    cov = targeting.poor_coverage(s, program, **kw).to_frame()
    exc = targeting.targeting_errors(s, program, **kw).to_frame()
    exc = exc[exc["estimand"] == "exclusion_error_rate"]
    keys = [] if by is None else ([by] if isinstance(by, str) else by)
    m = cov.merge(exc, on=keys, suffixes=("_cov", "_exc")) if keys else pd.concat(
        [cov.add_suffix("_cov"), exc.reset_index(drop=True).add_suffix("_exc")], axis=1)
    ok = m["estimate_cov"].notna()  # a domain with no poor person sampled has neither
    assert ok.sum() >= 1
    np.testing.assert_allclose(m.loc[ok, "estimate_cov"] + m.loc[ok, "estimate_exc"], 1.0, rtol=0, atol=SUM_TO_ONE)
    np.testing.assert_allclose(m.loc[ok, "std_error_cov"], m.loc[ok, "std_error_exc"], rtol=1e-9)
    assert set(m["poor_before_cov"]) == set(m["poor_before_exc"]) == {"all_transfers"}
    assert m["notes_exc"].str.contains("before all transfers (PKH, BPNT)", regex=False).all()


def test_the_poor_are_poor_before_all_transfers(s):
    manual = s["cons_pc"] - (s["pkh_amount"] + s["bpnt_amount"]) / 12 / s["hh_size"] < s["poverty_line"]
    pd.testing.assert_series_equal(targeting.pre_transfer_poor(s), manual, check_names=False)
    # coverage grouped by that flag is coverage of the poor, and the exclusion error its complement
    cov = targeting.coverage(s.assign(pre_poor=manual), PKH, design=survey.SUSENAS, by="pre_poor").get(pre_poor=True)
    poor = targeting.poor_coverage(s, PKH, design=survey.SUSENAS).estimate[0]
    assert cov.estimate == pytest.approx(poor, abs=EXACT)
    # before the programme's own transfer is another population of poor, on request and said so
    own = targeting.targeting_errors(s, PKH, poverty_line="poverty_line", poor_before="own_transfer",
                                     design=survey.SUSENAS).to_frame()
    all_ = targeting.targeting_errors(s, PKH, poverty_line="poverty_line", design=survey.SUSENAS).to_frame()
    assert (own["estimate"] != all_["estimate"]).all()
    assert own["notes"].str.contains("before the PKH transfer").all()
    with pytest.raises(ParameterError, match="'poor_before' parameter of targeting_errors"):
        targeting.targeting_errors(s, PKH, poverty_line="poverty_line", poor_before="pre")


def test_targeting_section_table_sums_to_one_and_says_who_is_poor(province):
    from notebook_cells import run_notebook

    for kab in ("all", "7606"):
        run = run_notebook("20_targeting", data_dir=str(province), kabupaten=kab, language="id", min_cell=1)
        ind = run.namespace["indicators"]   # the rows the notebook stores as outcome "targeting"
        for prog in ("PKH", "BPNT"):
            p = ind[ind["program"] == prog]
            cov = p.loc[p["estimand"] == "coverage_rate", "estimate"].iloc[0]
            exc = p.loc[p["estimand"] == "exclusion_error_rate", "estimate"].iloc[0]
            assert cov + exc == pytest.approx(1.0, abs=SUM_TO_ONE), (kab, prog)
        shown = run.outputs["20-07"]   # the indicator table as the notebook shows it
        note = shown.data.attrs["note"]
        assert "sebelum semua bantuan (PKH + BPNT)" in note
        assert note in shown.to_html()


# ------------------------------------------------------------------------------------------------
# intervals of shares inside [0, 1] (issue 11)

SHARE_ESTIMANDS = {"FGT(alpha=0)", "FGT(alpha=1)", "FGT(alpha=2)", "extreme_poverty_rate", "coverage_rate",
                   "poor_coverage_rate", "adequacy_rate", "headcount_reduction_rate", "poverty_gap_reduction_rate",
                   "severity_reduction_rate", "benefit_cost_ratio", "vertical_expenditure_efficiency", "spillover",
                   "poverty_reduction_efficiency", "poverty_gap_efficiency", "inclusion_error_rate",
                   "exclusion_error_rate"}


@pytest.mark.parametrize("ci_method", ["logit", "beta"])
def test_every_share_interval_lies_in_the_unit_interval(s, ci_method):
    t = targeting.indicator_table(s, design=survey.SUSENAS, by=["kab_code", "urban"], ci_method=ci_method).to_frame()
    shares = t[t["estimand"].isin(SHARE_ESTIMANDS)]
    assert set(shares["estimand"]) == SHARE_ESTIMANDS
    assert (shares["ci_method"] == ci_method).all()
    est = shares[shares["estimate"].notna()]
    assert ((est["ci_lower"] >= 0) & (est["ci_upper"] <= 1) & (est["ci_lower"] <= est["estimate"])
            & (est["estimate"] <= est["ci_upper"])).all()
    # cells at 0 (e.g. extreme poverty in a small kabupaten x area) get a one-sided interval, never a zero width
    zero = est[est["estimate"] == 0]
    assert len(zero) and (zero["ci_upper"] > 0).all()
    assert t.loc[t["estimand"].isin(["cgh", "gini_reduction_rate"]), "ci_method"].isna().all()


@pytest.mark.parametrize("fn", [targeting.coverage, targeting.adequacy, targeting.targeting_errors,
                                targeting.poor_coverage],
                         ids=["coverage", "adequacy", "errors", "poor_coverage"])
def test_ci_method_is_checked_in_targeting(s, fn):
    with pytest.raises(ParameterError, match="'ci_method' parameter"):
        fn(s, PKH, design=survey.SUSENAS, poverty_line="poverty_line", ci_method="wilson") \
            if fn in (targeting.targeting_errors, targeting.poor_coverage) else \
            fn(s, PKH, design=survey.SUSENAS, ci_method="wilson")
