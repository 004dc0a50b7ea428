"""AIPW's studentized bootstrap: the batched draws are the estimator, the automatic rule, and
intervals that survive being tabulated."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from welfare_eval import impact, programs
from welfare_eval.exceptions import ParameterError
from welfare_eval.impact.bootstrap import aipw_draws, counts
from welfare_eval.impact.inference import heterogeneity
from welfare_eval.impact.weighting import BOOT_REPS, SMALL_ESS, _prepare

#: Batched and one-at-a-time fits differ only in the order of floating-point sums.
SAME_FIT = 1e-10


@pytest.fixture(scope="module")
def pkh(world_small_panel):
    last = programs.PKH.receipt_data(world_small_panel[world_small_panel["wave"] == world_small_panel["wave"].max()])
    last, cov = last.assign(d=last["pkh"].astype(float)), list(programs.PKH.receipt_covariates)
    return last.assign(y=last["child_out_of_school"].astype(float)), cov


@pytest.fixture(scope="module")
def world_small_panel(tables):
    return tables["panel"]


@pytest.mark.parametrize("estimand", ["ATT", "ATE"])
@pytest.mark.parametrize("cluster", [None, "kec_code"])
def test_batched_draws_are_the_estimator(pkh, estimand, cluster):
    """Counts of one give the estimate and its (clustered) standard error; a row of resampling
    counts gives what the estimator gives on the resampled rows."""
    data, cov = pkh
    a = impact.aipw(data, outcome="y", treatment="d", covariates=cov, estimand=estimand, cluster=cluster,
                    bootstrap=False)
    y, d, X, _, beta, _, df, *_ = _prepare(data, "y", "d", cov, None)
    codes = pd.factorize(df[cluster])[0] if cluster else None
    e, s, ok = aipw_draws(y, d, X, np.ones((1, len(y))), estimand, beta, 1e-4, codes)
    assert ok[0] and abs(e[0] - a.estimate) < SAME_FIT and abs(s[0] - a.std_error) < SAME_FIT
    rng = np.random.default_rng(5)
    C = counts(rng, len(y), 3)
    e, s, ok = aipw_draws(y, d, X, C, estimand, beta, 1e-4)
    for b in range(3):
        rows = data.iloc[np.repeat(np.arange(len(y)), C[b].astype(int))]
        r = impact.aipw(rows, outcome="y", treatment="d", covariates=cov, estimand=estimand, bootstrap=False)
        assert ok[b] and abs(e[b] - r.estimate) < SAME_FIT and abs(s[b] - r.std_error) < SAME_FIT


def test_cluster_counts_draw_whole_clusters():
    codes = np.array([0, 0, 1, 1, 1, 2])
    C = counts(np.random.default_rng(0), 6, 50, codes)
    assert (C[:, 0] == C[:, 1]).all() and (C[:, 2] == C[:, 4]).all()
    assert (C[:, [0, 2, 5]].sum(axis=1) == 3).all()       # three clusters drawn each time


def test_small_comparison_takes_the_bootstrap_interval(pkh):
    data, cov = pkh
    a = impact.aipw(data, outcome="y", treatment="d", covariates=cov, estimand="ATT")
    ess = next(g for g in a.diagnostics if g.name == "effective_sample")
    assert ess.value < SMALL_ESS and ess.passed is None and ess.get("bootstrap")
    assert a.ci is not None and "bootstrap-t" in a.method
    assert any(f"of {BOOT_REPS} draws usable" in n for n in a.notes)
    lo, hi = a.conf_int()
    assert lo < a.estimate < hi
    assert (lo, hi) != pytest.approx(a.conf_int(0.95 - 1e-9), rel=1e-6)   # not estimate +- 1.96 se
    assert 0 < a.pvalue <= 1
    off = impact.aipw(data, outcome="y", treatment="d", covariates=cov, estimand="ATT", bootstrap=False)
    assert off.ci is None and off.estimate == a.estimate and off.std_error == a.std_error
    ess_off = next(g for g in off.diagnostics if g.name == "effective_sample")
    assert ess_off.passed is False                          # warned: the interval is likely too narrow
    # same seed, same interval
    again = impact.aipw(data, outcome="y", treatment="d", covariates=cov, estimand="ATT")
    assert again.ci == a.ci


def test_large_comparison_keeps_the_influence_function_interval():
    rng = np.random.default_rng(1)
    n = 6000
    x = rng.normal(size=n)
    d = (rng.random(n) < 1 / (1 + np.exp(-0.3 * x))).astype(int)
    df = pd.DataFrame({"y": 0.5 * d + x + rng.normal(size=n), "d": d, "x": x})
    a = impact.aipw(df, outcome="y", treatment="d", covariates=["x"], estimand="ATT")
    assert a.ci is None and next(g for g in a.diagnostics if g.name == "effective_sample").passed is True


def test_a_level_other_than_95_gets_its_own_bootstrap_interval(pkh):
    data, cov = pkh
    a90 = impact.aipw(data, outcome="y", treatment="d", covariates=cov, estimand="ATT", level=0.90, bootstrap=199)
    assert a90.conf_int(0.90) == a90.ci
    lo, hi = a90.conf_int(0.95)                             # not the 90% bootstrap interval
    assert (lo, hi) == pytest.approx((a90.estimate - 1.959964 * a90.std_error, a90.estimate + 1.959964 * a90.std_error))


def test_tabulated_estimates_keep_their_bootstrap_intervals(pkh):
    data, cov = pkh
    half = data.assign(half=np.random.default_rng(2).integers(0, 2, len(data)))
    h = heterogeneity(impact.aipw, half, by="half", outcome="y", treatment="d", covariates=cov, estimand="ATT")
    f = h.to_frame()
    assert f["ci_own"].all()
    for _, r in f.iterrows():
        assert (r["ci_lower"], r["ci_upper"]) != pytest.approx((r["estimate"] - 1.96 * r["std_error"],
                                                                r["estimate"] + 1.96 * r["std_error"]), abs=1e-6)
    g = h.to_frame(0.9)                                     # another level: recomputed from the se
    assert not g["ci_own"].any()


@pytest.mark.parametrize("kw, msg", [({"bootstrap": 10}, "number of draws >= 99"),
                                     ({"bootstrap": "yes"}, "number of draws >= 99"),
                                     ({"bootstrap": True, "cross_fit": 2}, "not available with cross_fit")])
def test_bad_bootstrap_requests_are_named(pkh, kw, msg):
    data, cov = pkh
    with pytest.raises(ParameterError, match=msg):
        impact.aipw(data, outcome="y", treatment="d", covariates=cov, **kw)


@pytest.mark.parametrize("estimand", ["ATT", "ATE"])
def test_a_resample_with_a_separated_logit_is_dropped(estimand):
    """A resample in which the covariate separates the arms has no logit maximum: its coefficients
    diverge, and what the draw gave depended on rounding (on the full province the same data and
    seed gave intervals differing in the third digit with one BLAS thread or two). It is not a valid
    draw; the same units with the two overlapping ones back in are."""
    n = 60
    x = np.linspace(-2, 2, n)
    d = (x > 0).astype(float)
    overlap = [5, 50]                       # one unit on the other side of the cut in each arm
    d[overlap] = 1 - d[overlap]
    y = np.random.default_rng(3).binomial(1, 0.3, n).astype(float)
    X = np.column_stack([np.ones(n), x])
    C = np.ones((2, n))
    C[1, overlap] = 0                       # the second resample leaves them out: separated
    e, s, ok = aipw_draws(y, d, X, C, estimand, np.zeros(2), 1e-4)
    assert ok.tolist() == [True, False]
    assert np.isfinite(e[0]) and s[0] > 0
