"""A raw NIK never appears in any table, notebook or report the workbench writes."""
from __future__ import annotations

import pandas as pd
import pytest

from welfare_eval import load_table
from welfare_eval.io import contains_nik, hash_nik, pseudonymize


@pytest.fixture(scope="module")
def niks(province) -> set[str]:
    raw = pd.read_csv(province / "raw" / "dtks_registry.csv", dtype=str)
    values = set(raw["NIK_KEPALA"])
    assert all(len(v) == 16 and v.isdigit() for v in values)
    return values


def test_nik_is_replaced_by_a_keyed_hash(province, niks):
    reg = load_table(province / "raw" / "dtks_registry.csv", table="registry", mapping="dtks_registry")
    assert "NIK_KEPALA" not in reg.columns
    text = reg.to_csv(index=False)
    assert contains_nik(text, niks) == []
    # deterministic for a key, different under another key
    s = pd.Series(sorted(niks)[:3])
    assert hash_nik(s, b"k1").tolist() == hash_nik(s, b"k1").tolist()
    assert hash_nik(s, b"k1").tolist() != hash_nik(s, b"k2").tolist()


def test_unmapped_nik_columns_are_caught_by_name():
    df = pd.DataFrame({"no_kk": ["7605011203840001"], "NIK": ["7605015507910002"], "x": [1]})
    out = pseudonymize(df)
    assert set(out.columns) == {"x", "nik_hash", "no_kk_hash"}
    assert contains_nik(out.to_csv(index=False)) == []


def test_no_nik_in_any_report_output(report_data, report_run, niks):
    # the shared run (tests/conftest.py) read a data folder whose registry came from the raw export
    # with NIK numbers; nothing it wrote, nor that registry, may contain one
    result = report_run
    assert result.ok
    written = [p for p in result.run_dir.rglob("*") if p.is_file()] + [report_data / "registry.parquet"]
    for path in written:
        text = path.read_bytes().decode("utf-8", errors="ignore")
        assert contains_nik(text, niks) == [], path.name
