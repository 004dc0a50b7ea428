"""Inference helpers: multiple outcomes, summary indices, heterogeneity, power.

References
----------
Benjamini and Hochberg (1995), JRSS-B 57(1). Anderson (2008), "Multiple inference and gender
differences in the effects of early intervention", JASA 103(484) (sharpened q-values, the
inverse-covariance-weighted summary index). Kling, Liebman and Katz (2007), Econometrica 75(1)
(the mean standardized index). Bloom (1995), "Minimum detectable effects", Evaluation Review 19(5).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..config import DEFAULT_LEVEL
from ..exceptions import DataValidationError, ParameterError, parameter_error
from ..results import Diagnostic, Estimate, EstimateTable, check_level


def benjamini_hochberg(pvalues) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (false discovery rate)."""
    p = np.asarray(pvalues, float)
    m = len(p)
    order = np.argsort(p)
    ranked = p[order] * m / np.arange(1, m + 1)
    adj = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    return out


def _bh_rejections(sorted_p: np.ndarray, q: float) -> int:
    m = len(sorted_p)
    ok = np.flatnonzero(sorted_p <= q * np.arange(1, m + 1) / m)
    return int(ok[-1] + 1) if ok.size else 0


def sharpened_qvalues(pvalues, *, step: float = 0.001) -> np.ndarray:
    """Anderson (2008) sharpened two-stage q-values (Benjamini, Krieger and Yekutieli 2006): the
    smallest level q at which the two-stage procedure rejects each hypothesis."""
    p = np.asarray(pvalues, float)
    m = len(p)
    sp = np.sort(p)
    out = np.ones(m)
    for q in np.arange(1.0, 0.0, -step):
        q1 = q / (1 + q)
        r1 = _bh_rejections(sp, q1)
        if r1 == m:  # the first stage rejects everything
            out = np.minimum(out, q)
            continue
        r2 = _bh_rejections(sp, q1 * m / (m - r1))
        if r2:
            out = np.where(p <= sp[r2 - 1], np.minimum(out, q), out)
    return out


def adjust(table: pd.DataFrame | EstimateTable, *, method: str = "bh") -> pd.DataFrame:
    """Add adjusted p-values (``"bh"`` or ``"sharpened"``) to a table of estimates with p-values."""
    f = table.to_frame() if isinstance(table, EstimateTable) else table.copy()
    if "pvalue" not in f.columns:
        f["pvalue"] = 2 * stats.norm.sf(np.abs(f["estimate"] / f["std_error"]))
    if method == "bh":
        f["pvalue_adjusted"] = benjamini_hochberg(f["pvalue"])
    elif method == "sharpened":
        f["pvalue_adjusted"] = sharpened_qvalues(f["pvalue"])
    else:
        raise parameter_error("method", "adjust", "'bh' or 'sharpened'", method)
    f["adjustment"] = method
    return f


def summary_index(data: pd.DataFrame, outcomes: list[str], *, reference: pd.Series | None = None,
                  weighting: str = "inverse_covariance") -> pd.Series:
    """An index of an outcome family (the empowerment outcomes): each outcome standardized by the
    reference group's mean and SD (the comparison group when ``reference`` is a boolean mask),
    then averaged with weights from the inverse covariance matrix (Anderson 2008) or equally
    (``"equal"``, Kling, Liebman and Katz 2007)."""
    missing = [c for c in outcomes if c not in data.columns]
    if missing:
        raise ParameterError(f"Outcome(s) {', '.join(missing)} not in the data.")
    Y = data[outcomes].astype(float)
    ref = Y if reference is None else Y[np.asarray(reference, bool)]
    sd = ref.std(ddof=1)
    if (sd == 0).any():
        raise DataValidationError(f"Outcome(s) {', '.join(sd.index[sd == 0])} do not vary in the reference group.")
    Z = (Y - ref.mean()) / sd
    if weighting == "equal":
        w = np.ones(len(outcomes))
    elif weighting == "inverse_covariance":
        w = np.linalg.inv(np.cov(Z.to_numpy(), rowvar=False)).sum(axis=1)
    else:
        raise parameter_error("weighting", "summary_index", "'inverse_covariance' or 'equal'", weighting)
    idx = Z.to_numpy() @ w / w.sum()
    return pd.Series(idx, index=data.index, name="summary_index")


