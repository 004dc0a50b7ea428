"""Validation of a table against the data contract.

:func:`validate` looks at everything and reports every problem at once; nothing is coerced or
written until the report is clean. Each finding names the table, the column, how many rows, the
first rows (counted from 1, the first data row) and how to fix it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import regions
from .exceptions import DataValidationError
from .schema import Column, Table
from .schema import table as contract_table

#: How many example rows a finding lists.
EXAMPLE_ROWS = 5


@dataclass(frozen=True)
class Finding:
    """One problem found in a table."""

    table: str
    column: str
    check: str
    count: int
    rows: tuple[int, ...]
    message: str
    hint: str
    severity: str = "error"  # "error" stops a load; "warning" is reported only

    def __str__(self) -> str:
        where = ""
        if self.rows:
            more = ", ..." if self.count > len(self.rows) else ""
            where = f" (rows {', '.join(map(str, self.rows))}{more})"
        return f"Column {self.column!r} of table {self.table}: {self.message}{where}; {self.hint}"


@dataclass(frozen=True)
class ValidationReport:
    """Every finding of one validation."""

    table: str
    nrows: int
    source: str = ""
    findings: tuple[Finding, ...] = field(default=())

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_frame(self) -> pd.DataFrame:
        cols = ["table", "column", "check", "severity", "count", "rows", "message", "hint"]
        return pd.DataFrame(
            [[f.table, f.column, f.check, f.severity, f.count, ", ".join(map(str, f.rows)), f.message, f.hint]
             for f in self.findings],
            columns=cols,
        )

    def __str__(self) -> str:
        src = f" ({self.source})" if self.source else ""
        if not self.findings:
            return f"Table {self.table}{src}: {self.nrows} rows, no problems found."
        head = (f"Table {self.table}{src}: {self.nrows} rows, {len(self.errors)} error(s), "
                f"{len(self.findings) - len(self.errors)} warning(s).")
        return "\n".join([head] + [f"- [{f.severity}] {f}" for f in self.findings])

    def raise_if_errors(self) -> None:
        if not self.ok:
            raise DataValidationError(str(self), report=self)


def rows_of(mask) -> tuple[int, tuple[int, ...]]:
    """How many rows a mask marks and the first :data:`EXAMPLE_ROWS` of them, counted from 1."""
    idx = np.flatnonzero(np.asarray(mask, dtype=bool))
    return int(idx.size), tuple(int(i) + 1 for i in idx[:EXAMPLE_ROWS])


_rows = rows_of

#: A disbursed amount above this multiple of the quarter's allocation is warned about: a back-payment
#: (rapel) of one missed quarter doubles a payment; anything beyond is more likely a typing error
#: (an extra zero) than a real payment.
PLAUSIBLE_DISBURSED_RATIO = 2.0

#: Dates written day and month first with slashes, dots or dashes (31/03/2024, 3.4.24).
DMY_DATE = r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}"


class _Collector:
    def __init__(self, table: Table):
        self.table = table
        self.findings: list[Finding] = []

    def add(self, column: str, check: str, mask, message: str, hint: str, severity: str = "error") -> None:
        mask = np.asarray(mask, dtype=bool)
        count, rows = _rows(mask)
        if count:
            self.findings.append(Finding(self.table.name, column, check, count, rows,
                                         message.format(n=count), hint, severity))

    def add_plain(self, column: str, check: str, count: int, message: str, hint: str) -> None:
        self.findings.append(Finding(self.table.name, column, check, count, (), message, hint))


def _numeric(series: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Values as float and a mask of entries that are present but not numbers."""
    if pd.api.types.is_bool_dtype(series):
        return series.astype(float), np.zeros(len(series), bool)
    if pd.api.types.is_numeric_dtype(series):
        return series.astype(float), np.zeros(len(series), bool)
    num = pd.to_numeric(series, errors="coerce")
    bad = (num.isna() & series.notna()).to_numpy()
    return num.astype(float), bad


_TRUE = {True, "1", "true", "True", "TRUE", "ya", "Ya", "YA"}
_FALSE = {False, "0", "false", "False", "FALSE", "tidak", "Tidak", "TIDAK"}


