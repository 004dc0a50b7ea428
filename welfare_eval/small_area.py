"""Small-area estimation: poverty for kecamatan that the survey alone cannot measure.

SUSENAS is designed for kabupaten; a kecamatan has a handful of sampled census blocks or none,
so its direct estimate has a variance as large as the rate itself. The area-level model of Fay
and Herriot (1979) borrows strength from covariates known for every area (kecamatan means from
the registry) and shrinks each direct estimate toward a regression prediction, the more the less
precise the direct estimate is.

References
----------
Fay, R. E. and Herriot, R. A. (1979). Estimation of income for small places: an application of
James-Stein procedures to census data. JASA 74, 269-277.
Prasad, N. G. N. and Rao, J. N. K. (1990). The estimation of the mean squared error of
small-area estimators. JASA 85, 163-171.
Datta, G. S. and Lahiri, P. (2000). A unified measure of uncertainty of estimated best linear
unbiased predictors in small area estimation problems. Statistica Sinica 10, 613-627.
Datta, G. S., Rao, J. N. K. and Smith, D. D. (2005). On measuring the variability of small area
estimators under a basic area level model. Biometrika 92, 183-196.
Rao, J. N. K. and Molina, I. (2015). Small Area Estimation, 2nd ed., chapter 6. Wiley.
González-Manteiga, W., Lombardía, M. J., Molina, I., Morales, D. and Santamaría, L. (2008).
Analytic and bootstrap approximations of prediction errors under a multivariate Fay-Herriot
model. Computational Statistics and Data Analysis 52, 5242-5252.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from .cache import memoized
from .config import DEFAULT_LEVEL
from .exceptions import DataValidationError, check_choice, parameter_error
from .reliability import RSE_CAUTION, RSE_RELIABLE
from .results import EstimateTable, check_level

FitMethod = Literal["REML", "ML", "FH"]
Transform = Literal["arcsin"]
BootstrapErrors = Literal["normal", "binomial"]

#: Relative precision of the variance component's root. The score is smooth and monotone near
#: the root, so Brent's method reaches machine precision in a few dozen steps; 1e-13 keeps the
#: EBLUPs equal to a fully converged Fisher scoring to ~1e-12.
ROOT_RTOL = 1e-13


@dataclass(frozen=True)
class FayHerriotResult:
    """The fitted area-level model and its predictions, one row per area.

    ``table`` holds the EBLUP (or the synthetic prediction for an area without a direct
    estimate) with ``std_error`` = sqrt(MSE); ``frame`` adds the direct estimate and variance,
    the shrinkage factor ``gamma``, the MSE's terms g1, g2, g3 and, for a transformed model, the
    estimate and MSE on the modelled scale (``estimate_model_scale``, ``mse_model_scale``).
    """

    table: EstimateTable
    frame: pd.DataFrame
    sigma2_u: float
    beta: pd.Series
    beta_cov: pd.DataFrame
    method: str
    transform: str | None
    mse_method: str
    loglik: float
    n_areas: int
    notes: tuple[str, ...] = ()
    #: The parametric bootstrap's replicates, one row per replicate and one column per area (rows of
    #: ``frame``), on the reported scale: ``truth`` (x'beta + u*), ``prediction`` (the refitted
    #: EBLUP or synthetic prediction) and ``direct`` (the simulated direct estimate, NaN for an
    #: area without sample). None without bootstrap. What a step after the model (benchmarking)
    #: needs to carry its own variability into the MSE.
    replicates: dict[str, np.ndarray] | None = None

    def to_frame(self, level: float | None = None) -> pd.DataFrame:
        return self.table.to_frame(level)

    def summary(self) -> str:
        head = (f"Fay-Herriot ({self.method}{', ' + self.transform if self.transform else ''}) on "
                f"{self.n_areas} areas: sigma2_u = {self.sigma2_u:.6g}, log-likelihood {self.loglik:.6g}, "
                f"MSE by {self.mse_method}")
        beta = "\n".join(f"  {k:<20} {v: .6g}  (se {np.sqrt(self.beta_cov.loc[k, k]):.4g})"
                         for k, v in self.beta.items())
        return head + "\n" + beta + "\n" + self.table.summary()

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return self.table._repr_html_()


# -- the model on the (possibly transformed) scale ---------------------------------------------

def _gls(y: np.ndarray, X: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """beta, (X'V^-1X)^-1 and residuals for V = diag(v)."""
    Xw = X / v[:, None]
    xtvx_inv = np.linalg.inv(X.T @ Xw)
    beta = xtvx_inv @ (Xw.T @ y)
    return beta, xtvx_inv, y - X @ beta


def _score(s2: float, y: np.ndarray, X: np.ndarray, psi: np.ndarray, method: str) -> float:
    """The estimating equation of sigma2_u: zero at the estimate, decreasing through it."""
    v = s2 + psi
    _, xtvx_inv, r = _gls(y, X, v)
    if method == "FH":   # Fay and Herriot's moment equation: sum r^2 / v = m - p
        return float(np.sum(r ** 2 / v) - (len(y) - X.shape[1]))
    quad = np.sum(r ** 2 / v ** 2)
    if method == "ML":
        return float(-0.5 * np.sum(1 / v) + 0.5 * quad)
    # REML: -tr(P)/2 + y'PPy/2 with P = V^-1 - V^-1 X (X'V^-1X)^-1 X'V^-1 (so Py = r / v)
    trace_p = np.sum(1 / v) - np.trace(xtvx_inv @ (X.T @ (X / (v ** 2)[:, None])))
    return float(-0.5 * trace_p + 0.5 * quad)


def _fit_sigma2(y: np.ndarray, X: np.ndarray, psi: np.ndarray, method: str) -> float:
    if _score(0.0, y, X, psi, method) <= 0:
        return 0.0   # the likelihood (or moment equation) has its maximum on the boundary
    hi = max(float(np.var(y)), float(np.max(psi)), 1e-12)
    while _score(hi, y, X, psi, method) > 0:
        hi *= 4
        if hi > 1e12 * max(float(np.var(y)), 1e-12):
            raise DataValidationError("The Fay-Herriot variance component did not converge: the direct "
                                      "estimates vary far more than their variances allow; check their scale.")
    return float(optimize.brentq(_score, 0.0, hi, args=(y, X, psi, method), xtol=1e-300, rtol=ROOT_RTOL,
                                 maxiter=500))


def _loglik(y: np.ndarray, X: np.ndarray, psi: np.ndarray, s2: float, method: str) -> float:
    v = s2 + psi
    _, xtvx_inv, r = _gls(y, X, v)
    ll = -0.5 * (len(y) * np.log(2 * np.pi) + np.sum(np.log(v)) + np.sum(r ** 2 / v))
    if method == "REML":
        ll -= 0.5 * np.linalg.slogdet(np.linalg.inv(xtvx_inv))[1]
    return float(ll)


def _predict(y, X, psi, s2, method, X_out):
    """EBLUPs and analytic MSE terms for the sampled areas; synthetic predictions for X_out."""
    v = s2 + psi
    beta, xtvx_inv, r = _gls(y, X, v)
    gamma = s2 / v
    eblup = X @ beta + gamma * r
    g1 = gamma * psi
    g2 = (1 - gamma) ** 2 * np.einsum("ij,jk,ik->i", X, xtvx_inv, X)
    s_inv2, s_inv = np.sum(1 / v ** 2), np.sum(1 / v)
    m = len(y)
    if method == "FH":
        var_s2 = 2 * m / s_inv ** 2
        bias = 2 * (m * s_inv2 - s_inv ** 2) / s_inv ** 3                      # Datta, Rao and Smith (2005)
    else:
        var_s2 = 2 / s_inv2
        bias = 0.0 if method == "REML" else \
            -np.trace(xtvx_inv @ (X.T @ (X / (v ** 2)[:, None]))) / s_inv2     # Datta and Lahiri (2000)
    g3 = (1 - gamma) ** 2 * var_s2 / v
    # Prasad-Rao for REML; ML and FH subtract the bias of sigma2_u times dg1/dsigma2 = (1 - gamma)^2
    mse = g1 + g2 + 2 * g3 - (1 - gamma) ** 2 * bias
    synth = X_out @ beta
    mse_out = s2 + np.einsum("ij,jk,ik->i", X_out, xtvx_inv, X_out)
    return dict(beta=beta, beta_cov=xtvx_inv, gamma=gamma, eblup=eblup, g1=g1, g2=g2, g3=g3, mse=mse,
                synthetic=X @ beta, synth_out=synth, mse_out=mse_out)


# -- the public function ------------------------------------------------------------------------

def fay_herriot(data: pd.DataFrame, *, estimate: str, variance: str, covariates: list[str] | tuple[str, ...],
                area: str, method: FitMethod = "REML", transform: Transform | None = None,
                effective_size: str | None = None, nobs: str | None = None, bootstrap: int = 0,
                bootstrap_errors: BootstrapErrors = "normal", seed: int | None = None, level: float = DEFAULT_LEVEL,
                intercept: bool = True) -> FayHerriotResult:
    """Fay-Herriot EBLUP of an area mean or rate, with its mean squared error.

    Parameters
    ----------
    data : DataFrame
        One row per area: the direct estimate, its variance and the covariates. Areas whose
        direct estimate is missing (no sample) get the synthetic prediction x'beta.
    estimate, variance : str
        Columns of the direct estimate and its design-based variance (treated as known).
    covariates : list of str
        Area-level covariates (e.g. kecamatan means from the registry); an intercept is added
        unless ``intercept=False``.
    area : str
        Column of the area code; one row per area.
    method : {"REML", "ML", "FH"}
        Estimator of the random-effect variance sigma2_u: restricted or full maximum
        likelihood, or Fay and Herriot's moment equation.
    transform : {None, "arcsin"}
        ``"arcsin"`` models arcsin(sqrt(p)) with variance 1 / (4 n_eff) for rates; the EBLUP is
        back-transformed by sin^2 (naive back-transformation), its interval by transforming the
        ends of the interval on the arcsin scale (so it stays inside [0, 1]), that interval and
        the MSE of the rate both from the parametric bootstrap (``bootstrap`` replicates, 200 if
        not given).
    effective_size : str, optional
        Column of the effective sample size n_eff = p(1 - p) / variance (needed for arcsin).
    nobs : str, optional
        Column of the area's sample size, carried into ``nobs``.
    bootstrap : int
        Replicates of the parametric bootstrap MSE (González-Manteiga et al. 2008); 0 uses the
        analytic MSE.
    bootstrap_errors : {"normal", "binomial"}
        How the bootstrap draws the direct estimates given the replicate's true values:
        ``"normal"``, e* ~ N(0, psi_d) on the modelled scale (the model's own assumption);
        ``"binomial"`` (``transform="arcsin"`` only), the direct rate as a count of
        Binomial(n_eff, p*) over n_eff, transformed like the data. The arcsin variance 1/(4 n)
        holds for n p of 5 or more; for rarer events (extreme poverty in a kecamatan with a few
        dozen households) the direct rate is often 0 and its arcsin has a larger variance and a
        downward bias, which the binomial draws carry into the MSE.
    seed : int, optional
        Seed of the bootstrap.
    level : float
        Confidence level of the intervals (normal, on the modelled scale).

    Returns
    -------
    FayHerriotResult

    Notes
    -----
    Model: y_d = x_d' beta + u_d + e_d with u_d ~ N(0, sigma2_u) and e_d ~ N(0, psi_d), psi_d
    known. With gamma_d = sigma2_u / (sigma2_u + psi_d) the EBLUP is
    gamma_d y_d + (1 - gamma_d) x_d' beta_hat (GLS beta). Analytic MSE (Rao and Molina 2015,
    6.2): g1 = gamma_d psi_d, g2 = (1 - gamma_d)^2 x_d'(X'V^-1 X)^-1 x_d,
    g3 = (1 - gamma_d)^2 Var(sigma2_u_hat) / (sigma2_u + psi_d); MSE = g1 + g2 + 2 g3 for REML
    (Prasad and Rao 1990), minus (1 - gamma_d)^2 times the bias of sigma2_u_hat for ML (Datta
    and Lahiri 2000) and FH (Datta, Rao and Smith 2005). An area without a direct estimate gets
    x_d' beta_hat with MSE sigma2_u + x_d'(X'V^-1 X)^-1 x_d. When sigma2_u_hat is 0 every area
    gets its synthetic prediction and the analytic MSE may be optimistic (a note says so).
    Checked against samplics' ``EblupAreaModel`` (tests/reference/fay_herriot_reference.py).
    """
    where = "fay_herriot"
    method = check_choice(method, FitMethod, "method", where)
    if transform is not None:
        transform = check_choice(transform, Transform, "transform", where)
    bootstrap_errors = check_choice(bootstrap_errors, BootstrapErrors, "bootstrap_errors", where)
    if bootstrap_errors == "binomial" and transform != "arcsin":
        raise parameter_error("bootstrap_errors", where, "'normal' unless transform='arcsin'", bootstrap_errors)
    level = check_level(level, where)
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, int) or bootstrap < 0:
        raise parameter_error("bootstrap", where, "a whole number >= 0", bootstrap)
    covariates = list(covariates)
    needed = [area, estimate, variance, *covariates] + [c for c in (effective_size, nobs) if c]
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise DataValidationError(f"Columns {missing} are not in the data given to {where}; columns present: "
                                  f"{list(data.columns)[:20]}.")
    if data[area].duplicated().any():
        dup = data.loc[data[area].duplicated(), area].astype(str).tolist()
        raise DataValidationError(f"{len(dup)} areas appear more than once in column {area!r} ({', '.join(dup[:5])}"
                                  f"{', ...' if len(dup) > 5 else ''}); give one row per area.")
    bad_x = data[covariates].isna().any(axis=1) | ~np.isfinite(data[covariates].to_numpy(dtype=float)).all(axis=1)
    if bad_x.any():
        rows = data.loc[bad_x, area].astype(str).tolist()
        raise DataValidationError(f"Covariates of {len(rows)} areas are missing or not finite ({', '.join(rows[:5])}"
                                  f"{', ...' if len(rows) > 5 else ''}); every area needs its covariates "
                                  f"(impute them from the registry or drop the covariate).")
    y_all = data[estimate].to_numpy(dtype=float)
    sampled = np.isfinite(y_all)
    psi = data[variance].to_numpy(dtype=float)
    bad_v = sampled & ~(np.isfinite(psi) & (psi > 0))
    if transform is None and bad_v.any():
        rows = data.loc[bad_v, area].astype(str).tolist()
        raise DataValidationError(f"{len(rows)} areas have a direct estimate with a variance that is not positive "
                                  f"({', '.join(rows[:5])}{', ...' if len(rows) > 5 else ''}); smooth the variances "
                                  f"(generalized variance function) or drop their direct estimates.")
    X_full = data[covariates].to_numpy(dtype=float)
    names = list(covariates)
    if intercept:
        X_full = np.column_stack([np.ones(len(data)), X_full])
        names = ["(Intercept)", *names]
    notes: list[str] = []
    if transform == "arcsin":
        if effective_size is None:
            raise parameter_error("effective_size", where, "a column of effective sample sizes with transform='arcsin'",
                                  None)
        if ((y_all[sampled] < 0) | (y_all[sampled] > 1)).any():
            raise DataValidationError(f"transform='arcsin' needs rates in [0, 1]; column {estimate!r} has values "
                                      f"outside it.")
        n_eff = data[effective_size].to_numpy(dtype=float)
        bad_n = sampled & ~(np.isfinite(n_eff) & (n_eff > 0))
        if bad_n.any():
            rows = data.loc[bad_n, area].astype(str).tolist()
            raise DataValidationError(f"{len(rows)} areas have no positive effective sample size in "
                                      f"{effective_size!r} ({', '.join(rows[:5])}); give one for every sampled area.")
        y_mod = np.arcsin(np.sqrt(np.clip(y_all, 0, 1)))
        psi_mod = 1 / (4 * n_eff)
        n_eff = np.where(sampled, n_eff, np.nan)
        if bootstrap == 0:
            bootstrap = 200
    else:
        y_mod, psi_mod, n_eff = y_all, psi, None
    m = int(sampled.sum())
    if m <= X_full.shape[1]:
        raise DataValidationError(f"{m} areas have a direct estimate, too few for {X_full.shape[1]} regression "
                                  f"coefficients; use fewer covariates or larger areas.")
    y, X, ps = y_mod[sampled], X_full[sampled], psi_mod[sampled]
    X_out = X_full[~sampled]
    s2 = _fit_sigma2(y, X, ps, method)
    fit = _predict(y, X, ps, s2, method, X_out)
    if s2 == 0:
        notes.append("sigma2_u is estimated at 0: every area gets its synthetic prediction; the analytic MSE may "
                     "understate the error.")

    theta = np.empty(len(data))
    theta[sampled], theta[~sampled] = fit["eblup"], fit["synth_out"]
    mse_mod = np.empty(len(data))
    mse_mod[sampled], mse_mod[~sampled] = fit["mse"], fit["mse_out"]
    z = float(stats.norm.ppf(0.5 + level / 2))
    lo_mod, hi_mod = theta - z * np.sqrt(mse_mod), theta + z * np.sqrt(mse_mod)
    back = _back(transform)
    point = back(theta)
    if transform == "arcsin":
        lo, hi = interval_from_model_scale(theta, mse_mod, level)
    else:
        lo, hi = lo_mod, hi_mod
    mse_method = "analytic (Prasad-Rao)" if method == "REML" else \
        "analytic (Datta-Lahiri)" if method == "ML" else "analytic (Datta-Rao-Smith)"
    mse = mse_mod.copy()
    replicates = None
    if bootstrap:
        replicates = _bootstrap(X_full, sampled, psi_mod, n_eff, fit["beta"], s2, method, transform, bootstrap,
                                bootstrap_errors, seed)
        mse = np.mean((replicates["prediction"] - replicates["truth"]) ** 2, axis=0)
        kind = ", binomial errors" if n_eff is not None and bootstrap_errors == "binomial" else ""
        mse_method = f"parametric bootstrap ({bootstrap} replicates{kind})"
        if transform is None:
            lo, hi = point - z * np.sqrt(mse), point + z * np.sqrt(mse)
        else:   # the interval on the modelled scale, its MSE from the same replicates
            mse_mod = np.mean((replicates["prediction_model"] - replicates["truth_model"]) ** 2, axis=0)
            lo, hi = interval_from_model_scale(theta, mse_mod, level)
    label = f"Fay-Herriot EBLUP ({method}{', arcsin' if transform else ''})"
    frame = pd.DataFrame({
        area: data[area].to_numpy(), "direct": y_all, "direct_variance": psi,
        "estimate": point, "mse": mse, "std_error": np.sqrt(mse), "ci_lower": lo, "ci_upper": hi,
        "estimate_model_scale": theta, "mse_model_scale": mse_mod,
        "gamma": _fill(sampled, fit["gamma"], 0.0), "synthetic": back(X_full @ fit["beta"]),
        "g1": _fill(sampled, fit["g1"]), "g2": _fill(sampled, fit["g2"]), "g3": _fill(sampled, fit["g3"]),
        "in_sample": sampled})
    tidy = pd.DataFrame({
        "estimand": "EBLUP", area: frame[area], "estimate": point, "std_error": np.sqrt(mse),
        "ci_lower": lo, "ci_upper": hi, "level": level,
        "nobs": data[nobs].fillna(0).astype(int).to_numpy() if nobs else np.where(sampled, 1, 0),
        "method": np.where(sampled, label, f"synthetic x'beta ({method})"),
        "df": np.nan, "ci_own": True, "notes": "; ".join(notes)})
    table = EstimateTable(tidy, group_columns=(area,), level=level, notes=tuple(notes))
    beta = pd.Series(fit["beta"], index=names)
    beta_cov = pd.DataFrame(fit["beta_cov"], index=names, columns=names)
    return FayHerriotResult(table=table, frame=frame, sigma2_u=s2, beta=beta, beta_cov=beta_cov, method=method,
                            transform=transform, mse_method=mse_method, loglik=_loglik(y, X, ps, s2, method),
                            n_areas=m, notes=tuple(notes), replicates=replicates)


