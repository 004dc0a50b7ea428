"""The index page's small-area line: each region's kecamatan with the highest published extreme poverty."""
from __future__ import annotations

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from welfare_eval.report.index import write_index
from welfare_eval.report.store import STORE_COLUMNS

EXTREME = "extreme_poverty(extreme_215_2017ppp)"


def _row(region, kab, kec, estimate, *, quality="reliable", suppressed=False, estimand=EXTREME):
    return {"notebook": "15_small_area", "region": region, "program": "", "outcome": "", "estimand": estimand,
            "group": f"kab_code={kab}; kec_code={kec}; quality={quality}", "method": "Fay-Herriot",
            "estimate": None if suppressed else estimate, "std_error": None if suppressed else estimate / 5,
            "ci_lower": None if suppressed else estimate * 0.6, "ci_upper": None if suppressed else estimate * 1.4,
            "nobs": 40, "suppressed": suppressed, "n_min_group": 40}


def _manifest():
    job = {"job_id": "15_small_area_provinsi_id", "notebook": "15_small_area.ipynb", "status": "ok",
           "duration_s": 10.0, "title": 'Kemiskinan per kecamatan <span lang="en">/ Poverty by kecamatan</span>',
           "parameters": {"kabupaten": "all", "language": "id"}, "outputs": {}}
    return {"run_id": "r", "started": "2026-11-29T08:53:19+00:00", "finished": "2026-11-29T08:55:19+00:00",
            "package_version": "0", "config": "(command line)", "jobs": [job]}


@pytest.fixture
def run_dir(tmp_path):
    rows = [
        # the province: the highest is suppressed, a P0 row is higher still; the caution one is the top shown
        _row("all", "7601", "7601010", 0.30, suppressed=True, quality="unreliable"),
        _row("all", "7602", "7602030", 0.50, estimand="P0"),
        _row("all", "7602", "7602020", 0.081, quality="caution"),
        _row("all", "7603", "7603010", 0.062),
        # Polewali Mandar: a reliable top
        _row("7602", "7602", "7602040", 0.055),
        _row("7602", "7602", "7602050", 0.031, quality="caution"),
        # Mamasa: nothing published
        _row("7603", "7603", "7603020", 0.2, suppressed=True, quality="unreliable"),
    ]
    pd.DataFrame(rows, columns=list(STORE_COLUMNS)).to_csv(tmp_path / "results.csv", index=False)
    return tmp_path


@pytest.mark.parametrize("language, heading, lines, note", [
    ("id", "Kemiskinan ekstrem per kecamatan (estimasi area kecil)",
     ["Provinsi Sulawesi Barat: Kecamatan dengan kemiskinan ekstrem tertinggi: Balanipa (8,1%*, selang 4,9% – 11,3%)",
      "Polewali Mandar (7602): Kecamatan dengan kemiskinan ekstrem tertinggi: Tubbi Taramanu "
      "(5,5%, selang 3,3% – 7,7%)",
      "Mamasa (7603): tidak ada kecamatan yang cukup andal untuk dipublikasikan"],
     "* gunakan dengan hati-hati: kesalahan baku relatif 25-50% (BPS)"),
    ("en", "Extreme poverty by kecamatan (small-area estimation)",
     ["West Sulawesi province: Kecamatan with the highest extreme poverty: Balanipa (8.1%*, interval 4.9% – 11.3%)",
      "Polewali Mandar (7602): Kecamatan with the highest extreme poverty: Tubbi Taramanu (5.5%, interval 3.3% – 7.7%)",
      "Mamasa (7603): no kecamatan reliable enough to publish"],
     "* use with caution: relative standard error 25-50% (BPS)"),
], ids=["id", "en"])
def test_index_names_each_regions_highest_published_extreme_poverty(run_dir, language, heading, lines, note):
    soup = BeautifulSoup(write_index(run_dir, _manifest(), language=language).read_text(), "lxml")
    h2 = [h.get_text() for h in soup.find_all("h2")]
    assert heading in h2
    items = [li.get_text() for li in soup.find("ul", class_="small-area").find_all("li")]
    assert items == lines
    assert soup.find("p", class_="note").get_text() == note


def test_no_caution_note_when_the_lines_need_none(run_dir):
    f = pd.read_csv(run_dir / "results.csv", dtype={"region": str})
    f["group"] = f["group"].str.replace("quality=caution", "quality=reliable")
    f.to_csv(run_dir / "results.csv", index=False)
    soup = BeautifulSoup(write_index(run_dir, _manifest()).read_text(), "lxml")
    assert "*" not in soup.find("ul", class_="small-area").get_text()
    assert soup.find("p", class_="note") is None


def test_no_small_area_section_without_its_rows(tmp_path):
    pd.DataFrame([_row("all", "7602", "7602020", 0.08) | {"notebook": "10_poverty_profile"}],
                 columns=list(STORE_COLUMNS)).to_csv(tmp_path / "results.csv", index=False)
    soup = BeautifulSoup(write_index(tmp_path, _manifest()).read_text(), "lxml")
    assert soup.find("ul", class_="small-area") is None
