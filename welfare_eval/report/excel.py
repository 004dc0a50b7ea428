"""Report tables out to Excel: one workbook per region and language at the end of a run.

The workbook is read from the run's results store (what the notebooks stored, nothing recomputed)
and holds:

* a first sheet of sources and definitions (what the columns mean, the disclosure rule, the data
  and reference files the run read, and a list of the table sheets);
* one sheet per report table (a notebook's rows for one programme and outcome): the group columns,
  the estimand, the method, then the estimate, the interval's bounds, the standard error and n, each
  in its own column as a real number. Shares, rupiah and other numbers get Excel number formats
  (``0.0%``, ``"Rp "#,##0``, ``0.000``), tagged with the language's locale (``[$-421]``
  Indonesian, ``[$-409]`` English) so that a spreadsheet program that honours the tag (LibreOffice)
  shows ``13,4%`` in the Indonesian workbook; Excel itself uses the reader's regional settings for
  the separators. A suppressed cell (fewer than ``min_cell`` observations) is left empty and its
  row says why; so is a cell the report does not publish for its relative standard error (the
  tables in ``BANDED_OUTCOMES``, with the bands of ``welfare_eval.reliability``), and a cell to use
  with caution says so in its note.

``write_workbook(run_dir, region=..., language=...)`` is what the runner calls; ``workbook_path``
says where it goes.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .. import __version__, reliability
from ..config import DEFAULT_LEVEL, DEFAULT_MIN_CELL
from .strings import check_language, t, t_or

#: Locale tags of the number formats (Windows LCIDs): Indonesian and English (United States).
LOCALE_TAGS = {"id": "[$-421]", "en": "[$-409]"}

#: Number formats by kind of value (before the locale tag).
NUMBER_FORMATS = {"pct": "0.0%", "rp": '"Rp "#,##0', "num": "0.000", "n": "#,##0"}

#: Estimands and outcomes that are not shares: amounts in rupiah, and ratios or indices.
_RP = re.compile(r"\(Rp\)|cons_pc|cost", re.IGNORECASE)
_NUM = re.compile(r"gini|cgh|benefit_cost|ratio|index|summary_index", re.IGNORECASE)

#: The stored tables the reports show with BPS's reliability bands (``welfare_eval.reliability``):
#: the poverty profile's kabupaten x area cells (its area table) and its six kabupaten (the chart).
#: Their sheets follow the same bands: over 50% RSE (or a zero estimate) the numbers are left empty
#: and the note says not published; 25-50% the note carries the caution mark.
BANDED_OUTCOMES = {"10_poverty_profile": ("headcount", "gap", "extreme", "P0 by kabupaten", "extreme by kabupaten")}


def uses_bands(notebook: str, outcome: str, group: str) -> bool:
    """Whether a stored row belongs to a table shown with the reliability bands: a listed outcome,
    and for the area measures only the kabupaten x area cells (not the region's headline row)."""
    if outcome not in BANDED_OUTCOMES.get(str(notebook), ()):
        return False
    return outcome.endswith("by kabupaten") or "area=" in str(group)


#: Sheet names may not hold these characters and are at most 31 characters long.
_BAD_SHEET = re.compile(r"[\[\]:*?/\\]")


def value_kind(estimand: str, outcome: str = "") -> str:
    """``"rp"`` for rupiah amounts, ``"num"`` for ratios and indices, else ``"pct"`` (a share or a
    difference of shares, shown as a percentage)."""
    text = f"{estimand} {outcome}"
    if _RP.search(text):
        return "rp"
    if _NUM.search(text):
        return "num"
    return "pct"


def number_format(kind: str, language: str) -> str:
    return LOCALE_TAGS[language] + NUMBER_FORMATS[kind]


def workbook_path(run_dir: str | os.PathLike, *, region: str, language: str) -> Path:
    """``<run>/tabel_<provinsi|76NN>_<language>.xlsx``."""
    label = "provinsi" if str(region) in ("all", "") else str(region)
    return Path(run_dir) / f"tabel_{label}_{language}.xlsx"


#: Group columns of the store and the string keys of their headings.
_GROUP_LABELS = {"kab_name": "kabupaten", "kab_code": "kabupaten", "kec_name": "kecamatan", "kec_code": "kecamatan"}
#: Markers in the store's group text that are not groups (how an interval was made).
_NOT_GROUPS = {"ci_own"}


def _label(key: str, language: str) -> str:
    key = _GROUP_LABELS.get(key, key)
    return t_or(key, language, key)


def _region_name(region: str, language: str) -> str:
    from ..regions import kab_names

    return t("province", language) if str(region) in ("all", "") else f"{t('kabupaten', language)} " \
        f"{kab_names().get(str(region), str(region))}"


def _split_groups(groups: pd.Series) -> pd.DataFrame:
    """``"kab_name=Majene; area=Perdesaan"`` -> columns kab_name, area."""
    parsed = [{k: v for k, v in (p.split("=", 1) for p in str(g).split("; ") if "=" in p) if k not in _NOT_GROUPS}
              if isinstance(g, str) and g else {} for g in groups]
    keys = list(dict.fromkeys(k for d in parsed for k in d))
    return pd.DataFrame([[d.get(k, "") for k in keys] for d in parsed], columns=keys, index=groups.index)


def _sheet_name(notebook: str, program: str, outcome: str, used: set) -> str:
    base = " ".join(x for x in (notebook[:2], program, outcome) if x)
    base = _BAD_SHEET.sub("-", base)[:31].strip()
    name, i = base, 2
    while name.lower() in used:
        suffix = f" ({i})"
        name, i = base[:31 - len(suffix)] + suffix, i + 1
    used.add(name.lower())
    return name


def _fit_page(ws) -> None:
    """Print (and convert to PDF) one page wide, landscape, as an analyst would set it up."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0


def _read_store(run_dir: Path) -> pd.DataFrame | None:
    from .store import read

    for src in (run_dir / "results.csv", run_dir / "results"):
        if src.is_file() or (src.is_dir() and any(src.glob("*.csv"))):
            return read(src)
    return None


def write_workbook(run_dir: str | os.PathLike, *, region: str = "all", language: str = "id",
                   min_cell: int = DEFAULT_MIN_CELL, manifest: dict | None = None) -> Path | None:
    """Write the run's tables for one region in one language; None when the store has no rows for it.

    Parameters
    ----------
    run_dir : path
        The run's folder (``results.csv`` or ``results/`` in it is read; the workbook is written there).
    region : str
        ``"all"`` (the province) or a BPS kabupaten code.
    language : {"id", "en"}
        Language of headings and notes, and locale of the number formats.
    min_cell : int
        The disclosure threshold the run used (named in the notes of suppressed rows).
    manifest : dict, optional
        The run's manifest (sources listed on the first sheet); read from ``manifest.json`` if absent.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    from ..io import atomic_path

    check_language(language)
    L = language
    run_dir = Path(run_dir)
    store = _read_store(run_dir)
    if store is None:
        return None
    rows = store[store["region"].astype(str) == str(region)]
    if rows.empty:
        return None
    if manifest is None and (run_dir / "manifest.json").exists():
        import json

        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    manifest = manifest or {}
    titles = {Path(j.get("notebook", "")).stem: j.get("title", "") for j in manifest.get("jobs", [])}

    wb = Workbook()
    about = wb.active
    about.title = t("xl_about_sheet", L)[:31]
    bold, head, small = Font(bold=True), Font(bold=True, size=13), Font(italic=True, size=9)
    used = {about.title.lower()}
    contents = []
    keys = ["notebook", "program", "outcome"]
    frame = rows.copy()
    for k in ("program", "outcome"):
        frame[k] = frame[k].astype(object).fillna("").astype(str)  # an all-empty column is float64 (NaN)
    for (nb, program, outcome), part in frame.groupby(keys, sort=False, dropna=False):
        name = _sheet_name(str(nb), program, outcome, used)
        ws = wb.create_sheet(name)
        title = " – ".join(x for x in (titles.get(str(nb)) or str(nb), program, _label(outcome, L)) if x)
        ws.cell(1, 1, title).font = head
        ws.cell(2, 1, _region_name(region, L))
        groups = _split_groups(part["group"])
        header = [_label(g, L) for g in groups.columns] + [
            t("xl_estimand", L), t("method", L), t("xl_estimate", L), t("xl_ci_lower", L), t("xl_ci_upper", L),
            t("xl_std_error", L), t("xl_n", L), t("xl_note", L)]
        for j, h in enumerate(header, start=1):
            c = ws.cell(4, j, h)
            c.font, c.alignment = bold, Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[4].height = 30
        first_num = len(groups.columns) + 3
        n_suppressed = n_banded = 0
        for i, (idx, r) in enumerate(part.iterrows(), start=5):
            for j, v in enumerate(groups.loc[idx], start=1):
                ws.cell(i, j, v)
            ws.cell(i, first_num - 2, _label(str(r["estimand"]), L))
            ws.cell(i, first_num - 1, str(r["method"]) if pd.notna(r["method"]) else "")
            kind = value_kind(str(r["estimand"]), str(r["outcome"]))
            suppressed = bool(r["suppressed"]) if pd.notna(r["suppressed"]) else False
            band = "none"
            if not suppressed and uses_bands(str(nb), outcome, str(r["group"])):
                band = str(reliability.band(reliability.relative_se([r["estimate"]], [r["std_error"]]))[0])
                n_banded += 1
            values = [r["estimate"], r["ci_lower"], r["ci_upper"], r["std_error"]]
            for j, v in enumerate(values, start=first_num):
                if not suppressed and band != "unreliable" and pd.notna(v) and np.isfinite(float(v)):
                    c = ws.cell(i, j, float(v))
                    c.number_format = number_format(kind, L)
            if pd.notna(r["nobs"]):
                c = ws.cell(i, first_num + 4, int(r["nobs"]))
                c.number_format = number_format("n", L)
            note = ""
            if suppressed:  # a row hidden by secondary suppression keeps its count (>= min_cell)
                secondary = "n_min_group" in r and pd.notna(r["n_min_group"]) and r["n_min_group"] >= min_cell
                note = t("suppressed_secondary", L) if secondary else t("suppressed", L, n=min_cell)
                n_suppressed += 1
            elif band == "unreliable":   # as the HTML table: not published
                note = t("rse_not_published", L) + (" – " + t("rse_zero_note", L) if r["estimate"] == 0 else "")
            elif band == "caution":
                note = t("xl_rse_caution", L)
            elif pd.isna(r["estimate"]):
                note = t("xl_not_computable", L)
            ws.cell(i, first_num + 5, note)
        last = 5 + len(part)
        ws.cell(last + 1, 1, t("xl_sheet_note", L, level=f"{DEFAULT_LEVEL:.0%}")).font = small
        if n_suppressed:
            ws.cell(last + 2, 1, t("xl_suppressed_note", L, k=n_suppressed, n=min_cell)).font = small
        if n_banded:   # the bands, as under the HTML table
            ws.cell(last + 2 + bool(n_suppressed), 1, t("rse_note", L)).font = small
        widths = [max(len(str(h)), *(len(str(v)) for v in groups[g])) for h, g in
                  zip(header, groups.columns)] + [28, 40, 12, 12, 12, 12, 9, 28]
        for j, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(j)].width = min(max(w + 2, 9), 45)
        ws.freeze_panes = ws.cell(5, 1)
        _fit_page(ws)
        contents.append((name, title, len(part)))

    # the first sheet: what this is, where the numbers came from, what the columns mean
    lines: list[tuple[str, str]] = [
        (t("xl_title", L), ""), (_region_name(region, L), ""), ("", ""),
        (t("xl_run", L), str(manifest.get("run_id", run_dir.name))),
        (t("generated", L), str(manifest.get("finished") or manifest.get("started") or "")),
        (t("xl_version", L), f"welfare-eval {manifest.get('package_version', __version__)}"),
        (t("xl_data", L), str((manifest.get("jobs") or [{}])[0].get("parameters", {}).get("data_dir", ""))),
        (t("xl_files", L), ", ".join(sorted(manifest.get("inputs", {})))), ("", ""),
        (t("xl_definitions", L), ""),
        (t("xl_estimate", L), t("xl_def_estimate", L)),
        (t("xl_ci_lower", L) + " / " + t("xl_ci_upper", L), t("xl_def_ci", L, level=f"{DEFAULT_LEVEL:.0%}")),
        (t("xl_std_error", L), t("xl_def_se", L)),
        (t("xl_n", L), t("xl_def_n", L)),
        (t("xl_note", L), t("xl_def_suppressed", L, n=min_cell)),
        (t("xl_formats", L), t("xl_def_formats", L)), ("", ""),
        (t("xl_sources", L), t("xl_def_sources", L)), ("", ""),
        (t("xl_contents", L), ""),
    ]
    for i, (a, b) in enumerate(lines, start=1):
        about.cell(i, 1, a).font = head if i == 1 else bold if not b and a else Font()
        about.cell(i, 2, b).alignment = Alignment(wrap_text=True, vertical="top")
    r = len(lines) + 1
    for name, title, n in contents:
        c = about.cell(r, 1, name)
        c.hyperlink = f"#'{name}'!A1"
        about.cell(r, 2, f"{title} ({n} {t('rows', L).lower()})")
        r += 1
    about.column_dimensions["A"].width = 34
    about.column_dimensions["B"].width = 100
    _fit_page(about)

    path = workbook_path(run_dir, region=region, language=L)
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path