def _check_column(c: _Collector, col: Column, s: pd.Series) -> None:
    present = s.notna().to_numpy()
    if not col.nullable:
        c.add(col.name, "missing", ~present, "{n} missing values",
              "fill them in or drop those rows before loading")
    if col.kind in ("int", "float"):
        num, bad = _numeric(s)
        c.add(
            col.name,
            "type",
            bad,
            "{n} values are not numbers",
            f"{col.name} must be numeric ({col.unit or 'a number'}); remove text such as units or thousands separators",
        )
        v = num.to_numpy()
        inf = np.isinf(v)
        c.add(col.name, "finite", inf, "{n} values are infinite (inf or -inf)",
              f"{col.name} must be a finite number: an inf usually comes from a division by zero in the export; "
              "correct those rows or leave them empty")
        ok = ~np.isnan(v) & ~inf
        if col.kind == "int":
            c.add(col.name, "type", ok & (np.floor(np.where(ok, v, 0)) != np.where(ok, v, 0)),
                  "{n} values are not whole numbers", f"{col.name} counts whole units")
        if col.min is not None:
            if col.min_exclusive:
                zero = ok & (v == col.min)
                below = ok & (v < col.min)
                c.add(col.name, "range", zero, "{n} values are zero",
                      f"{col.name} must be > {col.min:g}; drop or correct those rows")
                c.add(
                    col.name,
                    "range",
                    below,
                    "{n} negative values" if col.min == 0 else f"{{n}} values below {col.min:g}",
                    f"{col.name} must be > {col.min:g}",
                )
            else:
                c.add(col.name, "range", ok & (v < col.min), f"{{n}} values below {col.min:g}",
                      f"{col.name} must be >= {col.min:g}")
        if col.max is not None:
            c.add(col.name, "range", ok & (v > col.max), f"{{n}} values above {col.max:g}",
                  f"{col.name} must be <= {col.max:g}")
    elif col.kind == "bool":
        if not pd.api.types.is_bool_dtype(s):
            vals = s.astype(object)
            bad = present & ~vals.isin(_TRUE | _FALSE).to_numpy()
            c.add(col.name, "type", bad, "{n} values are not yes/no",
                  f"{col.name} must be true/false or 1/0; map other codes in the column mapping (recode)")
    elif col.kind == "date" and not pd.api.types.is_datetime64_any_dtype(s):
        txt = s.astype("string").str.strip()
        parsed = pd.to_datetime(txt, format="ISO8601", errors="coerce")
        not_iso = present & parsed.isna().to_numpy()
        dmy = not_iso & txt.str.fullmatch(DMY_DATE).fillna(False).to_numpy(bool)
        first = pd.to_numeric(txt.str.extract(r"^(\d{1,2})[/.-]", expand=False), errors="coerce")
        ambiguous = bool(dmy.any()) and bool((first[dmy] <= 12).all())
        c.add(col.name, "date_format", dmy,
              "{n} dates are written day/month/year or month/day/year (e.g. 03/04/2024)"
              + (", and every first number is 12 or less, so day-first cannot be told from month-first"
                 if ambiguous else ""),
              f"write {col.name} as YYYY-MM-DD, or declare the format in the column mapping "
              f"(date_format: {{{col.name}: '%d/%m/%Y'}})")
        c.add(col.name, "type", not_iso & ~dmy, "{n} values are not dates in the form YYYY-MM-DD",
              f"{col.name} must be a date such as 2024-03-31 (one format for the whole column; declare another "
              "in the column mapping's date_format)")
    if col.pattern:
        ok_pattern = s.astype("string").str.strip().str.fullmatch(col.pattern).fillna(False).to_numpy(bool)
        c.add(col.name, "pattern", present & ~ok_pattern, f"{{n}} values are not written {col.pattern_text}",
              f"write every {col.name} as {col.pattern_text}")
    if col.allowed:
        bad = present & ~s.astype(object).isin(col.allowed).to_numpy()
        c.add(col.name, "allowed", bad, "{n} values outside the allowed set",
              f"allowed values are {', '.join(map(str, col.allowed))}")
    if col.kind == "code":
        txt = s.astype("string")
        bad = present & ~txt.str.fullmatch(r"\d+").fillna(False).to_numpy(dtype=bool)
        c.add(col.name, "type", bad, "{n} codes are not strings of digits",
              f"{col.name} must be a code of digits, read as text so leading zeros are kept")


def _check_amounts(c: _Collector, data: pd.DataFrame) -> None:
    if not {"allocated_amount", "disbursed_amount"} <= set(data.columns):
        return
    alloc, _ = _numeric(data["allocated_amount"])
    paid, _ = _numeric(data["disbursed_amount"])
    with np.errstate(invalid="ignore"):
        high = ((paid > PLAUSIBLE_DISBURSED_RATIO * alloc) & (alloc > 0)).to_numpy(bool)
    c.add("disbursed_amount", "plausibility", high,
          f"{{n}} disbursed amounts are more than {PLAUSIBLE_DISBURSED_RATIO:g} times the quarter's allocated amount",
          "check those rows for an extra zero or a wrong unit (Rp vs thousand Rp)", severity="warning")


