"""Tables out to Excel and to papers: the run's workbooks, EstimateTable.to_excel, impact.table.

The workbooks are opened with openpyxl (numbers are numbers, formats are Excel formats) and, where
LibreOffice is installed, converted to PDF as an analyst would print them and read back as text.
"""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from welfare_eval import impact
from welfare_eval.exceptions import ParameterError
from welfare_eval.impact.table import STAR_LEVELS
from welfare_eval.report import excel
from welfare_eval.report.store import STORE_COLUMNS
from welfare_eval.report.strings import t
from welfare_eval.results import EstimateTable

#: Cells hold the stored floats themselves (no rounding on the way into the workbook).
EXACT = 1e-12

_ROWS = [  # notebook, region, program, outcome, estimand, group, method, est, se, lo, hi, n, suppressed
    ("10_poverty_profile", "all", "", "headcount", "FGT(alpha=0)", "kab_name=Majene; area=Perdesaan",
     "Taylor linearization", 0.1336, 0.0154, 0.1032, 0.1640, 1392, False),
    ("10_poverty_profile", "all", "", "headcount", "FGT(alpha=0)", "kab_name=Mamasa; area=Perkotaan",
     "Taylor linearization", np.nan, np.nan, np.nan, np.nan, 7, True),
    ("30_impact_bansos", "all", "BPNT", "cons_pc", "ATT aipw", "", "AIPW", 51234.5, 8000.0, 35554.0, 66915.0,
     929, False),
    ("10_poverty_profile", "all", "", "Gini", "Gini", "", "Taylor linearization", 0.322, 0.011, 0.301, 0.343, 1392,
     False),
    ("10_poverty_profile", "7601", "", "headcount", "FGT(alpha=0)", "", "Taylor linearization", 0.15, 0.02, 0.11,
     0.19, 170, False),
]


@pytest.fixture()
def run_dir(tmp_path):
    # the rows name the columns up to `suppressed`; later columns of the store (n_min_group) stay empty
    store = pd.DataFrame(_ROWS, columns=list(STORE_COLUMNS)[:len(_ROWS[0])]).reindex(columns=list(STORE_COLUMNS))
    store.to_csv(tmp_path / "results.csv", index=False)
    return tmp_path


def _find(ws, value):
    for row in ws.iter_rows():
        for c in row:
            if c.value == value:
                return c
    raise AssertionError(f"{value!r} not on sheet {ws.title}")


@pytest.mark.parametrize("language", ["id", "en"])
def test_workbook_has_numeric_cells_formats_and_a_sources_sheet(run_dir, language):
    path = excel.write_workbook(run_dir, region="all", language=language, min_cell=10)
    assert path == run_dir / f"tabel_provinsi_{language}.xlsx"
    wb = load_workbook(path)
    assert wb.sheetnames[0] == t("xl_about_sheet", language)
    about = wb.worksheets[0]
    texts = [c.value for row in about.iter_rows() for c in row if isinstance(c.value, str)]
    assert t("xl_def_suppressed", language, n=10) in texts and t("xl_sources", language) in texts
    # one sheet per report table (notebook, programme, outcome): three for the province, none for 7601's row
    assert wb.sheetnames[1:] == ["10 headcount", "30 BPNT cons_pc", "10 Gini"]
    ws = wb["10 headcount"]
    header = [c.value for c in ws[4]]
    assert header[:3] == [t("kabupaten", language), t("area", language), t("xl_estimand", language)]
    est_col = header.index(t("xl_estimate", language)) + 1
    row = _find(ws, "Majene").row
    cells = [ws.cell(row, est_col + k) for k in range(5)]  # estimate, lower, upper, SE, n
    assert [type(c.value) for c in cells] == [float, float, float, float, int]
    assert [c.value for c in cells[:4]] == pytest.approx([0.1336, 0.1032, 0.1640, 0.0154], abs=EXACT)
    assert cells[4].value == 1392
    tag = excel.LOCALE_TAGS[language]
    assert cells[0].number_format == tag + "0.0%" and cells[4].number_format == tag + "#,##0"
    # the suppressed row: empty numbers, n kept, a note that says why
    row = _find(ws, "Mamasa").row
    assert all(ws.cell(row, est_col + k).value is None for k in range(4))
    assert ws.cell(row, est_col + 4).value == 7
    assert ws.cell(row, est_col + 5).value == t("suppressed", language, n=10)
    # rupiah and ratios are formatted as such
    rp = wb["30 BPNT cons_pc"]
    assert _find(rp, 51234.5).number_format == tag + '"Rp "#,##0'
    assert _find(wb["10 Gini"], 0.322).number_format == tag + "0.000"


def test_workbook_for_a_kabupaten_and_none_without_rows(run_dir):
    path = excel.write_workbook(run_dir, region="7601", language="id")
    assert path.name == "tabel_7601_id.xlsx" and load_workbook(path).sheetnames[1:] == ["10 headcount"]
    assert excel.write_workbook(run_dir, region="7602", language="id") is None


@pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftotext") is None,
                    reason="LibreOffice and poppler are not installed")
def test_workbook_prints_with_indonesian_numbers(run_dir):
    """As an analyst would open it: LibreOffice shows the Indonesian workbook's numbers as 13,4% and 1.392."""
    path = excel.write_workbook(run_dir, region="all", language="id")
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(run_dir), str(path)],
                   check=True, capture_output=True, timeout=180)
    text = subprocess.run(["pdftotext", "-layout", str(path.with_suffix(".pdf")), "-"], check=True,
                          capture_output=True, text=True).stdout
    assert "13,4%" in text and "1.392" in text and "Rp 51.235" in text
    assert t("suppressed", "id", n=10) in text


def test_estimate_table_to_excel(tmp_path):
    frame = pd.DataFrame({"estimand": ["P0", "P0"], "kab": ["A", "B"], "estimate": [0.1, 0.2],
                          "std_error": [0.01, 0.02], "nobs": [100, 50], "method": ["m", "m"]})
    tab = EstimateTable(frame, group_columns=("kab",), notes=("a note",))
    path = tab.to_excel(tmp_path / "t.xlsx", percent=True)
    ws = load_workbook(path).active
    header = [c.value for c in ws[1]]
    f = tab.to_frame()
    for name in ("estimate", "ci_lower", "ci_upper", "std_error"):
        col = header.index(name) + 1
        assert [ws.cell(r, col).value for r in (2, 3)] == pytest.approx(f[name].tolist(), abs=EXACT)
        assert ws.cell(2, col).number_format == "0.0%"
    assert ws.cell(3, header.index("nobs") + 1).value == 50
    assert any(c.value == "a note" for row in ws.iter_rows() for c in row)


@pytest.fixture(scope="module")
def models():
    rng = np.random.default_rng(3)
    n = 400
    df = pd.DataFrame({"x": rng.normal(size=n), "g": rng.integers(0, 25, n)})
    df["pkh"] = (rng.random(n) < 0.4).astype(int)
    df["y"] = 0.3 * df["pkh"] + 0.5 * df["x"] + rng.normal(size=n)
    df["y_100"] = 100 * df["y"]
    return [impact.naive(df, outcome="y", treatment="pkh"),
            impact.regression(df, outcome="y", treatment="pkh", covariates=["x"]),
            impact.regression(df, outcome="y_100", treatment="pkh", covariates=["x"], cluster="g",
                              wild_bootstrap=False)]


def test_regression_table_layout_and_stars(models):
    tab = impact.table(models, names=["Naive", "OLS", "Clustered"], labels={"pkh": "PKH"})
    lay = tab.layout()
    assert list(lay.columns) == ["Naive", "OLS", "Clustered"] and lay.index[0] == "PKH"
    for name, m in zip(lay.columns, models):
        stars = "*" * sum(m.pvalue < s for s in STAR_LEVELS)
        assert lay[name].iloc[0] == f"{m.estimate:.3f}{stars}"
        assert lay[name].iloc[1] == f"({m.std_error:.3f})"
    assert lay.loc["Observations"].tolist() == ["400"] * 3
    assert lay.loc["Outcome"].tolist() == ["y", "y", "y_100"]
    f = tab.to_frame()
    assert f["estimate"].tolist() == pytest.approx([m.estimate for m in models], abs=EXACT)


def test_regression_table_renders_to_html_latex_and_excel(models, tmp_path):
    tab = impact.table({"(a) naive": models[0], "(b) & ols": models[1]}, ci=True)
    html = tab.to_html()
    assert "(b) &amp; ols" in html and "<table" in html and "Standard errors in parentheses" in html
    tex = tab.to_latex(caption="PKH effects", label="tab:pkh")
    assert r"(b) \& ols" in tex and r"\toprule" in tex and r"\label{tab:pkh}" in tex
    assert tex.count(r"\midrule") == 2 and "[" in tex  # the interval row
    path = tab.to_excel(tmp_path / "reg.xlsx")
    ws = load_workbook(path)["table"]
    assert [c.value for c in ws[1]][1:3] == ["(a) naive", "(b) & ols"]
    est, se = ws.cell(2, 3), ws.cell(3, 3)
    assert est.value == pytest.approx(models[1].estimate, abs=EXACT) and isinstance(est.value, float)
    assert se.value == pytest.approx(models[1].std_error, abs=EXACT) and se.number_format == '"("0.000")"'
    assert ws.cell(5, 1).value == "Outcome"  # header, the term, its SE and CI rows, then the statistics


