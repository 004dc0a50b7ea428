"""A multi-model table, as Stata's ``esttab`` or pyfixest's ``etable``: one column per model.

    >>> tab = impact.table([naive, ipw_fit, aipw_fit], names=["Naive", "IPW", "AIPW"])
    >>> tab                      # HTML in a notebook
    >>> tab.to_latex()           # booktabs tabular for a paper
    >>> tab.to_excel("pkh.xlsx") # numeric cells: coefficients, standard errors in parentheses

Each model is an :class:`~welfare_eval.results.Estimate` (any estimator's result: a regression
coefficient, an ATT of IPW, AIPW or matching, an RD effect) or an
:class:`~welfare_eval.results.EstimateTable` (an event study, effects by subgroup). A row is a term:
the treatment of an estimate (or its estimand when it names none), or an estimand with its group
values; models that do not estimate a term leave its cell empty. Below the terms: the outcome, the
method, the number of observations and of treated units. Intervals and p-values are the models'
own (a wild-bootstrap p-value or a bootstrap-t interval is kept as the estimator gave it).
"""
from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..config import DEFAULT_LEVEL
from ..exceptions import ParameterError
from ..results import Estimate, EstimateTable, check_level

#: Significance thresholds of the stars, as in esttab's ``star(* 0.10 ** 0.05 *** 0.01)``.
STAR_LEVELS = (0.10, 0.05, 0.01)

#: Labels of the rows under the terms (override with ``stat_labels``).
STAT_LABELS = {"outcome": "Outcome", "method": "Method", "nobs": "Observations", "n_treated": "Treated"}

#: Columns of :meth:`RegressionTable.to_frame`.
TABLE_COLUMNS = ("model", "term", "estimate", "std_error", "ci_lower", "ci_upper", "level", "pvalue", "nobs",
                 "n_treated", "outcome", "method")


def _pvalue(estimate: float, std_error: float, df) -> float:
    if not np.isfinite(std_error) or std_error <= 0:
        return float("nan")
    z = abs(estimate / std_error)
    if df is None or not np.isfinite(df) or df <= 0:
        return float(2 * stats.norm.sf(z))
    return float(2 * stats.t.sf(z, df))


def _rows(name: str, model, level: float) -> list[dict]:
    """The tidy rows of one model."""
    if isinstance(model, Estimate):
        lo, hi = model.conf_int(level)
        term = model.treatment or model.estimand
        if model.group:
            term += " [" + ", ".join(f"{k}={v}" for k, v in model.group) + "]"
        se = float("nan") if model.std_error is None else float(model.std_error)
        return [{"model": name, "term": term, "estimate": float(model.estimate), "std_error": se,
                 "ci_lower": lo, "ci_upper": hi, "level": level, "pvalue": model.pvalue, "nobs": model.nobs,
                 "n_treated": model.n_treated, "outcome": model.outcome, "method": model.method}]
    f = model.to_frame(level)
    out = []
    for _, r in f.iterrows():
        term = str(r["estimand"])
        groups = [f"{g}={r[g]}" for g in model.group_columns if pd.notna(r[g])]
        if groups:
            term += " [" + ", ".join(groups) + "]"
        p = r["pvalue"] if "pvalue" in f and pd.notna(r.get("pvalue")) else _pvalue(
            float(r["estimate"]), float(r["std_error"]), r["df"] if "df" in f else None)
        out.append({"model": name, "term": term, "estimate": float(r["estimate"]), "std_error": float(r["std_error"]),
                    "ci_lower": float(r["ci_lower"]), "ci_upper": float(r["ci_upper"]), "level": level,
                    "pvalue": float(p), "nobs": r["nobs"], "n_treated": r.get("n_treated"),
                    "outcome": r.get("outcome"), "method": r["method"]})
    return out


def _one(values: pd.Series):
    """The value a model's rows share (outcome, method, n), or None when they differ."""
    v = values.dropna().unique()
    return v[0] if len(v) == 1 else None


