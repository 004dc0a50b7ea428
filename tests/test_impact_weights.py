"""Sampling weights and survey designs in the impact estimators: references (R survey), the
unweighted estimator as the special case, the bootstrap with weights, recovery of a population
effect, and bad input."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from welfare_eval import impact
from welfare_eval.exceptions import DataValidationError, ParameterError
from welfare_eval.impact.bootstrap import aipw_draws, counts
from welfare_eval.impact.weighting import _prepare
from welfare_eval.survey import SurveyDesign

HERE = Path(__file__).resolve().parent / "reference"
#: Estimates against R survey (tests/reference/impact_weights_reference.R): the same closed form
#: after the same weighted fits; they agree to 1e-15 here.
EST_RTOL = 1e-7
#: Standard errors against the same script: R's glm stops at a relative deviance change of 1e-8,
#: so its propensity coefficients (and the influence functions built on them) differ from our
#: Newton solution in about the 8th digit (2e-8 seen for IPW).
SE_RTOL = 1e-6
#: Weights of one against the unweighted code path: the same sums in a different order.
SAME = 1e-12
#: Batched and one-at-a-time fits differ only in the order of floating-point sums.
SAME_FIT = 1e-10
#: One realization lies within this many standard errors of the truth.
RECOVERY_SE = 3.0

DATA = pd.read_csv(HERE / "impact_weights_data.csv")
REF = pd.read_csv(HERE / "impact_weights_reference.csv")
DESIGN = SurveyDesign(weights="w", strata="stratum", psu="psu")
COV = ["x1", "x2"]


def _fit(method, data=DATA, **kw):
    extra = {"bootstrap": False} if method == "aipw" else {}
    return getattr(impact, method)(data, outcome="y", treatment="d", covariates=COV, **extra, **kw)


@pytest.mark.parametrize("row", [r for _, r in REF.iterrows()],
                         ids=[f"{r.method}-{r.estimand}" for _, r in REF.iterrows()])
def test_weighted_estimators_match_r_survey(row):
    w = _fit(row.method, weights="w", estimand=row.estimand)
    d = _fit(row.method, design=DESIGN, estimand=row.estimand)
    assert w.estimate == pytest.approx(row.estimate, rel=EST_RTOL)
    assert d.estimate == pytest.approx(row.estimate, rel=EST_RTOL)
    assert w.std_error == pytest.approx(row.se_weights, rel=SE_RTOL)
    assert d.std_error == pytest.approx(row.se_design, rel=SE_RTOL)
    assert any("design-based standard error" in n for n in d.notes)
    assert d.df == DATA.groupby("stratum")["psu"].nunique().sum() - DATA["stratum"].nunique()


def test_design_weights_alone_equal_weights_argument():
    """A design with weights only (each row its PSU) differs from weights= only by R's n/(n-1)."""
    e = _fit("aipw", weights="w")
    d = _fit("aipw", design=SurveyDesign(weights="w"))
    n = len(DATA)
    assert d.estimate == e.estimate
    assert d.std_error == pytest.approx(e.std_error * np.sqrt(n / (n - 1)), rel=SAME)


@pytest.mark.parametrize("estimand", ["ATE", "ATT"])
@pytest.mark.parametrize("method,kw", [("ipw", {}), ("ipw", {"trim": "crump"}), ("aipw", {}),
                                       ("aipw", {"trim": "crump"}), ("aipw", {"cross_fit": 3}),
                                       ("aipw", {"cluster": "psu"})],
                         ids=["ipw", "ipw-trim", "aipw", "aipw-trim", "aipw-crossfit", "aipw-cluster"])
def test_unit_weights_are_the_unweighted_estimator(method, estimand, kw):
    data = DATA.assign(one=1.0)
    a = _fit(method, data, estimand=estimand, **kw)
    b = _fit(method, data, estimand=estimand, weights="one", **kw)
    assert b.estimate == pytest.approx(a.estimate, rel=SAME, abs=SAME)
    assert b.std_error == pytest.approx(a.std_error, rel=SAME)
    assert b.nobs == a.nobs


