"""Region codes of Sulawesi Barat (province 76) and the BPS/Kemendagri crosswalk.

The two coding systems number the kabupaten differently (Majene is 7601 for BPS and 7605 in the
Kemendagri-style list), so every file says which system it uses and the loaders convert to BPS
codes, the codes of the data contract. The crosswalk ships in ``welfare_eval/data/regions_kabupaten.csv`` and
``welfare_eval/data/regions_kecamatan.csv`` (see ``welfare_eval/data/README.md`` for their provenance).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Literal

import pandas as pd

from .config import data_dir
from .exceptions import DataValidationError, parameter_error

PROVINCE_CODE = "76"
CodeSystem = Literal["bps", "kemendagri"]
CODE_SYSTEMS = ("bps", "kemendagri")


@lru_cache(maxsize=4)
def _read(name: str, folder: str) -> pd.DataFrame:
    return pd.read_csv(f"{folder}/{name}", dtype=str, keep_default_na=False)


def kabupaten() -> pd.DataFrame:
    """Kabupaten with BPS code, Kemendagri-style code, name and 2020 census population."""
    out = _read("regions_kabupaten.csv", str(data_dir())).copy()
    out["population_2020"] = out["population_2020"].astype(int)
    return out


def kecamatan() -> pd.DataFrame:
    """Kecamatan with BPS code (7 digits), Kemendagri-style code (6 digits), kabupaten and name."""
    return _read("regions_kecamatan.csv", str(data_dir())).copy()


def kab_names() -> dict[str, str]:
    """BPS kabupaten code -> name."""
    k = kabupaten()
    return dict(zip(k["kab_code"], k["kab_name"]))


def kec_names() -> dict[str, str]:
    """BPS kecamatan code -> name."""
    k = kecamatan()
    return dict(zip(k["kec_code"], k["kec_name"]))


def to_bps(codes: pd.Series, *, level: Literal["kab", "kec"], system: CodeSystem) -> pd.Series:
    """Convert region codes of ``system`` to BPS codes.

    Codes that are not in the crosswalk become missing; the caller reports them (the validator
    lists unknown codes with their rows).
    """
    if system not in CODE_SYSTEMS:
        raise parameter_error("system", "to_bps", f"one of {CODE_SYSTEMS}", system)
    codes = codes.astype("string").str.strip()
    if system == "bps":
        return codes
    table = kabupaten() if level == "kab" else kecamatan()
    col = f"{level}_code"
    mapping = dict(zip(table[f"{col}_kemendagri"], table[col]))
    return codes.map(mapping).astype("string")


def check_system(system: str, *, where: str) -> CodeSystem:
    if system not in CODE_SYSTEMS:
        raise DataValidationError(
            f"{where}: region code system {system!r} is unknown; use one of {CODE_SYSTEMS}."
        )
    return system  # type: ignore[return-value]
