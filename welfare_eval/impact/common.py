"""Input checks and diagnostics shared by the impact estimators."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError, ParameterError, parameter_error
from ..results import Diagnostic

#: Standardized mean differences above this flag imbalance (Austin 2009; Stuart 2010).
SMD_THRESHOLD = 0.1


def _column(data: pd.DataFrame, name: str, role: str) -> pd.Series:
    if name not in data.columns:
        raise ParameterError(f"The {role!r} column {name!r} is not in the data; columns present: "
                             f"{', '.join(map(str, data.columns[:25]))}.")
    return data[name]


def outcome_and_treatment(data: pd.DataFrame, outcome: str,
                          treatment: str) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Outcome as float and a 0/1 treatment; rows with a missing outcome stop with their count."""
    yraw = pd.to_numeric(_column(data, outcome, "outcome"), errors="coerce")
    draw = _column(data, treatment, "treatment")
    if yraw.isna().any():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(yraw.isna().to_numpy())[:5])
        raise DataValidationError(f"Outcome {outcome!r} has {int(yraw.isna().sum())} missing or non-numeric values "
                                  f"(rows {rows}); drop those rows (and say so) or impute them first.")
    d = pd.to_numeric(draw, errors="coerce").to_numpy(dtype=float)
    if np.isnan(d).any() or not np.isin(d, (0.0, 1.0)).all():
        raise DataValidationError(f"Treatment {treatment!r} must be 0/1 or true/false in every row.")
    if d.min() == d.max():
        raise DataValidationError(f"Treatment {treatment!r} does not vary: every row is {int(d[0])}; an effect "
                                  "needs treated and comparison units.")
    return yraw.to_numpy(dtype=float), d, data


def design_matrix(data: pd.DataFrame, covariates) -> tuple[np.ndarray, list[str]]:
    """Intercept plus covariates (column names, or a formula right-hand side such as
    ``"age + C(kab_code)"``); a collinear covariate stops with its name."""
    X, names, _ = design_matrix_gram(data, covariates)
    return X, names


def design_matrix_gram(data: pd.DataFrame, covariates, s: np.ndarray | None = None
                       ) -> tuple[np.ndarray, list[str], np.ndarray]:
    """:func:`design_matrix` and ``X'X`` (formed for the rank check; callers reuse it); with
    weights ``s``, ``X'SX`` (a covariate that varies only among zero-weight rows is constant)."""
    if covariates is None or (not isinstance(covariates, str) and len(covariates) == 0):
        X = np.ones((len(data), 1))
        return X, ["Intercept"], X.T @ X if s is None else X.T @ (X * s[:, None])
    if isinstance(covariates, str):
        import patsy

        dm = patsy.dmatrix(covariates, data, return_type="dataframe", NA_action="raise")
        X, names = dm.to_numpy(dtype=float), list(dm.columns)
    else:
        cols = list(covariates)
        for c in cols:
            _column(data, c, "covariate")
        block = data[cols].apply(pd.to_numeric, errors="coerce")
        if block.isna().any().any():
            bad = [c for c in cols if block[c].isna().any()]
            raise DataValidationError(f"Covariate(s) {', '.join(map(repr, bad))} have missing or non-numeric values; "
                                      "encode categories (C(name) in a formula) and drop or impute missing rows.")
        X = np.column_stack([np.ones(len(data)), block.to_numpy(dtype=float)])
        names = ["Intercept", *cols]
    G = X.T @ X if s is None else X.T @ (X * s[:, None])
    if gram_rank(G) < X.shape[1]:
        # name the columns that add nothing to the ones before them
        redundant: list[str] = []
        kept: list[int] = []
        for j in range(X.shape[1]):
            if gram_rank(G[np.ix_(kept + [j], kept + [j])]) == len(kept) + 1:
                kept.append(j)
            else:
                redundant.append(names[j])
        raise DataValidationError(f"Covariate(s) {', '.join(map(repr, redundant))} are collinear with the others "
                                  "(or constant); drop them.")
    return X, names, G


def gram_rank(G: np.ndarray) -> int:
    """Numerical rank of X from its cross-product ``G = X'X``, with the columns scaled to unit length."""
    scale = np.sqrt(np.diag(G))
    scale[scale == 0] = 1.0
    ev = np.linalg.eigvalsh(G / np.outer(scale, scale))
    return int(np.sum(ev > max(ev.max(), 0) * 1e-10))



