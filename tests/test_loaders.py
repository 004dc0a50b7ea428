"""Each loader format reads back to the contract tables the generator wrote."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from welfare_eval import load_dataset, load_table
from welfare_eval.exceptions import DataValidationError, ParameterError
from welfare_eval.io import ColumnMapping, read_raw

FLOAT_RTOL = 1e-12  # Stata and SPSS store doubles; CSV round-trips floats with pyarrow's shortest repr


def _same(a: pd.DataFrame, b: pd.DataFrame, columns) -> None:
    for c in columns:
        x, y = a[c].to_numpy(), b[c].to_numpy()
        if np.issubdtype(np.asarray(x).dtype, np.floating):
            np.testing.assert_allclose(x, y.astype(float), rtol=FLOAT_RTOL, err_msg=c)
        else:
            assert (np.asarray(x, dtype=object) == np.asarray(y, dtype=object)).all(), c


@pytest.mark.parametrize("ext", ["dta", "sav"], ids=["stata", "spss"])
def test_susenas_exports_read_back(province, tables, ext):
    got = load_table(province / "raw" / f"susenas_kor.{ext}", table="survey", mapping="susenas")
    ref = tables["survey"]
    common = [c for c in ref.columns if c in got.columns]
    assert set(ref.columns) - set(common) == {"kec_code"}  # SUSENAS KOR carries no kecamatan here
    _same(got, ref, common)
    assert got["kab_code"].dtype == "string" and got["urban"].dtype == bool


def test_registry_csv_with_kemendagri_codes_and_nik(province, tables):
    got = load_table(province / "raw" / "dtks_registry.csv", table="registry", mapping="dtks_registry")
    ref = tables["registry"]
    _same(got, ref, [c for c in ref.columns])
    assert "NIK_KEPALA" not in got.columns and "nik_hash" in got.columns
    raw = pd.read_csv(province / "raw" / "dtks_registry.csv", dtype=str)
    # the raw file really is in the other code system, which the crosswalk undid
    assert (raw["KODE_KAB"] != ref["kab_code"]).any()


def test_parquet_dataset(province):
    ds = load_dataset(province)
    assert set(ds.tables) == {"registry", "survey", "panel", "disbursement"}
    assert ds["panel"]["wave"].dtype == np.int64


def test_csv_of_contract_table_roundtrip(tmp_path, tables):
    path = tmp_path / "panel.csv"
    tables["panel"].to_csv(path, index=False)
    got = load_table(path, table="panel")
    _same(got, tables["panel"], ["hh_id", "wave", "kab_code", "tksk", "cons_pc", "business_income"])


def test_mapping_for_another_table_is_refused(province):
    with pytest.raises(ParameterError, match="mapping"):
        load_table(province / "raw" / "susenas_kor.dta", table="registry", mapping="susenas")


def test_mapping_naming_absent_columns(tmp_path, province):
    m = ColumnMapping(table="survey", rename={"no_such_column": "weight"})
    with pytest.raises(DataValidationError, match="no_such_column"):
        load_table(province / "raw" / "susenas_kor.dta", table="survey", mapping=m)


def test_mapping_with_unknown_key(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("table: survey\nrenames: {a: b}\n")
    with pytest.raises(ParameterError, match="renames"):
        ColumnMapping.from_yaml(path)


def test_missing_folder_says_what_to_do_without_suggesting_synthetic_data(tmp_path):
    with pytest.raises(FileNotFoundError, match="check the path") as err:
        load_dataset(tmp_path / "nowhere")
    assert "synth" not in str(err.value)


def test_missing_file_hint_does_not_suggest_synthetic_data(tmp_path):
    with pytest.raises(FileNotFoundError, match="check the path") as err:
        load_table(tmp_path / "survey.csv", table="survey")
    assert "synth" not in str(err.value)


# --------------------------------------------------------------------------------------------
# Stata and SPSS value labels, declared encodings, delimiters, dates; dotted Kemendagri codes


def _inverted_pkh(province, tmp_path, ext):
    """The SUSENAS export with PKH coded 1 = Tidak, 2 = Ya (codes and labels both swapped)."""
    reader = pyreadstat.read_dta if ext == "dta" else pyreadstat.read_sav
    df, meta = reader(str(province / "raw" / f"susenas_kor.{ext}"), apply_value_formats=False)
    labels = {c: {int(k): v for k, v in lab.items()} for c, lab in meta.variable_value_labels.items()}
    df["pkh"] = 3 - df["pkh"]
    labels["pkh"] = {1: "Tidak", 2: "Ya"}
    path = tmp_path / f"inverted.{ext}"
    (pyreadstat.write_dta if ext == "dta" else pyreadstat.write_sav)(df, str(path), variable_value_labels=labels)
    return path


@pytest.mark.parametrize("ext", ["dta", "sav"], ids=["stata", "spss"])
def test_value_labels_are_read(province, ext):
    df = read_raw(province / "raw" / f"susenas_kor.{ext}")
    assert df.attrs["value_labels"]["pkh"] in ({1: "Ya", 2: "Tidak"}, {1.0: "Ya", 2.0: "Tidak"})


@pytest.mark.parametrize("ext", ["dta", "sav"], ids=["stata", "spss"])
def test_recode_by_label_reads_inverted_codes_right(province, tables, tmp_path, ext):
    path = _inverted_pkh(province, tmp_path, ext)
    # by code, the shipped mapping would invert PKH: it is refused, naming the label
    with pytest.raises(DataValidationError, match="value label of 1 is 'Tidak'"):
        load_table(path, table="survey", mapping="susenas")
    # by label, the same file reads right
    m = ColumnMapping.from_yaml("susenas")
    by_label = ColumnMapping(**{**m.__dict__, "recode": {**m.recode, "pkh": {"Ya": True, "Tidak": False}}})
    got = load_table(path, table="survey", mapping=by_label)
    ref = tables["survey"]
    assert (got["pkh"].to_numpy() == ref["pkh"].to_numpy()).all() and got["pkh"].sum() > 0


def test_declared_encoding_and_delimiter_are_read(tables, tmp_path):
    ref = tables["panel"].head(50).assign(catatan="Désa")
    ref.to_csv(tmp_path / "latin1.csv", index=False, encoding="cp1252")
    ref.to_csv(tmp_path / "semicolon.csv", index=False, sep=";")
    ref.to_csv(tmp_path / "utf16.csv", index=False, encoding="utf-16")
    for name, kw in (("latin1.csv", {"encoding": "cp1252"}), ("semicolon.csv", {"delimiter": ";"}),
                     ("utf16.csv", {"encoding": "utf-16"})):
        got = load_table(tmp_path / name, table="panel", **kw)
        assert got["catatan"].iloc[0] == "Désa", name
        _same(got, ref, ["hh_id", "wave", "cons_pc", "tksk"])


def test_encoding_and_delimiter_in_the_mapping(tables, tmp_path):
    ref = tables["panel"].head(20).assign(catatan="Désa")
    ref.to_csv(tmp_path / "p.csv", index=False, encoding="cp1252", sep=";")
    (tmp_path / "m.yaml").write_text("table: panel\nencoding: cp1252\ndelimiter: ';'\n")
    got = load_table(tmp_path / "p.csv", table="panel", mapping=tmp_path / "m.yaml")
    assert got["catatan"].iloc[0] == "Désa"


def test_declared_day_first_dates(tables, tmp_path):
    ref = tables["disbursement"].head(200)
    d = ref.astype({"program": str, "period": str, "channel": str, "kec_code": str})
    d["paid_on"] = d["paid_on"].map(lambda v: "" if pd.isna(v) else v.strftime("%d/%m/%Y"))
    d.to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(DataValidationError, match="date_format"):
        load_table(tmp_path / "d.csv", table="disbursement")
    (tmp_path / "m.yaml").write_text("table: disbursement\ndate_format: {paid_on: '%d/%m/%Y'}\n")
    got = load_table(tmp_path / "d.csv", table="disbursement", mapping=tmp_path / "m.yaml")
    assert got["paid_on"].equals(pd.to_datetime(ref["paid_on"]).astype(got["paid_on"].dtype))


def test_kemendagri_codes_with_dots(province, tables, tmp_path):
    raw = pd.read_csv(province / "raw" / "dtks_registry.csv", dtype=str, nrows=300)
    raw["KODE_KAB"] = raw["KODE_KAB"].str.slice(0, 2) + "." + raw["KODE_KAB"].str.slice(2)
    raw["KODE_KEC"] = raw["KODE_KEC"].str.slice(0, 2) + "." + raw["KODE_KEC"].str.slice(2, 4) + "." + \
        raw["KODE_KEC"].str.slice(4)
    raw.to_csv(tmp_path / "dotted.csv", index=False)
    got = load_table(tmp_path / "dotted.csv", table="registry", mapping="dtks_registry")
    ref = tables["registry"].head(300)
    _same(got, ref, ["hh_id", "kab_code", "kec_code"])


def test_every_mapping_problem_is_listed_at_once(province, tmp_path):
    from welfare_eval.config import data_dir

    text = (data_dir() / "mappings" / "susenas.yaml").read_text()
    text = text.replace("urut: hh_id", "nomor: hh_id").replace("fwt: weight", "bobot: weight")
    text = text.replace("kab_code: {from: [r101, r102]", "kab_code: {from: [prov, r102]")
    (tmp_path / "m.yaml").write_text(text)
    with pytest.raises(DataValidationError) as err:
        load_table(province / "raw" / "susenas_kor.dta", table="survey", mapping=tmp_path / "m.yaml")
    missing = {f.column for f in err.value.report.errors if f.check == "mapping"}
    assert missing == {"nomor", "bobot", "prov"}


def test_malformed_mapping_lists_every_key_problem(tmp_path):
    from welfare_eval.exceptions import MappingError

    (tmp_path / "m.yaml").write_text("table: survey\ncompose:\n  kab_code: {from: [a, b]}\nrecode:\n  pkh: 1\n"
                                     "pseudonymize: NIK\nrenames: {a: b}\n")
    with pytest.raises(MappingError) as err:
        ColumnMapping.from_yaml(tmp_path / "m.yaml")
    text = str(err.value)
    assert "4 problem(s)" in text
    for words in ("renames", "lacks 'widths'", "recode of 'pkh'", "'pseudonymize' must be a list"):
        assert words in text


def test_unknown_mapping_name_lists_the_shipped_ones():
    from welfare_eval.exceptions import MappingError

    with pytest.raises(MappingError, match="dtks_registry, susenas"):
        ColumnMapping.from_yaml("susenass")


def test_validate_goes_on_after_a_bad_file_and_exits_with_the_worst(tables, tmp_path, capsys):
    from welfare_eval.cli import main

    good = tmp_path / "good.parquet"
    tables["panel"].to_parquet(good, index=False)
    (tmp_path / "empty.csv").write_bytes(b"")
    assert main(["validate", "--table", "panel", str(tmp_path / "empty.csv"), str(good)]) == 1
    out = capsys.readouterr()
    assert "is empty" in out.err and "no problems found" in out.out
    assert main(["validate", "--table", "panel", str(tmp_path / "nowhere.csv"), str(tmp_path / "empty.csv"),
                 str(good)]) == 2
    out = capsys.readouterr()
    assert "does not exist" in out.err and "synth" not in out.err and "is empty" in out.err
