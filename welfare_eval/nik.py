"""NIK (Nomor Induk Kependudukan) numbers: their structure, where they hide, and the key of their pseudonyms.

A NIK has 16 digits: 2 for the province, 2 for the kabupaten/kota, 2 for the kecamatan, 6 for the
date of birth as DDMMYY with 40 added to the day for women, and a 4-digit serial. The family card
number (No. KK) has the same region and date layout (the date is the card's issue date, without
the +40). The valid province codes are reference data (``welfare_eval/data/nik_province_codes.csv``).

What the loaders do with them (``docs/real_data.md``):

- a column named as a NIK or family card number (``nik``, ``NIK1``, ``NO_KTP``, ``no_kk``, ...) or
  listed under ``pseudonymize`` in the column mapping is checked value by value (16 digits, a
  province code, a possible date) and replaced by a keyed hash; any bad value is an error that
  names every row;
- any other text or integer column holding a 16-digit number (whatever its name) is replaced by a
  keyed hash too, with a warning asking to name it in the mapping: nothing NIK-like stays raw;
- a NIK column stored as numbers with a decimal point or in scientific notation is refused: a
  spreadsheet keeps 15 significant digits, so the NIK is already destroyed.

The key of the hash must be at least :data:`MIN_KEY_BYTES` bytes: with a short key, the one
billion or so possible NIKs of a province can be hashed by anyone and matched.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import stat
from functools import lru_cache

import numpy as np
import pandas as pd

from .config import NIK_KEY_ENV, data_dir, nik_key_file
from .exceptions import NikKeyError

#: Digits of a NIK and of a family card number.
NIK_DIGITS = 16

#: Shortest accepted key of the NIK hash, in bytes: a 256-bit HMAC-SHA256 key (RFC 2104 advises a key
#: no shorter than the hash output, 32 bytes) so that the pseudonyms cannot be recomputed by guessing it.
MIN_KEY_BYTES = 32

#: Added to the day of birth of women in a NIK.
WOMEN_DAY_OFFSET = 40

#: Column names that hold NIK numbers (checked as NIKs) and family card numbers (checked as KK numbers).
NIK_NAME = re.compile(r"(^|_|\b)(nik\d*|no_?ktp\d*|nomor_?ktp\d*|ktp\d*|nomor_?induk(_kependudukan)?)(_|$|\b)",
                      re.IGNORECASE)
KK_NAME = re.compile(r"(^|_|\b)(no_?kk\d*|nomor_?kk\d*|nomor_?kartu_?keluarga|kk\d*)(_|$|\b)", re.IGNORECASE)

#: A 16-digit number inside text (not part of a longer number).
NIK_IN_TEXT = re.compile(r"(?<!\d)\d{16}(?!\d)")
#: A 16-digit number after a spreadsheet stored it as a number and wrote it in scientific notation.
SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d+)?[eE][+-]?\d+$")
DECIMAL = re.compile(r"^[+-]?\d+\.\d*$")
DIGITS16 = re.compile(r"^\d{16}$")

#: Whole numbers of 16 digits, as found in integer or float columns.
NIK_RANGE = (10**15, 10**16)

#: The fix for NIKs that a spreadsheet turned into numbers.
FLOAT_FIX = ("a NIK has 16 digits and a number in a spreadsheet keeps only 15: format the column as Text "
             "in the spreadsheet (or export it as text from the source system) and export the file again")


@lru_cache(maxsize=4)
def _province_codes(folder: str) -> frozenset[str]:
    df = pd.read_csv(os.path.join(folder, "nik_province_codes.csv"), dtype=str, keep_default_na=False)
    return frozenset(df["province_code"])


def province_codes() -> frozenset[str]:
    """Two-digit Kemendagri province codes (``welfare_eval/data/nik_province_codes.csv``)."""
    return _province_codes(str(data_dir()))


def is_id_column(name: object) -> str | None:
    """``"nik"`` or ``"kk"`` when a column's name says it holds NIK or family card numbers, else None."""
    text = str(name)
    if KK_NAME.search(text):
        return "kk"
    if NIK_NAME.search(text):
        return "nik"
    return None


def as_text(values: pd.Series) -> pd.Series:
    """Values as stripped text; integers without a decimal point; missing stays missing."""
    if pd.api.types.is_integer_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype("Int64").astype("string")
    return values.astype("string").str.strip()