def smd(x: np.ndarray, d: np.ndarray, w: np.ndarray | None = None) -> float:
    """Standardized mean difference, weighted means over the unweighted pooled SD (Austin 2009)."""
    w = np.ones(len(x)) if w is None else w
    m1 = np.average(x[d == 1], weights=w[d == 1])
    m0 = np.average(x[d == 0], weights=w[d == 0])
    sd = np.sqrt((x[d == 1].var(ddof=1) + x[d == 0].var(ddof=1)) / 2)
    return float((m1 - m0) / sd) if sd > 0 else 0.0


def balance_table(X: np.ndarray, names: list[str], d: np.ndarray, w: np.ndarray | None = None) -> pd.DataFrame:
    """SMD of each covariate before and after weighting (for a love plot): weighted means over the
    unweighted pooled SD, as :func:`smd`, for all columns at once."""
    t, c = (d == 1).astype(float), (d == 0).astype(float)
    n1, n0 = t.sum(), c.sum()
    s1, s0 = t @ X, c @ X
    sq = (X * X).T
    v1 = (sq @ t - s1**2 / n1) / (n1 - 1)
    v0 = (sq @ c - s0**2 / n0) / (n0 - 1)
    sd = np.sqrt(np.maximum((v1 + v0) / 2, 0))

    def smds(weights):
        m1 = (weights * t) @ X / np.sum(weights * t)
        m0 = (weights * c) @ X / np.sum(weights * c)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(sd > 0, (m1 - m0) / sd, 0.0)

    after = smds(w) if w is not None else np.full(X.shape[1], np.nan)
    t = pd.DataFrame({"covariate": names, "smd_before": smds(np.ones(len(d))), "smd_after": after})
    t["flag"] = t["smd_after"].abs() > SMD_THRESHOLD
    return t


def balance_diagnostic(X: np.ndarray, names: list[str], d: np.ndarray, w: np.ndarray) -> Diagnostic:
    if X.shape[1] == 0:
        return Diagnostic("balance", None, None, "No covariates: balance was not checked.")
    t = balance_table(X, names, d, w)
    worst = t.loc[t["smd_after"].abs().idxmax()]
    before = float(t["smd_before"].abs().max())
    ok = bool(abs(worst["smd_after"]) <= SMD_THRESHOLD)
    msg = (f"After weighting, the largest standardized difference between the groups is {abs(worst['smd_after']):.2f} "
           f"({worst['covariate']}; {before:.2f} before): "
           + ("the groups are comparable on the covariates." if ok
              else f"above {SMD_THRESHOLD}, so the groups still differ; add that covariate's shape to the model."))
    return Diagnostic("balance", float(abs(worst["smd_after"])), ok, msg,
                      (("after", float(abs(worst["smd_after"]))), ("before", before), ("covariate", worst["covariate"]),
                       ("threshold", SMD_THRESHOLD)))


def e_value(estimate: float, sd_outcome: float) -> float:
    """E-value of a mean difference via the approximate risk ratio exp(0.91 d) (VanderWeele and Ding 2017)."""
    if sd_outcome <= 0:
        return float("nan")
    rr = np.exp(0.91 * abs(estimate) / sd_outcome)
    return float(rr + np.sqrt(rr * (rr - 1)))


def e_value_statement(estimate: float, se: float, y: np.ndarray, d: np.ndarray) -> Diagnostic:
    sd = float(np.sqrt((y[d == 1].var(ddof=1) + y[d == 0].var(ddof=1)) / 2))
    ev = e_value(estimate, sd)
    lo = abs(estimate) - 1.96 * se
    ev_ci = e_value(lo, sd) if lo > 0 else 1.0
    tail = (f"{ev_ci:.2f} to move the confidence interval to include zero" if lo > 0
            else "the confidence interval already includes zero")
    msg = (f"Sensitivity: an unmeasured factor would have to raise both receipt and the outcome by a risk ratio "
           f"of {ev:.2f} to explain the estimate away ({tail}).")
    return Diagnostic("e_value", ev, None, msg, (("e_value", ev), ("e_value_ci", ev_ci if lo > 0 else None)))


def bpnt_receipt_covariates(data: pd.DataFrame, *, max_decile: int = 4) -> tuple[pd.DataFrame, list[str]]:
    """:meth:`welfare_eval.programs.BPNT.receipt_data` and its covariates, with ``d`` (0/1 receipt)
    added: the shape the estimator tests use. Reports call ``programs.BPNT`` directly."""
    from ..programs import BPNT

    out = BPNT.receipt_data(data, max_decile=max_decile)
    return out.assign(d=out[BPNT.flag].astype(float)), list(BPNT.receipt_covariates)


