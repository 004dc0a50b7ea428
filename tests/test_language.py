"""Indonesian as a Dinas report writes it, and both languages side by side in the index.

The number formats and the wording are checked on their own (fast), and on the pages of a real run
(the shared report run of the province and one kabupaten, which an English run through the CLI
joins): every ``_id`` reader page, the briefing and the index are
scanned for English words and for string keys that reached the reader untranslated. English that a
page carries on purpose (the notebooks' subtitles, the English half of a briefing) is marked
``lang="en"`` and is not scanned.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from welfare_eval.report.index import primary_language, write_index
from welfare_eval.report.strings import (
    STRINGS,
    fmt_datetime,
    fmt_duration,
    fmt_number,
    fmt_pct,
    fmt_pp,
    fmt_pvalue,
    fmt_sd,
    fmt_year,
    note_text,
    notes_text,
    t,
)

#: Words that cannot be Indonesian. Loanwords Indonesian reports use as they are (data, program, unit,
#: median, survei, notebook, bootstrap, run, panel, strata) are not listed.
ENGLISH_WORDS = frozenset("""
the and of with for from is are was were be been this that these those which when where who what how not than into
only both each every other there their its it by on at an as or but if has have had will would should could can
effect effects impact channel channels decile deciles household households warning warnings skipped skip cell cells
comparison cohort cohorts error errors estimate estimates estimated interval confidence coverage poverty poor share
late short delay days year years yes relative outcome outcomes method methods treated treatment control weights
weighted missing rows table tables file files report reports done failed passed absent before after previous
generated children child school stunted marriage consumption capita month billion scenario cost budget same extreme
headcount gap severity ratio empowerment accompaniment savings member graduated knows uses card help without naive
biased doubly trim note notes computable computed suppressed observations standard deviation deviations percentage
points summary briefing briefings next sure quality source urban rural female head size schooling indicator measure
value values check checks message fix count example wave waves programme district province page reused kept
inputs unchanged retried ran interrupted""".split())  # noqa: SIM905 - a word list reads best as text
#: Abbreviations of English terms (case-sensitive): Indonesian pages say simpangan baku, galat baku,
#: selang kepercayaan, poin persen.
ENGLISH_ABBREVIATIONS = frozenset({"SD", "SE", "CI", "pp"})
#: Names kept as they are on Indonesian pages: methods (each beside its Indonesian gloss), authors, files.
ALLOWED_PHRASES = ("doubly robust", "fuzzy regression discontinuity", "Callaway-Sant'Anna", "Benjamini-Hochberg",
                   "wild cluster bootstrap", "welfare-eval", "manifest.json")


def reader_text(page: str, language: str = "id") -> str:
    """The prose a reader of ``language`` sees: no scripts, styles, code (file names) or paths, no parts
    marked as another language."""
    soup = BeautifulSoup(page, "lxml")
    for tag in soup(["script", "style", "code"]):  # code: file and notebook names, not prose
        tag.decompose()
    for tag in soup.find_all(attrs={"lang": True}):
        if not tag.decomposed and tag.name != "html" and not str(tag.get("lang", "")).startswith(language):
            tag.decompose()
    text = re.sub(r"\s+", " ", soup.get_text(" "))
    text = re.sub(r"\S*/\S*|«[^»]*»", " ", text)  # paths and quoted folder names (the data), not prose
    for phrase in ALLOWED_PHRASES:
        text = text.replace(phrase, " ")
    return text


def english_in(text: str) -> list[str]:
    """English words and untranslated string keys in a reader's text."""
    words = [w.strip("'") for w in re.findall(r"[A-Za-z][A-Za-z'_]*", text) if "_" not in w]  # keys: below
    found = [w for w in words if w.lower() in ENGLISH_WORDS or w in ENGLISH_ABBREVIATIONS]
    found += [k for k in STRINGS if "_" in k and re.search(rf"(?<![\w.]){re.escape(k)}(?![\w.])", text)]
    found += re.findall(r"\w+='\w+'", text)  # code left in prose, e.g. trim='crump'
    return sorted(set(found))


# --- formats --------------------------------------------------------------------------------------

@pytest.mark.parametrize("value,lang,digits,expected", [
    (-0.04, "id", 1, "0,0"), (-0.004, "en", 2, "0.00"), (-0.0, "id", 0, "0"), (-0.06, "id", 1, "-0,1"),
    (-1234.5, "id", 1, "-1.234,5"), (0.0004, "id", 3, "0,000")],
    ids=["id-one-digit", "en-two-digits", "signed-zero", "rounds-away", "thousands", "positive-small"])