@dataclass(frozen=True)
class RegressionTable:
    """Models side by side; build with :func:`table`."""

    frame: pd.DataFrame                  # tidy, columns TABLE_COLUMNS
    names: tuple[str, ...]
    terms: tuple[str, ...]
    level: float = DEFAULT_LEVEL
    stars: bool = True
    digits: int = 3
    ci: bool = False
    labels: tuple = ()                   # ((term, label), ...)
    stat_labels: tuple = tuple(STAT_LABELS.items())

    def to_frame(self) -> pd.DataFrame:
        """The tidy table (a copy): one row per model and term."""
        return self.frame.copy()

    def _stars(self, p: float) -> str:
        if not self.stars or not np.isfinite(p):
            return ""
        return "*" * sum(p < s for s in STAR_LEVELS)

    def _label(self, term: str) -> str:
        return dict(self.labels).get(term, term)

    def _cell(self, name: str, term: str):
        r = self.frame[(self.frame["model"] == name) & (self.frame["term"] == term)]
        return None if r.empty else r.iloc[0]

    def _stats(self) -> list[tuple[str, str, list]]:
        out = []
        for key, label in self.stat_labels:
            vals = [_one(self.frame.loc[self.frame["model"] == n, key]) for n in self.names]
            if any(v is not None for v in vals):
                out.append((key, label, vals))
        return out

    def layout(self) -> pd.DataFrame:
        """The table as text, as printed: a coefficient row and a (standard error) row per term."""
        d = self.digits
        rows, index = [], []
        for term in self.terms:
            est, se, ci = [], [], []
            for n in self.names:
                c = self._cell(n, term)
                est.append("" if c is None else f"{c['estimate']:.{d}f}{self._stars(c['pvalue'])}")
                se.append("" if c is None or not np.isfinite(c["std_error"]) else f"({c['std_error']:.{d}f})")
                ci.append("" if c is None or not np.isfinite(c["ci_lower"])
                          else f"[{c['ci_lower']:.{d}f}, {c['ci_upper']:.{d}f}]")
            rows += [est, se] + ([ci] if self.ci else [])
            index += [self._label(term), ""] + ([""] if self.ci else [])
        for key, label, vals in self._stats():
            rows.append(["" if v is None else f"{int(v):,}" if key in ("nobs", "n_treated") else str(v) for v in vals])
            index.append(label)
        return pd.DataFrame(rows, index=index, columns=list(self.names))

    def notes(self) -> list[str]:
        out = ["Standard errors in parentheses" + (f"; {self.level:.0%} confidence intervals in brackets"
                                                   if self.ci else "") + "."]
        if self.stars:
            out.append(", ".join(f"{'*' * (i + 1)} p < {s:g}" for i, s in enumerate(STAR_LEVELS)) + ".")
        return out

    def to_html(self) -> str:
        """An HTML table (every text escaped)."""
        lay = self.layout()
        esc = html.escape
        head = "<tr><th></th>" + "".join(f"<th style='text-align:center'>{esc(c)}</th>" for c in lay.columns) + "</tr>"
        n_terms = len(self.terms) * (3 if self.ci else 2)
        body = []
        for i, (label, row) in enumerate(lay.iterrows()):
            border = " style='border-top:1px solid #444'" if i == n_terms else ""
            body.append(f"<tr{border}><th style='text-align:left'>{esc(str(label))}</th>"
                        + "".join(f"<td style='text-align:center'>{esc(v)}</td>" for v in row) + "</tr>")
        notes = "".join(f"<br>{esc(n)}" for n in self.notes())
        return (f"<table class='regression-table'><thead>{head}</thead><tbody>{''.join(body)}</tbody></table>"
                f"<p style='font-size:smaller'>{notes[4:]}</p>")

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        return self.layout().to_string() + "\n" + "\n".join(self.notes())

    def to_latex(self, *, caption: str | None = None, label: str | None = None) -> str:
        """A booktabs ``tabular`` (in a ``table`` float when a caption or label is given)."""
        tex = _tex_escape
        lay = self.layout()
        n_terms = len(self.terms) * (3 if self.ci else 2)
        cols = "l" + "c" * len(lay.columns)
        lines = [rf"\begin{{tabular}}{{{cols}}}", r"\toprule",
                 " & ".join([""] + [tex(c) for c in lay.columns]) + r" \\", r"\midrule"]
        for i, (row_label, row) in enumerate(lay.iterrows()):
            if i == n_terms:
                lines.append(r"\midrule")
            lines.append(" & ".join([tex(str(row_label))] + [_tex_cell(v, tex) for v in row]) + r" \\")
        lines += [r"\bottomrule", r"\end{tabular}"]
        note = r"\par\footnotesize " + tex(" ".join(self.notes()))
        body = "\n".join(lines)
        if caption is None and label is None:
            return body + "\n" + note + "\n"
        parts = [r"\begin{table}[htbp]", r"\centering"]
        if caption:
            parts.append(rf"\caption{{{tex(caption)}}}")
        if label:
            parts.append(rf"\label{{{label}}}")
        return "\n".join(parts + [body, note, r"\end{table}"]) + "\n"

    def to_excel(self, path: str | os.PathLike, *, sheet_name: str = "table") -> str | os.PathLike:
        """Write the table to an ``.xlsx``: numeric cells (the stars and parentheses are number formats).

        A second sheet ``<sheet_name>_data`` holds :meth:`to_frame` (intervals, p-values, n).
        """
        from openpyxl import Workbook
        from openpyxl.styles import Alignment, Border, Font, Side

        wb = Workbook()
        ws = wb.active
        ws.title = sheet_name[:31]
        d = self.digits
        num = "0." + "0" * d if d else "0"
        bold, center = Font(bold=True), Alignment(horizontal="center")
        ws.cell(1, 1, "")
        for j, n in enumerate(self.names, start=2):
            c = ws.cell(1, j, n)
            c.font, c.alignment = bold, center
        r = 2
        for term in self.terms:
            ws.cell(r, 1, self._label(term))
            for j, n in enumerate(self.names, start=2):
                cell = self._cell(n, term)
                if cell is None:
                    continue
                c = ws.cell(r, j, float(cell["estimate"]))
                s = self._stars(cell["pvalue"])
                c.number_format = f'{num}"{s}";-{num}"{s}"' if s else num
                c.alignment = center
                if np.isfinite(cell["std_error"]):
                    c = ws.cell(r + 1, j, float(cell["std_error"]))
                    c.number_format = f'"("{num}")"'
                    c.alignment = center
                if self.ci and np.isfinite(cell["ci_lower"]):
                    ws.cell(r + 2, j, f"[{cell['ci_lower']:.{d}f}, {cell['ci_upper']:.{d}f}]").alignment = center
            r += 3 if self.ci else 2
        line = Border(top=Side(style="thin"))
        for j in range(1, len(self.names) + 2):
            ws.cell(r, j).border = line
        for key, label, vals in self._stats():
            ws.cell(r, 1, label)
            for j, v in enumerate(vals, start=2):
                if v is None:
                    continue
                if key in ("nobs", "n_treated"):
                    c = ws.cell(r, j, int(v))
                    c.number_format = "#,##0"
                else:
                    c = ws.cell(r, j, str(v))
                c.alignment = center
            r += 1
        for note in self.notes():
            r += 1
            ws.cell(r, 1, note).font = Font(italic=True, size=9)
        from openpyxl.utils import get_column_letter

        lay = self.layout()
        ws.column_dimensions["A"].width = max(14, *(len(str(i)) + 2 for i in lay.index))
        for j, n in enumerate(self.names, start=2):
            ws.column_dimensions[get_column_letter(j)].width = min(40, max(12, len(n) + 2,
                                                                           *(len(v) + 2 for v in lay[n])))
        ws.sheet_properties.pageSetUpPr.fitToPage = True  # printed one page wide
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        data = wb.create_sheet(sheet_name[:26] + "_data")
        f = self.frame
        data.append(list(f.columns))
        for row in f.itertuples(index=False):
            data.append([None if (isinstance(v, float) and not np.isfinite(v)) else
                         (v.item() if hasattr(v, "item") else v) for v in row])
        wb.save(path)
        return path


