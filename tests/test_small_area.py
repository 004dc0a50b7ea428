"""Fay-Herriot small-area estimation: samplics reference, hand checks, bad input, known truth."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from welfare_eval import small_area
from welfare_eval.exceptions import DataValidationError, ParameterError

REF = Path(__file__).parent / "reference"
#: samplics runs Fisher scoring to a relative change of 1e-13 in sigma2_u, the workbench Brent's
#: method to 1e-13: the roots, and so every EBLUP and MSE, agree far inside 1e-8.
SAMPLICS_RTOL = 1e-8
#: hand-computed toy quantities: only floating-point rounding separates the two computations
TOY_TOL = 1e-12
COVARIATES = ["share_dtks", "mean_school"]


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(REF / "fay_herriot_data.csv", dtype={"kec_code": str})


@pytest.fixture(scope="module")
def reference():
    return pd.read_csv(REF / "fay_herriot_reference.csv", dtype={"area": str})


@pytest.mark.parametrize("method", ["REML", "ML", "FH"])
@pytest.mark.parametrize("quantity", ["sigma2_u", "beta", "eblup", "mse"])
def test_equals_samplics(data, reference, method, quantity):
    fit = small_area.fay_herriot(data, estimate="direct", variance="variance", covariates=COVARIATES,
                                 area="kec_code", method=method)
    ref = reference[(reference["method"] == method) & (reference["quantity"] == quantity)]
    if quantity == "sigma2_u":
        got, want = np.array([fit.sigma2_u]), ref["value"].to_numpy()
    elif quantity == "beta":
        got, want = fit.beta.loc[ref["area"]].to_numpy(), ref["value"].to_numpy()
    else:
        col = "estimate" if quantity == "eblup" else "mse"
        got = fit.frame.set_index("kec_code").loc[ref["area"], col].to_numpy()
        want = ref["value"].to_numpy()
    np.testing.assert_allclose(got, want, rtol=SAMPLICS_RTOL, atol=0)


def test_hand_computed_eblup_with_known_variance_component():
    """With the moment equation solved by hand the EBLUP is the textbook shrinkage."""
    d = pd.DataFrame({"a": list("pqrst"), "y": [0.05, 0.60, 0.10, 0.35, 0.70], "v": [0.002, 0.004, 0.002, 0.008, 0.004],
                      "x": [1.0, 2.0, 1.5, 3.0, 2.5]})
    fit = small_area.fay_herriot(d, estimate="y", variance="v", covariates=["x"], area="a", method="FH")
    s2 = fit.sigma2_u
    assert s2 > 0                                               # an interior root, not the boundary
    v = s2 + d["v"].to_numpy()
    X = np.column_stack([np.ones(5), d["x"]])
    beta = np.linalg.solve(X.T @ (X / v[:, None]), X.T @ (d["y"].to_numpy() / v))
    r = d["y"].to_numpy() - X @ beta
    assert abs(np.sum(r ** 2 / v) - (5 - 2)) < TOY_TOL          # the moment equation holds
    gamma = s2 / v
    np.testing.assert_allclose(fit.frame["estimate"], X @ beta + gamma * r, rtol=0, atol=TOY_TOL)
    np.testing.assert_allclose(fit.frame["gamma"], gamma, rtol=0, atol=TOY_TOL)


def test_area_without_sample_gets_synthetic_prediction(data):
    d = data.copy()
    d.loc[[3, 10], "direct"] = np.nan
    fit = small_area.fay_herriot(d, estimate="direct", variance="variance", covariates=COVARIATES,
                                 area="kec_code")
    f = fit.frame
    x = np.column_stack([np.ones(len(d)), d[COVARIATES]])
    np.testing.assert_allclose(f.loc[[3, 10], "estimate"], x[[3, 10]] @ fit.beta.to_numpy(), rtol=0, atol=TOY_TOL)
    g2 = np.einsum("ij,jk,ik->i", x[[3, 10]], fit.beta_cov.to_numpy(), x[[3, 10]])
    np.testing.assert_allclose(f.loc[[3, 10], "mse"], fit.sigma2_u + g2, rtol=0, atol=TOY_TOL)
    assert not f.loc[[3, 10], "in_sample"].any() and fit.n_areas == len(d) - 2
    tidy = fit.to_frame()
    assert tidy.loc[3, "method"].startswith("synthetic")


def test_eblup_mse_below_direct_variance(data):
    fit = small_area.fay_herriot(data, estimate="direct", variance="variance", covariates=COVARIATES,
                                 area="kec_code")
    # g1 < psi always; with 69 areas g2 + 2 g3 is small, so nearly every area gains
    assert (fit.frame["mse"] < data["variance"]).mean() > 0.9


def test_tidy_frame_stacks_with_other_modules(data):
    fit = small_area.fay_herriot(data, estimate="direct", variance="variance", covariates=COVARIATES,
                                 area="kec_code")
    f = fit.to_frame()
    for c in ("estimand", "kec_code", "estimate", "std_error", "ci_lower", "ci_upper", "level", "nobs", "method"):
        assert c in f.columns
    np.testing.assert_allclose(f["std_error"] ** 2, fit.frame["mse"], rtol=1e-14)
    assert (f["ci_lower"] < f["estimate"]).all() and (f["estimate"] < f["ci_upper"]).all()


def test_arcsin_keeps_rates_and_intervals_inside_unit_interval(data):
    d = data.copy()
    d["direct"] = d["direct"].clip(0, 1)
    d.loc[0, "direct"] = 0.0
    p = d["direct"].clip(0.02, 0.98)
    d["n_eff"] = p * (1 - p) / d["variance"]
    fit = small_area.fay_herriot(d, estimate="direct", variance="variance", covariates=COVARIATES,
                                 area="kec_code", transform="arcsin", effective_size="n_eff", bootstrap=50, seed=1)
    f = fit.to_frame()
    assert ((f["ci_lower"] >= 0) & (f["ci_upper"] <= 1)).all()
    assert ((f["estimate"] >= 0) & (f["estimate"] <= 1)).all()
    assert fit.mse_method.startswith("parametric bootstrap") and (fit.frame["mse"] > 0).all()


def test_bootstrap_mse_agrees_with_prasad_rao(data):
    """The parametric bootstrap estimates the same MSE as the analytic formula, up to its own noise."""
    kw = dict(estimate="direct", variance="variance", covariates=COVARIATES, area="kec_code")
    analytic = small_area.fay_herriot(data, **kw).frame["mse"]
    boot = small_area.fay_herriot(data, **kw, bootstrap=400, seed=3).frame["mse"]
    ratio = float(np.mean(boot / analytic))
    # 400 replicates: each area's MSE has a relative MC SE of about sqrt(2/400) = 7%; averaged over
    # 69 areas the mean ratio is known to ~1-2%, so 10% separates a wrong formula from noise.
    assert abs(ratio - 1) < 0.10, ratio


#: a rate of 2% on 30 effective draws: n p = 0.6, far below the n p >= 5 where arcsin's variance
#: is 1/(4n); most simulated direct rates are 0, and the binomial bootstrap's MSE comes out 3.1-3.5
#: times the normal one (seeds 5-7), so 1.5 times separates the effect from bootstrap noise
RARE_RATE, RARE_N = 0.02, 30.0
RARE_MSE_RATIO = 1.5


def test_binomial_bootstrap_carries_the_extra_variance_of_rare_rates(data):
    d = data.assign(direct=np.clip(RARE_RATE + 0.2 * (data["direct"] - data["direct"].mean()), 0, 1),
                    n_eff=RARE_N)
    kw = dict(estimate="direct", variance="variance", covariates=COVARIATES, area="kec_code", transform="arcsin",
              effective_size="n_eff", bootstrap=200, seed=5)
    normal = small_area.fay_herriot(d, **kw)
    binomial = small_area.fay_herriot(d, **kw, bootstrap_errors="binomial")
    assert "binomial" in binomial.mse_method and "binomial" not in normal.mse_method
    # the same model and point estimates; only what the bootstrap draws differs
    np.testing.assert_allclose(binomial.frame["estimate"], normal.frame["estimate"], rtol=0, atol=TOY_TOL)
    assert binomial.frame["mse"].mean() > RARE_MSE_RATIO * normal.frame["mse"].mean()
    assert binomial.replicates is not None and binomial.replicates["direct"].shape == (200, len(d))
    # the simulated direct rates are counts over the effective size
    counts = binomial.replicates["direct"] * RARE_N
    np.testing.assert_allclose(counts, np.rint(counts), atol=1e-9)


def test_binomial_bootstrap_needs_the_arcsin_model(data):
    with pytest.raises(ParameterError, match="'bootstrap_errors' parameter of fay_herriot"):
        small_area.fay_herriot(data, estimate="direct", variance="variance", covariates=COVARIATES,
                               area="kec_code", bootstrap=10, bootstrap_errors="binomial")


@pytest.mark.parametrize("change, fragment, exc", [
    (lambda d: d.assign(variance=d["variance"].where(d.index != 4, 0.0)), "variance that is not positive",
     DataValidationError),
    (lambda d: d.assign(share_dtks=d["share_dtks"].where(d.index != 2)), "Covariates of 1 areas", DataValidationError),
    (lambda d: pd.concat([d, d.iloc[[0]]]), "more than once", DataValidationError),
    (lambda d: d.drop(columns="variance"), "not in the data", DataValidationError),
], ids=["zero-variance", "missing-covariate", "duplicate-area", "missing-column"])
def test_bad_input_gives_clear_error(data, change, fragment, exc):
    with pytest.raises(exc, match=fragment):
        small_area.fay_herriot(change(data), estimate="direct", variance="variance", covariates=COVARIATES,
                               area="kec_code")


def test_bad_parameters(data):
    kw = dict(estimate="direct", variance="variance", covariates=COVARIATES, area="kec_code")
    with pytest.raises(ParameterError, match="'method' parameter of fay_herriot must be one of"):
        small_area.fay_herriot(data, **kw, method="reml")
    with pytest.raises(ParameterError, match="effective_size"):
        small_area.fay_herriot(data, **kw, transform="arcsin")
    with pytest.raises(DataValidationError, match="rates in \\[0, 1\\]"):
        small_area.fay_herriot(data.assign(direct=data["direct"] - 1), **kw, transform="arcsin", effective_size="n")


# -- kecamatan poverty from the survey and the registry ------------------------------------------

#: the benchmark makes each kabupaten's population-weighted mean equal its direct estimate; only
#: rounding separates them
BENCHMARK_TOL = 1e-12


@pytest.fixture(scope="module")
def kecamatan(tables):
    return small_area.area_poverty(tables["survey"], tables["registry"], bootstrap=30, seed=1)


def test_every_registry_kecamatan_gets_an_estimate_inside_unit_interval(kecamatan, tables):
    assert set(kecamatan["kec_code"]) == set(tables["registry"]["kec_code"].astype(str))
    for c in ("estimate", "ci_lower", "ci_upper", "estimate_raw"):
        assert kecamatan[c].between(0, 1).all(), c
    assert (kecamatan["ci_lower"] <= kecamatan["estimate"]).all()
    assert (kecamatan["estimate"] <= kecamatan["ci_upper"]).all()
    unsampled = kecamatan[kecamatan["nobs"] == 0]
    assert unsampled["direct"].isna().all() and unsampled["method"].str.startswith("synthetic").all()


def test_benchmarked_kecamatan_add_up_to_kabupaten_direct_estimate(kecamatan, tables):
    from welfare_eval import poverty
    from welfare_eval.survey import SUSENAS

    s = tables["survey"].assign(kab_code=tables["survey"]["kab_code"].astype(str))
    kab = poverty.fgt(s, welfare="cons_pc", poverty_line="poverty_line", design=SUSENAS, household_size="hh_size",
                      by="kab_code").to_frame().set_index("kab_code")["estimate"]
    k = kecamatan
    mean = (k["estimate"] * k["persons"]).groupby(k["kab_code"]).sum() / k["persons"].groupby(k["kab_code"]).sum()
    np.testing.assert_allclose(mean.sort_index(), kab.loc[mean.sort_index().index], rtol=0, atol=BENCHMARK_TOL)


def test_published_error_is_the_bootstrap_error_of_the_benchmarked_estimate(kecamatan):
    """std_error is the MSE of the benchmarked estimate (benchmarking redone in every replicate),
    not the model's MSE scaled by the benchmark factor."""
    k = kecamatan
    np.testing.assert_allclose(k["std_error"], np.sqrt(k["mse_benchmarked"]), rtol=0, atol=TOY_TOL)
    assert not np.allclose(k["std_error"], np.sqrt(k["mse_raw"]) * k["benchmark_factor"])


