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
from scipy.special import expit

from ..config import DEFAULT_LEVEL
from ..exceptions import DataValidationError, ParameterError, parameter_error
from ..results import Diagnostic, EstimateTable, Note, check_level
from .common import gram_rank, sampling_weights
from .weighting import fit_logit

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
    X: np.ndarray | None = None      # intercept and covariates per period (T, n, k), or None
    names: tuple = ()                # covariate names (without the intercept)
    w: np.ndarray | None = None      # sampling weights per unit, mean one (n,), or None
    unit_rows: pd.DataFrame | None = None   # one row per unit (the first period's), for a design


def _unit_constant(d: pd.DataFrame, unit: str, col: str, role: str, index) -> pd.Series:
    """The value of ``col`` per unit; a value that changes within a unit stops."""
    k = d.groupby(unit)[col].nunique(dropna=False).loc[index]
    if (k > 1).any():
        raise DataValidationError(f"The {role} {col!r} changes within {int((k > 1).sum())} units (e.g. unit "
                                  f"{k.index[k > 1][0]!r}); it must be one value per unit in every period.")
    return d.groupby(unit)[col].first().loc[index]


def _panel(data: pd.DataFrame, outcome: str, unit: str, time: str, cohort: str, cluster: str | None,
           covariates=None, weights: str | None = None, design=None) -> _Panel:
    for col, role in ((outcome, "outcome"), (unit, "unit"), (time, "time"), (cohort, "cohort"),
                      *([(cluster, "cluster")] if cluster else [])):
        if col not in data.columns:
            raise ParameterError(f"The {role!r} column {col!r} is not in the data.")
    cov = list(covariates or [])
    extra = [c for c in cov + ([weights] if weights else []) + (design.columns() if design is not None else [])
             if c not in (unit, time, cohort, outcome, cluster)]
    for c in extra:
        if c not in data.columns:
            raise ParameterError(f"The column {c!r} (covariate, weights or design) is not in the data; columns "
                                 f"present: {', '.join(map(str, data.columns[:25]))}.")
    d = data[[unit, time, cohort, outcome] + ([cluster] if cluster else []) + list(dict.fromkeys(extra))]
    y = pd.to_numeric(d[outcome], errors="coerce").to_numpy(float)
    if np.isnan(y).any():
        raise DataValidationError(f"Outcome {outcome!r} has {int(np.isnan(y).sum())} missing values; the "
                                  "estimator needs a balanced panel: drop those units or impute.")
    # one factorization of units and periods (sorted, as a pivot) places every row in a unit x period grid
    ucode, uniq = pd.factorize(d[unit], sort=True)
    tcode, periods = pd.factorize(d[time], sort=True)
    for codes, col, role in ((ucode, unit, "unit"), (tcode, time, "time")):
        if (codes < 0).any():
            raise DataValidationError(f"The {role} column {col!r} has {int((codes < 0).sum())} missing values; "
                                      "every row needs its unit and period.")
    n, T = len(uniq), len(periods)
    key = ucode.astype(np.int64) * T + tcode
    count = np.bincount(key, minlength=n * T)
    if (count > 1).any():
        dup = int((count[count > 1] - 1).sum())
        raise DataValidationError(f"({unit}, {time}) repeats in {dup} rows; one row per unit and period.")
    if (count == 0).any():
        raise DataValidationError(f"The panel is unbalanced: {int((count.reshape(n, T) == 0).any(axis=1).sum())} "
                                  "units miss some periods; keep units observed in every period.")
    order = np.empty(n * T, dtype=np.int64)
    order[key] = np.arange(n * T)                       # row of the data for each (unit, period)

    def grid(values: np.ndarray) -> np.ndarray:
        return values[order].reshape(n, T)

    Y = grid(y)
    gvals = pd.to_numeric(d[cohort], errors="coerce").to_numpy(float)
    if np.isnan(gvals).any():
        raise DataValidationError(f"Cohort {cohort!r} has {int(np.isnan(gvals).sum())} missing or non-numeric values; "
                                  "give each unit its first treated period, 0 for never treated.")
    gcol = grid(gvals)
    gmin, gmax = gcol.min(axis=1), gcol.max(axis=1)
    if (gmin != gmax).any():
        raise DataValidationError(f"Cohort {cohort!r} changes within {int((gmin != gmax).sum())} units; it "
                                  "must be the unit's first treated period (0 = never) in every row.")
    G = gmin.astype(np.int64) if np.all(gmin == np.round(gmin)) else gmin
    index = pd.Index(uniq)
    if cluster:
        c = d.groupby(unit)[cluster].nunique().loc[index]
        if (c > 1).any():
            raise DataValidationError(f"Cluster {cluster!r} changes within units; clusters must contain whole units.")
        cl = pd.factorize(d.groupby(unit)[cluster].first().loc[index])[0]
    else:
        cl = np.arange(n)
    X = None
    if cov:
        block = d[cov].apply(pd.to_numeric, errors="coerce")
        if block.isna().any().any():
            bad = [c for c in cov if block[c].isna().any()]
            raise DataValidationError(f"Covariate(s) {', '.join(map(repr, bad))} have missing or non-numeric values "
                                      f"({int(block.isna().any(axis=1).sum())} rows); drop those units or impute.")
        X = np.empty((T, n, len(cov) + 1))
        X[:, :, 0] = 1.0
        for j, c in enumerate(cov, 1):
            X[:, :, j] = grid(block[c].to_numpy(float)).T
    w = None
    if weights:
        s, _ = sampling_weights(d, weights, None, "staggered_did")
        sg = grid(s)
        moving = (sg != sg[:, :1]).any(axis=1)
        if moving.any():
            raise DataValidationError(f"The sampling weight {weights!r} changes within {int(moving.sum())} units "
                                      f"(e.g. unit {uniq[np.flatnonzero(moving)[0]]!r}); it must be one value per "
                                      "unit in every period.")
        w = sg[:, 0].copy()
        if not w.sum() > 0:
            raise DataValidationError(f"Column {weights!r} (sampling weights) of the data given to staggered_did "
                                      "sums to zero over the units; at least one unit needs a positive weight.")
        w = w / w.mean()
    unit_rows = None
    if design is not None:
        for c in design.columns():
            _unit_constant(d, unit, c, "design column", index)
        unit_rows = d.iloc[order.reshape(n, T)[:, 0]][design.columns()].reset_index(drop=True)
    return _Panel(np.asarray(uniq), np.asarray(periods), Y, G, cl, X, tuple(cov), w, unit_rows)