def heterogeneity(estimator, data: pd.DataFrame, *, by: str, level: float = DEFAULT_LEVEL, **kwargs) -> EstimateTable:
    """The estimate within each subgroup of ``by`` and a Wald test that they are all equal
    (subgroups are independent samples)."""
    check_level(level, "heterogeneity")
    if by not in data.columns:
        raise ParameterError(f"Column {by!r} is not in the data.")
    rows = []
    for value, sub in data.groupby(by, observed=True):
        e: Estimate = estimator(sub, **kwargs)
        f = e.to_frame(level)
        f.insert(1, by, value)
        rows.append(f)
    out = pd.concat(rows, ignore_index=True)
    est, se = out["estimate"].to_numpy(), out["std_error"].to_numpy()
    w = 1 / se**2
    pooled = np.sum(w * est) / w.sum()
    stat = float(np.sum(w * (est - pooled) ** 2))
    pval = float(stats.chi2.sf(stat, len(est) - 1))
    note = (f"Equal effects across {by}: chi2({len(est) - 1}) = {stat:.2f}, p = {pval:.3f}: "
            + ("no evidence that the effect differs." if pval >= 0.05 else "the effect differs between groups."))
    diag = Diagnostic("equal_effects", pval, pval >= 0.05, note,
                      (("by", by), ("df", len(est) - 1), ("stat", stat), ("p", pval)))
    return EstimateTable(out, group_columns=(by,), level=level, notes=(note,), diagnostics=(diag,))


def intracluster_correlation(data: pd.DataFrame, *, outcome: str, cluster: str) -> float:
    """One-way ANOVA estimator of the intra-cluster correlation (unequal cluster sizes)."""
    g = data.groupby(cluster, observed=True)[outcome]
    n_j = g.size().to_numpy(float)
    N, J = n_j.sum(), len(n_j)
    y = data[outcome].astype(float)
    grand = y.mean()
    msb = np.sum(n_j * (g.mean().to_numpy() - grand) ** 2) / (J - 1)
    msw = np.sum((y - g.transform("mean")) ** 2) / (N - J)
    n0 = (N - np.sum(n_j**2) / N) / (J - 1)
    return float(max(0.0, (msb - msw) / (msb + (n0 - 1) * msw)))


def minimum_detectable_effect(*, clusters: int, per_cluster: float, icc: float, sd: float = 1.0,
                              treated_share: float = 0.5, alpha: float = 0.05, power: float = 0.8,
                              r2: float = 0.0) -> float:
    """Minimum detectable effect of a cluster-randomized (or cluster-assigned) comparison (Bloom 1995):
    ``M sqrt[(icc + (1 - icc)/m)(1 - r2) / (P(1-P) J)] sd`` with ``M = t_(1-alpha/2) + t_power`` on J - 2 df."""
    if clusters < 3 or per_cluster <= 0 or not 0 <= icc <= 1 or not 0 < treated_share < 1:
        raise ParameterError("minimum_detectable_effect needs clusters >= 3, per_cluster > 0, 0 <= icc <= 1 and "
                             "0 < treated_share < 1.")
    df = clusters - 2
    M = stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df)
    return float(M * np.sqrt((icc + (1 - icc) / per_cluster) * (1 - r2)
                             / (treated_share * (1 - treated_share) * clusters)) * sd)


def randomization_inference(estimator, data: pd.DataFrame, *, treatment: str, cluster: str | None = None,
                            draws: int = 999, seed: int = 0, **kwargs) -> Estimate:
    """Fisher randomization test of the sharp null of no effect for any unit.

    ``estimator(data, treatment=..., **kwargs)`` is recomputed with the treatment reassigned at
    random (whole clusters keep one status when ``cluster`` is given, as when TKSK or a programme
    is assigned by kecamatan); the p-value is the share of draws whose estimate is at least as far
    from zero as the observed one, counting the observed assignment (Imbens and Rubin 2015, ch. 5).
    """
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 19:
        raise parameter_error("draws", "randomization_inference", "a whole number >= 19", draws)
    observed = estimator(data, treatment=treatment, **kwargs)
    rng = np.random.default_rng(seed)
    d = data[treatment].to_numpy()
    if cluster:
        codes, uniques = pd.factorize(data[cluster])
        per = pd.Series(d).groupby(codes).agg(["min", "max"])
        if (per["min"] != per["max"]).any():
            raise DataValidationError(f"Treatment {treatment!r} varies within clusters of {cluster!r}; cluster-level "
                                      "reassignment needs one status per cluster.")
        status = per["min"].to_numpy()
    extreme = 1  # the observed assignment counts
    for _ in range(draws):
        if cluster:
            new = rng.permutation(status)[codes]
        else:
            new = rng.permutation(d)
        e = estimator(data.assign(**{treatment: new}), treatment=treatment, **kwargs)
        extreme += abs(e.estimate) >= abs(observed.estimate) - 1e-12
    p = extreme / (draws + 1)
    return Estimate(observed.estimand, observed.estimate, observed.std_error, observed.nobs,
                    observed.method + f"; randomization p = {p:.3f} ({draws} draws"
                    + (f", reassigned by {cluster})" if cluster else ")"),
                    df=observed.df, outcome=observed.outcome, treatment=treatment, n_treated=observed.n_treated,
                    diagnostics=observed.diagnostics + (
                        Diagnostic("randomization_p", p, None,
                                   f"Randomization test: {p:.1%} of random reassignments of {treatment} give an "
                                   "estimate at least this far from zero.", (("p", p), ("treatment", treatment))),),
                    notes=observed.notes)


