"""A raw NIK never appears in any table, notebook or report the workbench writes."""
from __future__ import annotations

import os

import pandas as pd
import pytest

from welfare_eval import load_table
from welfare_eval import nik as nikmod
from welfare_eval.exceptions import DataValidationError, NikKeyError
from welfare_eval.io import contains_nik, hash_nik, pseudonymize, pseudonymize_checked


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


# --------------------------------------------------------------------------------------------
# NIK values checked where they are read, NIK-like columns found by value, the key

#: Hand-checked NIKs: (value, the check it fails or "" when valid).
NIK_CASES = {
    "man-12-03-84": ("7605011203840001", ""),
    "woman-12-03-84": ("7605015203840001", ""),
    "woman-31-12-99": ("7605017112990001", ""),
    "29-feb-84-leap": ("7605012902840001", ""),
    "29-feb-00-leap-2000": ("7605012902000001", ""),
    "29-feb-85": ("7605012902850001", "date"),
    "31-april": ("7605013104840001", "date"),
    "day-00": ("7605010003840001", "date"),
    "day-32": ("7605013203840001", "date"),
    "woman-day-72": ("7605017203840001", "date"),
    "month-00": ("7605011200840001", "date"),
    "province-99": ("9905011203840001", "province"),
    "province-10": ("1005011203840001", "province"),
    "15-digits": ("760501120384001", "digits"),
    "17-digits": ("76050112038400011", "digits"),
    "letter": ("76050112O3840001", "digits"),
    "space-inside": ("7605011203 840001", "digits"),
    "scientific": ("7.60501120384E+15", "float"),
    "decimal": ("7605011203840001.0", "float"),
}


@pytest.mark.parametrize("case", list(NIK_CASES), ids=list(NIK_CASES))
def test_nik_structure_is_checked(case):
    value, check = NIK_CASES[case]
    got = nikmod.problems(pd.Series([value], dtype="string"))
    failed = [k for k, m in got.items() if m[0]]
    assert failed == ([check] if check else [])


def test_family_card_date_has_no_women_offset():
    kk = pd.Series(["7605015203840001", "7605011203840001"])
    assert nikmod.problems(kk, kind="kk")["date"].tolist() == [True, False]


def test_province_codes_are_reference_data():
    codes = nikmod.province_codes()
    assert "76" in codes and "11" in codes and "96" in codes and "99" not in codes and len(codes) == 38


def test_float_column_of_niks_is_refused_whole():
    s = pd.Series([7605011203840001.0, None])
    assert nikmod.problems(s)["float"].tolist() == [True, False]


def test_integer_and_text_niks_hash_alike():
    key = b"k" * 32
    as_int = nikmod.hash_values(pd.Series([7605011203840001], dtype="int64"), key)
    as_text = nikmod.hash_values(pd.Series([" 7605011203840001 "]), key)
    assert as_int.tolist() == as_text.tolist()


def test_scientific_notation_is_refused_not_hashed_to_one_value(province, tmp_path):
    """The reported bug: Excel's 7.60501221272462E+15 was cut at '.' and every household hashed as '7'."""
    raw = pd.read_csv(province / "raw" / "dtks_registry.csv", dtype=str, nrows=50)
    raw["NIK_KEPALA"] = [f"{float(v):.14E}" for v in raw["NIK_KEPALA"]]
    path = tmp_path / "dtks.csv"
    raw.to_csv(path, index=False)
    with pytest.raises(DataValidationError, match="format the column as Text") as err:
        load_table(path, table="registry", mapping="dtks_registry")
    assert "50 values" in str(err.value) and "rows 1, 2, 3, 4, 5, ..." in str(err.value)


@pytest.mark.parametrize("name", ["NO_KTP", "NIK1", "nik_istri", "NOMOR_KK", "nomor_induk"])
def test_nik_columns_are_found_by_name(name):
    df = pd.DataFrame({name: ["7605011203840001", "7605011503840002"], "x": [1, 2]})
    out, findings = pseudonymize_checked(df, table="registry")
    assert findings == [] and name not in out.columns and contains_nik(out.to_csv(index=False)) == []


@pytest.mark.parametrize("values", [["catatan KTP 7605011203840001", None], [7605011203840001, 1]],
                         ids=["in-text", "as-integer"])
def test_nik_like_values_are_hashed_whatever_the_column_name(values):
    df = pd.DataFrame({"keterangan": values, "x": [1, 2]})
    out, findings = pseudonymize_checked(df, table="registry")
    assert "keterangan" not in out.columns and "keterangan_hash" in out.columns
    assert contains_nik(out.to_csv(index=False)) == []
    assert [f.severity for f in findings] == ["warning"] and "pseudonymize" in findings[0].hint


def test_ordinary_columns_are_left_alone():
    df = pd.DataFrame({"desa_code": ["7601010001"], "hp": ["081234567890"], "teknik": ["a"], "kks": [True]})
    out, findings = pseudonymize_checked(df)
    assert out.equals(df) and findings == []


# the key ---------------------------------------------------------------------------------------

@pytest.fixture
def no_env_key(monkeypatch, tmp_path):
    monkeypatch.delenv("WELFARE_EVAL_NIK_KEY", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config" / "welfare-eval" / "nik.key"


@pytest.mark.parametrize("value", ["", "x", "test-key-not-secret"], ids=["empty", "one-char", "19-bytes"])
def test_short_key_in_environment_is_refused(monkeypatch, value):
    monkeypatch.setenv("WELFARE_EVAL_NIK_KEY", value)
    with pytest.raises(NikKeyError, match="at least 32 bytes"):
        nikmod.key()


def test_key_file_is_created_private_and_long(no_env_key):
    k = nikmod.key()
    assert len(k) >= nikmod.MIN_KEY_BYTES
    assert (no_env_key.stat().st_mode & 0o777) == 0o600
    assert nikmod.key() == k


@pytest.mark.parametrize("content,mode,words", [
    ("", 0o600, "is empty"),
    ("short", 0o600, "holds 5 byte(s)"),
    ("k" * 64, 0o644, "chmod 600"),
    ("k" * 64, 0o620, "chmod 600"),
], ids=["empty-file", "short-file", "world-readable", "group-writable"])
def test_bad_key_file_is_refused(no_env_key, content, mode, words):
    no_env_key.parent.mkdir(parents=True)
    no_env_key.write_text(content)
    os.chmod(no_env_key, mode)
    with pytest.raises(NikKeyError) as err:
        nikmod.key()
    assert words in str(err.value)


def test_short_key_stops_the_command_with_exit_2(monkeypatch, province, capsys):
    from welfare_eval.cli import main

    monkeypatch.setenv("WELFARE_EVAL_NIK_KEY", "x")
    code = main(["validate", "--table", "registry", "--mapping", "dtks_registry",
                 str(province / "raw" / "dtks_registry.csv")])
    assert code == 2 and "at least 32 bytes" in capsys.readouterr().err


def test_nik_like_values_in_a_categorical_column_are_hashed():
    df = pd.DataFrame({"id_warga": pd.Series(["7605011203840001", "x", None], dtype="category")})
    out, findings = pseudonymize_checked(df)
    assert list(out.columns) == ["id_warga_hash"] and findings[0].count == 1
    assert contains_nik(out.to_csv(index=False)) == []
