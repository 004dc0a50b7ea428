"""Results shared by every module: one tidy schema, so tables from any module stack with pd.concat.

Every ``to_frame()`` returns the columns ``estimand``, the group columns, ``estimate``,
``std_error``, ``ci_lower``, ``ci_upper``, ``level``, ``nobs``, ``method``, and what the module
adds (``df`` for the degrees of freedom of the interval, ``deff``, ``notes``...). "Not computable"
is a NaN with a note, not an exception, where that is legitimate (an empty domain).
"""
from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .config import DEFAULT_LEVEL
from .exceptions import parameter_error

TIDY_COLUMNS = ("estimand", "estimate", "std_error", "ci_lower", "ci_upper", "level", "nobs", "method")


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

    def conf_int(self, level: float = DEFAULT_LEVEL) -> tuple[float, float]:
        check_level(level, "Estimate.conf_int")
        if self.ci is not None and level == self.ci_level:
            return self.ci
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
        return pd.DataFrame([row])

    def summary(self) -> str:
        lo, hi = self.conf_int()
        lines = [f"{self.estimand} of {self.treatment} on {self.outcome} ({self.method})",
                 f"  estimate {self.estimate:.6g}  SE {self.std_error if self.std_error is not None else float('nan'):.4g}"
                 f"  95% CI [{lo:.6g}, {hi:.6g}]  p = {self.pvalue:.3g}  n = {self.nobs}"
                 + (f" ({self.n_treated} treated)" if self.n_treated is not None else "")]
        lines += [f"  [{'ok' if d.passed else 'WARNING' if d.passed is False else 'info'}] {d.message}"
                  for d in self.diagnostics]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        diag = "".join(f"<li>{'⚠ ' if d.passed is False else ''}{html.escape(d.message)}</li>" for d in self.diagnostics)
        return self.to_frame().to_html(index=False, float_format=lambda v: f"{v:.6g}") + (f"<ul>{diag}</ul>" if diag else "")


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
        f["ci_lower"] = np.where(own, f["ci_lower"] if own.any() else 0.0, f["estimate"] - c * f["std_error"])
        f["ci_upper"] = np.where(own, f["ci_upper"] if own.any() else 0.0, f["estimate"] + c * f["std_error"])
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
        return Estimate(r["estimand"], float(r["estimate"]), float(r["std_error"]), int(r["nobs"]), r["method"],
                        None if "df" not in r or pd.isna(r["df"]) else float(r["df"]),
                        tuple((g, r[g]) for g in self.group_columns),
                        tuple(n for n in str(r.get("notes", "") or "").split("; ") if n))

    def summary(self) -> str:
        f = self.to_frame()
        text = f.to_string(index=False, float_format=lambda v: f"{v:.6g}")
        return text + ("\n" + "\n".join(f"Note: {n}" for n in self.notes) if self.notes else "")

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        notes = "".join(f"<p><em>{html.escape(n)}</em></p>" for n in self.notes)
        return self.to_frame().to_html(index=False, float_format=lambda v: f"{v:.6g}") + notes


def compare(*estimates: Estimate | EstimateTable, level: float = DEFAULT_LEVEL) -> pd.DataFrame:
    """Estimates of the same effect by several methods, stacked in one tidy table."""
    frames = [e.to_frame(level) for e in estimates]
    return pd.concat(frames, ignore_index=True)


class Note(str):
    """A note on a result: English text (it is a ``str``) that also carries a string-table ``key``
    and the ``params`` of its sentence, so that ``report.strings.note_text`` words it in another
    language, as ``Diagnostic.params`` does for diagnostics."""

    def __new__(cls, text: str, key: str, **params):
        obj = super().__new__(cls, text)
        obj.key = key
        obj.params = params
        return obj

    def __reduce__(self):  # survives pickling (results travel to Dask workers and back)
        return (_make_note, (str(self), self.key, self.params))


def _make_note(text: str, key: str, params: dict) -> Note:
    return Note(text, key, **params)