def test_regression_table_takes_an_estimate_table_and_checks_its_input(models):
    et = EstimateTable(pd.DataFrame({"estimand": ["ATT", "ATT"], "event_time": [0, 1], "estimate": [0.1, 0.2],
                                     "std_error": [0.05, 0.05], "nobs": [100, 100], "method": ["cs", "cs"]}),
                       group_columns=("event_time",))
    tab = impact.table([models[0], et])
    assert tab.terms == ("pkh", "ATT [event_time=0]", "ATT [event_time=1]")
    assert tab.layout().iloc[0, 1] == ""  # the second model has no 'pkh' row
    with pytest.raises(ParameterError, match="Estimate or EstimateTable"):
        impact.table([models[0], "not a model"])
    with pytest.raises(ParameterError, match="distinct names"):
        impact.table(models[:2], names=["a", "a"])


def test_index_links_each_regions_workbook(tmp_path):
    """The index lists a region's Excel tables beside its briefing, in the briefing's language."""
    from welfare_eval.report.index import _briefing_table

    for name in ("briefing_provinsi_id.html", "briefing_provinsi_en.html", "tabel_provinsi_id.xlsx"):
        (tmp_path / name).write_text("x")
    html_text = _briefing_table(tmp_path, "id", ["id", "en"])
    assert 'href="tabel_provinsi_id.xlsx">tabel Excel</a>' in html_text
    assert "tabel_provinsi_en.xlsx" not in html_text      # no link to a workbook that was not written


_BANDED = [  # as the HTML area table: RSE 11.5% shown, 40% caution, 75% and a zero rate not published
    ("10_poverty_profile", "all", "", "extreme", "extreme", "kab_name=Majene; area=Perdesaan",
     "Taylor linearization", 0.1336, 0.0154, 0.1032, 0.1640, 392, False),
    ("10_poverty_profile", "all", "", "extreme", "extreme", "kab_name=Mamasa; area=Perdesaan",
     "Taylor linearization", 0.10, 0.04, 0.02, 0.18, 150, False),
    ("10_poverty_profile", "all", "", "extreme", "extreme", "kab_name=Mamuju; area=Perkotaan",
     "Taylor linearization", 0.02, 0.015, 0.0, 0.05, 90, False),
    ("10_poverty_profile", "all", "", "extreme", "extreme", "kab_name=Pasangkayu; area=Perkotaan",
     "Taylor linearization", 0.0, 0.0, 0.0, 0.0, 60, False),
    ("10_poverty_profile", "all", "", "extreme", "extreme", "",   # the region's headline: no bands
     "Taylor linearization", 0.02, 0.015, 0.0, 0.05, 1392, False),
    ("10_poverty_profile", "all", "", "extreme by kabupaten", "extreme", "kab_code=7606",
     "Taylor linearization", 0.008, 0.0082, 0.0, 0.03, 140, False),
]


@pytest.mark.parametrize("language", ["id", "en"])
def test_workbook_follows_the_reliability_bands_of_the_html(tmp_path, language):
    store = pd.DataFrame(_BANDED, columns=list(STORE_COLUMNS)[:len(_BANDED[0])]).reindex(columns=list(STORE_COLUMNS))
    store.to_csv(tmp_path / "results.csv", index=False)
    wb = load_workbook(excel.write_workbook(tmp_path, region="all", language=language, min_cell=10))
    ws = wb["10 extreme"]
    header = [c.value for c in ws[4]]
    est = header.index(t("xl_estimate", language)) + 1
    note = header.index(t("xl_note", language)) + 1

    def numbers(row):
        return [ws.cell(row, est + k).value for k in range(4)]   # estimate, lower, upper, SE

    majene, mamasa = _find(ws, "Majene").row, _find(ws, "Mamasa").row
    assert numbers(majene) == pytest.approx([0.1336, 0.1032, 0.1640, 0.0154]) and not ws.cell(majene, note).value
    assert numbers(mamasa) == pytest.approx([0.10, 0.02, 0.18, 0.04])
    assert ws.cell(mamasa, note).value == t("xl_rse_caution", language)
    for kab in ("Mamuju", "Pasangkayu"):   # RSE 75%, and a zero rate
        row = _find(ws, kab).row
        assert numbers(row) == [None] * 4 and ws.cell(row, note).value.startswith(t("rse_not_published", language))
    assert t("rse_zero_note", language) in ws.cell(_find(ws, "Pasangkayu").row, note).value
    headline = next(r for r in range(5, ws.max_row + 1) if ws.cell(r, est).value == pytest.approx(0.02))
    assert ws.cell(headline, 1).value in (None, "")   # the region's own row keeps its number
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert t("rse_note", language) in texts
    kab = wb["10 extreme by kabupaten"]   # the chart's rows: RSE 102%, not published
    est = [c.value for c in kab[4]].index(t("xl_estimate", language)) + 1
    assert all(kab.cell(5, est + k).value is None for k in range(4)) and kab.cell(5, est + 4).value == 140
