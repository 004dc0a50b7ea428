"""Poverty and inequality measures (point values on arrays).

The design-based estimators with standard errors build on these.
"""
from __future__ import annotations

from typing import overload

import numpy as np
import pandas as pd

from .config import DEFAULT_LEVEL
from .exceptions import DataValidationError, ParameterError, parameter_error
from .io import extreme_line_ids, extreme_line_value
from .results import CIMethod, EstimateTable, check_ci_method, check_level
from .survey import (
    Domains,
    Prepared,
    SurveyDesign,
    _memo,
    _method,
    deff_srs,
    domains,
    estimate_table,
    linearized_variance,
    numeric,
    prepare,
    ratio_cells,
    ratio_estimate,
    replicate_variance,
    share_columns,
    variance_of_psu_totals,
)


def fgt_value(welfare: np.ndarray, poverty_line, weights: np.ndarray, alpha: int = 0) -> float:
    """Foster-Greer-Thorbecke index: ``sum w (1 - y/z)^alpha 1[y < z] / sum w``.

    References
    ----------
    Foster, Greer and Thorbecke (1984), "A class of decomposable poverty measures",
    Econometrica 52(3), 761-766.
    """
    y = np.asarray(welfare, float)
    z = np.broadcast_to(np.asarray(poverty_line, float), y.shape)
    w = np.asarray(weights, float)
    gap = np.where(y < z, 1.0 - y / z, 0.0)
    val = (y < z).astype(float) if alpha == 0 else gap**alpha
    return float(np.sum(w * val) / np.sum(w))


def gini_value(welfare: np.ndarray, weights: np.ndarray) -> float:
    """Weighted Gini coefficient from the trapezoid Lorenz curve.

    ``G = 1 - sum_i (w_i / W) (L_{i-1} + L_i)`` with ``L`` the Lorenz ordinates of the sorted
    welfare; equal to ``sum_i sum_j w_i w_j |y_i - y_j| / (2 W^2 mean)``.

    References
    ----------
    Lerman and Yitzhaki (1984), "A note on the calculation and interpretation of the Gini index",
    Economics Letters 15, 363-368.
    """
    y = np.asarray(welfare, float)
    w = np.asarray(weights, float)
    order = np.argsort(y, kind="stable")
    y, w = y[order], w[order]
    wy = w * y
    total = wy.sum()
    cum = np.cumsum(wy)
    lorenz_sum = (2.0 * cum - wy) / total
    return float(1.0 - np.sum(w * lorenz_sum) / w.sum())


# ------------------------------------------------------------------------------------------------
# design-based estimators

def _line(data: pd.DataFrame, poverty_line, n: int) -> np.ndarray:
    """The poverty line per row: a number, or the name of a column (lines differ by area)."""
    if isinstance(poverty_line, str):
        z = numeric(data, poverty_line, role="poverty_line")
    elif isinstance(poverty_line, (int, float)) and not isinstance(poverty_line, bool):
        z = np.full(n, float(poverty_line))
    else:
        raise parameter_error("poverty_line", "fgt", "a positive number or the name of a column", poverty_line)
    bad = ~(z > 0)
    if bad.any():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(bad)[:5])
        raise DataValidationError(f"The poverty line is zero or negative in {int(bad.sum())} row(s) (rows {rows}); "
                                  "a poverty line must be a positive amount in rupiah per capita per month.")
    return z


def _welfare(data: pd.DataFrame, welfare: str) -> np.ndarray:
    y = numeric(data, welfare, role="welfare")
    if (y < 0).any():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(y < 0)[:5])
        raise DataValidationError(f"Column {welfare!r} (welfare) has {int((y < 0).sum())} negative values "
                                  f"(rows {rows}); consumption per capita cannot be negative.")
    return y


@overload
def _size(data: pd.DataFrame, household_size: str) -> np.ndarray: ...
@overload
def _size(data: pd.DataFrame, household_size: None) -> None: ...
@overload
def _size(data: pd.DataFrame, household_size: str | None) -> np.ndarray | None: ...
def _size(data: pd.DataFrame, household_size: str | None) -> np.ndarray | None:
    if household_size is None:
        return None
    s = numeric(data, household_size, role="household_size")
    if (s <= 0).any():
        raise DataValidationError(f"Column {household_size!r} (household_size) must be >= 1 in every row; "
                                  f"{int((s <= 0).sum())} rows are not.")
    return s


def _check_alpha(alpha) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or alpha < 0:
        raise parameter_error("alpha", "fgt", "a number >= 0 (0 headcount, 1 gap, 2 severity)", alpha)
    return float(alpha)


