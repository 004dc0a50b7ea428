"""Each defect of the data contract gives its own clear finding, and nothing is loaded or written."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from welfare_eval import load_table, validate
from welfare_eval.cli import main
from welfare_eval.exceptions import DataValidationError


def _survey(tables) -> pd.DataFrame:
    return tables["survey"].copy()


def _weight_missing(d):
    d["weight"] = d["weight"].astype(float)
    d.loc[[3, 8], "weight"] = np.nan
    return d


def _drop_psus(d):
    # stratum 76011 keeps one census block only
    first = d.loc[d["strata"] == d["strata"].iloc[0], "psu"].iloc[0]
    keep = (d["strata"] != d["strata"].iloc[0]) | (d["psu"] == first)
    return d[keep].reset_index(drop=True)


def _psu_spanning(d):
    other = d.index[d["strata"] != d["strata"].iloc[0]][0]
    d.loc[other, "psu"] = d["psu"].iloc[0]
    return d


CASES = {
    # id: (defect, column, check, words the message must contain)
    "missing-column": (lambda d: d.drop(columns=["weight"]), "weight", "missing_column", "required column"),
    "text-in-consumption": (
        lambda d: d.assign(cons_pc=d["cons_pc"].astype(object).where(d.index != 4, "1.200.000 Rp")),
        "cons_pc",
        "type",
        "not numbers",
    ),
    "duplicate-key": (
        lambda d: pd.concat([d, d.iloc[[0, 1]]], ignore_index=True),
        "hh_id",
        "duplicate_key",
        "share a key",
    ),
    "unknown-kabupaten": (
        lambda d: d.assign(kab_code=d["kab_code"].where(d.index != 2, "7699")),
        "kab_code",
        "region",
        "unknown in province 76",
    ),
    "weight-missing": (_weight_missing, "weight", "missing", "missing values"),
    "weight-zero": (lambda d: d.assign(weight=d["weight"].where(d.index != 5, 0.0)), "weight", "range", "zero"),
    "weight-negative": (
        lambda d: d.assign(weight=d["weight"].where(d.index != 6, -3.0)),
        "weight",
        "range",
        "negative",
    ),
    "consumption-zero": (lambda d: d.assign(cons_pc=d["cons_pc"].where(d.index != 7, 0.0)), "cons_pc", "range", "zero"),
    "consumption-negative": (
        lambda d: d.assign(cons_pc=d["cons_pc"].where(d.index != 7, -5.0)),
        "cons_pc",
        "range",
        "negative",
    ),
    "decile-out-of-range": (
        lambda d: d.assign(decile=d["decile"].where(d.index != 9, 11)),
        "decile",
        "range",
        "above 10",
    ),
    "decile-zero": (lambda d: d.assign(decile=d["decile"].where(d.index != 9, 0)), "decile", "range", "below 1"),
    "psu-spans-strata": (_psu_spanning, "psu", "design", "span more than one stratum"),
    "stratum-with-one-psu": (_drop_psus, "strata", "design", "single PSU"),
    "urban-not-yes-no": (
        lambda d: d.assign(urban=d["urban"].astype(object).where(d.index != 1, "kota")),
        "urban",
        "type",
        "not yes/no",
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_each_defect_is_reported(tables, tmp_path, case):
    defect, column, check, words = CASES[case]
    bad = defect(_survey(tables))
    report = validate(bad, "survey", source="test")
    assert not report.ok
    hits = [f for f in report.errors if f.check == check and column in f.column]
    assert hits, str(report)
    text = str(hits[0])
    assert words in text and "table survey" in text and ";" in text  # what, where ... ; how to fix
    # the file version: load_table raises with the same finding and writes nothing
    path = tmp_path / "survey.csv"
    bad.to_csv(path, index=False)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(DataValidationError) as err:
        load_table(path, table="survey")
    assert any(f.check == check for f in err.value.report.errors)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_clean_tables_pass(tables):
    for name in ("registry", "survey", "panel", "disbursement"):
        report = validate(tables[name], name)
        assert report.ok, str(report)


def test_every_problem_is_reported_at_once(tables):
    d = _survey(tables)
    d.loc[2, "kab_code"] = "7699"
    d.loc[5, "weight"] = -1.0
    d.loc[9, "decile"] = 12
    d.loc[11, "cons_pc"] = 0.0
    report = validate(d, "survey")
    assert {(f.column, f.check) for f in report.errors} >= {("kab_code", "region"), ("weight", "range"),
                                                              ("decile", "range"), ("cons_pc", "range")}


def test_rows_are_named_from_one(tables):
    d = _survey(tables)
    d.loc[[4, 19], "weight"] = -2.0
    f = [f for f in validate(d, "survey").errors if f.column == "weight"][0]
    assert f.rows == (5, 20) and f.count == 2
    assert "rows 5, 20" in str(f)


def test_cli_validate_exit_codes(tables, tmp_path, capsys):
    good, bad = tmp_path / "good.parquet", tmp_path / "bad.parquet"
    tables["survey"].to_parquet(good, index=False)
    d = _survey(tables)
    d.loc[3, "weight"] = 0.0
    d.to_parquet(bad, index=False)
    assert main(["validate", "--table", "survey", str(good)]) == 0
    assert "no problems found" in capsys.readouterr().out
    assert main(["validate", "--table", "survey", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "Column 'weight' of table survey: 1 values are zero (rows 4)" in out


def test_console_script_is_installed(tables, tmp_path):
    bad = tmp_path / "bad.parquet"
    d = _survey(tables)
    d.loc[0, "decile"] = 0
    d.to_parquet(bad, index=False)
    exe = [sys.executable, "-m", "welfare_eval.cli"]
    res = subprocess.run([*exe, "validate", "--table", "survey", str(bad)], capture_output=True, text=True)
    assert res.returncode == 1 and "decile" in res.stdout
