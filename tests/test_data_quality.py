"""The data-quality page counts the rows of its own scope and says so when there is nothing to report."""
from __future__ import annotations

import shutil

import pandas as pd
import pytest

from welfare_eval import quality
from welfare_eval.report.strings import t


@pytest.fixture(scope="module")
def clean(province, tmp_path_factory):
    out = tmp_path_factory.mktemp("dq")
    for name in ("registry", "survey", "panel", "disbursement"):
        shutil.copy(province / f"{name}.parquet", out / f"{name}.parquet")
    return out


@pytest.mark.parametrize("kab", ["7601", "7604"])
def test_kabupaten_page_counts_the_kabupatens_rows(clean, tables, kab):
    rep = quality.data_quality(clean, kabupaten=kab, language="en")
    rows = dict(zip(rep.tables[t("table", "en")], rep.tables[t("rows", "en")]))
    assert rows["registry"] == int((tables["registry"]["kab_code"] == kab).sum())
    assert rows["survey"] == int((tables["survey"]["kab_code"] == kab).sum())
    assert rows["panel"] == int((tables["panel"]["kab_code"] == kab).sum())
    assert rows["disbursement"] == int(tables["disbursement"]["kec_code"].astype(str).str.startswith(kab).sum())
    assert rows["registry"] < len(tables["registry"])  # not the province's count
    # the same numbers as the coverage table beside it
    assert rep.coverage[t("registry_households", "en")].iloc[0] == rows["registry"]


def test_province_page_counts_every_row(clean, tables):
    rep = quality.data_quality(clean, kabupaten="all", language="id")
    rows = dict(zip(rep.tables[t("table", "id")], rep.tables[t("rows", "id")]))
    assert rows == {n: len(tables[n]) for n in ("registry", "survey", "panel", "disbursement")}


@pytest.mark.parametrize("language,text", [("id", "Tidak ada temuan"), ("en", "No findings")])
def test_empty_findings_table_says_no_findings(clean, language, text):
    rep = quality.data_quality(clean, kabupaten="7602", language=language)
    assert rep.n_findings == 0
    shown = rep.findings_table()
    assert shown.shape == (1, 1) and shown.iloc[0, 0] == text


def test_failed_table_counts_the_kabupatens_rows_too(clean, tables, tmp_path):
    for name in ("registry", "survey", "panel", "disbursement"):
        shutil.copy(clean / f"{name}.parquet", tmp_path / f"{name}.parquet")
    sv = tables["survey"].copy()
    sv.loc[0, "weight"] = -1.0
    sv.to_parquet(tmp_path / "survey.parquet", index=False)
    kab = sv.loc[0, "kab_code"]
    rep = quality.data_quality(tmp_path, kabupaten=kab, language="en")
    rows = dict(zip(rep.tables[t("table", "en")], rep.tables[t("rows", "en")]))
    assert rows["survey"] == int((sv["kab_code"] == kab).sum())
    assert rep.n_findings >= 1 and rep.findings_table().equals(rep.findings)
    assert isinstance(rep.findings, pd.DataFrame)
