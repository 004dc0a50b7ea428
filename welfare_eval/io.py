"""Loaders (CSV, Parquet, Stata, SPSS), column mappings, NIK pseudonymization, atomic writes.

A load is: read the file (after checking that it is what its name says, complete and in a
declared encoding) -> apply the YAML column mapping (rename, recode by code or by value label,
compose, dates, region code system) -> check and replace NIK numbers by a keyed hash -> attach
reference columns (poverty lines) -> validate against the contract, reporting every problem at
once -> coerce to the contract types. Nothing is returned or written when validation fails.

Errors (``docs/real_data.md``): a file that cannot be read as a table raises
:class:`~welfare_eval.exceptions.FileFormatError` (invalid data, exit code 1); a path that is no
file, an unknown mapping name or a malformed mapping raises a
:class:`~welfare_eval.exceptions.ParameterError` (a bad request, exit code 2).
"""
from __future__ import annotations

import codecs
import io as _io
import os
import re
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from . import nik as _nik
from . import regions
from .config import data_dir
from .exceptions import (
    DataQualityWarning,
    DataValidationError,
    FileFormatError,
    MappingError,
    ParameterError,
    parameter_error,
)
from .schema import TABLES
from .schema import table as contract_table
from .validation import Finding, ValidationReport, rows_of, validate

READERS = (".csv", ".parquet", ".dta", ".sav")

#: Column names treated as NIK (national ID) or family card numbers even when a mapping forgets them.
NIK_NAME = _nik.NIK_NAME
#: A 16-digit national identity number as it appears in text.
NIK_PATTERN = _nik.NIK_IN_TEXT

#: How many bytes at the start of a file are looked at to tell its format.
SNIFF_BYTES = 64


# --------------------------------------------------------------------------------------------
# reading

def _sniff(head: bytes) -> str | None:
    """The format a file's first bytes show: a reader's extension, ``"excel"``, ``"zip"``, or None (text)."""
    if head.startswith(b"PAR1"):
        return ".parquet"
    if head.startswith(b"<stata_dta>") or (len(head) >= 4 and 0x66 <= head[0] <= 0x73 and head[1] in (1, 2)
                                           and head[2] == 1 and head[3] == 0):
        return ".dta"
    if head.startswith((b"$FL2", b"$FL3")):
        return ".sav"
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        return "excel"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    return None


_KIND_NAMES = {".csv": "CSV text", ".parquet": "a Parquet file", ".dta": "a Stata file", ".sav": "an SPSS file",
               "excel": "an Excel workbook", "gzip": "a gzip archive", None: "text"}


def _shipped_mappings() -> list[str]:
    return sorted(p.stem for p in (data_dir() / "mappings").glob("*.yaml"))


def _check_path(path: Path) -> None:
    if not path.exists():
        raise FileNotFoundError(
            f"Input file {path} does not exist" + ("" if path.is_absolute() else f" (looked in {Path.cwd()})")
            + "; check the path and the file name.")
    if path.is_dir():
        inside = sorted(p.name for p in path.iterdir() if p.suffix.lower() in READERS)[:8]
        raise ParameterError(
            f"{path} is a folder, not a file; give one file of the table"
            + (f", e.g. {path / inside[0]} (the folder holds {', '.join(inside)})." if inside else
               f" ({', '.join(READERS)})."))