#: Draws of the bootstrap behind Romano-Wolf and Westfall-Young adjusted p-values.
FAMILY_REPS = 9999


def family_adjust(data: pd.DataFrame, *, outcomes: list[str], treatment: str, covariates=None, fixed_effects=None,
                  cluster: str | None = None, method: str = "romano-wolf", reps: int = FAMILY_REPS,
                  seed: int = 0) -> pd.DataFrame:
    """Family-wise error rate control for one treatment across several outcomes by resampling:
    Romano and Wolf (2005) stepdown or Westfall and Young (1993) free stepdown, on the wild
    (cluster) bootstrap (welfare_eval.impact.wild: the statistics and draws of pyfixest's ``rwolf`` and
    ``wyoung``, which call wildboottest). Unlike Bonferroni or Holm, both use the
    correlation of the outcomes (the empowerment family is strongly correlated), so they reject
    more while keeping the chance of any false rejection at the nominal level.

    Returns one row per outcome: estimate, std_error, pvalue (unadjusted, CR1 or HC1) and
    ``pvalue_adjusted``.
    """
    import pyfixest as pf

    from . import wild

    if method not in ("romano-wolf", "westfall-young"):
        raise parameter_error("method", "family_adjust", "'romano-wolf' or 'westfall-young'", method)
    if not outcomes or len(outcomes) < 2:
        raise ParameterError("family_adjust needs two or more outcomes (one family).")
    missing = [c for c in [*outcomes, treatment, *(covariates or []), *([cluster] if cluster else [])]
               if c not in data.columns]
    if missing:
        raise ParameterError(f"Column(s) {', '.join(missing)} are not in the data.")
    rhs = " + ".join([treatment, *(covariates or [])])
    fe = ""
    if fixed_effects:
        fe = " | " + " + ".join([fixed_effects] if isinstance(fixed_effects, str) else fixed_effects)
    frame = data[[*outcomes, treatment, *(covariates or []), *([cluster] if cluster else []),
                  *([fixed_effects] if isinstance(fixed_effects, str) else fixed_effects or [])]].dropna()
    frame = frame.assign(**{o: frame[o].astype(float) for o in outcomes})
    fits = pf.feols(f"{' + '.join(outcomes)} ~ {rhs}{fe}", data=frame,
                    vcov={"CRV1": cluster} if cluster else "hetero")
    models = fits.to_list()
    tidy = pd.DataFrame([m.tidy().loc[treatment] for m in models]).reset_index(drop=True)
    t, t_boot = np.empty(len(models)), []
    for i, m in enumerate(models):  # one seed: every outcome sees the same bootstrap samples
        Y, X, names = m._model_matrix_one_hot()
        j = list(names).index(treatment)
        if cluster:
            codes, G = wild.cluster_codes(m._data[cluster])
            t[i], tb = wild.cluster_t(X, Y, codes, G, j, wild.draw_weights("rademacher", G, reps, seed),
                                      impose_null=True)
        else:
            t[i], tb = wild.hetero_t(X, Y, j, reps, seed)
        t_boot.append(tb)
    T = np.column_stack(t_boot)
    if method == "romano-wolf":
        adjusted = wild.romano_wolf(t, T)
    else:  # Westfall-Young on t(G - 1) (t(N - K) without clusters) p-values, as pyfixest's wyoung
        df = np.array([min(m._G) - 1 if cluster else m._N - m._k for m in models], float)
        adjusted = wild.westfall_young(2 * (1 - stats.t.cdf(np.abs(t), df)), 2 * (1 - stats.t.cdf(np.abs(T), df)))
    out = pd.DataFrame({"outcome": outcomes, "estimate": tidy["Estimate"].astype(float),
                        "std_error": tidy["Std. Error"].astype(float), "pvalue": tidy["Pr(>|t|)"].astype(float),
                        "pvalue_adjusted": adjusted})
    # a stepdown p-value is never below the unadjusted one; bootstrap noise can put it a hair under
    out["pvalue_adjusted"] = np.maximum(out["pvalue_adjusted"], out["pvalue"])
    out["adjustment"] = f"{method} ({reps} draws, seed {seed})"
    out["nobs"] = len(frame)
    return out