def test_no_negative_zero(value, lang, digits, expected):
    assert fmt_number(value, lang, digits=digits) == expected


def test_negative_zero_in_every_unit():
    assert fmt_pct(-0.00001, "id") == "0,0%"
    assert fmt_pp(-0.00001, "id") == "0,0 poin persen"
    assert fmt_sd(-0.001, "id") == "0,00 simpangan baku"
    assert fmt_sd(-0.001, "en") == "0.00 SD"


@pytest.mark.parametrize("year", [2020, 2024.0, "2021"], ids=["int", "float", "text"])
def test_years_have_no_thousands_separator(year):
    assert fmt_year(year) == str(int(float(year)))


@pytest.mark.parametrize("p,lang,expected", [(0.0041, "id", "0,004"), (0.0041, "en", "0.004"), (0.03, "id", "0,030"),
                                             (0.00001, "id", "< 0,001"), (1.0, "id", "1,000")],
                         ids=["id", "en", "trailing-zero", "tiny", "one"])
def test_p_values_in_the_language(p, lang, expected):
    assert fmt_pvalue(p, lang) == expected


def test_units_are_words_of_a_dinas_report():
    assert fmt_pp(-0.054, "id") == "-5,4 poin persen"
    assert fmt_pp(-0.054, "en") == "-5.4 pp"
    assert fmt_sd(0.18, "id") == "0,18 simpangan baku"
    assert t("ci95", "id") == "Selang kepercayaan 95%" and t("estimate", "id") == "Perkiraan"
    assert t("exclusion_error_rate", "id").startswith("Kesalahan eksklusi")
    assert t("inclusion_error_rate", "id").startswith("Kesalahan inklusi")


@pytest.mark.parametrize("key,name", [("aipw", "AIPW"), ("ipw", "IPW"), ("cs", "Callaway-Sant'Anna"), ("twfe", "TWFE")],
                         ids=["aipw", "ipw", "callaway-santanna", "twfe"])
def test_method_names_keep_their_name_with_an_indonesian_gloss(key, name):
    text = t(key, "id")
    assert name in text and text != t(key, "en")
    gloss = text.replace(name, " ")
    for phrase in ALLOWED_PHRASES:
        gloss = gloss.replace(phrase, " ")
    assert re.search(r"[a-z]{4,}", gloss), text   # an Indonesian word beside the name
    assert not english_in(reader_text(text)), text


@pytest.mark.parametrize("when,lang,expected", [
    ("2026-11-29T08:53:19.582+00:00", "id", "29 November 2026, 16.53 WITA"),
    ("2026-11-29T08:53:19.582+00:00", "en", "29 November 2026, 16:53 WITA"),
    ("2026-08-17T02:05:00+00:00", "id", "17 Agustus 2026, 10.05 WITA"),
    ("2026-12-31T20:30:00+00:00", "id", "1 Januari 2027, 04.30 WITA"),
    (dt.datetime(2026, 5, 1, 0, 0), "en", "1 May 2026, 08:00 WITA")],
    ids=["id", "en", "id-month-name", "next-day-in-wita", "naive-is-utc"])
def test_times_in_wita_as_people_write_them(when, lang, expected):
    assert fmt_datetime(when, lang) == expected


@pytest.mark.parametrize("seconds,lang,expected", [(16.0, "id", "16 detik"), (16.0, "en", "16 seconds"),
                                                   (59, "id", "59 detik"), (125, "id", "2 menit"),
                                                   (125, "en", "2 minutes"), (1, "en", "1 second")],
                         ids=["id", "en", "under-a-minute", "minutes", "minutes-en", "singular"])
def test_durations_as_people_say_them(seconds, lang, expected):
    assert fmt_duration(seconds, lang) == expected


def test_staggered_notes_are_worded_from_the_table():
    """The notes of the Callaway-Sant'Anna estimator (cells without comparison units) carry a key and
    are said in Indonesian, the cells of one sentence together."""
    import numpy as np
    import pandas as pd

    from welfare_eval import impact

    rng = np.random.default_rng(11)
    units = np.arange(120)
    cohort = np.repeat([2022, 2023, 2024], 40)  # everyone is treated by 2024: the last cells lack controls
    rows = [{"hh": u, "year": y, "g": g, "kec": u % 12, "y": rng.normal() + 0.3 * (y >= g)}
            for u, g in zip(units, cohort) for y in range(2020, 2025)]
    est = impact.staggered_did(pd.DataFrame(rows), outcome="y", unit="hh", time="year", cohort="g", cluster="kec",
                               control_group="not_yet_treated", aggregate="dynamic", bootstrap=0)
    skipped = [n for n in est.notes if getattr(n, "key", None) == "note_cell_skipped"]
    assert skipped, est.notes
    for n in skipped:
        assert "no comparison units" in n                      # the English note is unchanged
        assert note_text(n, "en") == t("note_cell_skipped", "en", **n.params)
        assert note_text(n, "id") != str(n) and not english_in(note_text(n, "id"))
    said = notes_text(skipped, "id")
    assert len(said) == 1 and said[0].startswith("Tidak ada unit pembanding") and not english_in(said[0])