def fgt_indicator(y: np.ndarray, z: np.ndarray, alpha: float) -> np.ndarray:
    """Per-row FGT contribution ``(1 - y/z)^alpha 1[y < z]``."""
    poor = y < z
    if alpha == 0:
        return poor.astype(float)
    return np.where(poor, (1.0 - y / z) ** alpha, 0.0)


def watts_indicator(y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Per-row Watts contribution ``ln(z / y) 1[y < z]`` (y = 0 gives +inf)."""
    with np.errstate(divide="ignore"):
        return np.where(y < z, np.log(z) - np.log(y), 0.0)


def _person_fgt(y: np.ndarray, z: np.ndarray, alpha: float, s: np.ndarray) -> np.ndarray:
    """``s (1 - y/z)^alpha 1[y<z]``, computed once per array within a reuse block."""
    return _memo("person_fgt", y, (id(z), alpha, id(s)), lambda: fgt_indicator(y, z, alpha) * s)


class _Measure:
    """Estimates and linearized scores of one measure by domain, for any weights."""

    def __init__(self, kind: str, y: np.ndarray, size: np.ndarray | None, dom: Domains, prep: Prepared,
                 z: np.ndarray | None = None, alpha: float = 0.0):
        self.kind, self.y, self.dom, self.prep = kind, y, dom, prep
        self.person = size is not None
        self.s = np.ones(len(y)) if size is None else size
        if kind == "fgt":
            assert z is not None, "the FGT measures are always built with a poverty line"
            self.a = _person_fgt(y, z, alpha, self.s)
        elif kind == "watts":
            assert z is not None, "the Watts index is always built with a poverty line"
            self.a = watts_indicator(y, z) * self.s

    def parts(self, w: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        if self.kind == "gini":
            return gini_parts(self.y, self.s, self.dom, self.prep.w if w is None else w)
        est, scores, _ = ratio_estimate(self.a, self.s, self.dom, self.prep, weights=w)
        return est, scores


def _domain_welfare_order(y: np.ndarray, code: np.ndarray, D: int) -> np.ndarray:
    """Row order by domain, then welfare (ties in a fixed order: the Gini does not depend on it).

    Sorting by welfare, then a stable radix sort by the small domain code; the order is reused
    within a reuse block (the same welfare array appears in several indicators).
    """
    def build():
        order = welfare_order(y)
        if D > 1:
            small = code.astype(np.int16) if D < 32_000 else code
            order = order[np.argsort(small[order], kind="stable")]
        return order
    return _memo("domain_welfare_order", y, (id(code), D), build)


def welfare_order(y: np.ndarray) -> np.ndarray:
    """Rows in increasing order of welfare, computed once per array within a reuse block.

    Ties come in numpy's deterministic (not stable) order: no measure here depends on it.
    """
    return _memo("welfare_order", y, None, lambda: np.argsort(y))


def gini_parts(y: np.ndarray, size: np.ndarray, dom: Domains, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gini by domain and its linearized variable (derivative with respect to each weight).

    With person weights ``p = w s`` sorted by welfare within the domain, ``S_k`` the cumulative
    weight, ``C_k`` the cumulative weighted welfare, ``W`` and ``T`` their totals:
    ``G = sum_k p_k y_k (2 S_k - p_k) / (W T) - 1`` and
    ``dG/dp_k = [2 (T - C_k) + 2 y_k S_k] / (W T) - (G + 1)(1/W + y_k/T)``; the score of a
    household is ``s_k dG/dp_k`` (Binder and Kovacevic 1995; Osier 2009, as R convey's svygini).
    """
    D = dom.n
    code = dom.codes if (dom.codes >= 0).all() else np.where(dom.codes >= 0, dom.codes, D)
    order = _domain_welfare_order(y, code, D)
    c, ys = code[order], y[order]
    size_s = size[order]
    ps = w[order] * size_s
    # cumulative sums restarted at each domain (rows are grouped by domain code c = 0..D)
    seg_start = np.searchsorted(c, np.arange(D + 1))
    py = ps * ys
    cum_p = np.cumsum(ps)
    cum_py = np.cumsum(py)
    S = cum_p - np.concatenate([[0.0], cum_p])[seg_start][c]
    C = cum_py - np.concatenate([[0.0], cum_py])[seg_start][c]
    W = np.bincount(c, weights=ps, minlength=D + 1)[:D]
    T = np.bincount(c, weights=py, minlength=D + 1)[:D]
    q = np.bincount(c, weights=py * (2 * S - ps), minlength=D + 1)[:D]
    with np.errstate(divide="ignore", invalid="ignore"):
        G = q / (W * T) - 1.0
        # dG/dp_k = 2 (T - C_k + y_k S_k) / (W T) - (G + 1) / W - (G + 1) y_k / T, per domain constants
        k1 = np.append(2 / (W * T), 0.0)[c]
        k2 = np.append((G + 1) / W, 0.0)[c]
        k3 = np.append((G + 1) / T, 0.0)[c]
        dG = k1 * (np.append(T, 0.0)[c] - C + ys * S) - k2 - k3 * ys
    scores = np.empty(len(y))
    scores[order] = np.where(c < D, dG * size_s, 0.0)
    return G, scores


def _estimate(measure: _Measure, *, estimand: str, level: float, extra_deff: bool = False,
              ci_method: str | None = None) -> EstimateTable:
    prep, dom = measure.prep, measure.dom
    if prep.design.replicates:
        est = measure.parts()[0]
        var = replicate_variance(lambda w: measure.parts(w)[0], prep)
    elif measure.kind == "gini":
        est, scores = measure.parts()
        var = linearized_variance(scores, dom.codes, dom.n, prep)
    else:
        est, t = ratio_cells(measure.a, measure.s, dom, prep)
        var = variance_of_psu_totals(t, dom.codes, prep)
    extra = {}
    if extra_deff and measure.kind != "gini":
        nobs = np.bincount(dom.codes[dom.codes >= 0], minlength=dom.n)
        extra["deff"] = deff_srs(measure.a, measure.s, est, var, dom, prep, nobs)
    if ci_method is not None:
        extra.update(share_columns(dom, prep, None, ci_method))
    notes = ("person-level: household weights x household size",) if measure.person else ()
    return estimate_table(estimand, est, var, dom, prep, level=level, method=_method(prep), extra=extra, notes=notes)


def fgt(data: pd.DataFrame, *, welfare: str, poverty_line, alpha: float = 0, design: SurveyDesign | None = None,
        by=None, level: float = DEFAULT_LEVEL, household_size: str | None = None, deff: bool = False,
        ci_method: CIMethod = "logit") -> EstimateTable:
    """Foster-Greer-Thorbecke poverty index with a design-based standard error.

    Parameters
    ----------
    data : DataFrame
        One row per household.
    welfare : str
        Welfare column (consumption per capita per month).
    poverty_line : float or str
        The line: a number, or a column (lines differ by kabupaten and urban/rural).
    alpha : float
        0 headcount (P0), 1 poverty gap (P1), 2 severity (P2).
    design : SurveyDesign, optional
    by : str or list of str, optional
        Domains (kabupaten, urban, ...), each a subpopulation of the full design.
    household_size : str, optional
        Column of household size: estimates are then for persons (weights x size), as BPS
        publishes them; None gives household-level rates.
    deff : bool
        Add the design effect against simple random sampling without replacement (R's default).
    ci_method : {"logit", "beta", "wald"}
        The interval, which stays in [0, 1] except for ``"wald"``: ``"logit"`` (default) as R
        ``svyciprop(method = "logit")``, ``"beta"`` (Korn-Graubard) as ``svyciprop(method = "beta")``,
        both with the degrees of freedom of the domain (its PSUs minus its strata); ``"wald"`` is
        ``FGT +- t se``. A domain whose estimate is 0 (no poor person sampled) gets the one-sided
        Clopper-Pearson interval ``[0, 1 - (1 - level)^(1/n*)]``, ``n*`` the domain's sampled
        households shrunk by its degrees of freedom (``results.share_interval``).

    Notes
    -----
    ``FGT_alpha = sum w s (1 - y/z)^alpha 1[y<z] / sum w s``, a ratio of two totals, linearized as
    ``u_i = s_i (g_i - FGT) / sum w s``. Foster, Greer and Thorbecke (1984), Econometrica 52(3).

    The gap (P1) and severity (P2) are means of a variable in [0, 1], not of a 0/1 one; the logit
    interval applies to them as well (it is the delta method on the logit scale, R's
    ``svyciprop(method = "xlogit")``, which for an intercept-only quasibinomial ``svyglm`` is the
    same number as ``method = "logit"``; tests/reference checks P1 against it). Korn-Graubard
    treats the mean as a binomial share with the effective sample size: an approximation for P1
    and P2. A zero P1 or P2 means a zero headcount, and the one-sided bound of the headcount also
    bounds them (``P2 <= P1 <= P0``).
    """
    check_level(level, "fgt")
    check_ci_method(ci_method, "fgt")
    a = _check_alpha(alpha)
    y = _welfare(data, welfare)
    z = _line(data, poverty_line, len(data))
    prep = prepare(data, design)
    m = _Measure("fgt", y, _size(data, household_size), domains(data, by), prep, z=z, alpha=a)
    return _estimate(m, estimand=f"FGT(alpha={a:g})", level=level, extra_deff=deff, ci_method=ci_method)


def extreme_poverty(data: pd.DataFrame, *, welfare: str, line: str | float = "extreme_215_2017ppp",
                    design: SurveyDesign | None = None, by=None, level: float = DEFAULT_LEVEL,
                    household_size: str | None = None, alpha: float = 0,
                    ci_method: CIMethod = "logit") -> EstimateTable:
    """Extreme poverty under a selectable line: a line id of ``welfare_eval/data/poverty_lines.csv`` or a number.

    Line ids: ``extreme_190_2011ppp`` (Inpres 4/2022, US$1.90 2011 PPP), ``extreme_215_2017ppp``
    (BPS from 2025, US$2.15 2017 PPP), ``extreme_300_2021ppp`` (World Bank US$3.00, 2021 PPP).
    ``ci_method`` as in :func:`fgt` (a kabupaten x area cell with no extremely poor person sampled
    gets a one-sided interval, not "0% (0% - 0%)").
    """
    check_ci_method(ci_method, "extreme_poverty")
    if isinstance(line, str):
        if line not in extreme_line_ids():
            raise ParameterError(f"The 'line' parameter of extreme_poverty must be one of {extreme_line_ids()} "
                                 f"or a number. Got {line!r} instead.")
        value, name = extreme_line_value(line), line
    else:
        value, name = line, f"{line:g}"
    t = fgt(data, welfare=welfare, poverty_line=value, alpha=alpha, design=design, by=by, level=level,
            household_size=household_size, ci_method=ci_method)
    f = t.to_frame()
    f["estimand"] = f"extreme FGT(alpha={alpha:g}, line={name})"
    return EstimateTable(f, group_columns=t.group_columns, level=level, notes=t.notes)


def watts(data: pd.DataFrame, *, welfare: str, poverty_line, design: SurveyDesign | None = None, by=None,
          level: float = DEFAULT_LEVEL, household_size: str | None = None) -> EstimateTable:
    """Watts index ``sum w s ln(z/y) 1[y<z] / sum w s`` (Watts 1968), design-based SE."""
    check_level(level, "watts")
    y = _welfare(data, welfare)
    if (y == 0).any():
        raise DataValidationError(f"Column {welfare!r} has {int((y == 0).sum())} zero values; the Watts index "
                                  "needs positive welfare (ln(z/0) is infinite).")
    z = _line(data, poverty_line, len(data))
    prep = prepare(data, design)
    m = _Measure("watts", y, _size(data, household_size), domains(data, by), prep, z=z)
    return _estimate(m, estimand="Watts", level=level)


def gini(data: pd.DataFrame, *, welfare: str, design: SurveyDesign | None = None, by=None,
         level: float = DEFAULT_LEVEL, household_size: str | None = None) -> EstimateTable:
    """Gini coefficient with a linearized standard error (see :func:`gini_parts`).

    References
    ----------
    Binder and Kovacevic (1995), "Estimating some measures of income inequality from survey
    data: an application of the estimating equations approach", Survey Methodology 21(2).
    Osier (2009), "Variance estimation for complex indicators of poverty and inequality using
    linearization techniques", Survey Research Methods 3(3).
    """
    check_level(level, "gini")
    y = _welfare(data, welfare)
    prep = prepare(data, design)
    m = _Measure("gini", y, _size(data, household_size), domains(data, by), prep)
    return _estimate(m, estimand="Gini", level=level)


MEASURES = ("fgt0", "fgt1", "fgt2", "watts", "gini")


def change(data: pd.DataFrame, *, before: str, after: str, measure: str = "fgt0", poverty_line=None,
           design: SurveyDesign | None = None, by=None, level: float = DEFAULT_LEVEL,
           household_size: str | None = None, ci_method: CIMethod = "logit") -> EstimateTable:
    """Change of a measure between two welfare columns of the same sample (after - before).

    For pre- and post-transfer welfare (``y_pre = y_post - T``) or two waves of a panel; the
    standard error of the difference uses the difference of the linearized variables, so the
    covariance of the two estimates is accounted for. Rows: before, after, change.
    The before and after rows of an FGT measure are shares and get the interval of ``ci_method``
    (as :func:`fgt`); the change, the Watts index and the Gini keep ``estimate +- t se``.
    """
    if measure not in MEASURES:
        raise parameter_error("measure", "change", f"one of {MEASURES}", measure)
    check_level(level, "change")
    check_ci_method(ci_method, "change")
    prep = prepare(data, design)
    dom = domains(data, by)
    size = _size(data, household_size)
    parts = []
    for col in (before, after):
        y = _welfare(data, col)
        if measure == "gini":
            parts.append(_Measure("gini", y, size, dom, prep))
        else:
            if poverty_line is None:
                raise ParameterError(f"The 'poverty_line' parameter of change is needed for {measure}.")
            z = _line(data, poverty_line, len(data))
            kind = "watts" if measure == "watts" else "fgt"
            parts.append(_Measure(kind, y, size, dom, prep, z=z, alpha=float(measure[-1]) if kind == "fgt" else 0))
    (e0, s0), (e1, s1) = parts[0].parts(), parts[1].parts()
    rows = []
    for label, est, sc, est_fn in (
            (f"{measure}[{before}]", e0, s0, lambda w: parts[0].parts(w)[0]),
            (f"{measure}[{after}]", e1, s1, lambda w: parts[1].parts(w)[0]),
            (f"change {measure}: {after} - {before}", e1 - e0, s1 - s0,
             lambda w: parts[1].parts(w)[0] - parts[0].parts(w)[0])):
        var = (replicate_variance(est_fn, prep) if prep.design.replicates
               else linearized_variance(sc, dom.codes, dom.n, prep))
        share = measure.startswith("fgt") and not label.startswith("change")
        extra = share_columns(dom, prep, None, ci_method) if share else None
        rows.append(estimate_table(label, est, var, dom, prep, level=level, method=_method(prep),
                                   extra=extra).to_frame())
    return EstimateTable(pd.concat(rows, ignore_index=True), group_columns=dom.columns, level=level)


def difference_independent(a: EstimateTable, b: EstimateTable, *, level: float = DEFAULT_LEVEL) -> EstimateTable:
    """b - a for estimates from independent samples (two survey rounds): variances add."""
    fa, fb = a.to_frame(level), b.to_frame(level)
    keys = list(a.group_columns)
    m = fa.merge(fb, on=keys, suffixes=("_a", "_b")) if keys else pd.concat(
        [fa.add_suffix("_a"), fb.add_suffix("_b")], axis=1)
    out = pd.DataFrame({**{k: m[k] for k in keys}})
    out.insert(0, "estimand", "difference: " + m["estimand_b"] + " - " + m["estimand_a"])
    out["estimate"] = m["estimate_b"] - m["estimate_a"]
    out["std_error"] = np.sqrt(m["std_error_a"] ** 2 + m["std_error_b"] ** 2)
    out["ci_lower"] = np.nan
    out["ci_upper"] = np.nan
    out["level"] = level
    out["nobs"] = m["nobs_a"] + m["nobs_b"]
    out["method"] = "independent samples"
    out["df"] = np.minimum(m["df_a"], m["df_b"])
    return EstimateTable(out, group_columns=tuple(keys), level=level)


# ------------------------------------------------------------------------------------------------
# distribution measures: S80/S20, Palma, at-risk-of-poverty rate, generalized entropy, Atkinson
#
# Each is a smooth function of weighted totals and of quantiles of the weighted distribution. Its
# linearized variable is the derivative with respect to each (person) weight (Deville 1999); the
# variance is then the design variance of the weighted total of that variable, by domain, as for
# the Gini. The quantiles are laeken's (Eurostat's) rule, :func:`share_quantile`.

def share_quantile(x: np.ndarray, w: np.ndarray, p: float) -> float:
    """The smallest ``x`` whose weighted share of rows exceeds ``p``: ``min{v: F(v) > p}``.

    R laeken's ``weightedQuantile`` (Eurostat's rule for the income quintiles of S80/S20 and the
    median of the poverty threshold), with cumulative weights summed in extended precision as R does.
    """
    order = np.argsort(x, kind="stable")
    cum = np.cumsum(w[order].astype(np.longdouble))
    share = (cum / cum[-1]).astype(float)
    return float(x[order][np.flatnonzero(share > p)[0]])


def _share_ratio(x: np.ndarray, w: np.ndarray, top: float, bottom: float) -> tuple[float, np.ndarray]:
    """Income of those above the ``top`` quantile over income of those at or below the ``bottom`` one.

    Linearized variable (the density of the quantiles cancels, Osier 2009 5.4): for the top total
    ``x 1[x > q_t] + q_t (1[x <= q_t] - F(q_t))``, for the bottom one ``x 1[x <= q_b] - q_b (1[x <= q_b]
    - F(q_b))``, combined as a ratio. ``F(q)``, the sample share at or below the quantile, is the
    nominal 0.8 or 0.2 up to one row's weight; with it the variable has weighted sum zero, as the
    ratio is unchanged when all weights are scaled.
    """
    qt, qb = share_quantile(x, w, top), share_quantile(x, w, bottom)
    above, low = x > qt, x <= qb
    t_top, t_bottom = np.sum(w * x * above), np.sum(w * x * low)
    r = t_top / t_bottom
    n = w.sum()
    u_top = x * above + qt * ((~above) - np.sum(w * ~above) / n)
    u_bottom = x * low - qb * (low - np.sum(w * low) / n)
    return float(r), (u_top - r * u_bottom) / t_bottom


def _theil(x: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
    """GE(1) = sum w (x/mu) ln(x/mu) / sum w, and its derivative with respect to each weight."""
    with np.errstate(divide="ignore", invalid="ignore"):
        xlx = np.where(x > 0, x * np.log(np.where(x > 0, x, 1.0)), 0.0)
    n, tx = w.sum(), np.sum(w * x)
    mu = tx / n
    t = np.sum(w * xlx) / tx - np.log(mu)
    return float(t), xlx / tx - (t + np.log(mu) + 1) * x / tx + 1 / n


def _mld(x: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
    """GE(0) = sum w ln(mu/x) / sum w (mean log deviation), and its linearized variable."""
    n, tx = w.sum(), np.sum(w * x)
    lx = np.log(x)
    mean_log = np.sum(w * lx) / n
    return float(np.log(tx / n) - mean_log), x / tx - (1 + lx - mean_log) / n


def _atkinson(x: np.ndarray, w: np.ndarray, epsilon: float) -> tuple[float, np.ndarray]:
    """A(e) = 1 - M_{1-e} / mu (M the power mean; the geometric mean at e = 1), linearized."""
    n = w.sum()
    mu = np.sum(w * x) / n
    d_mu = (x - mu) / n
    if epsilon == 1:
        lx = np.log(x)
        mean_log = np.sum(w * lx) / n
        m = np.exp(mean_log)
        d_m = m * (lx - mean_log) / n
    else:
        with np.errstate(divide="ignore"):
            xe = x ** (1 - epsilon)
        s = np.sum(w * xe) / n
        m = s ** (1 / (1 - epsilon))
        d_m = m / (1 - epsilon) * (xe / s - 1) / n
    return float(1 - m / mu), -(d_m / mu - m * d_mu / mu**2)


def _positive(y: np.ndarray, welfare: str, measure: str) -> None:
    zero = y <= 0
    if zero.any():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(zero)[:5])
        raise DataValidationError(f"Column {welfare!r} (welfare) has {int(zero.sum())} zero values (rows {rows}"
                                  f"{', ...' if zero.sum() > 5 else ''}); the {measure} takes the logarithm or a "
                                  "negative power of welfare and needs it positive. Drop those rows, or use "
                                  "theil / atkinson(epsilon=0.5), which allow zeros.")


def _distribution(data: pd.DataFrame, fn, *, welfare: str, design, by, level: float, household_size,
                  estimand: str, where: str, positive: str | None = None) -> EstimateTable:
    """Shared body: ``fn(x, person_weights) -> (estimate, d estimate / d person weight)`` by domain."""
    check_level(level, where)
    y = _welfare(data, welfare)
    if positive:
        _positive(y, welfare, positive)
    prep = prepare(data, design)
    dom = domains(data, by)
    size = _size(data, household_size)
    s = np.ones(len(y)) if size is None else size
    rows_of = [np.flatnonzero(dom.codes == d) for d in range(dom.n)]

    def run(w: np.ndarray, scores: np.ndarray | None) -> np.ndarray:
        est = np.full(dom.n, np.nan)
        for d, r in enumerate(rows_of):
            if len(r):
                est[d], u = fn(y[r], w[r] * s[r])
                if scores is not None:
                    scores[r] = u * s[r]
        return est

    if prep.design.replicates:
        est = run(prep.w, None)
        var = replicate_variance(lambda w: run(w, None), prep)
    else:
        scores = np.zeros(len(y))
        est = run(prep.w, scores)
        var = linearized_variance(scores, dom.codes, dom.n, prep)
    notes = ("person-level: household weights x household size",) if size is not None else ()
    return estimate_table(estimand, est, var, dom, prep, level=level, method=_method(prep), notes=notes)


_DIST_PARAMS = """
    Parameters
    ----------
    data : DataFrame
        One row per household (or person).
    welfare : str
        Welfare column (consumption or equivalized income per capita).
    design : SurveyDesign, optional
    by : str or list of str, optional
        Domains, each a subpopulation of the full design; the measure is computed within each.
    level : float
        Confidence level (Student t with the design degrees of freedom).
    household_size : str, optional
        Household size column: the measure is then over persons (weights x size).
"""


def s80s20(data: pd.DataFrame, *, welfare: str, design: SurveyDesign | None = None, by=None,
           level: float = DEFAULT_LEVEL, household_size: str | None = None) -> EstimateTable:
    """S80/S20 income quintile share ratio (R laeken ``qsr``, Eurostat), linearized SE.
    {params}
    Notes
    -----
    ``sum w y 1[y > q80] / sum w y 1[y <= q20]`` with ``q`` laeken's weighted quantiles
    (:func:`share_quantile`); linearized as Osier (2009) and R convey's ``svyqsr``, the density
    terms of the quintiles cancelling. Equal to laeken's ``qsr`` on its ``eusilc`` data
    (tests/reference/inequality_reference.R).

    References
    ----------
    Eurostat (2004), "Common cross-sectional EU indicators based on EU-SILC", doc. EU-SILC 131-rev/04.
    Osier (2009), "Variance estimation for complex indicators of poverty and inequality using
    linearization techniques", Survey Research Methods 3(3), 167-195.
    """
    return _distribution(data, lambda x, w: _share_ratio(x, w, 0.8, 0.2), welfare=welfare, design=design, by=by,
                         level=level, household_size=household_size, estimand="S80/S20", where="s80s20")


def palma(data: pd.DataFrame, *, welfare: str, design: SurveyDesign | None = None, by=None,
          level: float = DEFAULT_LEVEL, household_size: str | None = None) -> EstimateTable:
    """Palma ratio: income share of the top 10% over that of the bottom 40%, linearized SE.
    {params}
    Notes
    -----
    ``sum w y 1[y > q90] / sum w y 1[y <= q40]`` with laeken's weighted deciles
    (:func:`share_quantile`), linearized as :func:`s80s20`.

    References
    ----------
    Cobham and Sumner (2013), "Is it all about the tails? The Palma measure of income inequality",
    Center for Global Development Working Paper 343. Osier (2009), as :func:`s80s20`.
    """
    return _distribution(data, lambda x, w: _share_ratio(x, w, 0.9, 0.4), welfare=welfare, design=design, by=by,
                         level=level, household_size=household_size, estimand="Palma", where="palma")


def theil(data: pd.DataFrame, *, welfare: str, design: SurveyDesign | None = None, by=None,
          level: float = DEFAULT_LEVEL, household_size: str | None = None) -> EstimateTable:
    """Theil index GE(1), linearized SE.
    {params}
    Notes
    -----
    ``T = sum w (y/mu) ln(y/mu) / sum w`` (``0 ln 0 = 0``); linearized variable
    ``u = [y ln y - (T + ln mu + 1) y] / sum w y + 1 / sum w``.

    References
    ----------
    Theil (1967), Economics and Information Theory. Cowell (2011), Measuring Inequality, 3rd ed.
    Biewen and Jenkins (2006), "Variance estimation for generalized entropy and Atkinson inequality
    indices: the complex survey data case", Oxford Bulletin of Economics and Statistics 68(3).
    """
    return _distribution(data, _theil, welfare=welfare, design=design, by=by, level=level,
                         household_size=household_size, estimand="Theil GE(1)", where="theil")


def mean_log_deviation(data: pd.DataFrame, *, welfare: str, design: SurveyDesign | None = None, by=None,
                       level: float = DEFAULT_LEVEL, household_size: str | None = None) -> EstimateTable:
    """Mean log deviation GE(0), linearized SE; welfare must be positive.
    {params}
    Notes
    -----
    ``L = sum w ln(mu/y) / sum w``; linearized variable ``u = y / sum w y - (1 + ln y - mean ln y) / sum w``.

    References
    ----------
    Cowell (2011), Measuring Inequality, 3rd ed.; Biewen and Jenkins (2006), as :func:`theil`.
    """
    return _distribution(data, _mld, welfare=welfare, design=design, by=by, level=level,
                         household_size=household_size, estimand="mean log deviation GE(0)",
                         where="mean_log_deviation", positive="mean log deviation")


def atkinson(data: pd.DataFrame, *, welfare: str, epsilon: float = 1.0, design: SurveyDesign | None = None,
             by=None, level: float = DEFAULT_LEVEL, household_size: str | None = None) -> EstimateTable:
    """Atkinson index with inequality aversion ``epsilon`` (0.5, 1, 2 usual), linearized SE.
    {params}
    epsilon : float
        Inequality aversion, > 0; for ``epsilon >= 1`` welfare must be positive.

    Notes
    -----
    ``A = 1 - M / mu`` with ``M = (sum w y^(1-e) / sum w)^(1/(1-e))``, the geometric mean at ``e = 1``.

    References
    ----------
    Atkinson (1970), "On the measurement of inequality", Journal of Economic Theory 2, 244-263.
    Biewen and Jenkins (2006), as :func:`theil`.
    """
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or not epsilon > 0:
        raise parameter_error("epsilon", "atkinson", "a number > 0 (0.5, 1 and 2 are usual)", epsilon)
    e = float(epsilon)
    return _distribution(data, lambda x, w: _atkinson(x, w, e), welfare=welfare, design=design, by=by,
                         level=level, household_size=household_size, estimand=f"Atkinson(e={e:g})",
                         where="atkinson", positive=f"Atkinson index with epsilon {e:g}" if e >= 1 else None)


#: Bandwidth of the Gaussian kernel density of the at-risk-of-poverty rate's linearization:
#: ``h = KERNEL_BANDWIDTH * IQR * n^(-1/5)`` (Silverman 1986, 3.4.2, the robust rule of thumb).
KERNEL_BANDWIDTH = 0.79


def _density(x: np.ndarray, w: np.ndarray, at: float) -> float:
    """Weighted Gaussian kernel density of ``x`` at ``at``."""
    iqr = share_quantile(x, w, 0.75) - share_quantile(x, w, 0.25)
    h = KERNEL_BANDWIDTH * (iqr if iqr > 0 else np.std(x) or 1.0) * len(x) ** -0.2
    return float(np.sum(w * np.exp(-0.5 * ((x - at) / h) ** 2)) / (np.sqrt(2 * np.pi) * h * w.sum()))


def arpr(data: pd.DataFrame, *, welfare: str, fraction: float = 0.6, design: SurveyDesign | None = None, by=None,
         level: float = DEFAULT_LEVEL, household_size: str | None = None,
         ci_method: CIMethod = "logit") -> EstimateTable:
    """At-risk-of-poverty rate: share below ``fraction`` (60%) of the weighted median (laeken ``arpr``).
    {params}
    fraction : float
        The threshold as a share of the median, in (0, 1].
    ci_method : {"logit", "beta", "wald"}
        The interval of the share, as in :func:`fgt`.

    Notes
    -----
    The threshold ``t = 0.6 median`` comes from the whole sample and applies in every domain
    (Eurostat's convention; laeken's ``breakdown``); the rate is ``sum w 1[y < t] / sum w`` in each.
    Linearized variable of domain ``d`` (Deville 1999; Osier 2009, 5.2):
    ``1_d (1[y < t] - ARPR_d) / N_d - fraction f_d(t) (1[y <= median] - F(median)) / (N f(median))``, ``f`` a
    weighted Gaussian kernel density (bandwidth ``0.79 IQR n^(-1/5)``). Because the second term
    involves every row, each domain's variance is computed with its own full-sample variable.
    Equal to laeken's ``arpr`` on its ``eusilc`` data (tests/reference/inequality_reference.R).

    References
    ----------
    Eurostat (2004), doc. EU-SILC 131-rev/04. Deville (1999), "Variance estimation for complex
    statistics and estimators: linearization and residual techniques", Survey Methodology 25(2).
    Osier (2009), as :func:`s80s20`.
    """
    check_level(level, "arpr")
    check_ci_method(ci_method, "arpr")
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction <= 1:
        raise parameter_error("fraction", "arpr", "a share of the median in (0, 1]", fraction)
    y = _welfare(data, welfare)
    prep = prepare(data, design)
    dom = domains(data, by)
    size = _size(data, household_size)
    s = np.ones(len(y)) if size is None else size
    rows_of = [np.flatnonzero(dom.codes == d) for d in range(dom.n)]

    def rates(w: np.ndarray) -> tuple[np.ndarray, float, float]:
        pw = w * s
        med = share_quantile(y, pw, 0.5)
        t = fraction * med
        est = np.array([np.sum(pw[r] * (y[r] < t)) / pw[r].sum() if len(r) else np.nan for r in rows_of])
        return est, med, t

    est, med, t = rates(prep.w)
    if prep.design.replicates:
        var = replicate_variance(lambda w: rates(w)[0], prep)
    else:
        pw = prep.w * s
        n_all = pw.sum()
        at_or_below = y <= med  # F(median) is 1/2 up to one row's weight; centred, as in _share_ratio
        g = (at_or_below - np.sum(pw * at_or_below) / n_all) / (n_all * _density(y, pw, med))
        var = np.full(dom.n, np.nan)
        zero = np.zeros(len(y), dtype=np.int64)
        for d, r in enumerate(rows_of):
            if not len(r):
                continue
            u = -fraction * _density(y[r], pw[r], t) * g
            u[r] += ((y[r] < t) - est[d]) / pw[r].sum()
            var[d] = linearized_variance(u * s, zero, 1, prep)[0]
    notes = ("person-level: household weights x household size",) if size is not None else ()
    return estimate_table(f"ARPR({fraction:g} x median)", est, var, dom, prep, level=level, method=_method(prep),
                          extra={"threshold": t, **share_columns(dom, prep, None, ci_method)}, notes=notes)


for _f in (s80s20, palma, theil, mean_log_deviation, atkinson, arpr):
    _f.__doc__ = (_f.__doc__ or "").replace("    {params}", _DIST_PARAMS.rstrip("\n"))
