"""Staggered difference-in-differences: Callaway and Sant'Anna (2021), and the Goodman-Bacon
decomposition of the two-way fixed effects estimate.

``ATT(g, t)`` compares the change in the outcome from a base period to ``t`` for the cohort first
treated in ``g`` with the same change for a comparison group: units never treated
(``control_group="never_treated"``) or not yet treated by ``t`` (``"not_yet_treated"``). The
base period is ``g - 1`` for ``t >= g`` and ``t - 1`` before (the "varying" base of the did
package), so pre-treatment cells are placebo tests. Without covariates the outcome-regression,
IPW and doubly robust variants coincide with this difference of mean changes.

Inference uses each unit's influence function: analytical standard errors, and a multiplier
bootstrap (Rademacher draws per cluster; units by default, or ``cluster=`` such as the kecamatan
where TKSK is assigned) for standard errors and uniform bands. Aggregations (simple, dynamic
by event time, group, calendar) carry the influence function of their estimated weights.

References
----------
Callaway and Sant'Anna (2021), "Difference-in-differences with multiple time periods",
J. Econometrics 225(2), 200-230. Goodman-Bacon (2021), "Difference-in-differences with
variation in treatment timing", J. Econometrics 225(2), 254-277.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from ..config import DEFAULT_LEVEL
from ..exceptions import DataValidationError, ParameterError, parameter_error
from ..results import Diagnostic, EstimateTable, check_level

ControlGroup = Literal["never_treated", "not_yet_treated"]
Aggregate = Literal["simple", "dynamic", "group", "calendar"]
#: Bootstrap draws of the multiplier bootstrap unless the caller asks for another number.
DEFAULT_BOOT = 999


@dataclass
class _Panel:
    units: np.ndarray        # unit ids (n,)
    times: np.ndarray        # sorted periods (T,)
    Y: np.ndarray            # outcome (n, T)
    G: np.ndarray            # first treated period per unit, 0 = never (n,)
    cluster: np.ndarray      # cluster index per unit (n,)


def _panel(data: pd.DataFrame, outcome: str, unit: str, time: str, cohort: str, cluster: str | None) -> _Panel:
    for col, role in ((outcome, "outcome"), (unit, "unit"), (time, "time"), (cohort, "cohort")):
        if col not in data.columns:
            raise ParameterError(f"The {role!r} column {col!r} is not in the data.")
    d = data[[unit, time, cohort, outcome] + ([cluster] if cluster else [])].copy()
    d[outcome] = pd.to_numeric(d[outcome], errors="coerce")
    if d[outcome].isna().any():
        raise DataValidationError(f"Outcome {outcome!r} has {int(d[outcome].isna().sum())} missing values; the "
                                  "estimator needs a balanced panel: drop those units or impute.")
    if d.duplicated([unit, time]).any():
        raise DataValidationError(f"({unit}, {time}) repeats in {int(d.duplicated([unit, time]).sum())} rows; "
                                  "one row per unit and period.")
    wide = d.pivot(index=unit, columns=time, values=outcome).sort_index(axis=1)
    if wide.isna().any().any():
        raise DataValidationError(f"The panel is unbalanced: {int(wide.isna().any(axis=1).sum())} units miss some "
                                  "periods; keep units observed in every period.")
    g = d.groupby(unit)[cohort].agg(["min", "max"]).loc[wide.index]
    if (g["min"] != g["max"]).any():
        raise DataValidationError(f"Cohort {cohort!r} changes within {int((g['min'] != g['max']).sum())} units; it "
                                  "must be the unit's first treated period (0 = never) in every row.")
    if cluster:
        c = d.groupby(unit)[cluster].nunique().loc[wide.index]
        if (c > 1).any():
            raise DataValidationError(f"Cluster {cluster!r} changes within units; clusters must contain whole units.")
        cl = pd.factorize(d.groupby(unit)[cluster].first().loc[wide.index])[0]
    else:
        cl = np.arange(len(wide))
    return _Panel(wide.index.to_numpy(), wide.columns.to_numpy(), wide.to_numpy(float),
                  g["min"].to_numpy(), cl)


@dataclass
class ATTgt:
    """Group-time effects with their influence functions (units x cells)."""

    cells: pd.DataFrame          # cohort, time, att, se, n_treated, n_control, post
    inf: np.ndarray              # (n, cells)
    panel: _Panel
    control_group: str
    notes: list = field(default_factory=list)


def att_gt(data: pd.DataFrame, *, outcome: str, unit: str, time: str, cohort: str,
           control_group: ControlGroup = "never_treated", cluster: str | None = None) -> ATTgt:
    """All ATT(g, t) with influence functions (see the module notes)."""
    if control_group not in ("never_treated", "not_yet_treated"):
        raise parameter_error("control_group", "staggered_did", "'never_treated' or 'not_yet_treated'", control_group)
    p = _panel(data, outcome, unit, time, cohort, cluster)
    n, T = p.Y.shape
    times = list(p.times)
    cohorts = sorted(int(g) for g in np.unique(p.G) if g > 0)
    notes = []
    if not (p.G == 0).any() and control_group == "never_treated":
        raise DataValidationError("No never-treated units: use control_group='not_yet_treated'.")
    rows, infs = [], []
    for g in cohorts:
        if g not in times:
            notes.append(f"cohort {g} is not a period of the panel; skipped")
            continue
        gi = times.index(g)
        if gi == 0:
            notes.append(f"cohort {g} is treated from the first period: no pre-period, skipped")
            continue
        treated = p.G == g
        for ti, t in enumerate(times):
            base = gi - 1 if ti >= gi else ti - 1  # "varying" base: the period before, until treatment
            if base < 0:
                continue
            if control_group == "never_treated":
                ctrl = p.G == 0
            else:  # not yet treated at max(t, base): never treated or first treated later
                later = times[max(ti, base)]
                ctrl = (p.G == 0) | ((p.G > later) & (p.G != g))
            if not ctrl.any():
                notes.append(f"no comparison units for cohort {g} in {t}; cell skipped")
                continue
            dy = p.Y[:, ti] - p.Y[:, base]
            pi_g, pi_c = treated.mean(), ctrl.mean()
            m_g, m_c = dy[treated].mean(), dy[ctrl].mean()
            att = m_g - m_c
            inf = treated * (dy - m_g) / pi_g - ctrl * (dy - m_c) / pi_c
            rows.append({"cohort": g, "time": t, "att": att, "n_treated": int(treated.sum()),
                         "n_control": int(ctrl.sum()), "post": t >= g, "event_time": ti - gi})
            infs.append(inf)
    if not rows:
        raise DataValidationError("No cohort has both a pre-period and comparison units: nothing to estimate.")
    inf = np.column_stack(infs)
    cells = pd.DataFrame(rows)
    cells["se"] = _analytic_se(inf, p.cluster)
    return ATTgt(cells, inf, p, control_group, notes)


def _cluster_sum(inf: np.ndarray, cluster: np.ndarray) -> np.ndarray:
    k = cluster.max() + 1
    out = np.zeros((k, inf.shape[1]))
    np.add.at(out, cluster, inf)
    return out


def _analytic_se(inf: np.ndarray, cluster: np.ndarray) -> np.ndarray:
    """SE of a mean of influence functions, summed within clusters (units by default)."""
    n = inf.shape[0]
    s = _cluster_sum(inf, cluster)
    return np.sqrt((s**2).sum(axis=0)) / n


def _aggregate(res: ATTgt, kind: str, min_e=-np.inf, max_e=np.inf) -> tuple[pd.DataFrame, np.ndarray]:
    """Aggregated effects and their influence functions (with the weights' own influence)."""
    c = res.cells
    G = res.panel.G
    pg_unit = {g: (G == g).mean() for g in c["cohort"].unique()}
    c = c.assign(pg=c["cohort"].map(pg_unit))

    def combine(mask: np.ndarray, label: dict, weights: str) -> tuple[dict, np.ndarray]:
        sub = c[mask]
        idx = np.flatnonzero(mask)
        if weights == "equal":
            w = np.full(len(sub), 1.0 / len(sub))
            est = float(np.sum(w * sub["att"]))
            return {**label, "estimate": est}, res.inf[:, idx] @ w
        pg = sub["pg"].to_numpy()
        w = pg / pg.sum()
        est = float(np.sum(w * sub["att"]))
        # influence of the estimated weights (Callaway and Sant'Anna's wif)
        ind = np.column_stack([(G == g).astype(float) for g in sub["cohort"]])
        wif = (ind - pg) / pg.sum() - np.outer((ind - pg).sum(axis=1), pg) / pg.sum() ** 2
        return {**label, "estimate": est}, res.inf[:, idx] @ w + wif @ sub["att"].to_numpy()

    rows, infs = [], []
    post = c["post"].to_numpy()
    if kind == "simple":
        r, f = combine(post, {"aggregate": "simple"}, "pg")
        rows.append(r)
        infs.append(f)
    elif kind == "dynamic":
        post_rows, post_infs = [], []
        for e in sorted(c["event_time"].unique()):
            if min_e <= e <= max_e:
                r, f = combine((c["event_time"] == e).to_numpy(), {"event_time": int(e)}, "pg")
                rows.append(r)
                infs.append(f)
                if e >= 0:
                    post_rows.append(r["estimate"])
                    post_infs.append(f)
        # overall: the average of the effects at event times 0, 1, ... (as the did package)
        rows.insert(0, {"event_time": "all", "estimate": float(np.mean(post_rows))})
        infs.insert(0, np.column_stack(post_infs).mean(axis=1))
    elif kind == "group":
        ginf, gest, gp_list = [], [], []
        for g in sorted(c["cohort"].unique()):
            m = post & (c["cohort"] == g).to_numpy()
            if m.any():
                r, f = combine(m, {"cohort": int(g)}, "equal")
                rows.append(r)
                infs.append(f)
                ginf.append(f)
                gest.append(r["estimate"])
                gp_list.append(pg_unit[g])
        gp = np.array(gp_list)
        w = gp / gp.sum()
        ind = np.column_stack([(G == g).astype(float) for g in sorted(c["cohort"].unique())
                               if (post & (c["cohort"] == g).to_numpy()).any()])
        wif = (ind - gp) / gp.sum() - np.outer((ind - gp).sum(axis=1), gp) / gp.sum() ** 2
        rows.insert(0, {"cohort": "all", "estimate": float(np.sum(w * gest))})
        infs.insert(0, np.column_stack(ginf) @ w + wif @ np.array(gest))
    elif kind == "calendar":
        ests, cinf = [], []
        for t in sorted(c.loc[post, "time"].unique()):
            m = post & (c["time"] == t).to_numpy()
            r, f = combine(m, {"time": int(t)}, "pg")
            rows.append(r)
            infs.append(f)
            ests.append(r["estimate"])
            cinf.append(f)
        rows.insert(0, {"time": "all", "estimate": float(np.mean(ests))})
        infs.insert(0, np.column_stack(cinf).mean(axis=1))
    else:
        raise parameter_error("aggregate", "staggered_did", "'simple', 'dynamic', 'group' or 'calendar'", kind)
    table = pd.DataFrame(rows)
    for col in ("event_time", "cohort", "time"):
        if col in table:
            table[col] = table[col].astype(object)
    return table, np.column_stack(infs)


def multiplier_bootstrap(inf: np.ndarray, cluster: np.ndarray, *, draws: int, seed: int,
                         level: float) -> tuple[np.ndarray, float]:
    """Bootstrap SEs (robust, from the interquartile range as the did package) and the critical
    value of a uniform band over the columns of ``inf``."""
    n = inf.shape[0]
    s = _cluster_sum(inf, cluster)
    rng = np.random.default_rng(seed)
    boot = np.empty((draws, s.shape[1]))               # draws x k deviations of the estimate
    chunk = max(1, 20_000_000 // max(s.shape[0], 1))   # bounded memory for many clusters
    for start in range(0, draws, chunk):
        k = min(chunk, draws - start)
        v = rng.integers(0, 2, size=(k, s.shape[0]), dtype=np.int8) * 2 - 1   # Rademacher
        boot[start:start + k] = v @ s / n
    q75, q25 = np.quantile(boot, [0.75, 0.25], axis=0)
    se = (q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
    with np.errstate(divide="ignore", invalid="ignore"):
        tmax = np.nanmax(np.abs(boot / np.where(se > 0, se, np.nan)), axis=1)
    return se, float(np.quantile(tmax, level))


def staggered_did(data: pd.DataFrame, *, outcome: str, unit: str, time: str, cohort: str,
                  control_group: ControlGroup = "never_treated", aggregate: Aggregate = "simple",
                  cluster: str | None = None, bootstrap: int | None = DEFAULT_BOOT, seed: int = 0,
                  level: float = DEFAULT_LEVEL, min_e: float = -np.inf, max_e: float = np.inf) -> EstimateTable:
    """Callaway and Sant'Anna's estimator, aggregated.

    Parameters
    ----------
    data : DataFrame
        A balanced panel, one row per unit and period.
    outcome, unit, time, cohort : str
        Columns; ``cohort`` is the first treated period, 0 for never treated (``tksk_cohort``).
    control_group : {"never_treated", "not_yet_treated"}
    aggregate : {"simple", "dynamic", "group", "calendar"}
        ``dynamic`` gives effects by event time with a uniform band; ``dynamic``, ``group`` and
        ``calendar`` give one row per event time, cohort or period after an overall row ("all").
    cluster : str, optional
        Column of clusters containing whole units (the kecamatan where TKSK is assigned).
    bootstrap : int or None
        Multiplier bootstrap draws; None gives analytical standard errors and pointwise intervals.

    Returns an EstimateTable with ``ci_lower``/``ci_upper`` (pointwise) and, for bootstrap runs,
    ``band_lower``/``band_upper`` (uniform over the rows).
    """
    check_level(level, "staggered_did")
    res = att_gt(data, outcome=outcome, unit=unit, time=time, cohort=cohort, control_group=control_group,
                 cluster=cluster)
    table, inf = _aggregate(res, aggregate, min_e, max_e)
    n = inf.shape[0]
    if bootstrap:
        se, crit = multiplier_bootstrap(inf, res.panel.cluster, draws=bootstrap, seed=seed, level=level)
        method = f"Callaway-Sant'Anna ({control_group}), multiplier bootstrap ({bootstrap} draws)"
    else:
        se, crit = _analytic_se(inf, res.panel.cluster), float("nan")
        method = f"Callaway-Sant'Anna ({control_group}), analytical"
    group_cols = tuple(c for c in table.columns if c != "estimate")
    out = table.copy()
    out.insert(0, "estimand", f"ATT ({aggregate})")
    out["std_error"] = se
    out["ci_lower"] = np.nan
    out["ci_upper"] = np.nan
    out["level"] = level
    out["nobs"] = n
    out["method"] = method
    out["df"] = np.inf
    out["outcome"] = outcome
    if bootstrap:
        out["band_lower"] = out["estimate"] - crit * se
        out["band_upper"] = out["estimate"] + crit * se
    pre = res.cells[~res.cells["post"]]
    notes = tuple(res.notes)
    diags: tuple[Diagnostic, ...] = ()
    if len(pre):
        wald = _pretrend_test(res)
        notes += (wald.message,)
        diags = (wald,)
    return EstimateTable(out, group_columns=group_cols, level=level, notes=notes, diagnostics=diags)


def _pretrend_test(res: ATTgt) -> Diagnostic:
    """Joint Wald test that every pre-treatment ATT(g, t) is zero (placebo cells)."""
    pre = ~res.cells["post"].to_numpy()
    est = res.cells.loc[pre, "att"].to_numpy()
    s = _cluster_sum(res.inf[:, pre], res.panel.cluster)
    n = res.inf.shape[0]
    V = s.T @ s / n**2
    try:
        stat = float(est @ np.linalg.solve(V, est))
    except np.linalg.LinAlgError:
        stat = float(est @ np.linalg.pinv(V) @ est)
    k = int(pre.sum())
    pval = float(stats.chi2.sf(stat, k))
    ok = pval >= 0.05
    msg = (f"Pre-trends: the {k} placebo effects before treatment are jointly "
           + ("consistent with zero" if ok else "different from zero")
           + f" (Wald chi2 = {stat:.2f}, p = {pval:.3f})"
           + ("." if ok else "; the comparison group may not show what would have happened without TKSK."))
    return Diagnostic("pre_trends", pval, ok, msg, (("k", k), ("stat", stat), ("p", pval)))


def goodman_bacon(data: pd.DataFrame, *, outcome: str, unit: str, time: str, cohort: str) -> pd.DataFrame:
    """Goodman-Bacon (2021) decomposition of the two-way fixed effects DiD coefficient.

    Rows: each 2x2 comparison (``type``: treated vs never treated, earlier vs later treated with
    the later group's pre-period as control, later vs earlier with the already-treated earlier
    group as control, the "forbidden" comparison), its estimate and weight. The weighted sum of the
    estimates equals the TWFE coefficient on a balanced panel.
    """
    p = _panel(data, outcome, unit, time, cohort, None)
    times = list(p.times)
    T = len(times)
    groups = sorted(int(g) for g in np.unique(p.G) if g > 0 and g in times and times.index(g) > 0)
    n = len(p.G)
    D = np.zeros_like(p.Y)
    for g in groups:
        D[p.G == g, times.index(g):] = 1.0
    Dd = D - D.mean(axis=1, keepdims=True) - D.mean(axis=0, keepdims=True) + D.mean()
    VD = float((Dd**2).sum() / (n * T))
    share = {g: float((p.G == g).mean()) for g in groups}
    Dbar = {g: (T - times.index(g)) / T for g in groups}
    nU = float((p.G == 0).mean())

    def mean_y(mask_units, cols):
        return float(p.Y[np.ix_(mask_units, cols)].mean())

    rows = []
    for k in groups:
        ki = times.index(k)
        pre_k, post_k = list(range(0, ki)), list(range(ki, T))
        if nU > 0:
            b = ((mean_y(p.G == k, post_k) - mean_y(p.G == k, pre_k))
                 - (mean_y(p.G == 0, post_k) - mean_y(p.G == 0, pre_k)))
            nkU = share[k] / (share[k] + nU)
            s = (share[k] + nU) ** 2 * nkU * (1 - nkU) * Dbar[k] * (1 - Dbar[k]) / VD
            rows.append({"type": "treated vs never treated", "treated": k, "control": "never", "estimate": b,
                         "weight": s})
        for l in groups:  # noqa: E741 - Goodman-Bacon's k (earlier) and l (later)
            if l <= k:
                continue
            li = times.index(l)
            nkl = share[k] / (share[k] + share[l])
            mid = list(range(ki, li))
            # earlier k vs later l, in the window before l is treated
            b1 = (mean_y(p.G == k, mid) - mean_y(p.G == k, pre_k)) - (mean_y(p.G == l, mid) - mean_y(p.G == l, pre_k))
            s1 = (((share[k] + share[l]) * (1 - Dbar[l])) ** 2 * nkl * (1 - nkl)
                  * (Dbar[k] - Dbar[l]) / (1 - Dbar[l]) * (1 - Dbar[k]) / (1 - Dbar[l]) / VD)
            rows.append({"type": "earlier vs later treated", "treated": k, "control": l, "estimate": b1, "weight": s1})
            # later l vs earlier k (already treated: the forbidden comparison), after k is treated
            post_l = list(range(li, T))
            b2 = (mean_y(p.G == l, post_l) - mean_y(p.G == l, mid)) - (mean_y(p.G == k, post_l) - mean_y(p.G == k, mid))
            s2 = (((share[k] + share[l]) * Dbar[k]) ** 2 * nkl * (1 - nkl)
                  * Dbar[l] / Dbar[k] * (Dbar[k] - Dbar[l]) / Dbar[k] / VD)
            rows.append({"type": "later vs earlier treated (forbidden)", "treated": l, "control": k, "estimate": b2,
                         "weight": s2})
    out = pd.DataFrame(rows)
    # the TWFE coefficient, for reference: regression of double-demeaned Y on double-demeaned D
    Yd = p.Y - p.Y.mean(axis=1, keepdims=True) - p.Y.mean(axis=0, keepdims=True) + p.Y.mean()
    out.attrs["twfe"] = float((Dd * Yd).sum() / (Dd**2).sum())
    return out
