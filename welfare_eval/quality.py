"""The data quality report: what the data cover, what is missing, what failed validation.

Used by ``notebooks/00_data_quality.ipynb``. A table that fails validation is reported with all its
findings and left out of the other reports; the others are still described.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import regions
from .config import DEFAULT_MIN_CELL, synthetic_dir
from .exceptions import ParameterError
from .io import coerce, prepare
from .report.display import md
from .report.strings import check_language, fmt_number, t
from .schema import TABLES
from .validation import ValidationReport

#: Environment variable that points the notebooks at another data folder (used by the tests).
SOURCE_ENV = "WELFARE_EVAL_SOURCE"


def resolve_source(data_dir: str | os.PathLike | None = None) -> Path:
    """The data folder: the argument, else ``$WELFARE_EVAL_SOURCE``, else the synthetic province."""
    if data_dir:
        return Path(data_dir)
    return Path(os.environ.get(SOURCE_ENV) or synthetic_dir())


def check_kabupaten(kabupaten: str) -> str | None:
    """``"all"`` (the province) or a BPS kabupaten code of province 76; returns None for all."""
    names = regions.kab_names()
    if kabupaten in ("all", "", None):
        return None
    if str(kabupaten) not in names:
        allowed = ", ".join(f"{k} ({v})" for k, v in names.items())
        raise ParameterError(f"The 'kabupaten' parameter must be 'all' or one of {allowed}. Got {kabupaten!r} instead.")
    return str(kabupaten)


def check_min_cell(min_cell: int) -> int:
    if isinstance(min_cell, bool) or not isinstance(min_cell, int) or min_cell < 1:
        raise ParameterError(f"The 'min_cell' parameter must be a whole number >= 1. Got {min_cell!r} instead.")
    return min_cell


@dataclass(frozen=True)
class QualityReport:
    """Tables of the data quality report, with headings in the report's language."""

    source: str
    scope: str
    language: str
    tables: pd.DataFrame
    coverage: pd.DataFrame
    strata: pd.DataFrame
    missingness: pd.DataFrame
    findings: pd.DataFrame
    headline: dict = field(default_factory=dict)

    @property
    def n_findings(self) -> int:
        return len(self.findings)

    def summary_markdown(self) -> str:
        """Title, scope and source as Markdown, in the report's language."""
        lang = self.language
        h = self.headline
        # the scope names a region and the source is a path: both escaped, never markup
        lines = [f"**{t('dq_scope', lang)}:** {md(self.scope)}  ", f"**{t('dq_source', lang)}:** {md(self.source)}", ""]
        for key in ("registry_households", "survey_households", "survey_psus", "panel_households"):
            if h.get(key) is not None:
                lines.append(f"- {t(key, lang)}: {fmt_number(h[key], lang)}")
        if h.get("panel_waves"):
            lines.append(f"- {t('panel_waves', lang)}: {', '.join(map(str, h['panel_waves']))}")
        return "\n".join(lines)

    def findings_table(self) -> pd.DataFrame:
        """The findings for display: one row saying "Tidak ada temuan" / "No findings" when there are none."""
        if self.n_findings:
            return self.findings
        return pd.DataFrame({t("message", self.language): [t("no_findings_row", self.language)]})

    def findings_text(self) -> str:
        if self.n_findings == 0:
            return t("no_findings", self.language)
        return t("findings_count", self.language, n=self.n_findings)


def _filter(df: pd.DataFrame, kab: str | None) -> pd.DataFrame:
    if kab is None:
        return df
    if "kab_code" in df.columns:
        return df[df["kab_code"] == kab]
    if "kec_code" in df.columns:
        return df[df["kec_code"].astype(str).str.startswith(kab)]
    return df


