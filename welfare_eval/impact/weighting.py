"""Propensity-score weighting: IPW and augmented IPW (doubly robust), ATE and ATT.

IPW uses normalized (Hajek) weights; its standard error is the M-estimation sandwich of the
stacked logit score and weighting moments, so the estimation of the propensity score is
accounted for (as Stata ``teffects ipw`` and statsmodels ``TreatmentEffect.ipw``). AIPW uses
linear outcome models per arm and the efficient influence function; with ``cross_fit=K`` the
nuisance models are fitted on K-1 folds and evaluated on the held-out fold.

References
----------
Hirano, Imbens and Ridder (2003), Econometrica 71(4). Robins, Rotnitzky and Zhao (1994), JASA 89.
Sant'Anna and Zhao (2020), J. Econometrics 219 (the ATT form). Crump, Hotz, Imbens and Mitnik
(2009), Biometrika 96(1) (trimming at 0.1/0.9). Chernozhukov et al. (2018), Econometrics
Journal 21 (cross-fitting).
"""
from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from scipy.special import expit

from ..config import DEFAULT_LEVEL
from ..exceptions import DataValidationError, ParameterError, parameter_error
from ..results import Diagnostic, Estimate, check_level
from .bootstrap import aipw_draws, bootstrap_t
from .common import (
    balance_diagnostic,
    check_arm_weights,
    design_matrix_gram,
    e_value_statement,
    gram,
    gram_rank,
    influence_se,
    outcome_and_treatment,
    sampling_weights,
)

Estimand = Literal["ATE", "ATT"]
#: Propensity scores are clipped here before any division, and overlap is flagged outside it.
OVERLAP_BOUNDS = (0.01, 0.99)
#: Crump et al. (2009) trimming rule.
CRUMP = (0.1, 0.9)
#: Below this effective number of comparison units (Kish, of the weights that build the
#: counterfactual), estimate +- 1.96 se under-covers: 88% at about 70 on the synthetic PKH design,
#: 95% at about 370 (docs/methods.md); AIPW then takes its interval from the bootstrap-t.
SMALL_ESS = 500
#: Resamples of the automatic bootstrap-t: alpha (B + 1) is whole for the usual levels, and 499
#: gave 94.5% coverage in the simulation of docs/methods.md at half the time of 999.
BOOT_REPS = 499
#: Above this many units the bootstrap is not run automatically (its draws cost n x draws).
AUTO_BOOT_MAX_N = 200_000