def test_kabupaten_fixed_effects(kecamatan, tables):
    sampled = kecamatan[kecamatan["nobs"] > 0].groupby("kab_code").size()
    own = sorted(sampled[sampled >= small_area.PARENT_EFFECT_MIN_AREAS].index)
    assert kecamatan["parent_effects"].iloc[0].split(";") == [f"kab_code={c}" for c in own[1:]]
    plain = small_area.area_poverty(tables["survey"], tables["registry"], bootstrap=10, seed=1,
                                    parent_effects=False)
    assert plain["parent_effects"].iloc[0] == ""


def test_quality_flags_follow_bps_rse_bands(kecamatan):
    k = kecamatan
    assert (k.loc[k["quality"] == "reliable", "rse"] <= small_area.RSE_RELIABLE).all()
    caution = k.loc[k["quality"] == "caution", "rse"]
    assert ((caution > small_area.RSE_RELIABLE) & (caution <= small_area.RSE_CAUTION)).all()
    assert (k.loc[k["quality"] == "unreliable", "rse"] > small_area.RSE_CAUTION).all()


def test_extreme_poverty_indicator(tables):
    k = small_area.area_poverty(tables["survey"], tables["registry"], indicator="extreme", bootstrap=10, seed=2)
    assert k["estimand"].iloc[0].startswith("extreme_poverty") and k["estimate"].between(0, 1).all()


