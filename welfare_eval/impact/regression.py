"""Regression estimators on pyfixest: OLS/WLS with absorbed fixed effects and cluster-robust
standard errors; two-by-two and two-way fixed effects difference-in-differences with an event
study.

Cluster-robust errors are CR1 with Stata's small-sample factor ``G/(G-1) (N-1)/(N-K)``, where K
counts every coefficient including the absorbed fixed effects (as ``regress`` with dummies and
``vce(cluster)``, or R ``lm`` + ``sandwich::vcovCL(type = "HC1")``); intervals use t with G - 1
degrees of freedom.

References
----------
Cameron and Miller (2015), "A practitioner's guide to cluster-robust inference", J. Human
Resources 50(2). Oster (2019), "Unobservable selection and coefficient stability", JBES 37(2).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import DEFAULT_LEVEL
from ..exceptions import DataValidationError, ParameterError
from ..results import Diagnostic, Estimate, EstimateTable, check_level
from . import wild
from .common import e_value_statement, outcome_and_treatment

#: Oster's R_max as a multiple of the controlled R-squared (her suggested 1.3).
OSTER_RMAX = 1.3
#: Fewer clusters than this make cluster-robust errors unreliable (Cameron and Miller 2015); the
#: wild cluster bootstrap then gives the p-value and the interval.
FEW_CLUSTERS = 30
#: Draws of the wild cluster bootstrap (MacKinnon, Nielsen and Webb 2023 use 9,999).
WILD_REPS = 9999
#: At or below this many clusters Rademacher weights have too few distinct draws (2^G); Webb's
#: six-point weights are used instead (Webb 2023).
WEBB_BELOW = 12


def _ssc():
    import pyfixest as pf

    return pf.ssc(k_adj=True, k_fixef="full", G_adj=True, G_df="min")


def _formula(outcome, terms, fixed_effects):
    rhs = " + ".join(terms) if terms else "1"
    fe = ""
    if fixed_effects:
        fe = " | " + " + ".join([fixed_effects] if isinstance(fixed_effects, str) else fixed_effects)
    return f"{outcome} ~ {rhs}{fe}"


def _fit(data, fml, cluster, weights):
    import pyfixest as pf

    vcov = {"CRV1": cluster} if cluster else "hetero"
    return pf.feols(fml, data=data, vcov=vcov, weights=weights, ssc=_ssc(), fixef_rm="none")


def regression(data: pd.DataFrame, *, outcome: str, treatment: str, covariates=None, fixed_effects=None,
               cluster: str | None = None, weights: str | None = None, wild_bootstrap: int | bool | None = None,
               seed: int = 0, level: float = DEFAULT_LEVEL) -> Estimate:
    """The coefficient of ``treatment`` in a linear regression, with diagnostics.

    Parameters
    ----------
    covariates : list of str, optional
    fixed_effects : str or list of str, optional
        Absorbed (e.g. ``"kab_code"`` or ``["hh_id", "wave"]``).
    cluster : str, optional
        CR1 cluster-robust errors (HC1 without).
    weights : str, optional
        Analytic weights (WLS).
    wild_bootstrap : int, bool or None
        Wild cluster bootstrap (:mod:`welfare_eval.impact.wild`, the statistics and weight draws of
        the ``wildboottest`` package that pyfixest calls, in numpy): the p-value from the restricted
        bootstrap (WCR, null imposed) and a percentile-t interval from the unrestricted one (WCU),
        both from the same draws. ``None`` (default) runs it with ``WILD_REPS`` draws when there are
        fewer than ``FEW_CLUSTERS`` clusters; an integer sets the draws; ``False`` never runs it.
    """
    check_level(level, "regression")
    y, d, _ = outcome_and_treatment(data, outcome, treatment)
    cov = list(covariates or [])
    for c in cov + ([cluster] if cluster else []) + ([weights] if weights else []):
        if c not in data.columns:
            raise ParameterError(f"Column {c!r} is not in the data.")
    if cluster and data[cluster].isna().any():
        raise DataValidationError(f"Cluster column {cluster!r} has {int(data[cluster].isna().sum())} missing values; "
                                  "drop those rows or assign their clusters.")
    m = _fit(data, _formula(outcome, [treatment, *cov], fixed_effects), cluster, weights)
    names = list(m._coefnames)
    if treatment not in names:
        raise DataValidationError(f"Treatment {treatment!r} is collinear with the fixed effects or covariates and "
                                  "was dropped; it does not vary within the fixed-effect groups.")
    dropped = [c for c in cov if c not in names]
    tidy = m.tidy().loc[treatment]
    est, se = float(tidy["Estimate"]), float(tidy["Std. Error"])
    G = int(data[cluster].nunique()) if cluster else 0  # 0: no clusters
    df = float(G - 1) if cluster else float(m._N - m._k)
    diags = [e_value_statement(est, se, y, d)]
    if cov:
        b0, r0 = _short_regression(m, treatment)
        r1 = float(m._r2)
        delta = _oster_delta(b0, est, r0, r1)
        diags.append(Diagnostic("oster_delta", delta, None if not np.isfinite(delta) else bool(abs(delta) >= 1),
                                f"Coefficient stability: adding the covariates moves the estimate from {b0:.4g} to "
                                f"{est:.4g}; unobserved factors would have to matter {abs(delta):.2f} times as much as "
                                "the observed ones to explain it away (Oster's delta; 1 or more is reassuring).",
                                (("b0", b0), ("b1", est), ("delta", delta))))
    if isinstance(wild_bootstrap, bool) is False and wild_bootstrap is not None and (
            not isinstance(wild_bootstrap, int) or wild_bootstrap < 99):
        raise ParameterError(f"wild_bootstrap must be None, False, True or a number of draws >= 99. "
                             f"Got {wild_bootstrap!r} instead.")
    reps = (WILD_REPS if wild_bootstrap is True or (wild_bootstrap is None and cluster and G < FEW_CLUSTERS)
            else wild_bootstrap if isinstance(wild_bootstrap, int) and not isinstance(wild_bootstrap, bool) else 0)
    p_boot, ci_boot = None, None
    notes: tuple[str, ...] = ()
    if reps and weights:
        if wild_bootstrap is None:  # automatic: not for weighted fits (wildboottest, the reference, does not take them)
            reps = 0
            notes = ("no wild cluster bootstrap: it is not available for weighted regressions",)
        else:
            raise ParameterError("wild_bootstrap is not available with weights (WLS); drop one of the two.")
    if reps and not cluster:
        raise ParameterError("wild_bootstrap needs a cluster column: it resamples whole clusters.")
    if reps:
        p_boot, ci_boot, wtype = _wild(m, cluster, treatment, reps, seed, G, est, se, level)
        notes += (f"wild cluster bootstrap ({reps} draws, {wtype} weights, seed {seed}): p-value with the null "
                 "imposed (WCR), percentile-t interval (WCU)",)
    if cluster and G < FEW_CLUSTERS:
        diags.append(Diagnostic("few_clusters", G, False if not reps else None,
                                f"Only {G} clusters: cluster-robust errors understate uncertainty with fewer than "
                                f"{FEW_CLUSTERS}; " + ("the p-value and interval come from the wild cluster bootstrap."
                                                       if reps else "read the interval as a lower bound."),
                                (("G", G), ("threshold", FEW_CLUSTERS), ("bootstrap", bool(reps)))))
    if dropped:
        notes += (f"dropped collinear covariate(s): {', '.join(dropped)}",)
    method = "OLS" if not weights else "WLS"
    method += f", CR1 clustered by {cluster}" if cluster else ", HC1"
    if fixed_effects:
        method += f", fixed effects {fixed_effects}"
    if reps:
        method += ", wild cluster bootstrap"
    return Estimate("coefficient", est, se, int(m._N), method, df=df, outcome=outcome, treatment=treatment,
                    n_treated=int(d.sum()), diagnostics=tuple(diags), notes=notes, p=p_boot, ci=ci_boot, ci_level=level)


def _wild(m, cluster, param, reps, seed, G, est, se, level):
    """Wild cluster bootstrap p-value (WCR) and percentile-t interval (WCU) of one coefficient, from
    the same weights (welfare_eval.impact.wild: wildboottest's statistics and draws, in numpy)."""
    if level != DEFAULT_LEVEL:
        raise ParameterError(f"The wild bootstrap interval is computed at level {DEFAULT_LEVEL}; got {level}.")
    wtype = "webb" if G <= WEBB_BELOW else "rademacher"
    Y, X, names = m._model_matrix_one_hot()  # the fixed effects as dummies, as pyfixest hands them to wildboottest
    codes, G = wild.cluster_codes(m._data[cluster])
    j = list(names).index(param)
    v = wild.draw_weights(wtype, G, reps, seed)
    try:
        t, t_null = wild.cluster_t(X, Y, codes, G, j, v, impose_null=True)
        _, t_free = wild.cluster_t(X, Y, codes, G, j, v, impose_null=False)
    except np.linalg.LinAlgError as exc:  # the dummies of the fixed effects and the covariates are collinear
        raise DataValidationError(f"The wild cluster bootstrap could not run on this model: {exc}; drop the "
                                  "collinear covariates or run without wild_bootstrap.") from None
    c = float(np.quantile(np.abs(t_free), DEFAULT_LEVEL))
    return wild.two_sided_p(t, t_null), (est - c * se, est + c * se), wtype


def _short_regression(m, treatment: str) -> tuple[float, float]:
    """Coefficient and R-squared of the regression without the covariates (same fixed effects,
    weights and sample), from the full fit's demeaned, weighted matrices: no second pass over the
    data. Within residuals equal the full model's, so R-squared = 1 - SSR / (weighted total SS)."""
    names = list(m._coefnames)
    cols = [names.index(treatment)] + ([names.index("Intercept")] if "Intercept" in names else [])
    X = np.asarray(m._X)[:, cols]
    y = np.asarray(m._Y).ravel()
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    ssu = float(np.sum((y - X @ beta) ** 2))
    Y = np.asarray(m._Y_untransformed).ravel()
    w = np.asarray(m._weights).ravel()
    ssy = float(np.sum(w * (Y - np.average(Y, weights=w)) ** 2))
    return float(beta[0]), 1.0 - ssu / ssy


def _oster_delta(b0: float, b1: float, r0: float, r1: float) -> float:
    """Oster (2019) approximate delta for beta = 0: b1 (r1 - r0) / ((b0 - b1)(r_max - r1))."""
    rmax = min(1.0, OSTER_RMAX * r1)
    denom = (b0 - b1) * (rmax - r1)
    return float(b1 * (r1 - r0) / denom) if denom != 0 else float("inf")


def did(data: pd.DataFrame, *, outcome: str, treatment: str, unit: str, time: str, cluster: str | None = None,
        level: float = DEFAULT_LEVEL) -> Estimate:
    """Two-way fixed effects DiD: ``outcome ~ treatment | unit + time`` (the 2x2 when there are two
    periods and two groups). With staggered timing and effects that change, prefer
    :func:`staggered_did`; :func:`goodman_bacon` shows why."""
    return regression(data, outcome=outcome, treatment=treatment, fixed_effects=[unit, time],
                      cluster=cluster or unit, level=level)


def event_study(data: pd.DataFrame, *, outcome: str, unit: str, time: str, cohort: str, reference: int = -1,
                window: tuple[int, int] = (-4, 4), cluster: str | None = None,
                level: float = DEFAULT_LEVEL) -> EstimateTable:
    """TWFE event study: leads and lags of the first treated period (binned at the window's ends),
    never-treated units as the base, ``reference`` omitted, and a joint test of the leads."""
    check_level(level, "event_study")
    for c in (outcome, unit, time, cohort):
        if c not in data.columns:
            raise ParameterError(f"Column {c!r} is not in the data.")
    d = data[[outcome, unit, time, cohort] + ([cluster] if cluster and cluster not in (unit,) else [])].copy()
    rel = np.where(d[cohort] > 0, d[time] - d[cohort], np.nan)
    rel = np.clip(rel, window[0], window[1])
    terms = []
    for e in range(window[0], window[1] + 1):
        if e == reference:
            continue
        name = f"ev_m{-e}" if e < 0 else f"ev_p{e}"
        d[name] = (rel == e).astype(float)
        if d[name].sum() > 0:
            terms.append((e, name))
    m = _fit(d, _formula(outcome, [n for _, n in terms], [unit, time]), cluster or unit, None)
    tidy = m.tidy()
    G = int(d[cluster or unit].nunique())
    rows = []
    for e, name in terms:
        if name in tidy.index:
            rows.append({"estimand": "event-study coefficient", "event_time": e,
                         "estimate": float(tidy.loc[name, "Estimate"]),
                         "std_error": float(tidy.loc[name, "Std. Error"]),
                         "ci_lower": np.nan, "ci_upper": np.nan, "level": level, "nobs": int(m._N),
                         "method": f"TWFE event study, CR1 by {cluster or unit}", "df": float(G - 1)})
    leads = [name for e, name in terms if e < reference and name in tidy.index]
    notes: tuple[str, ...] = ()
    if leads:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            w = m.wald_test(R=np.eye(len(m._coefnames))[[m._coefnames.index(x) for x in leads]])
        stat, pval = float(np.asarray(w["statistic"]).ravel()[0]), float(np.asarray(w["pvalue"]).ravel()[0])
        ok = pval >= 0.05
        notes = (f"Pre-trends: the {len(leads)} leads are jointly {'consistent with zero' if ok else 'not zero'} "
                 f"(Wald = {stat:.2f}, p = {pval:.3f}).",)
    return EstimateTable(pd.DataFrame(rows), group_columns=("event_time",), level=level, notes=notes)
