"""The results store of a run, disclosure control, and tables for readers.

Each report notebook stores its key results as tidy rows (columns ``STORE_COLUMNS``). The store is
a single CSV file, or (as ``welfare-eval run`` uses it) a folder with one file per notebook and
region, so that jobs running at the same time on several workers never write the same file; the
runner gathers the folder into ``results.csv`` beside the manifest. The briefing and the index
read either form. Disclosure control
suppresses every published cell that rests on fewer than ``min_cell`` unweighted observations.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import DEFAULT_MIN_CELL
from ..exceptions import ParameterError
from ..io import atomic_path
from ..results import Estimate, EstimateTable
from .strings import fmt_number, fmt_pct, t

STORE_COLUMNS = ("notebook", "region", "program", "outcome", "estimand", "group", "method", "estimate",
                 "std_error", "ci_lower", "ci_upper", "nobs", "suppressed")
#: Columns of a tidy frame that are not group labels.
_VALUE_COLUMNS = {"estimand", "estimate", "std_error", "ci_lower", "ci_upper", "level", "nobs", "method", "df",
                  "notes", "deff", "outcome", "treatment", "n_treated", "pvalue", "suppressed", "program",
                  "band_lower", "band_upper", "measure", "method_key", "control_mean", "relative", "threshold",
                  "normalized_by"}
#: Environment variable naming the results store when a notebook runs outside ``welfare-eval run``.
RESULTS_ENV = "WELFARE_EVAL_RESULTS"


def results_path(results: str | os.PathLike | None) -> Path | None:
    """The store to write to: the parameter, else ``$WELFARE_EVAL_RESULTS``, else none."""
    value = results or os.environ.get(RESULTS_ENV)
    return Path(value) if value else None


def suppress(frame: pd.DataFrame, *, min_cell: int = DEFAULT_MIN_CELL, count: str = "nobs",
             columns=("estimate", "std_error", "ci_lower", "ci_upper")) -> pd.DataFrame:
    """Blank the numbers of rows resting on fewer than ``min_cell`` observations and mark them."""
    if isinstance(min_cell, bool) or not isinstance(min_cell, int) or min_cell < 1:
        raise ParameterError(f"The 'min_cell' parameter must be a whole number >= 1. Got {min_cell!r} instead.")
    out = frame.copy()
    small = out[count].fillna(0).to_numpy() < min_cell
    for c in columns:
        if c in out.columns:
            out[c] = out[c].astype(float).where(~small, np.nan)
    out["suppressed"] = small
    return out


def append(path: str | os.PathLike | None, rows: pd.DataFrame | EstimateTable | Estimate, *, notebook: str,
           region: str, program: str = "", outcome: str = "", min_cell: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
    """Append tidy rows to the store (rewritten whole, atomically); returns the rows written.

    Rows below the disclosure threshold are written suppressed. No-op when ``path`` is None.
    """
    f = rows.to_frame() if isinstance(rows, (EstimateTable, Estimate)) else rows.copy()
    f = suppress(f, min_cell=min_cell) if "nobs" in f.columns else f.assign(suppressed=False)
    if "estimand" not in f.columns:
        raise ParameterError("Rows for the results store need an 'estimand' column.")
    groups = [c for c in f.columns if c not in _VALUE_COLUMNS]
    group = (f[groups].apply(lambda r: "; ".join(f"{k}={v}" for k, v in r.items() if pd.notna(v)), axis=1)
             if groups else pd.Series("", index=f.index))
    out = pd.DataFrame({
        "notebook": notebook, "region": region,
        "program": f["program"].astype(str) if "program" in f.columns else program,
        "outcome": f["outcome"].astype(str) if "outcome" in f.columns and f["outcome"].notna().any() else outcome,
        "estimand": f["estimand"].astype(str), "group": group, "method": f.get("method", ""),
        **{c: f[c] if c in f.columns else np.nan for c in ("estimate", "std_error", "ci_lower", "ci_upper", "nobs")},
        "suppressed": f["suppressed"],
    })[list(STORE_COLUMNS)]
    if path is not None:
        _replace(path, out, notebook=notebook, region=region)
    return out


def is_folder_store(path: str | os.PathLike) -> bool:
    """A store path without a ``.csv`` suffix is a folder of per-notebook files."""
    return Path(path).suffix.lower() != ".csv"


def _replace(path: str | os.PathLike, rows: pd.DataFrame, *, notebook: str, region: str) -> None:
    """Write ``rows`` into the store in place of the notebook's earlier rows for the region (a rerun
    replaces them), rewriting the file atomically."""
    path = Path(path)
    if is_folder_store(path):
        with atomic_path(path / f"{notebook}__{region}.csv") as tmp:
            rows.to_csv(tmp, index=False)
        return
    old = pd.read_csv(path, dtype={"region": str}) if path.exists() else pd.DataFrame(columns=STORE_COLUMNS)
    old = old[~((old["notebook"] == notebook) & (old["region"].astype(str) == str(region)))]
    new = pd.concat([old, rows], ignore_index=True) if len(old) else rows
    with atomic_path(path) as tmp:
        new.to_csv(tmp, index=False)


def read(path: str | os.PathLike) -> pd.DataFrame:
    """The store, or an error that says which notebooks should have written it."""
    path = Path(path)
    files = sorted(path.glob("*.csv")) if path.is_dir() else [path] if path.exists() else []
    if not files:
        raise FileNotFoundError(f"No results store at {path}: run the report notebooks (welfare-eval run) first; "
                                "the briefing reads what they stored and computes nothing itself.")
    frames = [pd.read_csv(f, dtype={"region": str}) for f in files]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def gather(folder: str | os.PathLike, target: str | os.PathLike) -> Path | None:
    """Write the rows of a folder store into one CSV file (atomically); None when there are none."""
    folder = Path(folder)
    if not folder.is_dir() or not any(folder.glob("*.csv")):
        return None
    with atomic_path(target) as tmp:
        read(folder).to_csv(tmp, index=False)
    return Path(target)


def display_table(frame: pd.DataFrame, language: str, *, pct: bool = True, digits: int = 1,
                  label_columns=(), value_label: str = "estimate", min_cell: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
    """Estimates with their intervals as text in the language's format; suppressed cells marked."""
    fmt = (lambda v: fmt_pct(v, language, digits=digits)) if pct else (lambda v: fmt_number(v, language, digits=digits))
    out = frame[list(label_columns)].copy() if label_columns else pd.DataFrame(index=frame.index)
    supp = frame["suppressed"] if "suppressed" in frame.columns else pd.Series(False, index=frame.index)
    marker = t("suppressed", language, n=min_cell)
    out[value_label] = [marker if s else fmt(v) for v, s in zip(frame["estimate"], supp)]
    ci = [("" if s or pd.isna(lo) else f"{fmt(lo)} – {fmt(hi)}")
          for lo, hi, s in zip(frame["ci_lower"], frame["ci_upper"], supp)]
    out[t("ci95", language)] = ci
    if "nobs" in frame.columns:
        out["n"] = [fmt_number(v, language) for v in frame["nobs"]]
    return out.reset_index(drop=True)


def save_section(path: str | os.PathLike | None, section, *, notebook: str, region: str,
                 min_cell: int = DEFAULT_MIN_CELL) -> int:
    """Append every tidy result of a report section to the store; returns the rows written."""
    frames = [append(None, rows, notebook=notebook, region=region, program=program, outcome=outcome,
                     min_cell=min_cell) for program, outcome, rows in section.rows]
    if not frames:
        return 0
    allrows = pd.concat(frames, ignore_index=True)
    if path is not None:
        _replace(path, allrows, notebook=notebook, region=region)
    return len(allrows)
