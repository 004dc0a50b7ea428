"""The results store of a run, disclosure control, and tables for readers.

Each report notebook stores its key results as tidy rows (columns ``STORE_COLUMNS``). The store is
a single CSV file, or (as ``welfare-eval run`` uses it) a folder with one file per notebook and
region, so that jobs running at the same time on several workers never write the same file; the
runner gathers the folder into ``results.csv`` beside the manifest. The briefing and the index
read either form.

Disclosure control (``suppress``, ``secondary_suppress``): a cell is published only when every group
it compares has at least ``min_cell`` households: the cell's own households (``nobs``) and, where the
frame has them, the treated and comparison households (``n_treated``, ``n_control``) or the two sides
of a cut-off (``n_left``, ``n_right``). Counts of records (disbursements, household-waves) are not
counts of households: the callers give household counts. Primary suppression blanks the cells
below the threshold; secondary suppression then blanks as few other cells as it must so that no
blanked cell of a table with additive structure (a total that is the sum of its parts, shares that
add up) can be recomputed from the cells shown and the totals (assumed published).
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
                 "std_error", "ci_lower", "ci_upper", "nobs", "suppressed", "n_min_group")
#: Columns of a tidy frame that are not group labels.
_VALUE_COLUMNS = {"estimand", "estimate", "std_error", "ci_lower", "ci_upper", "level", "nobs", "method", "df",
                  "notes", "deff", "outcome", "treatment", "n_treated", "pvalue", "suppressed", "program",
                  "n_control", "n_left", "n_right", "n_min_group",
                  "band_lower", "band_upper", "measure", "method_key", "control_mean", "relative", "threshold",
                  "normalized_by", "ci_method", "ci_n", "ci_df", "poor_before"}
#: Environment variable naming the results store when a notebook runs outside ``welfare-eval run``.
RESULTS_ENV = "WELFARE_EVAL_RESULTS"


def results_path(results: str | os.PathLike | None) -> Path | None:
    """The store to write to: the parameter, else ``$WELFARE_EVAL_RESULTS``, else none."""
    value = results or os.environ.get(RESULTS_ENV)
    return Path(value) if value else None


#: Columns holding the household counts of the groups a cell compares; the smallest decides.
GROUP_COUNTS = ("nobs", "n_treated", "n_control", "n_left", "n_right")
#: A suppressed cell counts as recomputable when a null-space direction of the constraints moves it
#: by less than this (relative to the largest component): only rounding error is left.
RECOMPUTE_TOL = 1e-9


def check_min_cell(min_cell) -> int:
    if isinstance(min_cell, bool) or not isinstance(min_cell, (int, np.integer)) or min_cell < 1:
        raise ParameterError(f"The 'min_cell' parameter must be a whole number >= 1. Got {min_cell!r} instead.")
    return int(min_cell)


def smallest_group(frame: pd.DataFrame, count: str = "nobs") -> np.ndarray:
    """Per row, the fewest households in any group the cell compares (missing counts are ignored;
    a row without any count has 0). ``n_control`` is taken as ``nobs - n_treated`` when only
    ``n_treated`` is given (one row per household, as the cross-section estimators have)."""
    cols = [count, *(c for c in GROUP_COUNTS[1:] if c in frame.columns)]
    counts = pd.DataFrame({c: pd.to_numeric(frame[c], errors="coerce") for c in cols if c in frame.columns},
                          index=frame.index)
    if "n_treated" in counts and "n_control" not in counts and count in counts:
        counts["n_control"] = counts[count] - counts["n_treated"]
    if counts.empty:
        return np.zeros(len(frame))
    low = counts.min(axis=1, skipna=True)
    return low.fillna(0).to_numpy()


def suppress(frame: pd.DataFrame, *, min_cell: int = DEFAULT_MIN_CELL, count: str = "nobs",
             columns=("estimate", "std_error", "ci_lower", "ci_upper", "band_lower", "band_upper", "relative",
                      "control_mean", "pvalue")) -> pd.DataFrame:
    """Blank the numbers of rows whose smallest group has fewer than ``min_cell`` households and
    mark them; rows already marked (by secondary suppression) stay suppressed."""
    min_cell = check_min_cell(min_cell)
    out = frame.copy()
    small = smallest_group(out, count) < min_cell
    if "suppressed" in out.columns:
        small |= out["suppressed"].fillna(False).astype(bool).to_numpy()
    return _blank(out, small, columns)


def _blank(out: pd.DataFrame, small: np.ndarray,
           columns=("estimate", "std_error", "ci_lower", "ci_upper", "band_lower", "band_upper", "relative",
                    "control_mean", "pvalue")) -> pd.DataFrame:
    for c in columns:
        if c in out.columns:
            out[c] = pd.to_numeric(out[c], errors="coerce").astype(float).where(~small, np.nan)
    out["suppressed"] = small
    return out


def _lines(frame: pd.DataFrame, margins) -> list[np.ndarray]:
    """Positions of the cells of each line: for each margin (a list of columns), the cells sharing
    its values add up to a published total; the empty margin is the table's grand total. A line of
    one cell is left out: its total is that cell, resting on the same households."""
    out = []
    for m in margins:
        m = list(m)
        if not m:
            out.append(np.arange(len(frame)))
        else:
            out += [np.asarray(v) for v in frame.groupby(m, sort=False, dropna=False).indices.values()]
    return [np.sort(ln) for ln in out if len(ln) > 1]


def recomputable(suppressed: np.ndarray, lines: list[np.ndarray]) -> np.ndarray:
    """Which suppressed cells the shown cells and the line totals determine exactly.

    Every line says: sum of its cells (each times an unknown positive weight, such as a
    population share, which a change of variable makes 1) = its total. With the shown cells moved
    to the right-hand side, a suppressed cell is determined when no solution of the homogeneous
    system over the suppressed cells moves it, i.e. its column of the null space is zero."""
    from scipy.linalg import null_space

    sup = np.flatnonzero(suppressed)
    out = np.zeros(len(suppressed), bool)
    if not len(sup) or not lines:
        return out
    a = np.zeros((len(lines), len(sup)))
    where = {c: j for j, c in enumerate(sup)}
    for i, ln in enumerate(lines):
        for c in ln:
            if c in where:
                a[i, where[c]] = 1.0
    a = a[a.any(axis=1)]
    if not len(a):
        return out
    ns = null_space(a)
    free = np.abs(ns).max(axis=1) if ns.size else np.zeros(len(sup))
    out[sup] = free <= RECOMPUTE_TOL
    return out


def secondary_suppress(frame: pd.DataFrame, *, margins=((),), within=(), count: str = "nobs",
                       min_cell: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
    """Primary suppression, then as many more cells as needed so that no suppressed cell can be
    recomputed from the shown cells and the totals of the table's lines (as tau-Argus's secondary
    suppression; here exact recomputation is prevented, the hypercube-style rule of at least two
    suppressed cells per line followed by an exact check of the whole linear system).

    ``margins``: lists of columns whose shared values make a line with a published total
    (``[["kab"], ["area"]]`` for a kabupaten x area table whose kabupaten and area totals are
    published; ``[()]`` for parts of one total); ``within``: columns splitting the frame into
    tables suppressed independently (``measure``, ``program``). Extra cells are chosen by the
    fewest households, so that the least information is lost.
    """
    out = suppress(frame, min_cell=min_cell, count=count)
    sup = out["suppressed"].to_numpy().copy()
    size = smallest_group(out, count)
    blocks = ([np.arange(len(out))] if not within else
              [np.sort(np.asarray(v)) for v in out.groupby(list(within), sort=False, dropna=False).indices.values()])
    for block in blocks:
        lines = [block[ln] for ln in _lines(out.iloc[block], margins)]
        while True:
            # a line with exactly one suppressed cell gives it away: suppress its smallest partner
            single = [ln for ln in lines if sup[ln].sum() == 1]
            if single:
                shown = single[0][~sup[single[0]]]
                sup[shown[np.argmin(size[shown])]] = True
                continue
            # the whole system: a cell still determined by several lines together
            local = recomputable(sup[block], [np.searchsorted(block, ln) for ln in lines])
            partners = np.array([], int)
            for cell in block[np.flatnonzero(local)]:
                partners = np.unique(np.concatenate([ln for ln in lines if cell in ln]))
                partners = partners[~sup[partners]]
                if len(partners):
                    break
            if not len(partners):
                break
            sup[partners[np.argmin(size[partners])]] = True
    return _blank(out, sup)


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
        # the households of the smallest group the row compares (what the disclosure rule tested)
        "n_min_group": smallest_group(f) if "nobs" in f.columns else np.nan,
    })[list(STORE_COLUMNS)]
    # a count under the threshold is itself a small cell (the sampled poor missed in a kecamatan,
    # the recipients of a kabupaten): a suppressed row keeps only counts of at least min_cell
    small = out["suppressed"].astype(bool) & (out["n_min_group"].fillna(0) < min_cell)
    out.loc[small, ["nobs", "n_min_group"]] = np.nan
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


def markers(frame: pd.DataFrame, language: str, *, min_cell: int = DEFAULT_MIN_CELL, count: str = "nobs") -> list:
    """Per row: None when shown, else why it is blank (too few households, or hidden so that a
    suppressed cell cannot be worked out from the totals)."""
    supp = (frame["suppressed"].fillna(False).astype(bool).to_numpy() if "suppressed" in frame.columns
            else np.zeros(len(frame), bool))
    primary = smallest_group(frame, count) < min_cell
    return [None if not s else t("suppressed", language, n=min_cell) if p else t("suppressed_secondary", language)
            for s, p in zip(supp, primary)]


def n_column(frame: pd.DataFrame, language: str, *, count: str = "nobs") -> tuple[str, list]:
    """The households each shown row rests on, headed by what they are: the recipients and the
    comparison households, the two sides of a cut-off, or the households of the cell; blank for a
    suppressed row (its marker says why)."""
    supp = (frame["suppressed"].fillna(False).astype(bool).to_numpy() if "suppressed" in frame.columns
            else np.zeros(len(frame), bool))
    num = lambda v: fmt_number(v, language)  # noqa: E731
    if "n_left" in frame.columns:
        return t("n_sides", language), ["" if s else f"{num(a)} / {num(b)}"
                                         for a, b, s in zip(frame["n_left"], frame["n_right"], supp)]
    if "n_treated" in frame.columns and frame["n_treated"].notna().any():
        control = frame["n_control"] if "n_control" in frame.columns else frame[count] - frame["n_treated"]
        return t("n_groups", language), ["" if s else f"{num(a)} / {num(b)}"
                                         for a, b, s in zip(frame["n_treated"], control, supp)]
    return t("n_households", language), ["" if s else num(v) for v, s in zip(frame[count], supp)]


#: BPS's reading of the relative standard error (standard error / estimate), as for the kecamatan
#: estimates (``small_area.RSE_RELIABLE``/``RSE_CAUTION``): up to 25% reliable, over 25% and up to
#: 50% shown with a caution mark, over 50% not published.
RSE_RELIABLE, RSE_CAUTION = 0.25, 0.50


def relative_se(frame: pd.DataFrame) -> np.ndarray:
    """Standard error / estimate per row; NaN where the estimate is not positive or has no standard
    error (a rate of zero has an interval but no relative error)."""
    est = pd.to_numeric(frame["estimate"], errors="coerce").to_numpy(float)
    se = pd.to_numeric(frame["std_error"], errors="coerce").to_numpy(float) if "std_error" in frame.columns \
        else np.full(len(frame), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(est > 0, se / est, np.nan)


def display_table(frame: pd.DataFrame, language: str, *, pct: bool = True, digits: int = 1,
                  label_columns=(), value_label: str = "estimate", min_cell: int = DEFAULT_MIN_CELL,
                  reliability: bool = False) -> pd.DataFrame:
    """Estimates with their intervals as text in the language's format and the households they rest
    on; suppressed cells marked. ``reliability``: a column of relative standard errors and BPS's
    bands (over 25% marked *, over 50% not published), explained under the table."""
    fmt = (lambda v: fmt_pct(v, language, digits=digits)) if pct else (lambda v: fmt_number(v, language, digits=digits))
    out = frame[list(label_columns)].copy() if label_columns else pd.DataFrame(index=frame.index)
    mark = markers(frame, language, min_cell=min_cell)
    rse = relative_se(frame) if reliability else np.full(len(frame), np.nan)
    hidden = [m is None and r > RSE_CAUTION for m, r in zip(mark, rse)]  # NaN compares False
    caution = [m is None and RSE_RELIABLE < r <= RSE_CAUTION for m, r in zip(mark, rse)]
    out[value_label] = [m if m else t("rse_not_published", language) if h else fmt(v) + (" *" if c else "")
                        for v, m, h, c in zip(frame["estimate"], mark, hidden, caution)]
    ci = [("" if m or h or pd.isna(lo) else f"{fmt(lo)} – {fmt(hi)}")
          for lo, hi, m, h in zip(frame["ci_lower"], frame["ci_upper"], mark, hidden)]
    out[t("ci95", language)] = ci
    if reliability:
        out[t("sa_rse", language)] = ["" if m or not np.isfinite(r) else fmt_pct(r, language, digits=0)
                                     for m, r in zip(mark, rse)]
    if "nobs" in frame.columns:
        head, values = n_column(frame, language)
        out[head] = values
    out = out.reset_index(drop=True)
    if reliability:
        out.attrs["note"] = t("rse_note", language)
    return out


def save_section(path: str | os.PathLike | None, section, *, notebook: str, region: str,
                 min_cell: int = DEFAULT_MIN_CELL) -> int:
    """Append every tidy result of a report section to the store; returns the rows written.
    ``section``: an object with ``rows``, or the list of ``(programme, outcome, tidy rows)`` itself."""
    triples = section if isinstance(section, (list, tuple)) else section.rows
    frames = [append(None, rows, notebook=notebook, region=region, program=program, outcome=outcome,
                     min_cell=min_cell) for program, outcome, rows in triples]
    if not frames:
        return 0
    allrows = pd.concat(frames, ignore_index=True)
    if path is not None:
        _replace(path, allrows, notebook=notebook, region=region)
    return len(allrows)


def latest_store(start: str | os.PathLike | None = None) -> Path:
    """The results store of the newest run under ``$WELFARE_EVAL_REPORTS`` or the nearest ``reports/``
    of the working folder (or ``start``) and its parents; an error that says what to pass if none."""
    from ..config import REPORTS_SUBDIR, find_upwards
    from ..exceptions import RunError

    root = Path(os.environ["WELFARE_EVAL_REPORTS"]) if os.environ.get("WELFARE_EVAL_REPORTS") else \
        find_upwards(REPORTS_SUBDIR, start)
    runs = [] if root is None or not root.is_dir() else [
        p for p in root.iterdir() if p.is_dir() and ((p / "results.csv").is_file() or (p / "results").is_dir())]
    if not runs:
        raise RunError(f"No results store given and no run with one under {root or REPORTS_SUBDIR}: pass "
                       "results='reports/<run>/results.csv' (the folder of a welfare-eval run), or run "
                       "`welfare-eval run` first.")
    newest = max(runs, key=lambda p: ((p / "manifest.json").stat().st_mtime if (p / "manifest.json").exists()
                                      else p.stat().st_mtime, p.name))
    return newest / "results.csv" if (newest / "results.csv").is_file() else newest / "results"