def test_registry_without_covariate_columns_is_a_clear_error(tables):
    with pytest.raises(DataValidationError, match="lacks the columns \\['pmt_score'\\]"):
        small_area.area_poverty(tables["survey"], tables["registry"].drop(columns="pmt_score"))


@pytest.mark.slow
def test_small_area_beats_direct_estimates_on_known_truth():
    """Over repeated surveys of one synthetic province, Fay-Herriot is closer to each kecamatan's
    true P0 than the direct estimate in most kecamatan (tools/small_area_truth.py does 100 draws
    at full scale and writes docs/small_area_truth.md)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("sat", Path(__file__).parents[1] / "tools" / "small_area_truth.py")
    sat = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sat)
    f = sat.run(draws=8, bootstrap=20, scale=0.3, indicators=("P0",))["P0"]
    s = sat.summarise(f)
    sampled = s[s["draws_with_sample"] >= 4]
    # 4 draws at this scale gave 94%; 8 draws leave room for noise while a model worse than the
    # direct estimates (about half or fewer) fails
    assert (sampled["rmse_fh"] < sampled["rmse_direct"]).mean() > 0.75


# -- unit level: nested-error model and EBP -------------------------------------------------------

#: statsmodels' MixedLM (behind samplics) stops its optimizer near 1e-8 in the variance
#: parameters; 1e-6 relative separates that from a wrong likelihood
MIXEDLM_RTOL = 1e-6
#: samplics' EB headcount is a mean of 4,000 Monte Carlo draws; an area's headcount varies across
#: draws with SD below 0.1 here, so its Monte Carlo SE is below 0.0016: 0.006 is ~4 MC SEs, while
#: leaving out the area effect or the sampled households moves the estimates by 0.02-0.1
EBP_MC_TOL = 0.006
EBP_LINE = 9.0e5


@pytest.fixture(scope="module")
def unit_data():
    s = pd.read_csv(REF / "ebp_sample.csv")
    c = pd.read_csv(REF / "ebp_census.csv")
    ref = pd.read_csv(REF / "ebp_reference.csv", keep_default_na=False)
    return s, c, ref


def test_nested_error_fit_equals_samplics(unit_data):
    s, _, ref = unit_data
    fit = small_area.nested_error_fit(s, welfare="cons_pc", covariates=["head_educ", "hh_size", "urban"], area="area",
                                      transform="log")
    beta = ref[ref["quantity"] == "beta"].set_index("name")["value"]
    np.testing.assert_allclose(fit.beta.loc[beta.index], beta, rtol=MIXEDLM_RTOL)
    for q in ("sigma2_u", "sigma2_e"):
        want = float(ref.loc[ref["quantity"] == q, "value"].iloc[0])
        assert abs(getattr(fit, q) / want - 1) < MIXEDLM_RTOL, (q, getattr(fit, q), want)


def test_ebp_headcount_equals_samplics_within_monte_carlo_error(unit_data):
    s, c, ref = unit_data
    out = small_area.ebp(s, c, welfare="cons_pc", covariates=["head_educ", "hh_size", "urban"], area="area",
                         poverty_line=EBP_LINE, include_sample=True)
    got = out[out["estimand"] == "FGT0"].set_index("area")["estimate"]
    want = ref[ref["quantity"] == "headcount"].set_index("name")["value"]
    assert np.max(np.abs(got.loc[want.index] - want)) < EBP_MC_TOL


def test_ebp_exact_expectation_equals_monte_carlo_limit(unit_data):
    """The closed form (log-normal partial moments) is what the Monte Carlo mean converges to."""
    s, c, _ = unit_data
    kw = dict(welfare="cons_pc", covariates=["head_educ", "hh_size", "urban"], area="area", poverty_line=EBP_LINE)
    exact = small_area.ebp(s, c, **kw)
    mc = small_area.ebp(s, c, **kw, L=400, seed=3)
    # 400 draws of 250 households: MC SE of an area's FGT0 below 0.005, of FGT1/FGT2 smaller
    assert np.max(np.abs(exact["estimate"] - mc["estimate"])) < 0.02
    assert exact["method"].iloc[0].endswith("exact expectation)")


def test_ebp_box_cox_and_bootstrap(unit_data):
    s, c, _ = unit_data
    out = small_area.ebp(s, c, welfare="cons_pc", covariates=["head_educ", "hh_size", "urban"], area="area",
                         poverty_line=EBP_LINE, transform="box-cox", L=20, bootstrap=10, seed=1)
    fit = out.attrs["fit"]
    assert fit.boxcox_lambda is not None and -1 <= fit.boxcox_lambda <= 2
    assert out["estimate"].between(0, 1).all() and (out["std_error"] > 0).all()
    assert set(out["estimand"]) == {"FGT0", "FGT1", "FGT2"}


def test_ebp_bad_input(unit_data):
    s, c, _ = unit_data
    with pytest.raises(DataValidationError, match="not in the census"):
        small_area.ebp(s, c.drop(columns="urban"), welfare="cons_pc", covariates=["head_educ", "hh_size", "urban"],
                       area="area", poverty_line=EBP_LINE)
    with pytest.raises(DataValidationError, match="non-finite"):
        small_area.ebp(s.assign(cons_pc=s["cons_pc"].where(s.index != 3)), c, welfare="cons_pc",
                       covariates=["head_educ", "hh_size", "urban"], area="area", poverty_line=EBP_LINE)
    with pytest.raises(ParameterError, match="'L' parameter of ebp"):
        small_area.ebp(s, c, welfare="cons_pc", covariates=["head_educ"], area="area", poverty_line=EBP_LINE, L=0)