@dataclass
class ATTgt:
    """Group-time effects with their influence functions (units x cells)."""

    cells: pd.DataFrame          # cohort, time, att, se, n_treated, n_control, post
    inf: np.ndarray              # (n, cells)
    panel: _Panel
    control_group: str
    notes: list = field(default_factory=list)


Method = Literal["dr", "ipw", "reg"]
BasePeriod = Literal["varying", "universal"]
#: Comparison units with a propensity score at or above this are dropped from the weighted
#: comparison (R DRDID's ``trim.level``), and scores are capped at 1 - 1e-6, as DRDID.
TRIM_LEVEL = 0.995


def _drdid_cells(DY: np.ndarray, D: np.ndarray, X: np.ndarray, w: np.ndarray,
                 method: str) -> tuple[np.ndarray, np.ndarray]:
    """The 2x2 panel DiD with covariates of Sant'Anna and Zhao (2020), as R DRDID's
    ``drdid_panel`` (dr), ``std_ipw_did_panel`` (ipw) and ``reg_did_panel`` (reg), for every
    column of ``DY`` (the outcome changes of the cells that share these units, treatment and
    covariates): the estimates (m,) and their influence functions over the units (n, m).
    ``w``: weights, mean one over the units.

    The propensity score and the comparison units' regression design are fitted once for all the
    columns; the estimating-equation corrections ``asy_ps @ u`` and ``asy_ols @ v`` of DRDID are
    formed as ``a * (X @ (H^-1 u))`` without the n x k matrices."""
    n = len(D)
    if method in ("ipw", "dr"):
        ps = expit(X @ fit_logit(X, D, s=w)[0])
        psc = np.minimum(ps, 1 - 1e-6)
        keep = (D == 1) | (psc < TRIM_LEVEL)
        Hinv = np.linalg.inv(X.T @ (X * (w * psc * (1 - psc))[:, None])) * n
        a_ps = w * (D - psc)
        w_treat = keep * w * D
        w_cont = keep * w * psc * (1 - D) / (1 - psc)
    if method in ("reg", "dr"):
        c = w * (1 - D)
        XcX = X.T @ (X * c[:, None])
        OUT = X @ np.linalg.solve(XcX, X.T @ (c[:, None] * DY))
        R = DY - OUT
        XcX_inv = np.linalg.inv(XcX / n)

        def ols_term(v: np.ndarray) -> np.ndarray:   # DRDID's asy.lin.rep.ols @ v
            return c[:, None] * R * (X @ (XcX_inv @ v))[:, None]
    if method == "reg":
        w_treat = w * D
        mt = w_treat.mean()
        eta_t, eta_c = (w_treat @ DY) / n / mt, (w_treat @ OUT) / n / mt
        inf = (w_treat[:, None] * (DY - eta_t) - w_treat[:, None] * (OUT - eta_c) - ols_term(w_treat @ X / n)) / mt
        return eta_t - eta_c, inf
    mt, mc = w_treat.mean(), w_cont.mean()
    V = DY if method == "ipw" else R
    eta_t, eta_c = (w_treat @ V) / n / mt, (w_cont @ V) / n / mc
    Vc = w_cont[:, None] * (V - eta_c)
    ps_term = a_ps[:, None] * (X @ (Hinv @ (X.T @ Vc / n)))   # DRDID's asy.lin.rep.ps @ (M2)
    inf = w_treat[:, None] * (V - eta_t) / mt - (Vc + ps_term) / mc
    if method == "dr":
        inf += ols_term(w_cont @ X / n / mc - w_treat @ X / n / mt)
    return eta_t - eta_c, inf