@pytest.mark.parametrize("estimand", ["ATE", "ATT"])
def test_integer_weights_are_repeated_rows(estimand):
    """A sampling weight of k is k copies of the unit for the estimate (pweights = fweights for the point)."""
    k = np.random.default_rng(3).integers(1, 4, len(DATA))
    rows = DATA.iloc[np.repeat(np.arange(len(DATA)), k)]
    for method in ("ipw", "aipw"):
        a = _fit(method, DATA.assign(k=k.astype(float)), estimand=estimand, weights="k")
        b = _fit(method, rows, estimand=estimand)
        assert a.estimate == pytest.approx(b.estimate, rel=1e-9)


@pytest.mark.parametrize("estimand", ["ATE", "ATT"])
@pytest.mark.parametrize("cluster", [None, "psu"])
def test_weighted_bootstrap_draws_are_the_estimator(estimand, cluster):
    """Counts of one give the weighted estimate and its standard error; a row of counts gives the
    weighted estimator on the resampled rows (each keeping its weight)."""
    data = DATA.assign(psu=DATA["stratum"] * 100 + DATA["psu"])
    a = impact.aipw(data, outcome="y", treatment="d", covariates=COV, estimand=estimand, weights="w",
                    cluster=cluster, bootstrap=False)
    s = data["w"].to_numpy(float)
    y, d, X, _, beta, _, df, *_ = _prepare(data, "y", "d", COV, None, s)
    codes = pd.factorize(df[cluster])[0] if cluster else None
    e, se, ok = aipw_draws(y, d, X, np.ones((1, len(y))), estimand, beta, 1e-4, codes, s)
    assert ok[0] and abs(e[0] - a.estimate) < SAME_FIT and abs(se[0] - a.std_error) < SAME_FIT
    C = counts(np.random.default_rng(5), len(y), 3)
    e, se, ok = aipw_draws(y, d, X, C, estimand, beta, 1e-4, None, s)
    for b in range(3):
        rows = data.iloc[np.repeat(np.arange(len(y)), C[b].astype(int))]
        r = impact.aipw(rows, outcome="y", treatment="d", covariates=COV, estimand=estimand, weights="w",
                        bootstrap=False)
        assert ok[b] and abs(e[b] - r.estimate) < SAME_FIT and abs(se[b] - r.std_error) < SAME_FIT


def test_weighted_bootstrap_interval_runs():
    e = impact.aipw(DATA, outcome="y", treatment="d", covariates=COV, weights="w", bootstrap=199)
    assert e.ci[0] < e.estimate < e.ci[1] and "bootstrap" in e.method


def test_weights_recover_the_population_effect():
    """The effect differs by a trait that the sample over-represents: the weighted AIPW recovers the
    population ATE, the unweighted one the sample's."""
    rng = np.random.default_rng(7)
    N = 400_000
    g = rng.random(N) < 0.2                      # 20% of the population has the trait
    x = rng.normal(size=N)
    d = rng.random(N) < expit(0.5 * x + 0.3 * g)
    tau = np.where(g, 3.0, 1.0)
    y = 1 + x + tau * d + rng.normal(size=N)
    truth = float(tau.mean())
    pi = np.where(g, 0.05, 0.005)                # the trait is sampled ten times as often
    take = rng.random(N) < pi
    sample = pd.DataFrame({"y": y, "d": d.astype(float), "x": x, "g": g.astype(float), "w": 1 / pi})[take]
    kw = dict(outcome="y", treatment="d", covariates=["x", "g"], bootstrap=False)
    w = impact.aipw(sample, weights="w", **kw)
    u = impact.aipw(sample, **kw)
    assert abs(w.estimate - truth) < RECOVERY_SE * w.std_error
    assert abs(u.estimate - truth) > RECOVERY_SE * u.std_error


# --- bad input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["ipw", "aipw"])
@pytest.mark.parametrize("change,match", [
    (lambda w: w.where(w.index != 4, -1.0), "1 negative values"),
    (lambda w: w.where(w.index != 7, np.nan), "1 missing or non-numeric"),
    (lambda w: w * 0, "sums to zero"),
], ids=["negative", "missing", "zero_sum"])
def test_bad_weights_stop(method, change, match):
    data = DATA.assign(w=change(DATA["w"]))
    with pytest.raises(DataValidationError, match=match):
        _fit(method, data, weights="w")


