"""Loaders (CSV, Parquet, Stata, SPSS), column mappings, NIK pseudonymization, atomic writes.

A load is: read the file -> apply the YAML column mapping (rename, recode, compose, region code
system) -> replace NIK numbers by a keyed hash -> attach reference columns (poverty lines) ->
validate against the contract, reporting every problem at once -> coerce to the contract types.
Nothing is returned or written when validation fails.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import tempfile
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import yaml

from . import regions
from .config import NIK_KEY_ENV, data_dir, nik_key_file
from .exceptions import DataValidationError, DataQualityWarning, parameter_error
from .schema import TABLES, table as contract_table
from .validation import ValidationReport, validate

READERS = (".csv", ".parquet", ".dta", ".sav")

#: Column names treated as NIK (national ID) or family card numbers even when a mapping forgets them.
NIK_NAME = re.compile(r"(^|_)(nik|no_?kk|nomor_?kk|nomor_?induk)(_|$)", re.IGNORECASE)
#: A 16-digit national identity number as it appears in text.
NIK_PATTERN = re.compile(r"(?<!\d)\d{16}(?!\d)")


# --------------------------------------------------------------------------------------------
# reading

def read_raw(path: str | os.PathLike) -> pd.DataFrame:
    """Read a file as it is, by its extension: ``.csv``, ``.parquet``, ``.dta``, ``.sav``.

    CSV columns are read as text so that codes keep their leading zeros and NIK numbers are not
    turned into floats; the contract types are applied after validation.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Input file {path} does not exist; check the path or run `welfare-eval synth`.")
    ext = path.suffix.lower()
    if ext == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=True, na_values=[""])
    if ext == ".parquet":
        return pd.read_parquet(path)
    if ext in (".dta", ".sav"):
        import pyreadstat

        reader = pyreadstat.read_dta if ext == ".dta" else pyreadstat.read_sav
        df, _meta = reader(str(path), apply_value_formats=False)
        return df
    raise parameter_error("path", "read_raw", f"a file ending in one of {READERS}", str(path))


# --------------------------------------------------------------------------------------------
# column mappings

@dataclass(frozen=True)
class ColumnMapping:
    """How a raw file's columns become the contract's.

    Loaded from YAML (``welfare_eval/data/mappings/*.yaml``)::

        table: survey
        region_codes: bps          # or kemendagri: kab_code and kec_code are converted
        rename: {r105: urban, fwt: weight, kapita: cons_pc}
        compose:                   # codes built from parts, zero-padded
          kab_code: {from: [r101, r102], widths: [2, 2]}
        recode:                    # value maps after renaming
          urban: {1: true, 2: false}
        pseudonymize: [nik_kepala] # replaced by nik_hash
        drop: [r101, r102]
    """

    table: str
    region_codes: str = "bps"
    rename: dict = field(default_factory=dict)
    compose: dict = field(default_factory=dict)
    recode: dict = field(default_factory=dict)
    pseudonymize: tuple = ()
    drop: tuple = ()
    source: str = ""
    path: str = ""

    @classmethod
    def from_yaml(cls, path: str | os.PathLike) -> "ColumnMapping":
        path = Path(path)
        if not path.exists() and not path.suffix:
            path = data_dir() / "mappings" / f"{path}.yaml"
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        known = {"table", "region_codes", "rename", "compose", "recode", "pseudonymize", "drop", "source"}
        unknown = set(raw) - known
        if unknown:
            raise parameter_error("keys", f"column mapping {path}", f"among {sorted(known)}", sorted(unknown))
        if raw.get("table") not in TABLES:
            raise parameter_error("table", f"column mapping {path}", f"one of {sorted(TABLES)}", raw.get("table"))
        regions.check_system(raw.get("region_codes", "bps"), where=f"column mapping {path}")
        return cls(table=raw["table"], region_codes=raw.get("region_codes", "bps"),
                   rename=dict(raw.get("rename") or {}), compose=dict(raw.get("compose") or {}),
                   recode=dict(raw.get("recode") or {}), pseudonymize=tuple(raw.get("pseudonymize") or ()),
                   drop=tuple(raw.get("drop") or ()), source=raw.get("source", ""), path=str(path))

    def apply(self, raw: pd.DataFrame) -> pd.DataFrame:
        """The raw frame with contract names, codes and values (not yet validated)."""
        df = raw.copy()
        missing = [c for c in list(self.rename) + list(self.pseudonymize) if c not in df.columns]
        for spec in self.compose.values():
            missing += [c for c in spec["from"] if c not in df.columns]
        if missing:
            raise DataValidationError(
                f"Column mapping {self.path or self.table}: {len(missing)} raw column(s) missing from the file: "
                f"{', '.join(missing)}; the file has {', '.join(map(str, df.columns[:20]))}. "
                "Fix the mapping's names or load the file it was written for.")
        for name, spec in self.compose.items():
            parts = []
            for col, width in zip(spec["from"], spec["widths"]):
                num = pd.to_numeric(df[col], errors="coerce")
                parts.append(num.map(lambda v, w=width: pd.NA if pd.isna(v) else f"{int(v):0{w}d}").astype("string"))
            out = parts[0]
            for p in parts[1:]:
                out = out + p
            df[name] = out
        df = pseudonymize(df, columns=self.pseudonymize)
        df = df.rename(columns=self.rename)
        for col, mapping in self.recode.items():
            if col in df.columns:
                df[col] = _recode(df[col], mapping)
        for level in ("kab", "kec"):
            col = f"{level}_code"
            if col in df.columns:
                codes = _as_code(df[col])
                # codes missing from the crosswalk stay as they were, so validation names them
                df[col] = regions.to_bps(codes, level=level, system=self.region_codes).fillna(codes)
        drop = [c for c in self.drop if c in df.columns]
        return df.drop(columns=drop)


