"""Each loader format reads back to the contract tables the generator wrote."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from welfare_eval import load_dataset, load_table
from welfare_eval.exceptions import DataValidationError, ParameterError
from welfare_eval.io import ColumnMapping

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