def read_raw(path: str | os.PathLike, *, encoding: str | None = None, delimiter: str | None = None) -> pd.DataFrame:
    """Read a file as it is, by its extension: ``.csv``, ``.parquet``, ``.dta``, ``.sav``.

    CSV columns are read as text so that codes keep their leading zeros and NIK numbers are not
    turned into floats; the contract types are applied after validation. Stata and SPSS value
    labels are kept in ``df.attrs["value_labels"]`` (``{column: {code: label}}``) for the mapping.

    Parameters
    ----------
    path : path
        The file.
    encoding : str, optional
        Text encoding of a CSV file when it is not UTF-8 (e.g. ``"cp1252"``, ``"utf-16"``).
    delimiter : str, optional
        Field delimiter of a CSV file when it is not a comma (e.g. ``";"``).

    Raises
    ------
    FileNotFoundError
        No such file.
    ParameterError
        A folder, or an extension the workbench does not read.
    FileFormatError
        Empty, truncated or damaged; its content is another format than its extension says; not in
        the declared encoding; another delimiter than declared; a header claiming more rows than the
        file can hold.
    """
    path = Path(path)
    _check_path(path)
    ext = path.suffix.lower()
    if ext in (".xlsx", ".xls", ".xlsm", ".ods"):
        raise ParameterError(f"File {path} is a spreadsheet workbook, which the workbench does not read; save the "
                             "sheet as 'CSV UTF-8' (with NIK columns formatted as Text) and give that file.")
    if ext not in READERS:
        raise parameter_error("path", "read_raw", f"a file ending in one of {READERS}", str(path))
    if not os.access(path, os.R_OK):
        raise ParameterError(f"File {path} cannot be read: permission denied; ask its owner for read access or "
                             "copy it to a folder of yours.")
    size = path.stat().st_size
    if size == 0:
        raise FileFormatError(f"File {path} is empty (0 bytes); export the table again or give the right file.")
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
    kind = _sniff(head)
    if kind != ext and not (ext == ".csv" and kind is None):
        fix = (f"rename it to {path.stem}{kind}" if kind in READERS else
               "save the sheet as 'CSV UTF-8' (File > Save As) and give that file" if kind == "excel" else
               "unpack it first" if kind == "gzip" else
               f"export it again as {_KIND_NAMES[ext]}; it may be damaged or the wrong file")
        raise FileFormatError(f"File {path} ends in {ext} but holds {_KIND_NAMES[kind]}; {fix}.")
    if ext == ".csv":
        return _read_csv(path, encoding=encoding, delimiter=delimiter)
    if ext == ".parquet":
        import pyarrow as pa

        try:
            return pd.read_parquet(path)
        except (pa.ArrowException, OSError, ValueError) as exc:  # ArrowInvalid, ArrowIOError, ... on damaged files
            raise FileFormatError(
                f"File {path} ({size} bytes) cannot be read as Parquet ({type(exc).__name__}: {str(exc)[:160]}); "
                "it is probably truncated or damaged: copy or export it again.") from None
    from . import statfile

    return statfile.read(path, ext)