def _check_cell_covariates(X: np.ndarray, D: np.ndarray, w: np.ndarray, names: tuple, g, t, method: str) -> None:
    """A covariate without variation among the cell's comparison units (or among all its units)
    leaves the outcome regression or the propensity score unidentified: stop, naming it."""
    groups = [("comparison units", D == 0)] if method in ("reg", "dr") else []
    groups.append(("treated and comparison units", np.ones(len(D), bool)))
    for label, m in groups:
        Xm, wm = X[m], w[m]
        if gram_rank(Xm.T @ (Xm * wm[:, None])) < X.shape[1]:
            pos = wm > 0
            const = [nm for j, nm in enumerate(names, 1) if np.ptp(Xm[pos, j]) == 0] if pos.any() else list(names)
            what = (f"covariate(s) {', '.join(map(repr, const))} are constant" if const
                    else "the covariates are collinear")
            model = "outcome regression" if label.startswith("comp") else "propensity score"
            raise DataValidationError(
                f"For cohort {g} in period {t}, {what} among the {int(m.sum())} {label} (cohort "
                f"{g} and its comparison group), so the {model} cannot be fitted; drop those covariates, "
                "or use method='ipw' or 'reg' or another control_group.")


def att_gt(data: pd.DataFrame, *, outcome: str, unit: str, time: str, cohort: str,
           control_group: ControlGroup = "never_treated", cluster: str | None = None, covariates=None,
           method: Method = "dr", weights: str | None = None, anticipation: int = 0,
           base_period: BasePeriod = "varying", design=None) -> ATTgt:
    """All ATT(g, t) with influence functions (see the module notes and :func:`staggered_did`)."""
    if control_group not in ("never_treated", "not_yet_treated"):
        raise parameter_error("control_group", "staggered_did", "'never_treated' or 'not_yet_treated'", control_group)
    if method not in ("dr", "ipw", "reg"):
        raise parameter_error("method", "staggered_did", "'dr', 'ipw' or 'reg'", method)
    if base_period not in ("varying", "universal"):
        raise parameter_error("base_period", "staggered_did", "'varying' or 'universal'", base_period)
    if isinstance(anticipation, bool) or not isinstance(anticipation, (int, np.integer)) or anticipation < 0:
        raise parameter_error("anticipation", "staggered_did", "a whole number of periods >= 0", anticipation)
    if covariates is not None and isinstance(covariates, str):
        covariates = [covariates]
    if design is not None:
        sampling_weights(data, weights, design, "staggered_did")   # checks the design and its weights column
        weights = design.weights
        if cluster:
            raise ParameterError("staggered_did was given both cluster= and design=; give the clusters as the "
                                 "design's psu (SurveyDesign(psu=...)) and drop cluster=.")
    p = _panel(data, outcome, unit, time, cohort, cluster, covariates, weights, design)
    n, T = p.Y.shape
    times = list(p.times)
    cohorts = sorted(int(g) for g in np.unique(p.G) if g > 0)
    notes: list[str] = []  # Note objects (a str) and plain sentences
    if not (p.G == 0).any() and control_group == "never_treated":
        raise DataValidationError("No never-treated units: use control_group='not_yet_treated'.")
    general = p.X is not None or p.w is not None      # else the plain difference of mean changes, as before
    wall = p.w if p.w is not None else np.ones(n)
    # covariates fixed over time (the usual case) give every period the same design
    static_x = p.X is None or all(np.array_equal(p.X[0], p.X[j]) for j in range(1, T))
    rows, infs = [], []
    groups: dict = {}     # cells sharing units, treatment and covariates: fitted together
    for g in cohorts:
        if g not in times:
            notes.append(Note(f"cohort {g} is not a period of the panel; skipped", "note_cohort_not_period", cohort=g))
            continue
        gi = times.index(g)
        pre_idx = [i for i, s in enumerate(times) if s + anticipation < g]
        if not pre_idx:
            ant = " (with anticipation)" if anticipation else ""
            notes.append(Note(f"cohort {g} is treated from the first period{ant}: no pre-period, skipped",
                              "note_cohort_first_period", cohort=g))
            continue
        last_pre = pre_idx[-1]
        treated = p.G == g
        for ti, t in enumerate(times):
            if base_period == "varying":
                if ti == 0:
                    continue
                base = last_pre if g - anticipation <= t else ti - 1
            else:
                base = last_pre
            if base_period == "universal" and base == ti:
                rows.append({"cohort": g, "time": t, "att": 0.0, "n_treated": int(treated.sum()), "n_control": 0,
                             "post": t >= g, "event_time": ti - gi, "base": True})
                infs.append(np.zeros(n))
                continue
            if control_group == "never_treated":
                ctrl = p.G == 0
            else:  # not yet treated at max(t, base) (+ anticipation): never treated or first treated later
                later = times[max(ti, base)] + anticipation
                ctrl = (p.G == 0) | ((p.G > later) & (p.G != g))
            if not ctrl.any():
                notes.append(Note(f"no comparison units for cohort {g} in {t}; cell skipped", "note_cell_skipped",
                                   cohort=g, period=t))
                continue
            if not general:
                dy = p.Y[:, ti] - p.Y[:, base]
                pi_g, pi_c = treated.mean(), ctrl.mean()
                m_g, m_c = dy[treated].mean(), dy[ctrl].mean()
                att = m_g - m_c
                inf = treated * (dy - m_g) / pi_g - ctrl * (dy - m_c) / pi_c
            else:   # filled below, with the other cells of its group
                key = (g, ctrl.tobytes(), 0 if static_x else min(ti, base))
                groups.setdefault(key, {"t": t, "ctrl": ctrl, "xt": key[2], "cells": []})["cells"].append(
                    (len(rows), ti, base))
                att, inf = np.nan, None
            rows.append({"cohort": g, "time": t, "att": att, "n_treated": int(treated.sum()),
                         "n_control": int(ctrl.sum()), "post": t >= g, "event_time": ti - gi, "base": False})
            infs.append(inf)
    for (g, _, _), grp in groups.items():
        cell = (p.G == g) | grp["ctrl"]
        X = p.X[grp["xt"]][cell] if p.X is not None else np.ones((int(cell.sum()), 1))
        D = (p.G[cell] == g).astype(float)
        wc = wall[cell] / wall[cell].mean()
        if p.X is not None:
            _check_cell_covariates(X, D, wc, p.names, g, grp["t"], method)
        idx, tis, bases = (list(v) for v in zip(*grp["cells"]))
        Yc = p.Y[cell]
        att, inf_c = _drdid_cells(Yc[:, tis] - Yc[:, bases], D, X, wc, method if p.X is not None else "reg")
        inf_c *= n / cell.sum()
        for j, r in enumerate(idx):
            rows[r]["att"] = float(att[j])
            full = np.zeros(n)
            full[cell] = inf_c[:, j]
            infs[r] = full
    if not rows:
        raise DataValidationError("No cohort has both a pre-period and comparison units: nothing to estimate.")
    inf = np.column_stack(infs)
    cells = pd.DataFrame(rows)
    cells["se"] = _analytic_se(inf, p.cluster)
    cells.loc[cells["base"], "se"] = np.nan      # the reference cell of a universal base: zero by definition
    if p.X is not None:
        notes.append(f"covariates {', '.join(p.names)} ({'doubly robust' if method == 'dr' else method}, "
                     "Sant'Anna and Zhao 2020)")
    if anticipation:
        notes.append(f"anticipation: {anticipation} period(s) before treatment count as treated")
    if base_period == "universal":
        notes.append("universal base period: every effect is measured from the cohort's last period before treatment")
    return ATTgt(cells, inf, p, control_group, notes)