def data_quality(data_dir: str | os.PathLike | None = None, *, kabupaten: str = "all", language: str = "id",
                 min_cell: int = DEFAULT_MIN_CELL) -> QualityReport:
    """Validate and describe every contract table found in ``data_dir``.

    Parameters
    ----------
    data_dir : path, optional
        Folder with ``registry.parquet``, ``survey.parquet``, ``panel.parquet``,
        ``disbursement.parquet`` (any may be absent). Default: the synthetic province.
    kabupaten : str
        ``"all"`` or a BPS kabupaten code such as ``"7602"``.
    language : {"id", "en"}
    min_cell : int
        Strata with fewer sampled households than this are flagged.
    """
    lang = check_language(language)
    kab = check_kabupaten(kabupaten)
    check_min_cell(min_cell)
    folder = resolve_source(data_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"Data folder {folder} does not exist; run `welfare-eval synth` or set data_dir.")
    reports: dict[str, ValidationReport] = {}
    frames: dict[str, pd.DataFrame] = {}
    rows = []
    for name in TABLES:
        path = folder / f"{name}.parquet"
        if not path.exists():
            rows.append(
                (name, path.name, t("table_missing", lang), 0, 0, 0)
            )  # rows of the scope (kabupaten or province)
            continue
        df, rep = prepare(path, table=name)
        reports[name] = rep
        if rep.ok:
            frames[name] = _filter(coerce(df, name), kab)
            n_scope = len(frames[name])
        else:  # rows of the scope as far as the (unvalidated) codes tell
            n_scope = len(_filter(df.assign(**{c: df[c].astype("string") for c in ("kab_code", "kec_code")
                                               if c in df.columns}), kab))
        rows.append((name, path.name, t("table_ok" if rep.ok else "table_failed", lang), n_scope,
                     len(rep.errors), len(rep.findings) - len(rep.errors)))
    tables = pd.DataFrame(rows, columns=[t("table", lang), t("file", lang), t("status", lang), t("rows", lang),
                                         t("errors", lang), t("warnings", lang)])
    names = regions.kab_names()
    kabs = [kab] if kab else list(names)
    cov = pd.DataFrame({t("kabupaten", lang): [f"{k} {names[k]}" for k in kabs]})
    reg, sv, pn, ds = (frames.get(n) for n in ("registry", "survey", "panel", "disbursement"))
    if reg is not None:
        cov[t("registry_households", lang)] = [int((reg["kab_code"] == k).sum()) for k in kabs]
        cov[t("kecamatan_covered", lang)] = [
            f"{reg.loc[reg['kab_code'] == k, 'kec_code'].nunique()}/{(regions.kecamatan()['kab_code'] == k).sum()}"
            for k in kabs]
    if sv is not None:
        cov[t("survey_households", lang)] = [int((sv["kab_code"] == k).sum()) for k in kabs]
        cov[t("survey_psus", lang)] = [int(sv.loc[sv["kab_code"] == k, "psu"].nunique()) for k in kabs]
    if pn is not None:
        cov[t("panel_households", lang)] = [int(pn.loc[pn["kab_code"] == k, "hh_id"].nunique()) for k in kabs]
    if ds is not None:
        cov[t("disbursement_records", lang)] = [int(ds["kec_code"].astype(str).str.startswith(k).sum()) for k in kabs]
    strata = pd.DataFrame()
    if sv is not None:
        g = sv.groupby("strata")
        strata = pd.DataFrame({
            t("stratum", lang): g.size().index,
            t("kabupaten", lang): [f"{s[:4]} {names.get(s[:4], '?')}" for s in g.size().index],
            t("urban", lang) + "/" + t("rural", lang): [t("urban" if s.endswith("1") else "rural", lang)
                                                        for s in g.size().index],
            t("households", lang): g.size().to_numpy(),
            t("psus", lang): g["psu"].nunique().to_numpy(),
            t("estimated_households", lang): g["weight"].sum().round(0).astype("int64").to_numpy(),
        })
        small = (strata[t("psus", lang)] < 2) | (strata[t("households", lang)] < min_cell)
        strata[t("status", lang)] = [t("small_stratum", lang) if s else t("ok", lang) for s in small]
    miss = []
    for name, df in frames.items():
        for col in df.columns:
            n = int(df[col].isna().sum())
            if n:
                miss.append((name, col, n, n / max(len(df), 1)))
    missingness = pd.DataFrame(miss, columns=[t("table", lang), t("column", lang), t("missing", lang),
                                              t("missing_rate", lang)])
    fnd = [(f.table, f.column, f.check, f.severity, f.count, ", ".join(map(str, f.rows)), f.message, f.hint)
           for rep in reports.values() for f in rep.findings]
    findings = pd.DataFrame(fnd, columns=[t("table", lang), t("column", lang), t("check", lang), t("severity", lang),
                                          t("count", lang), t("example_rows", lang), t("message", lang),
                                          t("hint", lang)])
    headline = {
        "registry_households": None if reg is None else int(len(reg)),
        "survey_households": None if sv is None else int(len(sv)),
        "survey_psus": None if sv is None else int(sv["psu"].nunique()),
        "panel_households": None if pn is None else int(pn["hh_id"].nunique()),
        "panel_waves": None if pn is None else sorted(int(w) for w in pn["wave"].unique()),
        "findings": len(findings),
        "tables_failed": sorted(n for n, r in reports.items() if not r.ok),
    }
    scope = t("province", lang) if kab is None else f"{t('kabupaten', lang)} {names[kab]} ({kab})"
    return QualityReport(str(folder), scope, lang, tables, cov, strata, missingness, findings, headline)


