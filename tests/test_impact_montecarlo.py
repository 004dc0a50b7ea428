"""Monte Carlo over many synthetic provinces: estimators recover the built-in effects.

For each seed a small province's panel is generated (SCALE, synth.generate_panel), the TKSK
effect on knowing the programme is estimated by Callaway-Sant'Anna and naive TWFE, and the PKH
effect on children out of school by AIPW (ATT, with its automatic bootstrap-t interval: the
comparison is small), matching and the naive
difference in means. Over N_SEEDS seeds the mean bias of the recommended
estimators must lie within BIAS_MCSE Monte Carlo standard errors of zero and their 95% intervals
must cover the truth in COVERAGE_BAND of seeds; the naive estimators' bias must be clearly nonzero.
"""
from __future__ import annotations

import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from welfare_eval import impact, programs, synth
from welfare_eval.impact.staggered import goodman_bacon, staggered_did

N_SEEDS = int(os.environ.get("WELFARE_EVAL_MC_SEEDS", 200))
SCALE = 0.2            # 1,200 panel households: enough units per cohort, fast to generate
BIAS_MCSE = 3.0        # the bar
COVERAGE_BAND = (0.92, 0.98)
NAIVE_MISS_MCSE = 5.0  # the naive estimators' mean bias exceeds this many Monte Carlo SEs


def _pkh_sample(panel):
    data = programs.PKH.receipt_data(panel[panel["wave"] == panel["wave"].max()])
    return data.assign(d=data["pkh"].astype(float)), list(programs.PKH.receipt_covariates)


def _one_seed(seed: int) -> tuple:
    """One synthetic province: each estimator's error against the truth, whether its interval
    covers, and its standard error."""
    panel, truth = synth.generate_panel(1000 + seed, SCALE)  # the province's panel, without the rest
    p = panel.assign(y=panel["knows_program"].astype(float))
    truth_tksk = truth["tksk"]["knows_program"]["att_simple"]
    cs = staggered_did(p, outcome="y", unit="hh_id", time="wave", cohort="tksk_cohort", bootstrap=None,
                       cluster="kec_code").to_frame().iloc[0]
    twfe = goodman_bacon(p, outcome="y", unit="hh_id", time="wave", cohort="tksk_cohort").attrs["twfe"]
    last, cov = _pkh_sample(panel)
    last["y"] = last["child_out_of_school"].astype(float)
    truth_pkh = truth["pkh"]["child_out_of_school"]["ATT"]
    a = impact.aipw(last, outcome="y", treatment="d", covariates=cov, estimand="ATT")
    lo, hi = a.conf_int()
    nv = impact.naive(last, outcome="y", treatment="d").estimate
    mt = impact.matching(last, outcome="y", treatment="d", covariates=cov, n_neighbors=4)
    mlo, mhi = mt.conf_int()
    return (cs["estimate"] - truth_tksk, cs["ci_lower"] <= truth_tksk <= cs["ci_upper"], twfe - truth_tksk,
            a.estimate - truth_pkh, lo <= truth_pkh <= hi, nv - truth_pkh, a.std_error, cs["std_error"],
            mt.estimate - truth_pkh, mlo <= truth_pkh <= mhi, mt.std_error, a.ci is not None)


@pytest.fixture(scope="module")
def montecarlo():
    # the seeds are independent: one process per core (one BLAS thread each), results in seed order
    threads = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    os.environ.update({k: "1" for k in threads})
    try:
        with ProcessPoolExecutor(max_workers=min(2, os.cpu_count() or 1), mp_context=mp.get_context("spawn")) as pool:
            rows = list(pool.map(_one_seed, range(N_SEEDS), chunksize=10))
    finally:
        for k, v in threads.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    r = np.array(rows, dtype=float)
    mcse = r.std(axis=0, ddof=1) / np.sqrt(N_SEEDS)
    report = {"cs_bias": r[:, 0].mean(), "cs_mcse": mcse[0], "cs_coverage": r[:, 1].mean(),
              "cs_sd_over_se": r[:, 0].std(ddof=1) / r[:, 7].mean(),
              "twfe_bias": r[:, 2].mean(), "twfe_mcse": mcse[2], "aipw_bias": r[:, 3].mean(), "aipw_mcse": mcse[3],
              "aipw_coverage": r[:, 4].mean(), "aipw_sd_over_se": r[:, 3].std(ddof=1) / r[:, 6].mean(),
              "naive_bias": r[:, 5].mean(), "naive_mcse": mcse[5],
              "match_bias": r[:, 8].mean(), "match_mcse": mcse[8], "match_coverage": r[:, 9].mean(),
              "match_sd_over_se": r[:, 8].std(ddof=1) / r[:, 10].mean(), "aipw_bootstrapped": r[:, 11].mean()}
    print("Monte Carlo over", N_SEEDS, "seeds:", {k: round(float(v), 4) for k, v in report.items()})
    return report


@pytest.mark.slow
def test_callaway_santanna_is_unbiased_and_covers(montecarlo):
    m = montecarlo
    assert abs(m["cs_bias"]) < BIAS_MCSE * m["cs_mcse"]
    assert COVERAGE_BAND[0] <= m["cs_coverage"] <= COVERAGE_BAND[1]


@pytest.mark.slow
def test_naive_estimators_are_biased_where_the_truth_says(montecarlo):
    m = montecarlo
    assert abs(m["twfe_bias"]) > NAIVE_MISS_MCSE * m["twfe_mcse"]
    assert abs(m["naive_bias"]) > NAIVE_MISS_MCSE * m["naive_mcse"]


@pytest.mark.slow
def test_aipw_is_unbiased(montecarlo):
    assert abs(montecarlo["aipw_bias"]) < BIAS_MCSE * montecarlo["aipw_mcse"]


@pytest.mark.slow
def test_matching_is_unbiased(montecarlo):
    assert abs(montecarlo["match_bias"]) < BIAS_MCSE * montecarlo["match_mcse"]


#: Why matching's intervals fall short here (open in issue 4). The PKH comparison on this design
#: rests on about 70 effective households (Kish) with a rare outcome, and the Abadie-Imbens standard
#: error moves with the estimate (few comparison events: a high estimate and a small se). The same
#: design simulated without the synthetic province (tests/reference/coverage_small_sample.py)
#: gives 89.6% at 940 households and 94.8% at 4,700: a small-sample shortfall, not the truth file or
#: the SE formula (equal to R Matching's). AIPW now takes a bootstrap-t interval there; the
#: bootstrap is not valid for nearest-neighbour matching (Abadie and Imbens 2008), so matching keeps
#: its interval and a warning (``effective_sample``) that it is likely too narrow.
MATCHING_SMALL_SAMPLE = ("open in issue 4: nearest-neighbour matching's Abadie-Imbens interval under-covers with "
                         "about 70 effective comparison households (89%); the bootstrap that fixes AIPW is not "
                         "valid for matching")


@pytest.mark.slow
def test_aipw_intervals_cover(montecarlo):
    """With about 70 effective comparison households AIPW takes its interval from the bootstrap-t."""
    assert montecarlo["aipw_bootstrapped"] == 1.0
    assert COVERAGE_BAND[0] <= montecarlo["aipw_coverage"] <= COVERAGE_BAND[1]


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=MATCHING_SMALL_SAMPLE)
def test_matching_intervals_cover(montecarlo):
    assert COVERAGE_BAND[0] <= montecarlo["match_coverage"] <= COVERAGE_BAND[1]