def _cluster_sum(inf: np.ndarray, cluster: np.ndarray) -> np.ndarray:
    """Sums of the rows of ``inf`` within clusters (the rows themselves when each unit is its own)."""
    k = int(cluster.max()) + 1
    if k == len(cluster) and np.array_equal(cluster, np.arange(k)):
        return inf
    return np.column_stack([np.bincount(cluster, weights=inf[:, j], minlength=k) for j in range(inf.shape[1])])


def _analytic_se(inf: np.ndarray, cluster: np.ndarray) -> np.ndarray:
    """SE of a mean of influence functions, summed within clusters (units by default)."""
    n = inf.shape[0]
    s = _cluster_sum(inf, cluster)
    return np.sqrt((s**2).sum(axis=0)) / n


def _aggregate(res: ATTgt, kind: str, min_e=-np.inf, max_e=np.inf) -> tuple[pd.DataFrame, np.ndarray]:
    """Aggregated effects and their influence functions (with the weights' own influence)."""
    c = res.cells
    G = res.panel.G
    wu = res.panel.w
    if wu is None:
        pg_unit = {g: (G == g).mean() for g in c["cohort"].unique()}
    else:  # weighted cohort shares, as R did's aggte (weights of mean one)
        pg_unit = {g: (wu * (G == g)).mean() for g in c["cohort"].unique()}

    def indicators(gs) -> np.ndarray:
        ind = np.column_stack([(G == g).astype(float) for g in gs])
        return ind if wu is None else ind * wu[:, None]
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
        ind = indicators(sub["cohort"])
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
        ind = indicators([g for g in sorted(c["cohort"].unique())
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
    total = s.sum(axis=0)
    sub = max(1, 4_000_000 // max(s.shape[0], 1))      # rows converted to float at a time (32 MB)
    for start in range(0, draws, chunk):
        k = min(chunk, draws - start)
        b = rng.integers(0, 2, size=(k, s.shape[0]), dtype=np.int8)   # Rademacher v = 2b - 1
        for i in range(0, k, sub):
            # v @ s = 2 (b @ s) - sum(s), in double precision: BLAS, where a mixed int8 @ float
            # product takes numpy's slow generic loop
            boot[start + i:start + min(i + sub, k)] = (2 * (b[i:i + sub].astype(np.float64) @ s) - total) / n
    q75, q25 = np.quantile(boot, [0.75, 0.25], axis=0)
    se = (q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
    with np.errstate(divide="ignore", invalid="ignore"):
        tmax = np.nanmax(np.abs(boot / np.where(se > 0, se, np.nan)), axis=1)
    return se, float(np.quantile(tmax, level))


def staggered_did(data: pd.DataFrame, *, outcome: str, unit: str, time: str, cohort: str,
                  control_group: ControlGroup = "never_treated", aggregate: Aggregate = "simple",
                  cluster: str | None = None, bootstrap: int | None = DEFAULT_BOOT, seed: int = 0,
                  level: float = DEFAULT_LEVEL, min_e: float = -np.inf, max_e: float = np.inf, covariates=None,
                  method: Method = "dr", weights: str | None = None, anticipation: int = 0,
                  base_period: BasePeriod = "varying", design=None) -> EstimateTable:
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
    covariates : list of str, optional
        Pre-treatment covariates (each unit's value in the earlier period of each comparison, as R
        did): parallel trends then need to hold only conditional on them. ``method`` chooses the
        2x2 estimator of every ATT(g, t), as R did's ``est_method``: ``"dr"`` (doubly robust,
        Sant'Anna and Zhao 2020, ``drdid_panel``), ``"ipw"`` (normalized inverse probability
        weighting, ``std_ipw_did_panel``) or ``"reg"`` (outcome regression, ``reg_did_panel``).
        Comparison units with a propensity score >= ``TRIM_LEVEL`` are left out, as DRDID.
    weights : str, optional
        Sampling weights, one value per unit (normalized to mean one, as R did): every 2x2 fit
        and the cohort shares of the aggregation are weighted.
    anticipation : int
        Periods before the first treated period in which units may already react; the base
        period moves back by as many, and not-yet-treated comparisons exclude them (R did).
    base_period : {"varying", "universal"}
        ``"varying"``: pre-treatment effects compare consecutive periods; ``"universal"``: every
        effect is measured from the cohort's last untreated period (that cell is zero), as R did.
    design : SurveyDesign, optional
        Strata and PSUs (constant within units): standard errors from the design-based variance
        of the influence function's weighted total, between PSUs within strata; no bootstrap
        band then (the multiplier bootstrap does not know the strata).

    Returns an EstimateTable with ``ci_lower``/``ci_upper`` (pointwise) and, for bootstrap runs,
    ``band_lower``/``band_upper`` (uniform over the rows).
    """
    check_level(level, "staggered_did")
    res = att_gt(data, outcome=outcome, unit=unit, time=time, cohort=cohort, control_group=control_group,
                 cluster=cluster, covariates=covariates, method=method, weights=weights,
                 anticipation=anticipation, base_period=base_period, design=design)
    table, inf = _aggregate(res, aggregate, min_e, max_e)
    n = inf.shape[0]
    what = "" if covariates is None else f", {method}"
    if design is not None:
        se = _design_se(inf, res.panel.unit_rows, design)
        crit = float("nan")
        bootstrap = None
        method_label = f"Callaway-Sant'Anna ({control_group}{what}), design-based"
        res.notes.append("standard errors from the survey design (influence function linearized over its strata and "
                         "PSUs); no bootstrap band")
    elif bootstrap:
        se, crit = multiplier_bootstrap(inf, res.panel.cluster, draws=bootstrap, seed=seed, level=level)
        method_label = f"Callaway-Sant'Anna ({control_group}{what}), multiplier bootstrap ({bootstrap} draws)"
    else:
        se, crit = _analytic_se(inf, res.panel.cluster), float("nan")
        method_label = f"Callaway-Sant'Anna ({control_group}{what}), analytical"
    se = np.where(np.any(inf != 0, axis=0), se, np.nan)   # rows fixed at zero (universal base) have no error
    group_cols = tuple(c for c in table.columns if c != "estimate")
    out = table.copy()
    out.insert(0, "estimand", f"ATT ({aggregate})")
    out["std_error"] = se
    out["ci_lower"] = np.nan
    out["ci_upper"] = np.nan
    out["level"] = level
    out["nobs"] = n
    out["method"] = method_label
    out["df"] = np.inf
    out["outcome"] = outcome
    if bootstrap:
        out["band_lower"] = out["estimate"] - crit * se
        out["band_upper"] = out["estimate"] + crit * se
    pre = res.cells[~res.cells["post"] & ~res.cells["base"]]
    notes = tuple(res.notes)
    diags: tuple[Diagnostic, ...] = ()
    if len(pre):
        wald = _pretrend_test(res)
        notes += (wald.message,)
        diags = (wald,)
    return EstimateTable(out, group_columns=group_cols, level=level, notes=notes, diagnostics=diags)


def _design_se(inf: np.ndarray, unit_rows: pd.DataFrame, design) -> np.ndarray:
    """Design-based standard errors of the columns of ``inf`` (units x estimates; the estimate
    minus the truth is about ``inf.sum(axis=0) / n``, the weights already inside): the variance of
    PSU totals between PSUs within strata (R ``svyrecvar``)."""
    from ..survey import prepare, variance_of_psu_totals

    prep = prepare(unit_rows, design)
    n = inf.shape[0]
    t = np.stack([np.bincount(prep.psu, weights=inf[:, j] / n, minlength=prep.n_psu) for j in range(inf.shape[1])])
    return np.sqrt(variance_of_psu_totals(t, np.zeros(n, dtype=np.int64), prep))


def _pretrend_test(res: ATTgt) -> Diagnostic:
    """Joint Wald test that every pre-treatment ATT(g, t) is zero (placebo cells)."""
    pre = ~res.cells["post"].to_numpy() & ~res.cells["base"].to_numpy()
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