def _as_code(s: pd.Series) -> pd.Series:
    """Codes as text; numbers read from Stata/SPSS lose their '.0'."""
    if pd.api.types.is_float_dtype(s):
        return s.map(lambda v: pd.NA if pd.isna(v) else (str(int(v)) if float(v).is_integer() else str(v))).astype("string")
    return s.astype("string").str.strip()


def _recode(s: pd.Series, mapping: dict) -> pd.Series:
    keys = {}
    for k, v in mapping.items():
        keys[k] = v
        keys[str(k)] = v
        if isinstance(k, (int, float)) and float(k).is_integer():
            keys[float(k)] = v
    obj = s.astype(object)
    mapped = obj.map(lambda v: keys.get(v, keys.get(str(v).strip(), v)) if pd.notna(v) else v)
    return mapped


# --------------------------------------------------------------------------------------------
# NIK pseudonymization

def nik_key() -> bytes:
    """The secret key of the NIK hash.

    From the environment variable ``WELFARE_EVAL_NIK_KEY`` when set (so that an office links the
    same family across files and months); otherwise a random key created once in
    ``~/.config/welfare-eval/nik.key`` (mode 600).
    """
    env = os.environ.get(NIK_KEY_ENV)
    if env:
        return env.encode()
    path = nik_key_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def hash_nik(values: pd.Series, key: bytes | None = None) -> pd.Series:
    """Keyed HMAC-SHA256 pseudonyms (first 20 hex digits) of NIK numbers; missing stays missing."""
    key = nik_key() if key is None else key

    def one(v):
        if pd.isna(v):
            return pd.NA
        digits = re.sub(r"\D", "", str(v).split(".")[0])
        return hmac.new(key, digits.encode(), hashlib.sha256).hexdigest()[:20]

    return values.map(one).astype("string")


def pseudonymize(data: pd.DataFrame, *, columns=()) -> pd.DataFrame:
    """Replace NIK columns by ``nik_hash`` (the first NIK) or ``<name>_hash`` and drop the raw numbers.

    Besides the named ``columns``, any column whose name looks like a NIK or family card number is
    treated the same way, so a mapping that forgets one cannot leak it.
    """
    cols = list(dict.fromkeys([*columns, *(c for c in data.columns if NIK_NAME.search(str(c)))]))
    if not cols:
        return data
    out = data.copy()
    key = nik_key()
    for c in cols:
        is_nik = re.search(r"nik", str(c), re.IGNORECASE) and "nik_hash" not in out.columns
        out["nik_hash" if is_nik else f"{str(c).lower()}_hash"] = hash_nik(out[c], key)
        out = out.drop(columns=c)
    return out


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
            out[col.name] = pd.to_datetime(s)
        elif col.kind == "str":
            out[col.name] = s.astype("string")
    return out


# --------------------------------------------------------------------------------------------
# the public loader

def prepare(path: str | os.PathLike, *, table: str, mapping: str | os.PathLike | ColumnMapping | None = None,
            extreme_line: str = DEFAULT_EXTREME_LINE) -> tuple[pd.DataFrame, ValidationReport]:
    """Read, map, pseudonymize and validate a file: the mapped frame (not yet typed) and its report."""
    contract_table(table)
    raw = read_raw(path)
    if mapping is not None:
        m = mapping if isinstance(mapping, ColumnMapping) else ColumnMapping.from_yaml(mapping)
        if m.table != table:
            raise parameter_error("mapping", "load_table", f"a mapping for table {table!r}", f"one for {m.table!r}")
        df = m.apply(raw)
    else:
        df = pseudonymize(raw)
    if table == "survey":
        df = attach_poverty_lines(df, extreme_line=extreme_line)
    return df, validate(df, table, source=str(path))


def load_table(path: str | os.PathLike, *, table: str, mapping: str | os.PathLike | ColumnMapping | None = None,
               extreme_line: str = DEFAULT_EXTREME_LINE) -> pd.DataFrame:
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

    Raises
    ------
    DataValidationError
        Listing every problem found (``err.report`` holds them as a table).
    """
    df, report = prepare(path, table=table, mapping=mapping, extreme_line=extreme_line)
    report.raise_if_errors()
    for f in report.findings:
        warnings.warn(str(f), DataQualityWarning, stacklevel=2)
    return coerce(df, table)


def validate_file(path: str | os.PathLike, *, table: str,
                  mapping: str | os.PathLike | ColumnMapping | None = None) -> ValidationReport:
    """Validate a file without loading it for use: the report of every problem."""
    return prepare(path, table=table, mapping=mapping)[1]


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
    if not folder.is_dir():
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
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
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