@dataclass(frozen=True)
class Region:
    """The data of one report's region: the tables of the source and the kabupaten asked for.

    ``kab`` is None for the province. The tables hold the whole province (models such as the
    small-area one are fitted on all of it); :meth:`pick` keeps the rows of the region.
    """

    data: object  # io.Dataset
    kab: str | None

    def __getitem__(self, table: str) -> pd.DataFrame:
        return self.data[table]  # type: ignore[index]

    def __contains__(self, table: str) -> bool:
        return table in self.data  # type: ignore[operator]

    def pick(self, frame: pd.DataFrame, column: str = "kab_code", *, what: str = "the frame") -> pd.DataFrame:
        """The rows of ``frame`` in the region (all of them for the province).

        For a kabupaten, ``frame`` must have ``column`` (the BPS kabupaten code): a frame without it
        would silently stand for the whole province, so that is an error naming ``what`` and its
        columns.
        """
        if self.kab is None:
            return frame
        if column not in frame.columns:
            cols = ", ".join(map(str, frame.columns[:12])) + (", ..." if len(frame.columns) > 12 else "")
            raise ParameterError(
                f"Cannot keep the rows of kabupaten {self.kab} in {what}: it has no column {column!r} (its "
                f"{len(frame.columns)} columns: {cols}); compute it by {column!r} (by=\"{column}\"), or derive "
                f"{column!r} from the first four digits of 'kec_code', before picking the region.")
        return frame[frame[column].astype(str) == self.kab]

    def table(self, name: str) -> pd.DataFrame:
        """Table ``name`` restricted to the region."""
        return self.pick(self[name], what=f"table {name!r}")

    def scope(self, language: str) -> str:
        """'Provinsi Sulawesi Barat' or 'Kabupaten Majene', in the language."""
        if self.kab is None:
            return t("province", language)
        return f"{t('kabupaten', language)} {regions.kab_names()[self.kab]}"


def load_region(data_dir: str | os.PathLike | None = "", kabupaten: str = "all", *,
                tables: tuple[str, ...] = tuple(TABLES), language: str = "id") -> Region:
    """The notebooks' one call to load data: check the parameters, find the source, load and validate.

    ``data_dir`` empty means ``$WELFARE_EVAL_SOURCE`` or the synthetic province; ``kabupaten`` is
    ``"all"`` or a BPS code (checked); ``tables`` are the contract tables the report needs.
    """
    from .io import load_dataset

    check_language(language)
    kab = check_kabupaten(kabupaten)
    return Region(load_dataset(resolve_source(data_dir), tables=tables), kab)