def _check_regions(c: _Collector, data: pd.DataFrame, system: str = "bps") -> None:
    known = {"kab": set(regions.kabupaten()["kab_code"]), "kec": set(regions.kecamatan()["kec_code"])}
    for col in c.table.columns:
        if not col.region or col.name not in data.columns:
            continue
        s = data[col.name].astype("string")
        present = s.notna().to_numpy()
        if col.region in known:
            bad = present & ~s.isin(known[col.region]).fillna(False).to_numpy(dtype=bool)
            if system == "kemendagri":
                c.add(col.name, "region", bad, "{n} codes unknown in province 76 (Kemendagri-style codes, "
                      "as the column mapping declares)",
                      f"check them against the column {col.region}_code_kemendagri of welfare_eval/data/regions_"
                      f"{'kabupaten' if col.region == 'kab' else 'kecamatan'}.csv; codes with dots "
                      "(76.04, 76.04.01) are read without them")
            else:
                c.add(col.name, "region", bad, "{n} codes unknown in province 76 (BPS system)",
                      "check the code system: Kemendagri-style codes need `region_codes: kemendagri` in the "
                      "column mapping; codes with dots (76.04) are read without them")
    if {"kab_code", "kec_code"} <= set(data.columns):
        kab = data["kab_code"].astype("string")
        kec = data["kec_code"].astype("string")
        bad = (kab.notna() & kec.notna() & (kec.str.slice(0, 4) != kab)).fillna(False).to_numpy(dtype=bool)
        c.add("kec_code", "region", bad, "{n} kecamatan codes lie outside the row's kabupaten",
              "kec_code must start with kab_code (BPS codes); if the file uses Kemendagri-style codes "
              "(kabupaten 7601 is Pasangkayu there, Majene in BPS), declare `region_codes: kemendagri` in the "
              "column mapping")
    if {"kec_code", "desa_code"} <= set(data.columns):
        kec = data["kec_code"].astype("string")
        desa = data["desa_code"].astype("string")
        bad = (desa.notna() & kec.notna()
               & ((desa.str.slice(0, 7) != kec) | (desa.str.len() != 10))).fillna(False).to_numpy(dtype=bool)
        c.add("desa_code", "region", bad, "{n} desa codes are not 10-digit codes inside the row's kecamatan",
              "desa_code must be the 10-digit BPS code that starts with kec_code")


def _check_key(c: _Collector, data: pd.DataFrame) -> None:
    key = [k for k in c.table.key if k in data.columns]
    if len(key) != len(c.table.key):
        return
    dup = data.duplicated(subset=key, keep=False).to_numpy()
    c.add(",".join(key), "duplicate_key", dup, "{n} rows share a key with another row",
          f"each ({', '.join(key)}) must appear once; remove the duplicates")


def _check_design(c: _Collector, data: pd.DataFrame) -> None:
    if not {"strata", "psu"} <= set(data.columns):
        return
    d = data[["strata", "psu"]].astype("string")
    n_strata = d.groupby("psu", observed=True)["strata"].nunique()
    spanning = n_strata[n_strata > 1].index
    c.add("psu", "design", d["psu"].isin(spanning).fillna(False).to_numpy(dtype=bool),
          f"{len(spanning)} PSU(s) span more than one stratum ({{n}} rows)",
          "a PSU must be nested in one stratum; give PSUs codes unique within strata or check the strata column")
    n_psu = d.groupby("strata", observed=True)["psu"].nunique()
    single = n_psu[n_psu < 2].index
    if len(single):
        mask = d["strata"].isin(single).fillna(False).to_numpy(dtype=bool)
        c.add("strata", "design", mask,
              f"{len(single)} stratum/strata with a single PSU ({', '.join(map(str, single[:5]))}; {{n}} rows)",
              "a variance needs two PSUs per stratum: collapse the stratum with a neighbour, "
              "or choose a lonely-PSU rule when estimating")


def validate(data: pd.DataFrame, table: str | Table, *, source: str = "", findings=(),
             region_system: str = "bps") -> ValidationReport:
    """Check ``data`` against the contract of ``table`` and report every problem at once.

    Parameters
    ----------
    data : DataFrame
        The table after column mapping (contract names).
    table : str or Table
        ``"registry"``, ``"survey"``, ``"panel"`` or ``"disbursement"``.
    source : str
        Where the data came from, for the messages.
    findings : sequence of Finding
        Problems found before validation (the column mapping's, the NIK checks'), listed first.
    region_system : {"bps", "kemendagri"}
        The code system the raw file used (for the hint on unknown codes).

    Returns
    -------
    ValidationReport
        ``report.ok`` is true when no error was found; ``report.raise_if_errors()`` raises
        :class:`~welfare_eval.exceptions.DataValidationError` listing them all.
    """
    t = contract_table(table) if isinstance(table, str) else table
    c = _Collector(t)
    c.findings.extend(findings)
    missing = [col.name for col in t.columns if col.required and col.name not in data.columns]
    if missing:
        c.add_plain(", ".join(missing), "missing_column", len(missing),
                    f"{len(missing)} required column(s) missing",
                    "add them or map the raw names onto them in the column mapping (data/mappings/*.yaml); "
                    f"columns present: {', '.join(map(str, data.columns[:20]))}")
    if len(data) == 0:
        c.add_plain("*", "empty", 0, "the table has no rows", "check the file and the filter")
    for col in t.columns:
        if col.name in data.columns:
            _check_column(c, col, data[col.name])
    _check_regions(c, data, region_system)
    _check_key(c, data)
    _check_amounts(c, data)
    if t.survey_design:
        _check_design(c, data)
    return ValidationReport(t.name, len(data), source, tuple(c.findings))