_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
        "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _tex_escape(text: str) -> str:
    """LaTeX's special characters escaped, in one pass."""
    return re.sub(r"[\\&%$#_{}~^]", lambda m: _TEX[m.group(0)], text)


def _tex_cell(text: str, tex) -> str:
    """A cell in LaTeX: trailing stars as a superscript (``0.123**`` -> ``0.123\\textsuperscript{**}``)."""
    m = re.match(r"^(.*?)(\*+)$", text)
    return tex(text) if m is None else tex(m.group(1)) + r"\textsuperscript{" + m.group(2) + "}"


def table(models, *, names=None, level: float = DEFAULT_LEVEL, stars: bool = True, digits: int = 3,
          ci: bool = False, labels: dict | None = None, stat_labels: dict | None = None) -> RegressionTable:
    """Several models side by side, as ``esttab`` / ``etable``.

    Parameters
    ----------
    models : list of Estimate or EstimateTable, or dict name -> model
        The models, one column each, in order.
    names : list of str, optional
        Column headings (default ``(1)``, ``(2)``, ... or the dict's keys).
    level : float
        Level of the intervals (``ci=True``) and of the tidy frame.
    stars : bool
        Mark coefficients with ``*``, ``**``, ``***`` at p < 0.10, 0.05, 0.01 (:data:`STAR_LEVELS`).
    digits : int
        Decimals shown.
    ci : bool
        Add a row with the interval under each standard error.
    labels : dict, optional
        Row labels for terms, e.g. ``{"pkh": "PKH receipt"}``.
    stat_labels : dict, optional
        Labels of the rows under the terms (keys of :data:`STAT_LABELS`); a key mapped to None drops the row.

    Returns
    -------
    RegressionTable
        Renders as HTML in a notebook; ``to_latex()``, ``to_excel(path)``, ``to_frame()``.
    """
    if isinstance(models, dict):
        names = list(models) if names is None else names
        models = list(models.values())
    models = list(models) if isinstance(models, (list, tuple)) else [models]
    if not models:
        raise ParameterError("impact.table needs at least one model. Got an empty list instead.")
    bad = [i for i, m in enumerate(models) if not isinstance(m, (Estimate, EstimateTable))]
    if bad:
        raise ParameterError(
            f"The 'models' parameter of impact.table must hold Estimate or EstimateTable results; "
            f"item(s) {', '.join(map(str, bad))} are {', '.join(type(models[i]).__name__ for i in bad)}."
        )
    names = [f"({i + 1})" for i in range(len(models))] if names is None else [str(n) for n in names]
    if len(names) != len(models) or len(set(names)) != len(names):
        raise ParameterError(f"The 'names' parameter of impact.table must give {len(models)} distinct names, one per "
                             f"model. Got {names!r} instead.")
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 0:
        raise ParameterError(
            f"The 'digits' parameter of impact.table must be a whole number >= 0. Got {digits!r} instead."
        )
    level = check_level(level, "impact.table")
    rows = [r for n, m in zip(names, models) for r in _rows(n, m, level)]
    frame = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    terms = tuple(dict.fromkeys(frame["term"]))
    sl = dict(STAT_LABELS)
    sl.update(stat_labels or {})
    return RegressionTable(frame, tuple(names), terms, level=level, stars=stars, digits=digits, ci=ci,
                           labels=tuple((labels or {}).items()),
                           stat_labels=tuple((k, v) for k, v in sl.items() if v is not None))