def pkh_receipt_covariates(data: pd.DataFrame, *, max_decile: int = 3) -> tuple[pd.DataFrame, list[str]]:
    """:meth:`welfare_eval.programs.PKH.receipt_data` (households with a PKH component and the
    terms of PKH's receipt rule) and its covariates, with ``d`` (0/1 receipt) added: the shape the
    estimator tests use. Reports call ``programs.PKH`` directly."""
    from ..programs import PKH

    out = PKH.receipt_data(data, max_decile=max_decile)
    return out.assign(d=out[PKH.flag].astype(float)), list(PKH.receipt_covariates)


def sampling_weights(data: pd.DataFrame, weights: str | None, design, fn: str):
    """The sampling weights of ``weights=`` (or of ``design``) as a float array, and the design.

    Returns ``(s, design)``: ``s`` is None when neither is given (the unweighted estimator runs
    unchanged). A design whose weights column differs from ``weights=``, and negative, missing or
    all-zero weights, stop with one error each.
    """
    if design is not None:
        from ..survey import SurveyDesign

        if not isinstance(design, SurveyDesign):
            raise parameter_error("design", fn, "a SurveyDesign or None", design)
        if weights is None:
            weights = design.weights
        elif design.weights != weights:
            raise ParameterError(f"{fn} was given weights={weights!r} but a design whose weights column is "
                                 f"{design.weights!r}; the two must be the same column (give only the design).")
        if design.replicates is not None:
            raise ParameterError(f"{fn} uses the linearized (influence-function) variance; a design with "
                                 f"replicates={design.replicates!r} is not supported here. Give the design without "
                                 "replicates.")
    if weights is None:
        return None, design
    s = pd.to_numeric(_column(data, weights, "weights"), errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(s) | (s < 0)
    if bad.any():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(bad)[:5]) + (", ..." if bad.sum() > 5 else "")
        kinds = [f"{int(k.sum())} {name}" for name, k in (("missing or non-numeric", ~np.isfinite(s)),
                                                           ("negative", np.isfinite(s) & (s < 0))) if k.any()]
        raise DataValidationError(f"Column {weights!r} (sampling weights) of the data given to {fn} has "
                                  f"{' and '.join(kinds)} values (rows {rows}); weights must be numbers >= 0. "
                                  "Drop those rows or fix the weights.")
    if not s.sum() > 0:
        raise DataValidationError(f"Column {weights!r} (sampling weights) of the data given to {fn} sums to zero "
                                  f"over its {len(s)} rows; at least one unit needs a positive weight.")
    return s, design


def influence_se(u: np.ndarray, s: np.ndarray, data: pd.DataFrame, design, keep: np.ndarray | None = None
                 ) -> tuple[float, str, float | None]:
    """Standard error of ``sum_i s_i u_i`` (``u``: a linearized, per-unit influence function).

    Without a design each unit is its own PSU, sampled with replacement: ``sqrt(sum (s u)^2)``.
    With a :class:`~welfare_eval.survey.SurveyDesign` the variance of the weighted total of ``u``
    between PSUs within strata (R ``svytotal`` of the influence function, Binder 1983). ``keep``:
    the rows of ``data`` that ``u`` belongs to (after trimming); the others count as zero.
    Returns the standard error, a note for the result and the degrees of freedom of intervals
    (the design's PSUs minus strata; None without a design: normal intervals).
    """
    if design is None:
        return float(np.sqrt(np.sum((s * u) ** 2))), "standard error from the weighted influence function", None
    from ..survey import linearized_variance, prepare

    prep = prepare(data, design)
    full = np.zeros(len(data))
    if keep is None:
        full[:] = u
    else:
        full[keep] = u
    var = linearized_variance(full, np.zeros(len(data), dtype=np.int64), 1, prep)[0]
    parts = [p for p in (f"strata {design.strata!r}" if design.strata else "",
                         f"PSUs {design.psu!r}" if design.psu else "") if p]
    return float(np.sqrt(var)), ("design-based standard error (influence function linearized over "
                                 + (" and ".join(parts) or "units as PSUs") + f", {prep.df:.0f} design df)"), prep.df


def check_arm_weights(s: np.ndarray | None, d: np.ndarray, where: str) -> None:
    """Each arm (treated, comparison) needs units with a positive sampling weight."""
    if s is None:
        return
    for arm in (0, 1):
        if not np.sum(s[d == arm]) > 0:
            raise DataValidationError(
                f"The sampling weights of the {'treated' if arm else 'comparison'} units given to {where} "
                f"({int((d == arm).sum())} units) sum to zero; each group needs units with a positive weight.")