def problems(values: pd.Series, *, kind: str = "nik") -> dict[str, np.ndarray]:
    """Masks of the bad values of a NIK (or ``kind="kk"``: family card) column, by check.

    ``"float"``: stored as a number with a decimal point or in scientific notation;
    ``"digits"``: not 16 digits (15 or 17 digits, letters, spaces inside);
    ``"province"``: the first two digits are no Indonesian province code;
    ``"date"``: digits 7-12 are no possible date DDMMYY (day + 40 for women in a NIK).
    Each value is counted under its first failing check only.
    """
    present = values.notna().to_numpy()
    n = len(values)
    if pd.api.types.is_float_dtype(values):
        return {"float": present, "digits": np.zeros(n, bool), "province": np.zeros(n, bool),
                "date": np.zeros(n, bool)}
    text = as_text(values).fillna("")
    is_float = present & (text.str.fullmatch(SCIENTIFIC.pattern) | text.str.fullmatch(DECIMAL.pattern)).to_numpy(bool)
    digits16 = text.str.fullmatch(DIGITS16.pattern).to_numpy(bool)
    bad_digits = present & ~is_float & ~digits16
    ok = present & digits16
    prov = text.str.slice(0, 2)
    bad_prov = ok & ~prov.isin(province_codes()).to_numpy(bool)
    dd = pd.to_numeric(text.str.slice(6, 8).where(ok, "0"), errors="coerce").fillna(0).to_numpy(int)
    mm = pd.to_numeric(text.str.slice(8, 10).where(ok, "0"), errors="coerce").fillna(0).to_numpy(int)
    yy = pd.to_numeric(text.str.slice(10, 12).where(ok, "0"), errors="coerce").fillna(0).to_numpy(int)
    if kind == "nik":
        dd = np.where(dd > WOMEN_DAY_OFFSET, dd - WOMEN_DAY_OFFSET, dd)
    bad_date = ok & ~bad_prov & ~possible_date(dd, mm, yy)
    return {"float": is_float, "digits": bad_digits, "province": bad_prov, "date": bad_date}


def possible_date(day: np.ndarray, month: np.ndarray, yy: np.ndarray) -> np.ndarray:
    """Whether DD, MM, YY make a calendar date in 19YY or 20YY (29 February only in years divisible by 4)."""
    days = np.array([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    month_ok = (month >= 1) & (month <= 12)
    limit = days[np.where(month_ok, month, 0)]
    limit = np.where((month == 2) & (yy % 4 != 0), 28, limit)
    return month_ok & (day >= 1) & (day <= limit)


def nik_like(values: pd.Series) -> np.ndarray:
    """Mask of values that hold a 16-digit number: in text (anywhere), or as a whole or float number."""
    if pd.api.types.is_bool_dtype(values):
        return np.zeros(len(values), bool)
    if isinstance(values.dtype, pd.CategoricalDtype):  # judge the categories, then map them to the rows
        cats = values.cat.categories.to_series().reset_index(drop=True)
        hit = nik_like(cats)
        codes = values.cat.codes.to_numpy()
        return np.where(codes >= 0, hit[np.maximum(codes, 0)], False) if len(cats) else np.zeros(len(values), bool)
    if pd.api.types.is_numeric_dtype(values):
        v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            return np.isfinite(v) & (np.abs(v) >= NIK_RANGE[0]) & (np.abs(v) < NIK_RANGE[1])
    if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
        return np.zeros(len(values), bool)
    text = values.astype("string")
    found = text.str.contains(NIK_IN_TEXT.pattern, regex=True).fillna(False).to_numpy(bool)
    sci = text.str.strip().str.fullmatch(r"[+-]?\d\.\d+[eE]\+?15").fillna(False).to_numpy(bool)
    return found | sci


# --------------------------------------------------------------------------------------------
# the key

def _key_error(what: str) -> NikKeyError:
    return NikKeyError(
        f"{what}; the NIK pseudonyms need a secret key of at least {MIN_KEY_BYTES} bytes. Create one with "
        "`python -c \"import secrets; print(secrets.token_hex(32))\"` and put it in the environment variable "
        f"{NIK_KEY_ENV} or in {nik_key_file()} (mode 600, readable by you only).")


def key() -> bytes:
    """The secret key of the NIK hash, checked.

    From ``WELFARE_EVAL_NIK_KEY`` when set (so that an office links the same family across files and
    months); otherwise from ``~/.config/welfare-eval/nik.key``, created once with a random 64-character
    key (mode 600) when absent.

    Raises
    ------
    NikKeyError
        The variable is set but shorter than :data:`MIN_KEY_BYTES` bytes (or empty); the key file is
        empty, too short, or readable or writable by the group or others.
    """
    env = os.environ.get(NIK_KEY_ENV)
    if env is not None:
        k = env.strip().encode()
        if len(k) < MIN_KEY_BYTES:
            raise _key_error(f"The environment variable {NIK_KEY_ENV} holds {len(k)} byte(s)")
        return k
    path = nik_key_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    if path.is_dir():
        raise _key_error(f"The NIK key file {path} is a folder")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o066:
        raise NikKeyError(
            f"The NIK key file {path} can be read or written by other users (mode {mode:o}); anyone who reads "
            f"the key can recompute the NIK pseudonyms. Restrict it with `chmod 600 {path}`.")
    k = path.read_bytes().strip()
    if not k:
        raise _key_error(f"The NIK key file {path} is empty")
    if len(k) < MIN_KEY_BYTES:
        raise _key_error(f"The NIK key file {path} holds {len(k)} byte(s)")
    return k


def hash_values(values: pd.Series, k: bytes) -> pd.Series:
    """Keyed HMAC-SHA256 pseudonyms (first 20 hex digits) of the values as text; missing stays missing.

    A 16-digit NIK is hashed as its 16 digits, whatever the column's type (text or integer).
    """
    text = as_text(values)

    def one(v):
        if pd.isna(v):
            return pd.NA
        return hmac.new(k, str(v).encode(), hashlib.sha256).hexdigest()[:20]

    return text.map(one).astype("string")