def _fill(mask: np.ndarray, values: np.ndarray, other: float = np.nan) -> np.ndarray:
    out = np.full(len(mask), other, dtype=float)
    out[mask] = values
    return out


def _back(transform: str | None):
    if transform == "arcsin":
        return lambda t: np.sin(np.clip(t, 0, np.pi / 2)) ** 2
    return lambda t: np.asarray(t, dtype=float)


def interval_from_model_scale(theta: np.ndarray, mse_model: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """The interval of a rate modelled on the arcsin-square-root scale: theta +- z sqrt(MSE) there,
    its ends clipped to [0, pi/2] and back-transformed by sin^2 (so it stays inside [0, 1])."""
    z = float(stats.norm.ppf(0.5 + level / 2))
    back = _back("arcsin")
    half = z * np.sqrt(mse_model)
    point = back(theta)
    lo, hi = back(np.clip(theta - half, 0, np.pi / 2)), back(np.clip(theta + half, 0, np.pi / 2))
    return np.minimum(lo, point), np.maximum(hi, point)


def _bootstrap(X_full, sampled, psi, n_eff, beta, s2, method, transform, B, errors, seed) -> dict[str, np.ndarray]:
    """Replicates of the parametric bootstrap (González-Manteiga et al. 2008).

    Each replicate draws u* ~ N(0, sigma2_u_hat) for every area, the true values
    theta* = X beta_hat + u*, direct estimates for the sampled areas (normal errors with variance
    psi on the modelled scale, or binomial counts on n_eff for the arcsin model), refits the
    model with the same psi and keeps prediction and truth on both scales.
    """
    rng = np.random.default_rng(seed)
    back = _back(transform)
    X, X_out = X_full[sampled], X_full[~sampled]
    ps = psi[sampled]
    n_areas = len(X_full)
    out = {k: np.full((B, n_areas), np.nan) for k in ("truth", "prediction", "direct", "truth_model",
                                                        "prediction_model")}
    binomial = errors == "binomial" and n_eff is not None
    if binomial:   # a whole number of effective draws, at least one
        n_int = np.maximum(1, np.rint(n_eff[sampled])).astype(np.int64)
    for b in range(B):
        theta = X_full @ beta + rng.normal(0.0, np.sqrt(s2), n_areas)
        if binomial:
            p = back(theta[sampled])
            direct = rng.binomial(n_int, p) / n_int
            y = np.arcsin(np.sqrt(direct))
        else:
            y = theta[sampled] + rng.normal(0.0, np.sqrt(ps))
            direct = back(y)
        s2b = _fit_sigma2(y, X, ps, method)
        f = _predict(y, X, ps, s2b, method, X_out)
        pred = np.empty(n_areas)
        pred[sampled], pred[~sampled] = f["eblup"], f["synth_out"]
        out["truth_model"][b], out["prediction_model"][b] = theta, pred
        out["truth"][b], out["prediction"][b] = back(theta), back(pred)
        out["direct"][b, sampled] = direct
    return out


# -- kecamatan poverty from the survey and the registry -------------------------------------------

Indicator = Literal["P0", "extreme"]

#: Kecamatan covariates built from the registry by default: the share of households the PMT ranks
#: into deciles 1-4, the mean PMT score, the mean schooling of household heads and the mean
#: household size. Four covariates for ~60 sampled kecamatan keep the model from over-fitting.
REGISTRY_COVARIATES: dict[str, tuple[str, str]] = {
    "share_decile_1_4": ("decile", "share_le_4"),
    "mean_pmt_score": ("pmt_score", "mean"),
    "mean_head_educ": ("head_educ", "mean"),
    "mean_hh_size": ("hh_size", "mean"),
}

#: Registry columns that sharpen the model where the registry has them (DTSEN's PMT variables:
#: urban, floor, sanitation, assets): used by :func:`available_covariates` when present. On the
#: synthetic province they cut the kecamatan RMSE by a third and bring the average estimated MSE
#: within 11% of the empirical one (docs/small_area_truth.md).
OPTIONAL_REGISTRY_COVARIATES: dict[str, tuple[str, str]] = {
    "share_decile_1_2": ("decile", "share_le_2"),
    "share_urban": ("urban", "mean"),
    "share_floor_earth": ("floor_earth", "mean"),
    "share_no_toilet": ("no_toilet", "mean"),
    "share_owns_fridge": ("owns_fridge", "mean"),
}

# BPS's reading of the relative standard error (RSE = sqrt(MSE) / estimate): RSE_RELIABLE and
# RSE_CAUTION come from welfare_eval.reliability, the one definition (a zero estimate: RSE infinite).


def available_covariates(registry: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """The default covariates plus the optional ones whose registry column exists."""
    extra = {k: v for k, v in OPTIONAL_REGISTRY_COVARIATES.items() if v[0] in registry.columns}
    return {**REGISTRY_COVARIATES, **extra}


def registry_covariates(registry: pd.DataFrame, *, area: str = "kec_code",
                        covariates: dict[str, tuple[str, str]] | None = None) -> pd.DataFrame:
    """Area means of registry columns: one row per area, the covariates of the area-level model.

    ``covariates`` maps an output name to (registry column, "mean" | "share_le_K"); the default is
    :data:`REGISTRY_COVARIATES`. Household-level means (the registry lists households).
    """
    covariates = REGISTRY_COVARIATES if covariates is None else covariates
    needed = sorted({c for c, _ in covariates.values()} | {area, "hh_size"})
    missing = [c for c in needed if c not in registry.columns]
    if missing:
        raise DataValidationError(f"Table registry lacks the columns {missing} needed for the small-area "
                                  f"covariates; add them or pass covariates= naming columns it has.")
    key = _as_text(registry[area])
    cols: dict[str, pd.Series] = {}
    for name, (col, how) in covariates.items():
        x = pd.to_numeric(registry[col], errors="coerce")
        if how == "mean":
            cols[name] = x
        elif how.startswith("share_le_"):
            cols[name] = (x <= float(how[len("share_le_"):])).astype(float)
        else:
            raise parameter_error("covariates", "registry_covariates", "(column, 'mean' or 'share_le_K') pairs",
                                  (col, how))
    frame = pd.DataFrame(cols).assign(_persons=pd.to_numeric(registry["hh_size"], errors="coerce"), _one=1)
    g = frame.groupby(key.to_numpy(), sort=True)
    out = g[list(covariates)].mean()
    out["persons"] = g["_persons"].sum()
    out["households"] = g["_one"].sum()
    out.index.name = area
    return out.reset_index()


def _as_text(codes: pd.Series) -> pd.Series:
    """Region codes as text; a categorical column is converted through its categories (fast)."""
    if isinstance(codes.dtype, pd.CategoricalDtype):
        return pd.Series(codes.cat.categories.astype(str).to_numpy()[codes.cat.codes.to_numpy()], index=codes.index)
    return codes.astype(str)


def benchmark_ratio(estimate: np.ndarray, weights: np.ndarray, groups: np.ndarray, target: pd.Series) -> np.ndarray:
    """Ratio benchmarking factors (emdi's "ratio"): per group, the target over the weighted mean of
    the estimates, one factor per element (1 where the group has no target or a zero mean)."""
    est = pd.Series(np.asarray(estimate, float) * weights).groupby(groups).sum() / \
        pd.Series(weights).groupby(groups).sum()
    factor = (target.reindex(est.index) / est).replace([np.inf, -np.inf], np.nan).fillna(1.0)
    return pd.Series(groups).map(factor).fillna(1.0).to_numpy(float)


#: A parent (kabupaten) gets its own fixed effect in :func:`area_poverty` only with this many
#: sampled areas: with one or two the effect would absorb their direct estimates whole.
PARENT_EFFECT_MIN_AREAS = 3


@memoized
def area_poverty(survey_data: pd.DataFrame, registry: pd.DataFrame, *, indicator: Indicator = "P0",
                 welfare: str = "cons_pc", poverty_line: str | float = "poverty_line",
                 extreme_line: str = "extreme_215_2017ppp", design=None, household_size: str = "hh_size",
                 area: str = "kec_code", parent: str = "kab_code", covariates: dict | None = None,
                 parent_effects: bool = True, bootstrap_errors: BootstrapErrors = "binomial",
                 method: FitMethod = "REML", bootstrap: int = 200, seed: int = 0,
                 level: float = DEFAULT_LEVEL) -> pd.DataFrame:
    """Poverty (P0) or extreme poverty for every area (kecamatan): direct, Fay-Herriot, benchmarked.

    Parameters
    ----------
    survey_data : DataFrame
        The survey (SUSENAS-like), with ``area`` and ``parent`` codes.
    registry : DataFrame
        Every household of the province (the registry), the census-like source of covariates
        and of each area's population.
    indicator : {"P0", "extreme"}
        The headcount at ``poverty_line`` or at the extreme line ``extreme_line``.
    design : SurveyDesign, optional
        The survey design (default: SUSENAS's strata, PSUs and weights).
    covariates : dict, optional
        Kecamatan covariates from the registry as for :func:`registry_covariates`; None uses
        :func:`available_covariates` (the defaults and the optional columns the registry has).
    parent_effects : bool
        True (the default) adds a fixed effect per parent (kabupaten) with at least
        ``PARENT_EFFECT_MIN_AREAS`` sampled areas: poverty lines and much of what sets poverty
        are kabupaten-wide, so without them the area effects of one kabupaten lean the same way
        and the MSE of its areas is understated (docs/small_area_truth.md).
    method : {"REML", "ML", "FH"}
        Estimator of the model's variance component.
    bootstrap : int
        Replicates of the parametric bootstrap MSE (the arcsin model has no analytic MSE).
    bootstrap_errors : {"binomial", "normal"}
        How the bootstrap draws the direct estimates (see :func:`fay_herriot`); "binomial"
        carries the extra variance and bias of the arcsin of a rare event's rate into the MSE.

    Returns
    -------
    DataFrame
        One row per area of the registry: ``direct`` and its ``direct_std_error`` and ``nobs``
        (households in the survey), ``estimate_raw`` (the back-transformed EBLUP or, without
        sample, the synthetic prediction), ``estimate`` (ratio-benchmarked so that the areas'
        population-weighted mean equals the parent's direct estimate), ``std_error`` (sqrt of the
        bootstrap MSE of the benchmarked estimate), ``ci_lower``/``ci_upper``, ``rse`` and
        ``quality`` ("reliable", "caution", "unreliable" by BPS's RSE bands), the parent's
        ``benchmark_factor``, ``mse_raw`` and ``mse_benchmarked`` (bootstrap MSE of the model's and
        of the benchmarked estimate), ``parent_effects`` (the fixed effects used), and the tidy
        columns ``estimand``, ``level``, ``method``.

    Notes
    -----
    Direct estimates and their variances come from the design-based engine (area domains of
    the full design). Their variances are unstable and zero where no sampled household is
    poor, so the model uses the arcsin-square-root scale, where the sampling variance is
    1 / (4 n_eff) whatever the rate, with n_eff = n_d / deff and one design effect: that of the
    parents (kabupaten, sample-size weighted), where the design has enough PSUs for a stable
    variance, carried to the areas with their own sample sizes (a generalized variance function
    in one parameter). The areas' own design-based variances are not used: with a handful of PSUs
    they are unstable, zero where no sampled household is poor, and on the synthetic province
    about half the variance the estimates really have (docs/small_area_truth.md). Benchmarking is
    ratio benchmarking (emdi's "ratio"): within each parent the EBLUPs are multiplied by the
    parent's direct estimate over their population-weighted mean.

    The MSE of the published (benchmarked) estimate comes from the same bootstrap replicates as the
    model's, with the benchmarking redone in each (as emdi bootstraps its whole pipeline): the
    parent's direct estimate of a replicate is the population-weighted mean of its simulated area
    direct estimates, so the benchmark's own sampling error and its correlation with the areas'
    enter the MSE; the interval is formed on the arcsin scale from the replicates' errors there.

    Inside ``welfare-eval run`` the result is computed once per run and read by the run's other
    jobs (:mod:`welfare_eval.cache`, keyed by the data's content and every argument); elsewhere
    every call computes.
    """
    from . import poverty
    from .survey import SUSENAS

    where = "area_poverty"
    indicator = check_choice(indicator, Indicator, "indicator", where)
    design = SUSENAS if design is None else design
    for col in (area, parent):
        if col not in survey_data.columns or col not in registry.columns:
            raise DataValidationError(f"Column {col!r} must be in both the survey and the registry for {where}.")
    s = survey_data.assign(**{area: survey_data[area].astype(str), parent: survey_data[parent].astype(str)})
    kw = dict(welfare=welfare, design=design, household_size=household_size, level=level)
    if indicator == "P0":
        est = lambda by: poverty.fgt(s, poverty_line=poverty_line, by=by, **kw).to_frame()  # noqa: E731
    else:
        est = lambda by: poverty.extreme_poverty(s, line=extreme_line, by=by, **kw).to_frame()  # noqa: E731
    direct = est(area)[[area, "estimate", "std_error", "nobs"]].rename(
        columns={"estimate": "direct", "std_error": "direct_std_error"})
    psus = s.groupby(area)[design.psu].nunique().rename("n_psu") if design.psu else \
        s.groupby(area).size().rename("n_psu")
    direct = direct.merge(psus.reset_index(), on=area, how="left")
    # the design effect of the parents (kabupaten), where the design has PSUs enough for a stable
    # variance, carried to the areas with their own sample sizes (a one-parameter variance function)
    par_frame = est(parent)
    pp, pv, pn = par_frame["estimate"], par_frame["std_error"] ** 2, par_frame["nobs"]
    ok = (pp > 0) & (pp < 1) & (pv > 0)
    if not ok.any():
        raise DataValidationError(f"No {parent} has a direct estimate inside (0, 1) with a positive variance; "
                                  f"{where} cannot estimate the design effect.")
    deff = float(np.sum((pv / (pp * (1 - pp) / pn))[ok] * pn[ok]) / np.sum(pn[ok]))
    n = direct["nobs"]
    direct["n_eff"] = n / deff
    covariates = available_covariates(registry) if covariates is None else covariates
    cov = registry_covariates(registry, area=area, covariates=covariates)
    names = [c for c in cov.columns if c not in (area, "persons", "households")]
    parents = registry[[area, parent]].drop_duplicates(area)
    parents = pd.DataFrame({area: _as_text(parents[area]).to_numpy(), parent: _as_text(parents[parent]).to_numpy()})
    d = cov.merge(parents, on=area, how="left").merge(direct, on=area, how="left")
    d["nobs"] = d["nobs"].fillna(0).astype(int)
    d["direct_variance"] = d["direct_std_error"] ** 2
    effects = []
    if parent_effects:   # one indicator per parent with enough sampled areas, the first such as reference
        counts = d[d["direct"].notna()].groupby(parent).size()
        own = sorted(counts[counts >= PARENT_EFFECT_MIN_AREAS].index.astype(str))
        for code in own[1:]:
            effects.append(f"{parent}={code}")
            d[effects[-1]] = (d[parent].astype(str) == code).astype(float)
    fit = fay_herriot(d, estimate="direct", variance="direct_variance", covariates=names + effects, area=area,
                      method=method, transform="arcsin", effective_size="n_eff", nobs="nobs", bootstrap=bootstrap,
                      bootstrap_errors=bootstrap_errors, seed=seed, level=level)
    f = fit.frame.set_index(area)
    d = d.set_index(area)
    d["estimate_raw"] = f["estimate"]
    d["mse_raw"] = f["mse"]
    d["ci_lower_raw"], d["ci_upper_raw"] = f["ci_lower"], f["ci_upper"]
    par = par_frame[[parent, "estimate"]].set_index(parent)["estimate"]
    factor = benchmark_ratio(d["estimate_raw"].to_numpy(), d["persons"].to_numpy(float), d[parent].to_numpy(), par)
    d["benchmark_factor"] = factor
    d["estimate"] = np.clip(d["estimate_raw"] * d["benchmark_factor"], 0, 1)
    reps = fit.replicates
    assert reps is not None   # the arcsin model always bootstraps
    # the benchmark redone in every replicate, its target the replicate's parent direct estimate
    w = d["persons"].to_numpy(float)
    G = pd.get_dummies(pd.Series(d[parent].to_numpy())).to_numpy(float)   # areas x parents
    seen = np.isfinite(reps["direct"])
    with np.errstate(divide="ignore", invalid="ignore"):
        target = (np.where(seen, reps["direct"], 0.0) * w) @ G / ((seen * w) @ G)
        model = (reps["prediction"] * w) @ G / (w @ G)
        ratio = target / model
    ratio = np.where(np.isfinite(ratio), ratio, 1.0)
    bench = np.clip(reps["prediction"] * (ratio @ G.T), 0, 1)
    d["mse_benchmarked"] = np.mean((bench - reps["truth"]) ** 2, axis=0)
    # on the arcsin scale the benchmark moves the model's prediction by asin(sqrt(bench)) - asin(sqrt(pred));
    # the errors keep the model scale's unclipped values (clipping both at 0 would hide the spread of rare rates)
    shift = np.arcsin(np.sqrt(bench)) - np.arcsin(np.sqrt(reps["prediction"]))
    mse_mod = np.mean((reps["prediction_model"] + shift - reps["truth_model"]) ** 2, axis=0)
    centre = f["estimate_model_scale"].to_numpy() + np.arcsin(np.sqrt(d["estimate"].to_numpy())) - \
        np.arcsin(np.sqrt(d["estimate_raw"].to_numpy()))
    d["std_error"] = np.sqrt(d["mse_benchmarked"])
    d["ci_lower"], d["ci_upper"] = interval_from_model_scale(centre, mse_mod, level)
    d["rse"] = np.where(d["estimate"] > 0, d["std_error"] / d["estimate"], np.inf)
    d["quality"] = np.select([d["rse"] <= RSE_RELIABLE, d["rse"] <= RSE_CAUTION], ["reliable", "caution"],
                             "unreliable")
    d["estimand"] = "P0" if indicator == "P0" else f"extreme_poverty({extreme_line})"
    d["level"] = level
    d["method"] = np.where(d["nobs"] > 0, f"Fay-Herriot EBLUP (arcsin, {method}), ratio-benchmarked",
                           f"synthetic (arcsin, {method}), ratio-benchmarked")
    d["deff_pooled"] = deff
    d["covariates"] = ";".join(names)
    d["parent_effects"] = ";".join(effects)
    d["sigma2_u"] = fit.sigma2_u
    first = ["estimand", parent, "estimate", "std_error", "ci_lower", "ci_upper", "level", "nobs", "method"]
    out = d.reset_index()
    return out[[area, *first] + [c for c in out.columns if c not in first and c != area]]


# -- unit level: the empirical best predictor (Molina and Rao 2010) ------------------------------

UnitTransform = Literal["log", "box-cox"]

#: Bounds of the variance ratio sigma2_u / sigma2_e searched by the nested-error fit; a ratio of
#: 1e4 means area effects 100 times the unit noise, far past any poverty application.
RATIO_BOUNDS = (0.0, 1e4)
#: Bounds of the Box-Cox parameter searched (-1: reciprocal ... 2: square), as emdi's default.
BOXCOX_BOUNDS = (-1.0, 2.0)


@dataclass(frozen=True)
class NestedErrorFit:
    """The nested-error regression t(y_ij) = x_ij' beta + u_i + e_ij, fitted by REML."""

    beta: pd.Series
    sigma2_u: float
    sigma2_e: float
    transform: str
    boxcox_lambda: float | None
    shift: float
    loglik: float


def _fb_transform(y, X, idx, n_i, ratio):
    """Fuller-Battese: subtract a_i times the area means, a_i = 1 - 1/sqrt(1 + n_i ratio)."""
    a = 1 - 1 / np.sqrt(1 + n_i * ratio)
    ybar = np.bincount(idx, weights=y) / n_i
    Xbar = np.column_stack([np.bincount(idx, weights=X[:, k]) / n_i for k in range(X.shape[1])])
    return y - a[idx] * ybar[idx], X - a[idx, None] * Xbar[idx]


def _profile(ratio, y, X, idx, n_i, reml=True):
    ys, Xs = _fb_transform(y, X, idx, n_i, ratio)
    xtx = Xs.T @ Xs
    beta = np.linalg.solve(xtx, Xs.T @ ys)   # normal equations: p is small, X'X well conditioned here
    rss = float(np.sum((ys - Xs @ beta) ** 2))
    n, p = X.shape
    dof = n - p if reml else n
    s2e = rss / dof
    ll = -0.5 * (dof * np.log(s2e) + np.sum(np.log1p(n_i * ratio)) + dof)
    if reml:
        ll -= 0.5 * np.linalg.slogdet(xtx)[1]
    return ll, beta, s2e


def _nested_error(y, X, idx, n_i):
    res = optimize.minimize_scalar(lambda r: -_profile(r, y, X, idx, n_i)[0], bounds=RATIO_BOUNDS,
                                   method="bounded", options={"xatol": 1e-12, "maxiter": 500})
    ratio = float(res.x)
    # the boundary: no area effect
    if _profile(0.0, y, X, idx, n_i)[0] >= -res.fun:
        ratio = 0.0
    ll, beta, s2e = _profile(ratio, y, X, idx, n_i)
    return beta, ratio * s2e, s2e, ll


def _transform(y, lam, shift, inverse=False):
    if lam is None or lam == 0:
        return np.exp(y) - shift if inverse else np.log(y + shift)
    if inverse:
        return np.power(np.maximum(lam * y + 1, 1e-300), 1 / lam) - shift
    return (np.power(y + shift, lam) - 1) / lam


def nested_error_fit(data: pd.DataFrame, *, welfare: str, covariates: list[str] | tuple[str, ...], area: str,
                     transform: UnitTransform = "log", intercept: bool = True) -> NestedErrorFit:
    """Fit the nested-error (Battese-Harter-Fuller) model to unit records by REML.

    ``transform="log"`` models log(welfare + shift), "box-cox" estimates the Box-Cox parameter by
    maximizing the profile likelihood with its Jacobian (Molina and Rao 2010; Rojas-Perilla et al.
    2020, as R emdi). The shift is 0 for positive welfare, else 1 - min(welfare).
    """
    where = "nested_error_fit"
    transform = check_choice(transform, UnitTransform, "transform", where)
    missing = [c for c in (welfare, area, *covariates) if c not in data.columns]
    if missing:
        raise DataValidationError(f"Columns {missing} are not in the data given to {where}.")
    y_raw = data[welfare].to_numpy(dtype=float)
    X = data[list(covariates)].to_numpy(dtype=float)
    bad = ~np.isfinite(y_raw) | ~np.isfinite(X).all(axis=1)
    if bad.any():
        rows = np.flatnonzero(bad)[:5].tolist()
        raise DataValidationError(f"{int(bad.sum())} rows of the data given to {where} have a missing or "
                                  f"non-finite welfare or covariate (rows {rows}); drop or impute them.")
    if intercept:
        X = np.column_stack([np.ones(len(X)), X])
    codes, idx = np.unique(data[area].astype(str).to_numpy(), return_inverse=True)
    n_i = np.bincount(idx).astype(float)
    shift = 0.0 if y_raw.min() > 0 else 1.0 - float(y_raw.min())
    logsum = float(np.sum(np.log(y_raw + shift)))
    lam = None
    if transform == "box-cox":
        def negll(lmb):   # profile likelihood of the Box-Cox parameter, with the Jacobian
            return -(_nested_error(_transform(y_raw, lmb, shift), X, idx, n_i)[3] + (lmb - 1) * logsum)
        lam = float(optimize.minimize_scalar(negll, bounds=BOXCOX_BOUNDS, method="bounded",
                                             options={"xatol": 1e-8}).x)
    beta, s2u, s2e, ll = _nested_error(_transform(y_raw, lam, shift), X, idx, n_i)
    names = (["(Intercept)"] if intercept else []) + list(covariates)
    return NestedErrorFit(pd.Series(beta, index=names), float(s2u), float(s2e), transform, lam, shift, float(ll))


def _area_fgt(y, z, size, idx, n_areas):
    """FGT 0, 1, 2 per area (person-weighted) for one draw of every census household."""
    gap = np.where(y < z, 1 - y / z, 0.0)
    den = np.bincount(idx, weights=size, minlength=n_areas)
    return np.stack([np.bincount(idx, weights=size * (y < z), minlength=n_areas),
                     np.bincount(idx, weights=size * gap, minlength=n_areas),
                     np.bincount(idx, weights=size * gap ** 2, minlength=n_areas)]) / den


def _lognormal_fgt(m, s, z):
    """E[FGT_alpha] of y = exp(t), t ~ N(m, s^2), alpha = 0, 1, 2 (partial moments of the log-normal)."""
    a = (np.log(z) - m) / s
    p0 = special.ndtr(a)
    e1 = np.exp(m + s ** 2 / 2) * special.ndtr(a - s) / z
    e2 = np.exp(2 * m + 2 * s ** 2) * special.ndtr(a - 2 * s) / z ** 2
    return p0, p0 - e1, p0 - 2 * e1 + e2


def _ebp_predict(fit_beta, s2u, s2e, lam, shift, ys, Xs, idx_s, n_areas, Xc, idx_c, zc, sizec, L, rng):
    """EBP of FGT 0-2 per area: the expectation over y | sample of each area's FGT.

    With the log transform of positive welfare and ``L=None`` the expectation is exact: given the
    sample, t_ij ~ N(x_ij' beta + mu_i, sigma2_e + v_i) and the log-normal partial moments give
    each household's expected FGT (the Monte Carlo limit, without its noise). Otherwise the mean
    over L Monte Carlo draws of the census.
    """
    n_i = np.bincount(idx_s, minlength=n_areas).astype(float)
    resid = ys - Xs @ fit_beta
    rbar = np.divide(np.bincount(idx_s, weights=resid, minlength=n_areas), n_i, out=np.zeros(n_areas),
                     where=n_i > 0)
    gamma = np.where(n_i > 0, s2u / (s2u + s2e / np.maximum(n_i, 1)), 0.0)
    mu_u = gamma * rbar
    var_u = s2u * (1 - gamma)
    mean_c = Xc @ fit_beta + mu_u[idx_c]
    den = np.bincount(idx_c, weights=sizec, minlength=n_areas)
    if L is None:
        parts = _lognormal_fgt(mean_c, np.sqrt(s2e + var_u[idx_c]), zc)
        return np.stack([np.bincount(idx_c, weights=sizec * q, minlength=n_areas) for q in parts]) / den
    return _mc_fgt(mean_c, np.sqrt(var_u), np.sqrt(s2e), _transform(zc, lam, shift), zc, sizec, idx_c, n_areas, L,
                   lam, shift, rng) / den


def _mc_fgt(mean, sd_u, sd_e, tz, z, size, idx, n_areas, L, lam, shift, rng):
    """Mean over L draws of the person-weighted FGT 0-2 sums per area, t = mean + u_i + e_ij.

    A household is poor where e_ij < t(z) - mean - u_i: the comparison runs in float32 (its
    rounding, 1e-7 relative, is far below the Monte Carlo error) and welfare is back-transformed
    for the poor only.
    """
    gap32 = (tz - mean).astype(np.float32)
    sd_e32 = np.float32(sd_e)
    total = np.zeros((3, n_areas))
    for _ in range(L):
        u = rng.standard_normal(n_areas) * sd_u
        e = rng.standard_normal(len(mean), dtype=np.float32) * sd_e32
        poor = np.flatnonzero(e < gap32 - u.astype(np.float32)[idx])
        ip = idx[poor]
        y = _transform(mean[poor] + u[ip] + e[poor], lam, shift, inverse=True)
        g = 1.0 - y / z[poor]
        wp = size[poor]
        total += np.stack([np.bincount(ip, weights=wp, minlength=n_areas),
                           np.bincount(ip, weights=wp * g, minlength=n_areas),
                           np.bincount(ip, weights=wp * g * g, minlength=n_areas)])
    return total / L


@memoized
def ebp(survey_data: pd.DataFrame, census: pd.DataFrame, *, welfare: str, covariates: list[str] | tuple[str, ...],
        area: str, poverty_line: str | float, household_size: str | None = None,
        transform: UnitTransform = "log", L: int | None = None, bootstrap: int = 0, seed: int | None = None,
        include_sample: bool = False, level: float = DEFAULT_LEVEL) -> pd.DataFrame:
    """Empirical best predictor of FGT 0, 1, 2 for every area of a census (Molina and Rao 2010).

    Parameters
    ----------
    survey_data : DataFrame
        Unit records with ``welfare``, ``covariates`` and ``area`` (the survey).
    census : DataFrame
        Every household (the registry) with the same ``covariates`` and ``area``.
    poverty_line : str or float
        The line: a number, or a column of ``census`` (per household).
    household_size : str, optional
        Column of ``census`` with persons per household (person-weighted FGT); None counts
        households.
    transform : {"log", "box-cox"}
        Transformation of welfare before the model (see :func:`nested_error_fit`).
    L : int, optional
        Monte Carlo draws of the census from the conditional distribution of welfare. None (the
        default) computes the expectation exactly where it has a closed form (log transform of
        positive welfare: the log-normal's partial moments), and uses 50 draws otherwise.
    bootstrap : int
        Replicates of the parametric bootstrap MSE (González-Manteiga et al. 2008, Molina and Rao
        2010); 0 for none.
    include_sample : bool
        True when ``census`` holds only the households outside the sample (the two are linked):
        the sampled households then enter each area's indicator with their observed welfare, as
        in Molina and Rao's EBP. False (the default) predicts every census household.

    Returns
    -------
    DataFrame
        One row per census area and indicator (``FGT0``, ``FGT1``, ``FGT2``): ``estimate``,
        ``std_error`` (sqrt of the bootstrap MSE; NaN without bootstrap), ``ci_lower``/``ci_upper``
        (normal, clipped to [0, 1]), ``nobs`` (sampled units of the area), ``method``; the
        fitted model in ``attrs["fit"]``.

    Notes
    -----
    Model: t(y_ij) = x_ij' beta + u_i + e_ij on the survey, REML. For a census household of
    area i, u_i | sample ~ N(gamma_i rbar_i, sigma2_u (1 - gamma_i)) with
    gamma_i = sigma2_u / (sigma2_u + sigma2_e / n_i) (u_i ~ N(0, sigma2_u) for an area without
    sample); L draws of every census household's welfare give L values of each area's FGT, whose
    mean is the EBP. The census households are all predicted (sampled households are not linked
    to the registry), the usual approximation when the sampling fraction is small. The bootstrap
    draws a census from the fitted model, the survey's units from the same model, refits, and
    compares the EBP with the census's true FGT.

    Inside ``welfare-eval run`` the result is computed once per run and read by the run's other
    jobs (:mod:`welfare_eval.cache`); elsewhere every call computes.
    """
    where = "ebp"
    if L is not None and (isinstance(L, bool) or not isinstance(L, int) or L < 1):
        raise parameter_error("L", where, "None or a whole number >= 1", L)
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, int) or bootstrap < 0:
        raise parameter_error("bootstrap", where, "a whole number >= 0", bootstrap)
    level = check_level(level, where)
    missing = [c for c in (area, *covariates) if c not in census.columns]
    if missing:
        raise DataValidationError(f"Columns {missing} are not in the census given to {where}; the census needs the "
                                  f"model's covariates and the area.")
    fit = nested_error_fit(survey_data, welfare=welfare, covariates=covariates, area=area, transform=transform)
    area_c, area_s = _as_text(census[area]), _as_text(survey_data[area])
    codes = np.unique(np.concatenate([area_c.unique(), area_s.unique()]).astype(str))
    n_areas = len(codes)
    idx_c = pd.Index(codes).get_indexer(area_c)
    idx_s = pd.Index(codes).get_indexer(area_s)
    Xc = np.column_stack([np.ones(len(census)), census[list(covariates)].to_numpy(dtype=float)])
    Xs = np.column_stack([np.ones(len(survey_data)), survey_data[list(covariates)].to_numpy(dtype=float)])
    if not np.isfinite(Xc).all():
        raise DataValidationError(f"The census given to {where} has missing covariates in "
                                  f"{int((~np.isfinite(Xc).all(axis=1)).sum())} rows; impute or drop them.")
    zc = (census[poverty_line].to_numpy(dtype=float) if isinstance(poverty_line, str)
          else np.full(len(census), float(poverty_line)))
    sizec = census[household_size].to_numpy(dtype=float) if household_size else np.ones(len(census))
    lam, shift = fit.boxcox_lambda, fit.shift
    if L is None and not (lam is None and shift == 0.0):
        L = 50   # no closed form: Monte Carlo
    ys = _transform(survey_data[welfare].to_numpy(dtype=float), lam, shift)
    beta = fit.beta.to_numpy()
    rng = np.random.default_rng(seed)
    est = _ebp_predict(beta, fit.sigma2_u, fit.sigma2_e, lam, shift, ys, Xs, idx_s, n_areas, Xc, idx_c, zc, sizec,
                       L, rng)
    if include_sample:
        need = [c for c in (poverty_line, household_size) if isinstance(c, str) and c not in survey_data.columns]
        if need:
            raise DataValidationError(f"include_sample=True needs the columns {need} in the survey as well: the "
                                      f"sampled households enter with their observed welfare.")
        zs = (survey_data[poverty_line].to_numpy(dtype=float) if isinstance(poverty_line, str)
              else np.full(len(survey_data), float(poverty_line)))
        sizes = survey_data[household_size].to_numpy(dtype=float) if household_size else np.ones(len(survey_data))
        den_c = np.bincount(idx_c, weights=sizec, minlength=n_areas)
        den_s = np.bincount(idx_s, weights=sizes, minlength=n_areas)
        obs = _area_fgt(survey_data[welfare].to_numpy(dtype=float), zs, sizes, idx_s, n_areas)
        obs = np.nan_to_num(obs) * den_s
        est = (est * den_c + obs) / (den_c + den_s)
    mse = np.full_like(est, np.nan)
    if bootstrap:
        err = np.zeros_like(est)
        xb_c, tz = Xc @ beta, _transform(zc, lam, shift)
        den = np.bincount(idx_c, weights=sizec, minlength=n_areas)
        for _ in range(bootstrap):
            u = rng.normal(0.0, np.sqrt(fit.sigma2_u), n_areas)
            # the replicate's census: one draw of every household around its own area effect
            truth = _mc_fgt(xb_c + u[idx_c], 0.0, np.sqrt(fit.sigma2_e), tz, zc, sizec, idx_c, n_areas, 1, lam, shift,
                            rng) / den
            t_s = Xs @ beta + u[idx_s] + rng.normal(0.0, np.sqrt(fit.sigma2_e), len(Xs))
            b_fit = _refit(t_s, Xs, idx_s)
            pred = _ebp_predict(b_fit[0], b_fit[1], b_fit[2], lam, shift, t_s, Xs, idx_s, n_areas, Xc, idx_c, zc,
                                sizec, L, rng)
            err += (pred - truth) ** 2
        mse = err / bootstrap
    z = float(stats.norm.ppf(0.5 + level / 2))
    nobs = np.bincount(idx_s, minlength=n_areas)
    rows = []
    for k, name in enumerate(("FGT0", "FGT1", "FGT2")):
        se = np.sqrt(mse[k])
        rows.append(pd.DataFrame({
            "estimand": name, area: codes, "estimate": est[k], "std_error": se,
            "ci_lower": np.clip(est[k] - z * se, 0, 1), "ci_upper": np.clip(est[k] + z * se, 0, 1), "level": level,
            "nobs": nobs, "method": f"EBP (Molina-Rao, {transform}, " + ("exact expectation" if L is None else f"L={L}")
                                    + (f", bootstrap {bootstrap})" if bootstrap else ")")}))
    out = pd.concat(rows, ignore_index=True)
    out.attrs["fit"] = fit
    return out


def _refit(y, X, idx):
    """REML of the nested-error model on transformed values (areas without units dropped)."""
    _, inv = np.unique(idx, return_inverse=True)
    n_i = np.bincount(inv).astype(float)
    beta, s2u, s2e, _ = _nested_error(y, X, inv, n_i)
    return beta, s2u, s2e


__all__ = ["FayHerriotResult", "fay_herriot", "area_poverty", "registry_covariates", "REGISTRY_COVARIATES",
           "OPTIONAL_REGISTRY_COVARIATES", "available_covariates",
           "NestedErrorFit", "nested_error_fit", "ebp"]