@pytest.mark.parametrize("key", sorted(STRINGS), ids=str)
def test_every_indonesian_string_is_indonesian(key):
    text = re.sub(r"\{\w+\}", " ", STRINGS[key]["id"])  # placeholders are filled with numbers and names
    assert not english_in(reader_text(f"<p>{text}</p>")), (key, STRINGS[key]["id"])


def test_english_scanner_finds_what_it_should():
    page = ('<html><body><p>Dampak <b>effect</b> 0,18 SD</p><p lang="en">The effect</p>'
            "<p>exclusion_error_rate trim='crump' AIPW (kuat ganda / doubly robust)</p></body></html>")
    assert english_in(reader_text(page)) == ["SD", "effect", "exclusion_error_rate", "trim", "trim='crump'"]


# --- the index ------------------------------------------------------------------------------------

def _manifest(jobs, **kw):
    return {"run_id": "r", "started": "2026-11-29T08:53:19+00:00", "finished": "2026-11-29T08:55:19+00:00",
            "package_version": "0", "config": "(command line)", "jobs": jobs, **kw}


def _job(nb, lang, region="all", seconds=16.0):
    stem = nb.split(".")[0]
    label = "provinsi" if region == "all" else region
    return {"job_id": f"{stem}_{label}_{lang}", "notebook": nb, "status": "ok", "duration_s": seconds,
            "title": 'Profil kemiskinan <span lang="en">/ Poverty profile</span>',
            "parameters": {"kabupaten": region, "language": lang},
            "outputs": {"html": f"{stem}_{label}_{lang}.html"}}


@pytest.mark.parametrize("manifest,expected", [
    (_manifest([_job("10_p.ipynb", "id")], grid={"language": ["id"]}), "id"),
    # `--language en` into a folder of Indonesian reports: the grid now says en, the folder's first run id
    (_manifest([_job("10_p.ipynb", "id"), _job("10_p.ipynb", "en")], grid={"language": ["en"]},
               primary_language="id"), "id"),
    (_manifest([_job("10_p.ipynb", "en")], grid={"language": ["en"]}, primary_language="en"), "en"),
    # recorded id but only English reports in the folder: English
    (_manifest([_job("10_p.ipynb", "en")], grid={"language": ["en"]}, primary_language="id"), "en"),
], ids=["id-run", "en-after-id", "en-only", "nothing-in-the-recorded-language"])
def test_primary_language(manifest, expected):
    assert primary_language(manifest) == expected


def test_primary_language_follows_the_configuration_file(tmp_path):
    config = tmp_path / "report.yaml"
    config.write_text("grid:\n  language: [id, en]\n")
    m = _manifest([_job("10_p.ipynb", "en"), _job("10_p.ipynb", "id")], config=str(config),
                  grid={"language": ["en"]}, primary_language="en")
    assert primary_language(m) == "id"


def test_index_lists_both_languages_side_by_side(tmp_path):
    jobs = [_job("10_p.ipynb", "en", seconds=125), _job("10_p.ipynb", "id"), _job("10_p.ipynb", "id", "7602")]
    for name in ("briefing_provinsi_id", "briefing_provinsi_en", "briefing_7602_id"):
        (tmp_path / f"{name}.html").write_text("<html></html>")
        (tmp_path / f"{name}.pdf").write_bytes(b"%PDF")
    page = write_index(tmp_path, _manifest(jobs, grid={"language": ["en"]}, primary_language="id")).read_text()
    soup = BeautifulSoup(page, "lxml")
    assert soup.html["lang"] == "id"
    rows = soup.find_all("table")[-1].find("tbody").find_all("tr")
    assert [r.find("td", class_="lang").get_text() for r in rows] == ["Indonesia", "Inggris", "Indonesia"]
    assert rows[0].find_all("td")[0].get_text(" ").split()[:2] == ["Profil", "kemiskinan"]
    assert "29 November 2026, 16.55 WITA" in page and "2026-11-29T" not in page
    assert ">16 detik<" in page and ">2 menit<" in page and " s<" not in page
    brief = soup.find("table", class_="briefings")
    assert [th.get_text() for th in brief.find_all("th")] == ["Wilayah", "Indonesia", "Inggris"]
    cells = {tr.find("td").get_text(): [a["href"] for a in tr.find_all("a")]
             for tr in brief.find("tbody").find_all("tr")}
    assert cells["Provinsi Sulawesi Barat"] == ["briefing_provinsi_id.html", "briefing_provinsi_id.pdf",
                                                "briefing_provinsi_en.html", "briefing_provinsi_en.pdf"]
    assert cells["Polewali Mandar (7602)"] == ["briefing_7602_id.html", "briefing_7602_id.pdf"]
    assert not english_in(reader_text(page)), english_in(reader_text(page))
    en = BeautifulSoup(write_index(tmp_path, _manifest(jobs), language="en").read_text(), "lxml")
    assert "29 November 2026, 16:55 WITA" in en.get_text() and "2 minutes" in en.get_text()
    assert en.find_all("table")[-1].find("tbody").find("tr").find("td").get_text(" ").startswith("Poverty profile")