def _read_csv(path: Path, *, encoding: str | None, delimiter: str | None) -> pd.DataFrame:
    data = path.read_bytes()
    declared = encoding
    if encoding is None:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in data[:4096]:
            raise FileFormatError(
                f"File {path} is UTF-16 text (as Excel's 'Unicode Text' saves it), not UTF-8; save it as "
                "'CSV UTF-8' or declare the encoding: encoding='utf-16' (load_table), --encoding utf-16 "
                "(welfare-eval validate) or `encoding: utf-16` in the column mapping.")
        encoding = "utf-8-sig"
    try:
        text = data.decode(encoding)
    except LookupError:
        raise ParameterError(f"The 'encoding' parameter of read_raw must be a Python codec name such as "
                             f"'utf-8', 'cp1252' or 'utf-16'. Got {declared!r} instead.") from None
    except UnicodeDecodeError as exc:
        if declared is not None:
            raise FileFormatError(
                f"File {path} is not {declared} text as declared (byte 0x{data[exc.start]:02X} at offset {exc.start} "
                f"cannot be decoded); check the file's encoding: UTF-8 needs no declaration, Excel on Windows "
                "writes cp1252, 'Unicode Text' is utf-16.") from None
        bad = []
        for i, line in enumerate(data.split(b"\n"), start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                bad.append(i)
        more = ", ..." if len(bad) > 5 else ""
        raise FileFormatError(
            f"File {path} is not UTF-8 text: {len(bad)} line(s) hold bytes that are not UTF-8 (lines "
            f"{', '.join(map(str, bad[:5]))}{more}; first byte 0x{data[exc.start]:02X}); it is probably "
            "Latin-1/Windows-1252 (Excel's plain 'CSV' on Windows). Save it as 'CSV UTF-8' or declare the encoding: "
            "encoding='cp1252' (load_table), --encoding cp1252 (welfare-eval validate) or `encoding: cp1252` in the "
            "column mapping.") from None
    header = text.split("\n", 1)[0]
    if not header.strip():
        raise FileFormatError(f"File {path} has no header line (the first line is empty); the first line must "
                              "name the columns.")
    sep = delimiter or ","
    if delimiter is None and "," not in header:
        for other, name in ((";", "semicolon"), ("\t", "tab"), ("|", "vertical bar")):
            if other in header:
                raise FileFormatError(
                    f"File {path} is not comma-separated: its header line has no comma but "
                    f"{header.count(other)} {name}(s), so its delimiter is {other!r}. Save it comma-separated or "
                    f"declare the delimiter: delimiter={other!r} (load_table), --delimiter {other!r} "
                    f"(welfare-eval validate) or `delimiter: {other!r}` in the column mapping.")
    body = text.rstrip("\r")
    if body and not body.endswith("\n") and "\n" in body:
        last = body.rsplit("\n", 1)[1]
        if '"' not in last + header and last.count(sep) < header.count(sep):
            nrow = body.count("\n")
            raise FileFormatError(
                f"File {path} ends in the middle of a row: its last row (row {nrow}) has {last.count(sep) + 1} of "
                f"{header.count(sep) + 1} fields and no line end, so the file is truncated; copy or export it again.")
    try:
        return pd.read_csv(_io.StringIO(text), dtype=str, keep_default_na=True, na_values=[""], sep=sep)
    except pd.errors.EmptyDataError:
        raise FileFormatError(f"File {path} holds no columns; export the table again.") from None
    except pd.errors.ParserError as exc:
        raise FileFormatError(
            f"File {path} cannot be read as CSV with delimiter {sep!r}: {str(exc).strip()}; every row must have as "
            "many fields as the header and quotes must be closed (a truncated file ends in the middle of a "
            "row): export the file again.") from None


# --------------------------------------------------------------------------------------------
# column mappings

#: Words of value labels that mean yes or no (Indonesian and English), used to catch a recode that
#: contradicts a file's own labels. Extend it here when an office's files use other words.
LABEL_TRUE = frozenset({"ya", "iya", "yes", "y", "benar", "true", "menerima", "penerima", "perkotaan", "kota", "urban"})
LABEL_FALSE = frozenset({"tidak", "tdk", "no", "n", "bukan", "false", "tidak menerima", "bukan penerima",
                         "perdesaan", "pedesaan", "desa", "rural"})

_MAPPING_KEYS = ("table", "region_codes", "rename", "compose", "recode", "pseudonymize", "drop", "source",
                 "date_format", "encoding", "delimiter")


def _label_meaning(label: object) -> bool | None:
    text = str(label).strip().lower()
    if text in LABEL_TRUE:
        return True
    if text in LABEL_FALSE:
        return False
    return None


def _mapping_problems(raw: object) -> list[str]:
    """Every problem of a mapping's content, as sentences."""
    if not isinstance(raw, dict):
        return [(f"the file holds {type(raw).__name__ if raw is not None else 'nothing'}, not a map of keys "
                f"({', '.join(_MAPPING_KEYS[:5])}, ...)")]
    out = []
    unknown = sorted(map(str, set(raw) - set(_MAPPING_KEYS)))
    if unknown:
        out.append(f"unknown key(s) {', '.join(unknown)}; the keys are {', '.join(_MAPPING_KEYS)}")
    if raw.get("table") not in TABLES:
        out.append(f"'table' must be one of {', '.join(sorted(TABLES))}; got {raw.get('table')!r}")
    if raw.get("region_codes", "bps") not in regions.CODE_SYSTEMS:
        out.append(f"'region_codes' must be one of {', '.join(regions.CODE_SYSTEMS)}; got {raw.get('region_codes')!r}")
    for key in ("rename", "date_format"):
        v = raw.get(key)
        if v is not None and not (isinstance(v, dict) and all(isinstance(x, str) for x in v.values())):
            out.append(
                f"'{key}' must be a map of column names to text ({'new names' if key == 'rename' else 'formats'});"
                f" got {type(v).__name__}"
            )
    comp = raw.get("compose")
    if comp is not None:
        if not isinstance(comp, dict):
            out.append(
                f"'compose' must be a map of column -> {{from: [...], widths: [...]}}; got {type(comp).__name__}"
            )
        else:
            for name, spec in comp.items():
                if not isinstance(spec, dict):
                    out.append(f"compose of {name!r} must be a map with 'from' and 'widths'; got {type(spec).__name__}")
                    continue
                missing = [k for k in ("from", "widths") if k not in spec]
                if missing:
                    out.append(f"compose of {name!r} lacks {' and '.join(repr(m) for m in missing)}")
                    continue
                src, wid = spec["from"], spec["widths"]
                if not isinstance(src, list) or not isinstance(wid, list) or len(src) != len(wid):
                    out.append(f"compose of {name!r}: 'from' and 'widths' must be lists of the same length")
                elif not all(isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in wid):
                    out.append(f"compose of {name!r}: 'widths' must be whole numbers > 0; got {wid}")
    rec = raw.get("recode")
    if rec is not None:
        if not isinstance(rec, dict):
            out.append(f"'recode' must be a map of column -> {{code: value}}; got {type(rec).__name__}")
        else:
            for name, spec in rec.items():
                if not isinstance(spec, dict):
                    out.append(f"recode of {name!r} must be a map of code -> value (e.g. {{1: true, 2: false}}); "
                               f"got {type(spec).__name__} {spec!r}")
    for key in ("pseudonymize", "drop"):
        v = raw.get(key)
        if v is not None and not (isinstance(v, list) and all(isinstance(x, str) for x in v)):
            out.append(f"'{key}' must be a list of column names; got {type(v).__name__} {v!r}")
    for key in ("encoding", "delimiter", "source"):
        v = raw.get(key)
        if v is not None and not isinstance(v, str):
            out.append(f"'{key}' must be text; got {type(v).__name__}")
    enc = raw.get("encoding")
    if isinstance(enc, str):
        try:
            codecs.lookup(enc)
        except LookupError:
            out.append(f"'encoding' {enc!r} is not a known encoding (e.g. utf-8, cp1252, utf-16)")
    return out


@dataclass(frozen=True)
class ColumnMapping:
    """How a raw file's columns become the contract's.

    Loaded from YAML (``welfare_eval/data/mappings/*.yaml``)::

        table: survey
        region_codes: bps          # or kemendagri: kab_code and kec_code are converted
        rename: {r105: urban, fwt: weight, kapita: cons_pc}
        compose:                   # codes built from parts, zero-padded
          kab_code: {from: [r101, r102], widths: [2, 2]}
        recode:                    # value maps after renaming: by code, or by the file's value label
          urban: {1: true, 2: false}
          pkh: {Ya: true, Tidak: false}
        date_format: {paid_on: "%d/%m/%Y"}   # dates not written YYYY-MM-DD
        pseudonymize: [nik_kepala] # checked as NIKs, replaced by nik_hash
        drop: [r101, r102]
        encoding: cp1252           # CSV files not in UTF-8
        delimiter: ";"             # CSV files not comma-separated
    """

    table: str
    region_codes: regions.CodeSystem = "bps"
    rename: dict = field(default_factory=dict)
    compose: dict = field(default_factory=dict)
    recode: dict = field(default_factory=dict)
    pseudonymize: tuple = ()
    drop: tuple = ()
    source: str = ""
    path: str = ""
    date_format: dict = field(default_factory=dict)
    encoding: str | None = None
    delimiter: str | None = None

    @classmethod
    def from_yaml(cls, path: str | os.PathLike) -> ColumnMapping:
        """A mapping from its YAML file, or a shipped mapping by name (``"susenas"``).

        Raises
        ------
        MappingError
            Listing every problem of the file at once (invalid YAML, unknown keys, a compose
            without ``widths``, a ``recode`` that is not a map, ...), or naming the shipped mappings
            when the name is unknown.
        """
        given = Path(path)
        path = given
        if not path.exists() and not path.suffix and len(path.parts) == 1:
            path = data_dir() / "mappings" / f"{given}.yaml"
        if not path.exists():
            raise MappingError(
                f"Column mapping {str(given)!r} not found: no such file and no shipped mapping of that name. "
                f"Give a YAML file or one of the shipped mappings: {', '.join(_shipped_mappings())}.")
        if path.is_dir():
            raise MappingError(f"Column mapping {path} is a folder; give a YAML file or one of the shipped "
                               f"mappings: {', '.join(_shipped_mappings())}.")
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            raise MappingError(f"Column mapping {path} is not valid YAML{where} "
                               f"({getattr(exc, 'problem', None) or exc}); fix the syntax (indentation, a ':' after "
                               "each key, quotes around text with ':' or '#').") from None
        except UnicodeDecodeError:
            raise MappingError(f"Column mapping {path} is not UTF-8 text; save it as UTF-8.") from None
        problems = _mapping_problems(raw)
        if problems:
            raise MappingError(f"Column mapping {path} has {len(problems)} problem(s): "
                               + "; ".join(f"({i}) {p}" for i, p in enumerate(problems, 1))
                               + ". Fix them all; docs/real_data.md describes the keys.")
        return cls(table=raw["table"], region_codes=raw.get("region_codes", "bps"),
                   rename=dict(raw.get("rename") or {}), compose=dict(raw.get("compose") or {}),
                   recode=dict(raw.get("recode") or {}), pseudonymize=tuple(raw.get("pseudonymize") or ()),
                   drop=tuple(raw.get("drop") or ()), source=raw.get("source", ""), path=str(path),
                   date_format=dict(raw.get("date_format") or {}), encoding=raw.get("encoding"),
                   delimiter=raw.get("delimiter"))

    def apply(self, raw: pd.DataFrame) -> pd.DataFrame:
        """The raw frame with contract names, codes and values (not yet validated).

        Raises :class:`DataValidationError` when the mapping does not fit the file (every problem
        listed); :meth:`map` returns the problems instead.
        """
        df, findings = self.map(raw)
        errors = [f for f in findings if f.severity == "error"]
        if errors:
            raise DataValidationError("\n".join(f"- {f}" for f in errors),
                                      report=ValidationReport(self.table, len(raw), self.path, tuple(findings)))
        return df

    def map(self, raw: pd.DataFrame) -> tuple[pd.DataFrame, list[Finding]]:
        """The mapped frame and every problem of fitting the mapping to the file (all at once)."""
        where = f"the mapping {self.path or '(in code)'}"
        df = raw.copy()
        labels = dict(raw.attrs.get("value_labels") or {})
        findings: list[Finding] = []
        cols = set(df.columns)
        wanted = [(c, "rename") for c in self.rename] + [(c, "pseudonymize") for c in self.pseudonymize]
        wanted += [(c, "compose") for spec in self.compose.values() for c in spec["from"]]
        present = ", ".join(map(str, list(df.columns)[:20])) + (", ..." if df.shape[1] > 20 else "")
        for c, key in dict.fromkeys(wanted):
            if c not in cols:
                findings.append(Finding(self.table, str(c), "mapping", 0, (),
                                        f"named under '{key}' in {where} but missing from the file",
                                        f"fix the name in the mapping or load the file it was written for; "
                                        f"the file has {present}"))
        for name, spec in self.compose.items():
            if not all(c in cols for c in spec["from"]):
                continue
            parts = []
            for col, width in zip(spec["from"], spec["widths"]):
                num = pd.to_numeric(df[col], errors="coerce")
                parts.append(num.map(lambda v, w=width: pd.NA if pd.isna(v) or not float(v).is_integer()
                                     else f"{int(v):0{w}d}").astype("string"))
            out = parts[0]
            for p in parts[1:]:
                out = out + p
            df[name] = out
        df, nik_findings = pseudonymize_checked(df, columns=[c for c in self.pseudonymize if c in cols],
                                                table=self.table)
        findings += nik_findings
        df = df.rename(columns=self.rename)
        labels = {self.rename.get(c, c): v for c, v in labels.items()}
        for col, fmt in self.date_format.items():
            if col in df.columns and not pd.api.types.is_datetime64_any_dtype(df[col]):
                s = df[col]
                parsed = pd.to_datetime(s.astype("string").str.strip(), format=fmt, errors="coerce")
                bad = (s.notna() & parsed.isna()).to_numpy(bool)
                n, rows = rows_of(bad)
                if n:
                    findings.append(Finding(self.table, col, "date_format", n, rows,
                                            f"{n} values do not match the declared date format {fmt!r}",
                                            "write every date in the one declared format (or correct the format in "
                                            "the mapping's date_format)"))
                df[col] = parsed
        for col, mapping in self.recode.items():
            if col in df.columns:
                df[col], problems = _recode(df[col], mapping, labels.get(col), table=self.table, column=col)
                findings += problems
        for level in ("kab", "kec"):
            col = f"{level}_code"
            if col in df.columns:
                codes = _as_code(df[col])
                # codes missing from the crosswalk stay as they were, so validation names them
                df[col] = regions.to_bps(codes, level=level, system=self.region_codes).fillna(codes)
        drop = [c for c in self.drop if c in df.columns]
        df = df.drop(columns=drop)
        df.attrs["value_labels"] = labels
        return df, findings


#: Region codes written with dots, as Kemendagri publishes them (76.04, 76.04.01).
DOTTED_CODE = re.compile(r"^\d{2}(\.\d{1,4})+$")


def _as_code(s: pd.Series) -> pd.Series:
    """Codes as text; numbers read from Stata/SPSS lose their '.0'; dotted codes (76.04.01) lose their dots."""
    if pd.api.types.is_float_dtype(s):
        return s.map(lambda v: pd.NA if pd.isna(v) else (str(int(v)) if float(v).is_integer() else str(v))).astype(
            "string"
        )
    txt = s.astype("string").str.strip()
    dotted = txt.str.fullmatch(DOTTED_CODE.pattern).fillna(False)
    return txt.where(~dotted, txt.str.replace(".", "", regex=False))


def _fmt_code(v: object) -> str:
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def _recode(s: pd.Series, mapping: dict, labels: dict | None = None, *, table: str = "",
            column: str = "") -> tuple[pd.Series, list[Finding]]:
    """Values mapped by code, else by the file's value label; and the codes whose recode contradicts the label."""
    keys = {}
    for k, v in mapping.items():
        keys[k] = v
        keys[str(k).strip()] = v
        keys[str(k).strip().lower()] = v
        if isinstance(k, (int, float)) and not isinstance(k, bool) and float(k).is_integer():
            keys[float(k)] = v
            keys[str(int(k))] = v
    labels = labels or {}
    lab = {}
    for code, text in labels.items():
        lab[code] = text
        lab[str(code)] = text
        if isinstance(code, float) and code.is_integer():
            lab[int(code)] = text
            lab[str(int(code))] = text

    def by_code(v):
        if v in keys:
            return True, keys[v]
        t = str(v).strip()
        if t in keys:
            return True, keys[t]
        if isinstance(v, float) and v.is_integer() and str(int(v)) in keys:
            return True, keys[str(int(v))]
        return False, v

    def one(v):
        if pd.isna(v):
            return v
        hit, out = by_code(v)
        if hit:
            return out
        label = lab.get(v, lab.get(str(v).strip()))
        if label is not None and str(label).strip().lower() in keys:
            return keys[str(label).strip().lower()]
        return v

    findings = []
    if lab:
        obj = s.astype(object)
        for code in pd.unique(obj.dropna()):
            hit, target = by_code(code)
            label = lab.get(code, lab.get(str(code).strip()))
            if not hit or label is None:
                continue
            meaning = _label_meaning(label)
            by_label = keys.get(str(label).strip().lower(), None)
            wrong = ((isinstance(target, bool) and meaning is not None and meaning != target)
                     or (str(label).strip().lower() in keys and by_label != target))
            if wrong:
                mask = (obj == code).to_numpy(bool)
                n, rows = rows_of(mask)
                shown = ", ".join(f"{_fmt_code(k)} = {v!r}" for k, v in list(labels.items())[:6])
                findings.append(Finding(
                    table, column, "value_labels", n, rows,
                    f"{n} rows have code {_fmt_code(code)}, which the mapping's recode turns into {target!r}, but "
                    f"the file's own value label of {_fmt_code(code)} is {label!r}",
                    f"the file's labels are {shown}: recode by label (e.g. {{{label}: ...}}) or correct the codes "
                    "in the mapping, so that the values are not inverted"))
    return s.astype(object).map(one), findings


# --------------------------------------------------------------------------------------------
# NIK pseudonymization

def nik_key() -> bytes:
    """The secret key of the NIK hash (see :func:`welfare_eval.nik.key`: at least 32 bytes, private)."""
    return _nik.key()


def hash_nik(values: pd.Series, key: bytes | None = None) -> pd.Series:
    """Keyed HMAC-SHA256 pseudonyms (first 20 hex digits) of NIK numbers; missing stays missing."""
    return _nik.hash_values(values, nik_key() if key is None else key)


_CHECK_TEXT = {
    "float": (("{n} values are stored as numbers (with a decimal point or in scientific notation such as "
              "7.6E+15), so their last digits are lost"), _nik.FLOAT_FIX),
    "digits": ("{n} values are not 16 digits (too few or too many digits, letters or spaces)",
               "a NIK has exactly 16 digits: correct those rows from the source (KTP/KK) or leave them empty"),
    "province": ("{n} values do not start with an Indonesian province code",
                 ("the first two digits of a NIK are the province (76 for Sulawesi Barat; the list is "
                  "welfare_eval/data/nik_province_codes.csv): correct those rows from the source")),
    "date": ("{n} values have no possible date of birth in digits 7-12 (DDMMYY, day + 40 for women)",
             "correct those rows from the source; such a number is not a NIK"),
}


def pseudonymize_checked(data: pd.DataFrame, *, columns=(), table: str = "") -> tuple[pd.DataFrame, list[Finding]]:
    """Check NIK columns and replace every column holding NIK-like numbers by a keyed hash.

    - ``columns`` (the mapping's ``pseudonymize``) and columns named like a NIK or family card
      number (``nik``, ``NIK1``, ``NO_KTP``, ``no_kk``, ...) are checked value by value: 16 digits,
      a province code, a possible date (see :func:`welfare_eval.nik.problems`); every bad value is
      an error naming its rows. They become ``nik_hash`` (the first NIK column) or ``<name>_hash``.
    - Every other text or integer column that holds a 16-digit number, whatever its name, is
      replaced by ``<name>_hash`` as well (all its values), with a warning asking to name it in the
      mapping; a float column of 16-digit numbers is an error (the numbers are already destroyed).

    Returns the frame without raw numbers and the findings.
    """
    findings: list[Finding] = []
    named = list(dict.fromkeys([*columns, *(c for c in data.columns
                                           if _nik.is_id_column(c) and not str(c).lower().endswith("_hash"))]))
    by_value = [c for c in data.columns if c not in named and not str(c).lower().endswith("_hash")
                and _nik.nik_like(data[c]).any()]
    if not named and not by_value:
        return data, findings
    out = data.copy()
    key = nik_key()
    for c in named:
        kind = _nik.is_id_column(c) or "nik"
        for check, mask in _nik.problems(out[c], kind=kind).items():
            n, rows = rows_of(mask)
            if n:
                msg, hint = _CHECK_TEXT[check]
                if kind == "kk":  # a family card number: same layout, the card's issue date, no +40
                    msg = msg.replace("date of birth", "date").replace(", day + 40 for women", "")
                    hint = hint.replace("a NIK", "a family card number (No. KK)").replace("not a NIK",
                                                                                           "not a No. KK")
                findings.append(Finding(table, str(c), f"nik_{check}", n, rows, msg.format(n=n), hint))
    for c in by_value:
        mask = _nik.nik_like(out[c])
        n, rows = rows_of(mask)
        if pd.api.types.is_float_dtype(out[c]):
            findings.append(Finding(table, str(c), "nik_float", n, rows,
                                    f"{n} values look like NIK numbers stored as floats, which lose their last digits",
                                    _nik.FLOAT_FIX + f"; or drop the column ('drop: [{c}]' in the mapping)"))
        else:
            findings.append(Finding(table, str(c), "nik_like", n, rows,
                                    f"{n} values look like NIK numbers (16 digits); the column was replaced by "
                                    f"{str(c).lower()}_hash", "name it under 'pseudonymize' in the column mapping "
                                    "to have its values checked as NIKs, or 'drop' it", severity="warning"))
    for c in [*named, *by_value]:
        is_nik = _nik.is_id_column(c) != "kk" and c in named and "nik_hash" not in out.columns
        out["nik_hash" if is_nik else f"{str(c).lower()}_hash"] = _nik.hash_values(out[c], key)
        out = out.drop(columns=c)
    return out, findings


def pseudonymize(data: pd.DataFrame, *, columns=()) -> pd.DataFrame:
    """Replace NIK columns by ``nik_hash`` (the first NIK) or ``<name>_hash`` and drop the raw numbers.

    The columns are found by name and by value (see :func:`pseudonymize_checked`, which also
    returns the problems found in their values).
    """
    return pseudonymize_checked(data, columns=columns)[0]


def contains_nik(text: str, niks: set[str] | None = None) -> list[str]:
    """16-digit numbers in ``text`` (all of them, or only those in ``niks``)."""
    found = NIK_PATTERN.findall(text)
    return [f for f in found if niks is None or f in niks]


# --------------------------------------------------------------------------------------------
# reference columns and types

def poverty_lines() -> pd.DataFrame:
    """The shipped poverty lines (``welfare_eval/data/poverty_lines.csv``)."""
    return pd.read_csv(data_dir() / "poverty_lines.csv", dtype={"kab_code": str, "urban": str})


def extreme_line_ids() -> tuple[str, ...]:
    pl = poverty_lines()
    return tuple(pl.loc[pl["kind"] == "extreme", "line_id"])


#: The extreme poverty line used unless a caller selects another (BPS from 2025).
DEFAULT_EXTREME_LINE = "extreme_215_2017ppp"


def extreme_line_value(line_id: str = DEFAULT_EXTREME_LINE) -> float:
    pl = poverty_lines()
    row = pl[(pl["kind"] == "extreme") & (pl["line_id"] == line_id)]
    if row.empty:
        raise parameter_error("extreme_line", "the poverty lines", f"one of {extreme_line_ids()}", line_id)
    return float(row["value"].iloc[0])


def attach_poverty_lines(data: pd.DataFrame, *, extreme_line: str = DEFAULT_EXTREME_LINE) -> pd.DataFrame:
    """Add ``poverty_line`` (by kabupaten and area) and ``extreme_line`` where they are missing."""
    out = data.copy()
    if "poverty_line" not in out.columns and {"kab_code", "urban"} <= set(out.columns):
        pl = poverty_lines()
        gk = pl[pl["kind"] == "poverty"]
        lookup = {(k, u == "1"): float(v) for k, u, v in zip(gk["kab_code"], gk["urban"], gk["value"])}
        urban = out["urban"].map(lambda v: v in (True, 1, "1", "true", "True") if pd.notna(v) else None)
        out["poverty_line"] = [lookup.get((str(k), u), np.nan) for k, u in zip(out["kab_code"], urban)]
    if "extreme_line" not in out.columns:
        out["extreme_line"] = extreme_line_value(extreme_line)
    return out


def coerce(data: pd.DataFrame, table: str) -> pd.DataFrame:
    """Cast a validated frame to the contract types (codes as strings, flags as bool)."""
    t = contract_table(table)
    out = data.copy()
    for col in t.columns:
        if col.name not in out.columns:
            continue
        s = out[col.name]
        if col.kind == "int":
            out[col.name] = pd.to_numeric(s).astype("int64")
        elif col.kind == "float":
            out[col.name] = pd.to_numeric(s).astype("float64")
        elif col.kind == "bool":
            if not pd.api.types.is_bool_dtype(s):
                out[col.name] = s.astype(object).map(lambda v: v in (True, 1, 1.0, "1", "true", "True", "TRUE",
                                                                      "ya", "Ya", "YA")).astype(bool)
        elif col.kind == "code":
            out[col.name] = _as_code(s)
        elif col.kind == "date":
            if not pd.api.types.is_datetime64_any_dtype(s):
                s = pd.to_datetime(s.astype("string").str.strip(), format="ISO8601")
            out[col.name] = s
        elif col.kind == "str":
            out[col.name] = s.astype("string")
    return out


# --------------------------------------------------------------------------------------------
# the public loader

def prepare(path: str | os.PathLike, *, table: str, mapping: str | os.PathLike | ColumnMapping | None = None,
            extreme_line: str = DEFAULT_EXTREME_LINE, encoding: str | None = None,
            delimiter: str | None = None) -> tuple[pd.DataFrame, ValidationReport]:
    """Read, map, pseudonymize and validate a file: the mapped frame (not yet typed) and its report.

    The report holds every problem at once: the mapping's (columns it names that the file lacks,
    recodes that contradict the file's value labels, dates off the declared format), the NIK
    checks and the data contract's.
    """
    contract_table(table)
    m = None
    if mapping is not None:
        m = mapping if isinstance(mapping, ColumnMapping) else ColumnMapping.from_yaml(mapping)
        if m.table != table:
            raise parameter_error("mapping", "load_table", f"a mapping for table {table!r}", f"one for {m.table!r}")
    raw = read_raw(path, encoding=encoding or (m.encoding if m else None),
                   delimiter=delimiter or (m.delimiter if m else None))
    if m is not None:
        df, findings = m.map(raw)
    else:
        df, findings = pseudonymize_checked(raw, table=table)
        for col in ("kab_code", "kec_code", "desa_code"):
            if col in df.columns and not pd.api.types.is_float_dtype(df[col]):
                df[col] = _as_code(df[col]).where(df[col].notna(), df[col])
    if table == "survey":
        df = attach_poverty_lines(df, extreme_line=extreme_line)
    report = validate(df, table, source=str(path), findings=findings,
                      region_system=m.region_codes if m is not None else "bps")
    return df, report


def load_table(path: str | os.PathLike, *, table: str, mapping: str | os.PathLike | ColumnMapping | None = None,
               extreme_line: str = DEFAULT_EXTREME_LINE, encoding: str | None = None,
               delimiter: str | None = None) -> pd.DataFrame:
    """Load one table from CSV, Parquet, Stata or SPSS, mapped, pseudonymized and validated.

    Parameters
    ----------
    path : path
        The input file.
    table : {"registry", "survey", "panel", "disbursement"}
        The contract the file must meet.
    mapping : path, name or ColumnMapping, optional
        Column mapping from raw names to the contract; a bare name such as ``"susenas"`` is
        looked up in ``welfare_eval/data/mappings/``. None when the file already uses contract names.
    extreme_line : str
        Extreme poverty line attached to survey tables that lack one.
    encoding : str, optional
        Encoding of a CSV file that is not UTF-8 (``"cp1252"``, ``"utf-16"``); also a mapping key.
    delimiter : str, optional
        Delimiter of a CSV file that is not comma-separated (``";"``); also a mapping key.

    Raises
    ------
    DataValidationError
        Listing every problem found (``err.report`` holds them as a table);
        :class:`~welfare_eval.exceptions.FileFormatError` when the file cannot be read as a table.
    ParameterError
        A bad request: a folder, an unknown or malformed mapping, a mapping for another table.
    FileNotFoundError
        No such file.
    """
    df, report = prepare(path, table=table, mapping=mapping, extreme_line=extreme_line, encoding=encoding,
                         delimiter=delimiter)
    report.raise_if_errors()
    for f in report.findings:
        warnings.warn(str(f), DataQualityWarning, stacklevel=2)
    return coerce(df, table)


def validate_file(path: str | os.PathLike, *, table: str,
                  mapping: str | os.PathLike | ColumnMapping | None = None, encoding: str | None = None,
                  delimiter: str | None = None) -> ValidationReport:
    """Validate a file without loading it for use: the report of every problem."""
    return prepare(path, table=table, mapping=mapping, encoding=encoding, delimiter=delimiter)[1]


@dataclass(frozen=True)
class Dataset:
    """The tables of one data source, each validated."""

    source: str
    tables: dict

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    def __contains__(self, name: str) -> bool:
        return name in self.tables


def load_dataset(source: str | os.PathLike | None = None, *, tables=tuple(TABLES)) -> Dataset:
    """Load the contract tables found as ``<table>.parquet`` in a folder (default: the synthetic province)."""
    from .config import synthetic_dir

    folder = Path(source) if source else synthetic_dir()
    if folder.is_file():
        raise ParameterError(f"Data folder {folder} is a file; give the folder that holds "
                             f"{', '.join(f'{t}.parquet' for t in tables)}, or load one file with load_table.")
    if not folder.is_dir():
        if source:
            raise FileNotFoundError(f"Data folder {folder} does not exist; check the path (a folder holding "
                                    f"{', '.join(f'{t}.parquet' for t in tables)}).")
        raise FileNotFoundError(
            f"Data folder {folder} does not exist; run `welfare-eval synth` (or `make report`) to create the "
            "synthetic province, or point `data_dir` at a folder of contract tables.")
    found = {}
    for name in tables:
        p = folder / f"{name}.parquet"
        if p.exists():
            found[name] = load_table(p, table=name)
    if not found:
        raise FileNotFoundError(f"Data folder {folder} holds none of {', '.join(f'{t}.parquet' for t in tables)}.")
    return Dataset(str(folder), found)


# --------------------------------------------------------------------------------------------
# writing: to a temporary name, then moved into place

@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o644)  # reports are shared: readable like any file written the ordinary way
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