def test_zero_weights_in_one_arm_stop():
    data = DATA.assign(w=DATA["w"].where(DATA["d"] == 0, 0.0))
    with pytest.raises(DataValidationError, match="treated units.*sum to zero"):
        _fit("aipw", data, weights="w")


@pytest.mark.parametrize("method", ["ipw", "aipw"])
def test_design_weights_must_be_the_weights_column(method):
    with pytest.raises(ParameterError, match="weights='x1' but a design whose weights column is 'w'"):
        _fit(method, weights="x1", design=DESIGN)


def test_design_with_cluster_or_bootstrap_stops():
    with pytest.raises(ParameterError, match="cluster= and design="):
        _fit("aipw", design=DESIGN, cluster="psu")
    with pytest.raises(ParameterError, match="ignore the design's strata"):
        impact.aipw(DATA, outcome="y", treatment="d", covariates=COV, design=DESIGN, bootstrap=199)


def test_unknown_weights_column_stops():
    with pytest.raises(ParameterError, match="'weights' column 'nope' is not in the data"):
        _fit("ipw", weights="nope")


# --- matching with sampling weights -----------------------------------------------------------

MATCH = pd.read_csv(HERE / "matching_data.csv")
MATCH_KW = dict(outcome="y", treatment="d", covariates=["x1", "x2", "x3"])
MATCH_CASES = {"att_m1": {}, "att_m3": {"n_neighbors": 3}, "att_caliper": {"caliper": 0.05},
               "att_noreplace": {"replace": False}, "att_noreplace_caliper": {"replace": False, "caliper": 0.1},
               "ate_m2": {"estimand": "ATE", "n_neighbors": 2},
               "ate_m1_caliper": {"estimand": "ATE", "caliper": 0.05}}


@pytest.mark.parametrize("case", sorted(MATCH_CASES))
def test_matching_equal_weights_are_abadie_imbens(case):
    """Equal weights (any constant) give the unweighted estimate and Abadie-Imbens SE."""
    kw = MATCH_CASES[case]
    a = impact.matching(MATCH, **MATCH_KW, **kw)
    b = impact.matching(MATCH.assign(c=2.5), **MATCH_KW, weights="c", **kw)
    assert b.estimate == pytest.approx(a.estimate, rel=SAME, abs=SAME)
    assert b.std_error == pytest.approx(a.std_error, rel=1e-9)
    assert b.nobs == a.nobs


@pytest.mark.slow
def test_matching_weights_recover_the_population_att():
    """The effect is larger for a trait the sample over-represents among the treated: weighted
    matching recovers the population ATT (coverage over repeated samples), unweighted does not."""
    rng = np.random.default_rng(9)
    N = 300_000
    g = rng.random(N) < 0.3
    x = rng.normal(size=N)
    d = rng.random(N) < expit(-0.5 + 0.6 * x + 0.4 * g)
    tau = np.where(g, 2.0, 0.5)
    y = x + g + tau * d + rng.normal(size=N)
    truth = float(tau[d].mean())
    pi = np.where(g, 0.02, 0.004)
    hits, biased = 0, 0
    reps = 40
    for _ in range(reps):
        take = rng.random(N) < pi
        sample = pd.DataFrame({"y": y, "d": d.astype(float), "x": x, "g": g.astype(float), "w": 1 / pi})[take]
        e = impact.matching(sample, outcome="y", treatment="d", covariates=["x", "g"], weights="w")
        u = impact.matching(sample, outcome="y", treatment="d", covariates=["x", "g"])
        hits += abs(e.estimate - truth) < 1.96 * e.std_error
        biased += abs(u.estimate - truth) > 1.96 * u.std_error
    # 95% nominal; over 40 samples, 3 Monte Carlo SEs of 95% reach down to about 85%
    assert hits >= 34
    assert biased >= reps // 2


def test_matching_bad_weights_stop():
    with pytest.raises(DataValidationError, match="1 negative"):
        impact.matching(MATCH.assign(w=MATCH.index.map(lambda i: -1.0 if i == 2 else 1.0)), **MATCH_KW, weights="w")
    with pytest.raises(DataValidationError, match="sums to zero"):
        impact.matching(MATCH.assign(w=0.0), **MATCH_KW, weights="w")
