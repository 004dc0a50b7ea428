"""Multiple-outcome corrections, summary index, heterogeneity test, ICC and minimum detectable effect."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from welfare_eval import impact
from welfare_eval.impact.inference import (
    benjamini_hochberg,
    heterogeneity,
    intracluster_correlation,
    minimum_detectable_effect,
    sharpened_qvalues,
    summary_index,
)

EXACT = 1e-12


def test_benjamini_hochberg_by_hand():
    p = [0.01, 0.04, 0.03, 0.20]
    # sorted 0.01, 0.03, 0.04, 0.20 -> x m/rank = 0.04, 0.06, 0.0533, 0.20 -> monotone from the top
    np.testing.assert_allclose(benjamini_hochberg(p), [0.04, 0.05333333333333334, 0.05333333333333334, 0.20],
                               atol=EXACT)


def test_benjamini_hochberg_matches_statsmodels():
    from statsmodels.stats.multitest import multipletests

    p = np.random.default_rng(0).uniform(0, 0.2, 25)
    np.testing.assert_allclose(benjamini_hochberg(p), multipletests(p, method="fdr_bh")[1], atol=EXACT)


def test_sharpened_q_values_are_no_larger_than_bh_and_ordered():
    p = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216])
    q = sharpened_qvalues(p)
    assert (np.diff(q) >= -EXACT).all()                       # same order as the p-values
    assert (q <= benjamini_hochberg(p) + 1e-3).all()          # sharpened: at most BH (grid step 0.001)


def test_summary_index_weights():
    rng = np.random.default_rng(1)
    d = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400)})
    d["c"] = d["a"] + rng.normal(scale=0.1, size=400)   # nearly a copy of a: gets less weight
    eq = summary_index(d, ["a", "b", "c"], weighting="equal")
    ic = summary_index(d, ["a", "b", "c"])
    assert eq.mean() == pytest.approx(0, abs=1e-12) and ic.mean() == pytest.approx(0, abs=1e-12)
    assert np.corrcoef(ic, d["b"])[0, 1] > np.corrcoef(eq, d["b"])[0, 1]


def test_heterogeneity_test(world_full):
    p = world_full.panel
    last = p[p["wave"] == p["wave"].max()].assign(d=lambda x: x["pkh"].astype(float))
    t = heterogeneity(impact.naive, last, by="urban", outcome="cons_pc", treatment="d")
    assert len(t) == 2 and t.notes[0].startswith("Equal effects across urban")


def test_icc_and_minimum_detectable_effect(world_full):
    p = world_full.panel
    last = p[p["wave"] == p["wave"].max()].assign(y=lambda x: x["knows_program"].astype(float))
    icc = intracluster_correlation(last, outcome="y", cluster="kec_code")
    assert 0 <= icc < 0.2
    mde = minimum_detectable_effect(clusters=69, per_cluster=87, icc=icc, sd=last["y"].std())
    mde_iid = minimum_detectable_effect(clusters=69, per_cluster=87, icc=0.0, sd=last["y"].std())
    assert mde > mde_iid > 0
    # Bloom's formula by hand for icc = 0: M sqrt(1 / (P(1-P) J m)) sd
    from scipy import stats
    M = stats.t.ppf(0.975, 67) + stats.t.ppf(0.8, 67)
    assert mde_iid == pytest.approx(M * np.sqrt(1 / (0.25 * 69 * 87)) * last["y"].std(), rel=1e-12)


def test_randomization_inference_exact_for_a_tiny_experiment():
    from welfare_eval.impact.inference import randomization_inference

    # 4 treated of 8 with a large effect: the observed split is the most extreme of C(8,4) = 70 (two
    # of them, by symmetry, are as extreme in absolute value), so p is about 2/70
    d = pd.DataFrame({"y": [10.0, 11, 12, 13, 0, 1, 2, 3], "t": [1, 1, 1, 1, 0, 0, 0, 0]})
    e = randomization_inference(impact.naive, d, treatment="t", draws=4999, seed=3, outcome="y")
    p = [x for x in e.diagnostics if x.name == "randomization_p"][0].value
    assert p == pytest.approx(2 / 70, abs=0.01)
    null = d.assign(t=[1, 0, 1, 0, 1, 0, 1, 0])
    e0 = randomization_inference(impact.naive, null, treatment="t", draws=199, seed=3, outcome="y")
    assert [x for x in e0.diagnostics if x.name == "randomization_p"][0].value > 0.5


def test_cluster_randomization_keeps_clusters_whole(world_full):
    from welfare_eval.impact.inference import randomization_inference

    p = world_full.panel
    last = p[p["wave"] == p["wave"].max()].assign(y=lambda x: x["knows_program"].astype(float),
                                                    t=lambda x: x["tksk"].astype(float))
    e = randomization_inference(impact.naive, last, treatment="t", cluster="kec_code", draws=99, seed=1, outcome="y")
    assert [x for x in e.diagnostics if x.name == "randomization_p"][0].value <= 0.05
    with pytest.raises(Exception, match="varies within clusters"):
        randomization_inference(impact.naive, last.assign(t=last["pkh"].astype(float)), treatment="t",
                                cluster="kec_code", draws=19, outcome="y")


def test_love_plot_draws_every_covariate():
    from welfare_eval.impact.common import balance_table
    from welfare_eval.plots import love_plot

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    d = (X[:, 0] + rng.normal(size=200) > 0).astype(float)
    fig, ax = love_plot(balance_table(X, ["a", "b", "c"], d, np.ones(200)), title="balance")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["c", "b", "a"]