def fit_logit(X: np.ndarray, d: np.ndarray, *, max_iter: int = 100,
              tol: float = 1e-10, s: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Logistic regression by Newton-Raphson: coefficients and fitted probabilities; ``s``:
    sampling weights (the pseudo-likelihood of R ``svyglm(family=quasibinomial)``).

    The Hessian of each step is formed in single precision (half the time on tall data); the
    gradient, and so the solution, stays in double precision: an approximate Hessian changes how
    fast Newton converges, not where.
    """
    beta = np.zeros(X.shape[1])
    X32 = X.astype(np.float32) if len(X) > 50_000 else X
    for _ in range(max_iter):
        p = expit(X @ beta)
        grad = X.T @ (d - p) if s is None else X.T @ (s * (d - p))
        W = (p * (1 - p) if s is None else s * p * (1 - p)).astype(X32.dtype)
        H = gram(X32, W).astype(float)
        step = np.linalg.solve(H, grad)
        beta += step
        if np.max(np.abs(step)) < tol * max(1.0, np.max(np.abs(beta))):
            break
    return beta, expit(X @ beta)


def _trim(p: np.ndarray, trim) -> np.ndarray:
    if trim is None:
        return np.ones(len(p), bool)
    lo, hi = CRUMP if trim == "crump" else trim
    if not 0 <= lo < hi <= 1:
        raise parameter_error("trim", "ipw/aipw", "None, 'crump' or (low, high) with 0 <= low < high <= 1", trim)
    return (p >= lo) & (p <= hi)


def kish(w: np.ndarray) -> float:
    """Kish's effective sample size of weights ``w``: (sum w)^2 / sum w^2."""
    s2 = float(np.sum(w**2))
    return float(np.sum(w) ** 2 / s2) if s2 > 0 else 0.0


def effective_sample(ess: float, method: str, bootstrap: bool) -> Diagnostic:
    """The effective number of comparison units, with what it means for the interval."""
    ok = ess >= SMALL_ESS
    msg = f"The comparison rests on about {ess:.0f} effective units (Kish)"
    if ok:
        msg += "."
    elif bootstrap:
        msg += (f", fewer than {SMALL_ESS}: estimate +- 1.96 se would be too narrow, so the interval and p-value "
                "come from the studentized bootstrap.")
    else:
        msg += (f", fewer than {SMALL_ESS}: the {method} interval may be too narrow (at this size normal intervals "
                "covered about 90% instead of 95% in our simulations); AIPW with its bootstrap-t interval is safer.")
    return Diagnostic("effective_sample", ess, True if ok else (None if bootstrap else False), msg,
                      (("ess", ess), ("threshold", SMALL_ESS), ("bootstrap", bool(bootstrap)), ("method", method)))


def _overlap(p: np.ndarray, d: np.ndarray) -> Diagnostic:
    outside = (p < OVERLAP_BOUNDS[0]) | (p > OVERLAP_BOUNDS[1])
    share = float(outside.mean())
    lo_t, hi_t = float(p[d == 1].min()), float(p[d == 1].max())
    lo_c, hi_c = float(p[d == 0].min()), float(p[d == 0].max())
    ok = share < 0.05
    msg = (f"Propensity scores run from {lo_t:.2f} to {hi_t:.2f} among the treated and {lo_c:.2f} to {hi_c:.2f} "
           f"among the comparison group; {share:.1%} of units lie outside [{OVERLAP_BOUNDS[0]}, {OVERLAP_BOUNDS[1]}]"
           + ("." if ok else ": the groups barely overlap there, so estimates rest on a few heavily weighted units; "
              "consider trim='crump'."))
    return Diagnostic("overlap", share, ok, msg, (("lo_t", lo_t), ("hi_t", hi_t), ("lo_c", lo_c), ("hi_c", hi_c),
                                                  ("share", share), ("bounds", OVERLAP_BOUNDS)))


def _prepare(data, outcome, treatment, covariates, trim, s=None, fn="ipw/aipw"):
    y, d, df = outcome_and_treatment(data, outcome, treatment)
    X, names, G = design_matrix_gram(df, covariates, s)
    check_arm_weights(s, d, fn)
    grams = _arm_grams(X, d, G, s)
    _check_arm_grams(grams, d, X.shape[1])
    beta, p = fit_logit(X, d, s=s)
    keep = _trim(p, trim)
    notes = ()
    if not keep.all():
        notes = (f"trimmed {int((~keep).sum())} units with propensity outside {trim}",)
        y, d, X, df = y[keep], d[keep], X[keep], df.loc[keep]
        s = None if s is None else s[keep]
        beta, p = fit_logit(X, d, s=s)
        grams = _arm_grams(X, d, None, s)
    return y, d, X, names, beta, p, df, notes, grams, s, keep


def _check_arm_grams(grams, d, k):
    for arm, G in enumerate(grams):
        if gram_rank(G) < k:
            raise DataValidationError(
                f"Among the {'treated' if arm else 'comparison'} units ({int((d == arm).sum())}), some covariates "
                "are constant or collinear (among those with a positive weight), so the outcome model and the "
                "propensity score cannot be fitted; use fewer covariates or a larger sample.")


def _arm_grams(X: np.ndarray, d: np.ndarray, G: np.ndarray | None = None,
               s: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``X'X`` within the comparison and the treated units (the outcome regressions' normal matrices);
    ``G`` is the whole ``X'X`` when already formed; ``s``: sampling weights (``X'SX`` then)."""
    if s is not None:
        G1 = gram(X, s * d)
        return (gram(X, s) if G is None else G) - G1, G1
    G1 = gram(X, d)
    return (gram(X) if G is None else G) - G1, G1


def ipw(data: pd.DataFrame, *, outcome: str, treatment: str, covariates, estimand: Estimand = "ATE",
        trim=None, weights: str | None = None, design=None, level: float = DEFAULT_LEVEL) -> Estimate:
    """Inverse probability weighting with normalized weights.

    ATE: ``mean_w1(y) - mean_w0(y)`` with weights ``d/p`` and ``(1-d)/(1-p)``; ATT: treated mean
    minus the comparison mean weighted by ``p/(1-p)``. Variance: sandwich of the stacked logit
    and weighting moments.

    Parameters
    ----------
    weights : str, optional
        Column of sampling (expansion) weights ``s``: the logit is the weighted pseudo-likelihood
        and every mean is weighted by ``s`` times the balancing weight, so the estimand is the
        population ATE/ATT (as Stata ``teffects ipw ... [pw=s]`` and R ``WeightIt`` with
        ``s.weights``). Negative, missing or all-zero weights stop with an error.
    design : SurveyDesign, optional
        Strata and PSUs: the standard error is the design-based variance of the weighted total of
        the influence function (between PSUs within strata, R ``svytotal``). Its weights column
        is the sampling weight (``weights=`` may be left out, or must name the same column).
    """
    check_level(level, "ipw")
    if estimand not in ("ATE", "ATT"):
        raise parameter_error("estimand", "ipw", "'ATE' or 'ATT'", estimand)
    s, design = sampling_weights(data, weights, design, "ipw")
    y, d, X, names, beta, p, df, notes, _, s, keep = _prepare(data, outcome, treatment, covariates, trim, s, "ipw")
    n, k = X.shape
    pc = np.clip(p, 1e-12, 1 - 1e-12)
    if estimand == "ATE":
        w1, w0 = d / pc, (1 - d) / (1 - pc)
    else:
        w1, w0 = d.astype(float), (1 - d) * pc / (1 - pc)
    sw1, sw0 = (w1, w0) if s is None else (s * w1, s * w0)
    mu1 = np.sum(sw1 * y) / np.sum(sw1)
    mu0 = np.sum(sw0 * y) / np.sum(sw0)
    # stacked moments (per unit, before the sampling weight): logit score, then the two weighted means
    m_beta = X * (d - p)[:, None]
    m1 = w1 * (y - mu1)
    m0 = w0 * (y - mu0)
    M = np.column_stack([m_beta, m1, m0])
    # Jacobian (mean derivative of the moments, each unit counted s times)
    A = np.zeros((k + 2, k + 2))
    A[:k, :k] = -(X * (p * (1 - p) if s is None else s * p * (1 - p))[:, None]).T @ X / n
    if estimand == "ATE":
        dw1 = -(d * (1 - p) / pc)[:, None] * X       # d/dbeta of d/p  = -d (1-p)/p x
        dw0 = ((1 - d) * p / (1 - pc))[:, None] * X   # d/dbeta of (1-d)/(1-p) = (1-d) p/(1-p) x
    else:
        dw1 = np.zeros_like(X)
        dw0 = ((1 - d) * p / (1 - pc))[:, None] * X   # d/dbeta of (1-d) p/(1-p) = (1-d) p/(1-p) x
    r1, r0 = (y - mu1, y - mu0) if s is None else (s * (y - mu1), s * (y - mu0))
    A[k, :k] = (r1[:, None] * dw1).mean(axis=0)
    A[k, k] = -sw1.mean()
    A[k + 1, :k] = (r0[:, None] * dw0).mean(axis=0)
    A[k + 1, k + 1] = -sw0.mean()
    Ainv = np.linalg.inv(A)
    c = np.zeros(k + 2)
    c[k], c[k + 1] = 1, -1
    if s is None:
        B = M.T @ M / n
        V = Ainv @ B @ Ainv.T / n
        se = float(np.sqrt(c @ V @ c))
        dof = None
    else:
        # linearization: estimate - truth ~ sum_i s_i u_i with u_i = -c' A^-1 M_i / n
        se, note, dof = influence_se(-(M @ (Ainv.T @ c)) / n, s, data, design, keep)
        notes = notes + (f"sampling weights {weights or design.weights!r}; {note}",)
    est = float(mu1 - mu0)
    ess = kish(sw0[d == 0]) if estimand == "ATT" else min(kish(sw1[d == 1]), kish(sw0[d == 0]))
    diags = (_overlap(p, d), balance_diagnostic(X[:, 1:], names[1:], d, sw1 + sw0),
             effective_sample(ess, "IPW", False), e_value_statement(est, se, y, d))
    return Estimate(estimand, est, se, n, f"IPW ({estimand}, normalized weights)", df=dof, outcome=outcome,
                    treatment=treatment, n_treated=int(d.sum()), diagnostics=diags, notes=notes)


def _ols_predict(X_fit, y_fit, X_new, s=None):
    """Fitted values from least squares by the normal equations (X is full rank: checked upstream);
    ``s``: weights (weighted least squares)."""
    if s is None:
        beta = np.linalg.solve(X_fit.T @ X_fit, X_fit.T @ y_fit)
    else:
        beta = np.linalg.solve(X_fit.T @ (X_fit * s[:, None]), X_fit.T @ (s * y_fit))
    return X_new @ beta


def aipw(data: pd.DataFrame, *, outcome: str, treatment: str, covariates, estimand: Estimand = "ATE",
         trim=None, cross_fit: int | None = None, seed: int = 0, cluster: str | None = None,
         bootstrap: int | bool | None = None, weights: str | None = None, design=None,
         level: float = DEFAULT_LEVEL) -> Estimate:
    """Augmented IPW (doubly robust) with influence-function standard errors.

    ATE: ``mean[m1 - m0 + d (y - m1)/p - (1-d)(y - m0)/(1-p)]``; ATT (Sant'Anna and Zhao 2020,
    standardized): ``[sum d (y - m0) - sum (1-d) p/(1-p) (y - m0)] / ...`` with the comparison
    weights normalized. ``m1``, ``m0`` are linear regressions of the outcome on the covariates in
    each arm; ``cross_fit=K`` fits the nuisance models out of fold. ``cluster`` sums the influence
    function within clusters (households of a kecamatan share shocks: cluster there).

    ``bootstrap``: the interval and p-value from a studentized (bootstrap-t) resampling of units, or
    of clusters with ``cluster``, re-estimating every model in each draw. ``None`` (default) runs
    it with ``BOOT_REPS`` draws when the comparison's effective sample is below ``SMALL_ESS`` (where
    estimate +- 1.96 se under-covers) and there are at most ``AUTO_BOOT_MAX_N`` units; an integer
    sets the draws; ``False`` never runs it. The standard error reported stays the influence
    function's.

    ``weights``: column of sampling weights ``s``. The logit and the outcome regressions are
    fitted with them (R ``svyglm``) and every sum of the estimator counts unit ``i`` ``s_i``
    times, so the estimand is the population ATE/ATT (Stata ``teffects aipw ... [pw=s]``); the
    bootstrap resamples units (or clusters) and keeps each unit's weight. ``design``: a
    ``SurveyDesign`` (its weights column is the sampling weight): the standard error is the
    design-based variance of the weighted total of the influence function, between PSUs within
    strata (R ``svytotal`` of it); not combined with ``cluster`` (give the clusters as the
    design's PSUs) nor with the bootstrap (which would ignore the strata).
    """
    check_level(level, "aipw")
    if estimand not in ("ATE", "ATT"):
        raise parameter_error("estimand", "aipw", "'ATE' or 'ATT'", estimand)
    if bootstrap is not None and not isinstance(bootstrap, bool) and (not isinstance(bootstrap, int) or bootstrap < 99):
        raise parameter_error("bootstrap", "aipw", "None, False, True or a number of draws >= 99", bootstrap)
    if bootstrap not in (None, False) and cross_fit is not None:
        raise ParameterError("bootstrap is not available with cross_fit (each draw would refit every fold); "
                             "drop one of the two.")
    s, design = sampling_weights(data, weights, design, "aipw")
    if design is not None and cluster:
        raise ParameterError("aipw was given both cluster= and design=; give the clusters as the design's psu "
                             "(SurveyDesign(psu=...)) and drop cluster=.")
    if design is not None and bootstrap not in (None, False):
        raise ParameterError("aipw's bootstrap resamples units and would ignore the design's strata; with "
                             "design= use the design-based standard error (bootstrap=False).")
    y, d, X, names, beta, p, df, notes, (G0, G1), s, keep = _prepare(data, outcome, treatment, covariates, trim,
                                                                     s, "aipw")
    n = len(y)
    sy = y if s is None else s * y
    if cross_fit is None:
        # the outcome regressions from the normal matrices already formed, without copying each arm
        m1 = X @ np.linalg.solve(G1, X.T @ (d * sy))
        m0 = X @ np.linalg.solve(G0, X.T @ ((1 - d) * sy))
    else:
        if isinstance(cross_fit, bool) or not isinstance(cross_fit, int) or cross_fit < 2:
            raise parameter_error("cross_fit", "aipw", "None or a whole number of folds >= 2", cross_fit)
        fold = np.random.default_rng(seed).permutation(n) % cross_fit
        m1, m0, p = np.empty(n), np.empty(n), np.empty(n)
        for f in range(cross_fit):
            tr, te = fold != f, fold == f
            a1, a0 = tr & (d == 1), tr & (d == 0)
            m1[te] = _ols_predict(X[a1], y[a1], X[te], None if s is None else s[a1])
            m0[te] = _ols_predict(X[a0], y[a0], X[te], None if s is None else s[a0])
            p[te] = expit(X[te] @ fit_logit(X[tr], d[tr], s=None if s is None else s[tr])[0])
        notes = notes + (f"cross-fitted nuisance models ({cross_fit} folds, seed {seed})",)
    pc = np.clip(p, OVERLAP_BOUNDS[0] / 100, 1 - OVERLAP_BOUNDS[0] / 100)
    if s is None:
        infl, est = _aipw_influence(y, d, X, p, pc, m1, m0, estimand, cross_fit is None, G0, G1)
    else:
        infl, est = _aipw_influence_weighted(y, d, X, p, pc, m1, m0, estimand, cross_fit is None, G0, G1, s)
    codes = dof = None
    S = float(n if s is None else np.sum(s))
    if design is not None:
        se, note, dof = influence_se(infl / S, s, data, design, keep)
        notes = notes + (f"sampling weights {design.weights!r}; {note}",)
    elif cluster:
        codes = pd.factorize(df[cluster])[0]
        per = np.bincount(codes, weights=infl if s is None else s * infl)
        se = float(np.sqrt(np.sum(per**2)) / S)
        notes = notes + (f"standard error clustered by {cluster} ({per.size} clusters)",)
    elif s is None:
        se = float(np.sqrt(np.mean(infl**2) / n))
    else:
        se = float(np.sqrt(np.sum((s * infl) ** 2)) / S)
    if s is not None and design is None:
        notes = notes + (f"sampling weights {weights!r}",)
    s1 = np.ones(n) if s is None else s
    ess = (kish((s1 * (1 - d) * pc / (1 - pc))[d == 0]) if estimand == "ATT"
           else min(kish((s1 / pc)[d == 1]), kish((s1 / (1 - pc))[d == 0])))
    reps = (BOOT_REPS if bootstrap is True else bootstrap if bootstrap not in (None, False)
            else BOOT_REPS if (bootstrap is None and ess < SMALL_ESS and n <= AUTO_BOOT_MAX_N and cross_fit is None
                               and design is None)
            else 0)
    ci = pval = None
    if reps:
        clip = OVERLAP_BOUNDS[0] / 100
        ci, pval, valid = bootstrap_t(est, se, lambda C: aipw_draws(y, d, X, C, estimand, beta, clip, codes, s),
                                      n, reps, seed, level, codes)
        notes = notes + (f"interval and p-value: studentized bootstrap ({valid} of {reps} draws usable, "
                         f"{'clusters' if cluster else 'units'} resampled, seed {seed})",)
    diags = (_overlap(p, d), balance_diagnostic(X[:, 1:], names[1:], d,
                                                s1 * (d / pc + (1 - d) / (1 - pc)) if estimand == "ATE"
                                                else s1 * (d + (1 - d) * pc / (1 - pc))),
             effective_sample(ess, "AIPW", bool(reps)), e_value_statement(est, se, y, d))
    method = f"AIPW ({estimand}, doubly robust" + (", bootstrap-t interval)" if reps else ")")
    return Estimate(estimand, est, se, n, method, df=dof, outcome=outcome, treatment=treatment,
                    n_treated=int(d.sum()), diagnostics=diags, notes=notes, ci=ci, ci_level=level, p=pval)


def _aipw_influence(y, d, X, p, pc, m1, m0, estimand, corrections, G0, G1):
    """The unweighted AIPW estimate and its influence function (per unit, mean zero)."""
    n = len(y)
    if estimand == "ATE":
        phi = m1 - m0 + d * (y - m1) / pc - (1 - d) * (y - m0) / (1 - pc)
        est = float(phi.mean())
        infl = phi - est
        # derivatives of the mean score with respect to the nuisance coefficients
        g_ps = (-(d * (y - m1) * (1 - pc) / pc) - (1 - d) * (y - m0) * pc / (1 - pc)) @ X / n
        g_or1 = (1 - d / pc) @ X / n
        g_or0 = -(1 - (1 - d) / (1 - pc)) @ X / n
    else:
        w0_raw = (1 - d) * pc / (1 - pc)
        B, E = d.mean(), w0_raw.mean()
        resid = y - m0
        t1, t0 = np.mean(d * resid) / B, np.mean(w0_raw * resid) / E
        est = float(t1 - t0)
        infl = d * (resid - t1) / B - w0_raw * (resid - t0) / E
        g_ps = -(w0_raw * (resid - t0)) @ X / n / E
        g_or1 = np.zeros(X.shape[1])
        g_or0 = -(d @ X) / n / B + (w0_raw @ X) / n / E
    if corrections:
        # estimation effects of the logit and the two outcome regressions (their influence functions
        # times the derivatives above): needed when one of the two models is wrong (Sant'Anna and Zhao 2020)
        H_ps = gram(X, p * (1 - p)) / n
        infl = infl + (d - p) * (X @ np.linalg.solve(H_ps, g_ps))
        for arm, g, G in ((1, g_or1, G1), (0, g_or0, G0)):
            if np.any(g):
                e = np.where(d == arm, y - (m1 if arm == 1 else m0), 0.0)
                infl = infl + e * (X @ np.linalg.solve(G / n, g))
    return infl, est


def _aipw_influence_weighted(y, d, X, p, pc, m1, m0, estimand, corrections, G0, G1, s):
    """:func:`_aipw_influence` with unit ``i`` counted ``s_i`` times (sampling weights): every
    mean is ``sum s_i (.) / sum s_i`` and the nuisance models are the weighted fits (``G0``, ``G1``
    are ``X'SX`` within each arm). The estimate minus the truth is about ``sum s_i infl_i / sum s``."""
    S = np.sum(s)
    if estimand == "ATE":
        phi = m1 - m0 + d * (y - m1) / pc - (1 - d) * (y - m0) / (1 - pc)
        est = float(np.sum(s * phi) / S)
        infl = phi - est
        g_ps = (s * (-(d * (y - m1) * (1 - pc) / pc) - (1 - d) * (y - m0) * pc / (1 - pc))) @ X / S
        g_or1 = (s * (1 - d / pc)) @ X / S
        g_or0 = -(s * (1 - (1 - d) / (1 - pc))) @ X / S
    else:
        w0_raw = (1 - d) * pc / (1 - pc)
        B, E = np.sum(s * d) / S, np.sum(s * w0_raw) / S
        resid = y - m0
        t1, t0 = np.sum(s * d * resid) / S / B, np.sum(s * w0_raw * resid) / S / E
        est = float(t1 - t0)
        infl = d * (resid - t1) / B - w0_raw * (resid - t0) / E
        g_ps = -(s * w0_raw * (resid - t0)) @ X / S / E
        g_or1 = np.zeros(X.shape[1])
        g_or0 = -((s * d) @ X) / S / B + ((s * w0_raw) @ X) / S / E
    if corrections:
        H_ps = gram(X, s * p * (1 - p)) / S
        infl = infl + (d - p) * (X @ np.linalg.solve(H_ps, g_ps))
        for arm, g, G in ((1, g_or1, G1), (0, g_or0, G0)):
            if np.any(g):
                e = np.where(d == arm, y - (m1 if arm == 1 else m0), 0.0)
                infl = infl + e * (X @ np.linalg.solve(G / S, g))
    return infl, est


def naive(data: pd.DataFrame, *, outcome: str, treatment: str, variance: Literal["welch", "pooled"] = "welch",
          level: float = DEFAULT_LEVEL) -> Estimate:
    """Difference in means: the comparison to beat. ``variance="welch"`` (unequal variances) or
    ``"pooled"`` (the classical two-sample formula, as in older published tables)."""
    check_level(level, "naive")
    if variance not in ("welch", "pooled"):
        raise parameter_error("variance", "naive", "'welch' or 'pooled'", variance)
    y, d, _ = outcome_and_treatment(data, outcome, treatment)
    y1, y0 = y[d == 1], y[d == 0]
    est = float(y1.mean() - y0.mean())
    if variance == "welch":
        se = float(np.sqrt(y1.var(ddof=1) / len(y1) + y0.var(ddof=1) / len(y0)))
    else:
        s2 = ((len(y1) - 1) * y1.var(ddof=1) + (len(y0) - 1) * y0.var(ddof=1)) / (len(y) - 2)
        se = float(np.sqrt(s2 * (1 / len(y1) + 1 / len(y0))))
    return Estimate("difference in means", est, se, len(y), "naive comparison", outcome=outcome, treatment=treatment,
                    n_treated=len(y1), notes=("no adjustment for who receives the programme",))


__all__ = ["ipw", "aipw", "naive", "fit_logit", "DataValidationError", "ParameterError"]
