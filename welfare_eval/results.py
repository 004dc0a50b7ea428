"""Results shared by every module: one tidy schema, so tables from any module stack with pd.concat.

Every ``to_frame()`` returns the columns ``estimand``, the group columns, ``estimate``,
``std_error``, ``ci_lower``, ``ci_upper``, ``level``, ``nobs``, ``method``, and what the module
adds (``df`` for the degrees of freedom of the interval, ``deff``, ``notes``...). "Not computable"
is a NaN with a note, not an exception, where that is legitimate (an empty domain).
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
from scipy import stats

from .config import DEFAULT_LEVEL
from .exceptions import parameter_error

TIDY_COLUMNS = ("estimand", "estimate", "std_error", "ci_lower", "ci_upper", "level", "nobs", "method")

#: Intervals for shares and rates (estimates in [0, 1]): see :func:`share_interval`.
CIMethod = Literal["logit", "beta", "wald"]
CI_METHODS: tuple[str, ...] = get_args(CIMethod)
#: Columns a table of shares carries so that its intervals can be made again at any level:
#: the interval method, the sampled units behind the share and the domain's degrees of freedom.
SHARE_INTERVAL_COLUMNS = ("ci_method", "ci_n", "ci_df")


def check_level(level: float, where: str) -> float:
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
        raise parameter_error("level", where, "a number strictly between 0 and 1", level)
    return float(level)


def critical_value(level: float, df: float | np.ndarray | None) -> np.ndarray:
    """Two-sided quantile: Student t with ``df`` degrees of freedom, or normal when df is None/inf."""
    q = 0.5 + level / 2
    if df is None:
        return np.asarray(stats.norm.ppf(q))
    df = np.asarray(df, dtype=float)
    return np.where(np.isfinite(df) & (df > 0), stats.t.ppf(q, np.where(df > 0, df, 1.0)), stats.norm.ppf(q))


def check_ci_method(ci_method, where: str) -> str:
    """``ci_method`` checked against :data:`CIMethod` at a public boundary."""
    if ci_method not in CI_METHODS:
        raise parameter_error("ci_method", where, f"one of {CI_METHODS}", ci_method)
    return ci_method


def _t(p: float, df: np.ndarray) -> np.ndarray:
    """Student t quantile with ``df`` degrees of freedom; the normal one where df is not a positive number."""
    df = np.asarray(df, dtype=float)
    ok = np.isfinite(df) & (df > 0)
    return np.where(ok, stats.t.ppf(p, np.where(ok, df, 1.0)), stats.norm.ppf(p))


def share_interval(estimate, std_error, *, level: float = DEFAULT_LEVEL, method: str = "logit", df=None,
                   n=None, wald_df=None) -> tuple[np.ndarray, np.ndarray]:
    """Confidence interval of a share (an estimate in [0, 1]) that stays inside [0, 1].

    Parameters
    ----------
    estimate, std_error : array_like
        The share and its design-based standard error.
    level : float
        Confidence level.
    method : {"logit", "beta", "wald"}
        ``"logit"``: ``expit(logit(p) +- t_df se / (p (1 - p)))``, as R survey's
        ``svyciprop(method = "logit")`` (its ``svyglm`` intercept has exactly this standard error).
        ``"beta"``: Korn and Graubard (1998), as ``svyciprop(method = "beta")``: Clopper-Pearson
        with the effective sample size ``n_eff = p (1 - p) / se^2 * (t_{n-1} / t_df)^2`` (quantiles
        at ``(1 - level) / 2``). ``"wald"``: ``p +- t se`` with ``wald_df`` (may leave [0, 1]).
    df : array_like
        Degrees of freedom of the domain for logit and beta: PSUs minus strata among the sampled
        units behind the share, as ``degf()`` of R's subset design.
    n : array_like
        Sampled units (rows) behind the share in the domain (``nrow()`` of R's subset design).
    wald_df : array_like, optional
        Degrees of freedom of the Wald interval (default ``df``).

    Notes
    -----
    A share estimated as exactly 0 or 1 has a zero standard error, and every method above would
    give a zero-width interval, as if the share were known. Such a cell gets a one-sided
    Clopper-Pearson interval at ``level`` instead, whatever ``method``: ``[0, 1 - (1 - level)^(1/n*)]``
    for 0 and ``[(1 - level)^(1/n*), 1]`` for 1, with the effective sample size
    ``n* = n (t_{n-1} / t_df)^2`` (quantiles at ``1 - level``). The design effect cannot be
    estimated from a cell without variation, so it is taken as 1 and ``n`` is the number of
    sampled rows (households) behind the share, not persons: persons of one household are not
    independent draws, and the degrees-of-freedom factor shrinks ``n`` further when the cell lies
    in few PSUs. This is the rule of the NCHS data presentation standards for proportions (Parker
    et al. 2017), which also use Korn-Graubard intervals. The interval is one-sided because a
    share cannot fall below 0 (or above 1): all of ``1 - level`` lies on the open side.

    A share strictly inside (0, 1) with a zero standard error (a domain whose sampled units all lie
    in one PSU: the linearized scores of a ratio cancel within it) is no more certain: it gets the
    two-sided Clopper-Pearson interval with the same ``n*`` (quantiles at ``(1 - level) / 2``).

    References
    ----------
    Korn and Graubard (1998), "Confidence intervals for proportions with small expected number
    of positive counts estimated from survey data", Survey Methodology 24(2), 193-201.
    Parker et al. (2017), "National Center for Health Statistics data presentation standards for
    proportions", Vital Health Stat 2(175).
    Lumley (2010), Complex Surveys, 2.3.1 (svyciprop).
    """
    check_level(level, "share_interval")
    p = np.asarray(estimate, dtype=float)
    se = np.asarray(std_error, dtype=float)
    df = np.broadcast_to(np.asarray(np.inf if df is None else df, dtype=float), p.shape)
    n = np.broadcast_to(np.asarray(np.nan if n is None else n, dtype=float), p.shape)
    alpha = 1.0 - level
    lo = np.full(p.shape, np.nan)
    hi = np.full(p.shape, np.nan)
    inner = np.isfinite(p) & np.isfinite(se) & (p > 0) & (p < 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "wald":
            c = critical_value(level, df if wald_df is None else np.broadcast_to(wald_df, p.shape))
            lo, hi = p - c * se, p + c * se
        elif method == "logit":
            c = -_t(alpha / 2, df)
            eta = np.log(p / (1 - p))
            half = c * se / (p * (1 - p))
            lo = np.where(inner, 1 / (1 + np.exp(-(eta - half))), lo)
            hi = np.where(inner, 1 / (1 + np.exp(-(eta + half))), hi)
        elif method == "beta":
            ratio = (_t(alpha / 2, n - 1) / _t(alpha / 2, df)) ** 2
            n_eff = p * (1 - p) / se**2 * ratio
            ok = inner & (se > 0)
            lo = np.where(ok, stats.beta.ppf(alpha / 2, n_eff * p, n_eff * (1 - p) + 1), lo)
            hi = np.where(ok, stats.beta.ppf(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p)), hi)
        else:
            raise parameter_error("method", "share_interval", f"one of {CI_METHODS}", method)
        # a share inside (0, 1) with a zero standard error (a domain inside one PSU: its linearized
        # scores cancel there): the variance cannot be estimated, so Clopper-Pearson with deff 1 (see Notes)
        novar = inner & (se == 0) & (n >= 1)
        n_two = n * (_t(alpha / 2, n - 1) / _t(alpha / 2, df)) ** 2
        lo = np.where(novar, stats.beta.ppf(alpha / 2, n_two * p, n_two * (1 - p) + 1), lo)
        hi = np.where(novar, stats.beta.ppf(1 - alpha / 2, n_two * p + 1, n_two * (1 - p)), hi)
        # a cell at 0 or 1: one-sided Clopper-Pearson with the effective sample size (see Notes)
        n_star = n * (_t(alpha, n - 1) / _t(alpha, df)) ** 2
        bound = np.power(alpha, 1.0 / n_star)
        zero = (p == 0) & (n >= 1)
        one = (p == 1) & (n >= 1)
    lo = np.where(zero, 0.0, np.where(one, bound, lo))
    hi = np.where(zero, 1.0 - bound, np.where(one, 1.0, hi))
    return lo, hi


@dataclass(frozen=True)
class Diagnostic:
    """A check an estimator ran, with one sentence a reader understands."""

    name: str                 # "balance", "overlap", "pre_trends", "density_at_cutoff", ...
    value: float | None
    passed: bool | None       # None: informational
    message: str              # in English; report.strings.diagnostic_text words it in another language
    params: tuple = ()        # ((name, value), ...): the numbers in the sentence, for other languages

    def get(self, key, default=None):
        return dict(self.params).get(key, default)


@dataclass(frozen=True)
class Estimate:
    """One estimate of one estimand."""

    estimand: str
    estimate: float
    std_error: float | None
    nobs: int
    method: str
    df: float | None = None
    group: tuple = ()                 # ((column, value), ...)
    notes: tuple[str, ...] = ()
    outcome: str | None = None
    treatment: str | None = None
    n_treated: int | None = None
    diagnostics: tuple[Diagnostic, ...] = ()
    ci: tuple[float, float] | None = None   # an interval not of the form estimate +- c se (RD robust, bootstrap)
    ci_level: float = DEFAULT_LEVEL         # the level ``ci`` was computed at
    p: float | None = None                  # a p-value not from estimate / se (wild bootstrap, randomization)
    ci_method: str | None = None            # a share: "logit", "beta" or "wald" (share_interval), with
    ci_n: float | None = None               # the sampled units behind it and
    ci_df: float | None = None              # the degrees of freedom of its domain

    def conf_int(self, level: float = DEFAULT_LEVEL) -> tuple[float, float]:
        check_level(level, "Estimate.conf_int")
        if self.ci is not None and level == self.ci_level:
            return self.ci
        if self.ci_method is not None and self.std_error is not None:
            lo, hi = share_interval(self.estimate, self.std_error, level=level, method=self.ci_method,
                                    df=np.nan if self.ci_df is None else self.ci_df,
                                    n=np.nan if self.ci_n is None else self.ci_n, wald_df=self.df)
            return (float(lo), float(hi))
        if self.std_error is None or not np.isfinite(self.std_error):
            return (float("nan"), float("nan"))
        c = float(critical_value(level, self.df))
        return (self.estimate - c * self.std_error, self.estimate + c * self.std_error)

    @property
    def pvalue(self) -> float:
        """Two-sided p-value of estimate = 0 (t with ``df``, or normal), or the one the method gave."""
        if self.p is not None:
            return float(self.p)
        if self.std_error is None or not np.isfinite(self.std_error) or self.std_error == 0:
            return float("nan")
        z = abs(self.estimate / self.std_error)
        if self.df is None or not np.isfinite(self.df):
            return float(2 * stats.norm.sf(z))
        return float(2 * stats.t.sf(z, self.df))

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(d.message for d in self.diagnostics if d.passed is False)

    def to_frame(self, level: float = DEFAULT_LEVEL) -> pd.DataFrame:
        lo, hi = self.conf_int(level)
        row = {"estimand": self.estimand, **dict(self.group), "estimate": self.estimate,
               "std_error": self.std_error, "ci_lower": lo, "ci_upper": hi, "level": level, "nobs": self.nobs,
               "method": self.method, "df": self.df, "pvalue": self.pvalue, "outcome": self.outcome,
               "treatment": self.treatment, "n_treated": self.n_treated, "notes": "; ".join(self.notes + self.warnings),
               "ci_own": self.ci is not None and level == self.ci_level}
        if self.ci_method is not None:
            row.update(ci_method=self.ci_method, ci_n=self.ci_n, ci_df=self.ci_df)
        return pd.DataFrame([row])

    def summary(self) -> str:
        lo, hi = self.conf_int()
        lines = [
            f"{self.estimand} of {self.treatment} on {self.outcome} ({self.method})",
            f"  estimate {self.estimate:.6g}  SE {self.std_error if self.std_error is not None else float('nan'):.4g}"
            f"  95% CI [{lo:.6g}, {hi:.6g}]  p = {self.pvalue:.3g}  n = {self.nobs}"
            + (f" ({self.n_treated} treated)" if self.n_treated is not None else ""),
        ]
        lines += [f"  [{'ok' if d.passed else 'WARNING' if d.passed is False else 'info'}] {d.message}"
                  for d in self.diagnostics]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        diag = "".join(
            f"<li>{'⚠ ' if d.passed is False else ''}{html.escape(d.message)}</li>" for d in self.diagnostics
        )
        return self.to_frame().to_html(index=False, float_format=lambda v: f"{v:.6g}") + (
            f"<ul>{diag}</ul>" if diag else ""
        )


class EstimateTable:
    """Many estimates (domains, indicators) in one tidy frame; intervals recomputed for any level."""

    def __init__(self, frame: pd.DataFrame, *, group_columns: tuple[str, ...] = (), level: float = DEFAULT_LEVEL,
                 notes: tuple[str, ...] = (), diagnostics: tuple[Diagnostic, ...] = ()):
        self._frame = frame.reset_index(drop=True)
        self.group_columns = tuple(group_columns)
        self.level = check_level(level, "EstimateTable")
        self.notes = tuple(notes)
        self.diagnostics = tuple(diagnostics)  # also worded in notes; kept whole for other languages

    def to_frame(self, level: float | None = None) -> pd.DataFrame:
        """The tidy table (a copy), with intervals at ``level`` (default: the table's)."""
        level = self.level if level is None else check_level(level, "EstimateTable.to_frame")
        f = self._frame.copy()
        c = critical_value(level, f["df"].to_numpy(dtype=float) if "df" in f else None)
        # rows with an interval of their own (bootstrap, robust RD) keep it at the level it was made for
        own = (f["ci_own"].fillna(False).astype(bool) & np.isclose(f["level"].astype(float), level)).to_numpy() \
            if "ci_own" in f and "level" in f else np.zeros(len(f), bool)
        lo = f["estimate"].to_numpy(dtype=float) - c * f["std_error"].to_numpy(dtype=float)
        hi = f["estimate"].to_numpy(dtype=float) + c * f["std_error"].to_numpy(dtype=float)
        if "ci_method" in f:
            # shares keep their interval inside [0, 1] (share_interval), made again at this level
            kind = f["ci_method"].astype(object).where(f["ci_method"].notna(), None).to_numpy()
            for m in CI_METHODS:
                rows = (kind == m) & ~own
                if rows.any():
                    sub = f.loc[rows]
                    slo, shi = share_interval(sub["estimate"].to_numpy(float), sub["std_error"].to_numpy(float),
                                              level=level, method=m, df=sub["ci_df"].to_numpy(float),
                                              n=sub["ci_n"].to_numpy(float),
                                              wald_df=sub["df"].to_numpy(float) if "df" in sub else None)
                    lo[rows], hi[rows] = slo, shi
        f["ci_lower"] = np.where(own, f["ci_lower"] if own.any() else 0.0, lo)
        f["ci_upper"] = np.where(own, f["ci_upper"] if own.any() else 0.0, hi)
        f["level"] = level
        if "ci_own" in f:
            f["ci_own"] = own
        first = ["estimand", *self.group_columns, "estimate", "std_error", "ci_lower", "ci_upper", "level", "nobs",
                 "method"]
        return f[first + [c for c in f.columns if c not in first]]

    def __len__(self) -> int:
        return len(self._frame)

    @property
    def estimate(self) -> np.ndarray:
        return self._frame["estimate"].to_numpy()

    @property
    def std_error(self) -> np.ndarray:
        return self._frame["std_error"].to_numpy()

    def get(self, **group) -> Estimate:
        """The one estimate of the given group values, e.g. ``table.get(kab_code="7602")``."""
        f = self._frame
        mask = np.ones(len(f), bool)
        for k, v in group.items():
            mask &= (f[k] == v).to_numpy()
        rows = f[mask]
        if len(rows) != 1:
            raise KeyError(f"{len(rows)} rows match {group}; give every group column")
        r = rows.iloc[0]
        share: dict[str, Any] = {}
        if "ci_method" in r and isinstance(r["ci_method"], str):
            share = {"ci_method": r["ci_method"], "ci_n": float(r["ci_n"]), "ci_df": float(r["ci_df"])}
        return Estimate(r["estimand"], float(r["estimate"]), float(r["std_error"]), int(r["nobs"]), r["method"],
                        None if "df" not in r or pd.isna(r["df"]) else float(r["df"]),
                        tuple((g, r[g]) for g in self.group_columns),
                        tuple(n for n in str(r.get("notes", "") or "").split("; ") if n), **share)

    def summary(self) -> str:
        f = self.to_frame()
        text = f.to_string(index=False, float_format=lambda v: f"{v:.6g}")
        return text + ("\n" + "\n".join(f"Note: {n}" for n in self.notes) if self.notes else "")

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        notes = "".join(f"<p><em>{html.escape(n)}</em></p>" for n in self.notes)
        return self.to_frame().to_html(index=False, float_format=lambda v: f"{v:.6g}") + notes

    def to_excel(self, path, *, sheet_name: str = "estimates", level: float | None = None,
                 number_format: str = "0.000", percent: bool = False):
        """Write the tidy table to an ``.xlsx`` sheet: one row per estimate, real numeric cells.

        The estimate, standard error and interval bounds get ``number_format`` (``0.0%`` when
        ``percent``), n ``#,##0``; the bounds and n have columns of their own; the notes follow the
        rows. Returns ``path``.
        """
        from openpyxl import Workbook
        from openpyxl.styles import Font

        f = self.to_frame(level)
        fmt = "0.0%" if percent else number_format
        wb = Workbook()
        ws = wb.active
        ws.title = sheet_name[:31]
        ws.append(list(f.columns))
        for c in ws[1]:
            c.font = Font(bold=True)
        for row in f.itertuples(index=False):
            ws.append([None if isinstance(v, float) and not np.isfinite(v) else v.item() if hasattr(v, "item") else v
                       for v in row])
        cols = list(f.columns)
        for name in ("estimate", "std_error", "ci_lower", "ci_upper"):
            for cell in ws.iter_cols(min_col=cols.index(name) + 1, max_col=cols.index(name) + 1, min_row=2):
                for c in cell:
                    c.number_format = fmt
        for cell in ws.iter_cols(min_col=cols.index("nobs") + 1, max_col=cols.index("nobs") + 1, min_row=2):
            for c in cell:
                c.number_format = "#,##0"
        for note in self.notes:
            ws.append([])
            ws.append([note])
        wb.save(path)
        return path


def compare(*estimates: Estimate | EstimateTable, level: float = DEFAULT_LEVEL) -> pd.DataFrame:
    """Estimates of the same effect by several methods, stacked in one tidy table."""
    frames = [e.to_frame(level) for e in estimates]
    return pd.concat(frames, ignore_index=True)


class Note(str):
    """A note on a result: English text (it is a ``str``) that also carries a string-table ``key``
    and the ``params`` of its sentence, so that ``report.strings.note_text`` words it in another
    language, as ``Diagnostic.params`` does for diagnostics."""

    key: str
    params: dict[str, Any]

    def __new__(cls, text: str, key: str, **params):
        obj = super().__new__(cls, text)
        obj.key = key
        obj.params = params
        return obj

    def __reduce__(self):  # survives pickling (results travel to Dask workers and back)
        return (_make_note, (str(self), self.key, self.params))


def _make_note(text: str, key: str, params: dict) -> Note:
    return Note(text, key, **params)