# --- the pages of a real run ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def language_run(report_run, report_data, tmp_path_factory):
    """The shared report run (the province and one kabupaten in Indonesian) copied, then the poverty
    profile in English into the copy through the CLI: an Indonesian run that an English one joins.
    (The copy keeps its manifest, so the English run adds its jobs beside the Indonesian ones.)"""
    from welfare_eval.cli import main

    out = tmp_path_factory.mktemp("language-run")
    shutil.copytree(report_run.run_dir, out / "lang")
    common = ["run", "--data", str(report_data), "--kabupaten", "all,7602", "--output-root", str(out),
              "--run-id", "lang"]
    # one worker: two short jobs, the second on the kernel the worker warmed during the first
    assert main([*common, "--language", "en", "--only", "10_*", "--workers", "1"]) == 0
    return out / "lang"


def _indonesian_pages(run_dir: Path) -> list[Path]:
    readers = [p for p in run_dir.glob("*_id.html")]
    briefings = [p for p in run_dir.glob("briefing_*.html") if not p.stem.endswith("_en")]
    return sorted(readers) + sorted(briefings) + [run_dir / "index.html"]


def test_indonesian_pages_have_no_english(language_run):
    pages = _indonesian_pages(language_run)
    from welfare_eval.report.runner import discover_notebooks

    readers = [p for p in pages if p.name.startswith(tuple("0123456789"))]
    assert len(readers) == 2 * len(discover_notebooks()), [p.name for p in pages]  # the province and 7602
    found = {p.name: english_in(reader_text(p.read_text(encoding="utf-8"))) for p in pages}
    assert {name: words for name, words in found.items() if words} == {}


def test_index_stays_indonesian_after_an_english_run(language_run):
    page = (language_run / "index.html").read_text(encoding="utf-8")
    soup = BeautifulSoup(page, "lxml")
    assert soup.html["lang"] == "id"
    langs = [td.get_text() for td in soup.find_all("td", class_="lang")]
    from welfare_eval.report.runner import discover_notebooks

    assert langs.count("Inggris") == 2 and langs.count("Indonesia") == 2 * len(discover_notebooks())
    assert re.search(r"Dibuat: \d{1,2} (Januari|Februari|Maret|April|Mei|Juni|Juli|Agustus|September|Oktober|"
                     r"November|Desember) \d{4}, \d{2}\.\d{2} WITA", page)
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", soup.get_text())
    assert all(re.fullmatch(r"\d+ (detik|menit|jam)", td.get_text()) for td in soup.find_all("td", class_="dur"))
    manifest = json.loads((language_run / "manifest.json").read_text())
    assert manifest["primary_language"] == "id"


def test_years_and_p_values_on_the_pages(language_run):
    profile = reader_text((language_run / "10_poverty_profile_provinsi_id.html").read_text(encoding="utf-8"))
    assert re.search(r"\b2020\b", profile) and "2.020" not in profile
    english = reader_text((language_run / "10_poverty_profile_provinsi_en.html").read_text(encoding="utf-8"), "en")
    assert "2,020" not in english
    impact = reader_text((language_run / "30_impact_bansos_provinsi_id.html").read_text(encoding="utf-8"))
    assert not re.search(r"\b0\.\d{3}\b", impact), re.findall(r"\b0\.\d{3}\b", impact)
    for page in _indonesian_pages(language_run):
        text = reader_text(page.read_text(encoding="utf-8"))
        assert not re.search(r"-0(,0+)?(?![,\d])", text), (page.name, re.findall(r".{20}-0(?:,0+)?(?![,\d]).{5}", text))
