"""Nothing from the data is markup: script and event-handler payloads in column names, region and
kecamatan names and text values reach the reader and analyst pages, the briefing and the index only
as text.

The payloads go into a copy of the test province (column names of the registry, which then fails
its contract and is listed in the findings with "columns present: ...", and of the survey, whose
empty column is listed in the missingness table; a text value of the registry quoted in a finding)
and into a copy of the shipped region crosswalk (``$WELFARE_EVAL_DATA``: kabupaten and kecamatan
names). The notebooks that show them run through the real runner; every HTML page is parsed.
"""
from __future__ import annotations

import os
import shutil
from html.parser import HTMLParser

import pandas as pd
import pytest

from welfare_eval.config import data_dir
from welfare_eval.report import show
from welfare_eval.report.display import md_lines
from welfare_eval.report.runner import run

#: Each payload carries a marker so that a live one can be told from the page's own scripts.
SCRIPT = "<script>alert('XSS-col')</script>"
IMG = "<img src=x onerror=alert('XSS-img')>"
SVG = "<svg onload=alert('XSS-kab')>"
KEC = "\"><iframe src=javascript:alert('XSS-kec')>"
TEXT = "<b onmouseover=alert('XSS-val')>x</b>"
MARK = "XSS-"
EVENT_ATTRIBUTES = ("onerror", "onload", "onmouseover", "onclick", "onfocus")


class _Live(HTMLParser):
    """Elements and attributes of a page that came from a payload: a tag the payloads use with an
    attribute or a script carrying the marker, or any ``on*=`` attribute holding the marker."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.live: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.lower().startswith("on") and MARK in (value or ""):
                self.live.append(f"<{tag} {name}={value!r}>")
            if name.lower() == "src" and "javascript:" in (value or "") and MARK in value:
                self.live.append(f"<{tag} src={value!r}>")
        if tag in ("img", "svg", "iframe", "b") and any(n.lower() in EVENT_ATTRIBUTES for n, _ in attrs):
            self.live.append(f"<{tag} {attrs}>")
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and MARK in data:
            self.live.append(f"<script>{data[:80]}")


def live_payloads(page: str) -> list[str]:
    p = _Live()
    p.feed(page)
    return p.live


def _text(page: str) -> str:
    """What a reader sees of a page (tags dropped, character references decoded)."""
    out = []

    class T(HTMLParser):
        def handle_data(self, data):
            out.append(data)

    T(convert_charrefs=True).feed(page)
    return "".join(out)


# -- the helpers themselves -------------------------------------------------------------------------

def test_show_escapes_cells_and_headers():
    table = pd.DataFrame({SCRIPT: [IMG, "ok"], "n": [1, 2], TEXT: [0.1, 0.2]})
    page = show(table, "id", pct_columns=[TEXT]).to_html()
    assert live_payloads(page) == []
    seen = _text(page)
    assert SCRIPT in seen and IMG in seen and TEXT in seen  # shown, as text
    assert "10,0%" in seen  # the formatting still applies


def test_detector_finds_a_live_payload():
    """The parser used below does see a payload left as markup."""
    assert live_payloads(f"<p>{IMG}</p>") and live_payloads(f"<p>{SCRIPT}</p>") and live_payloads(SVG)


@pytest.mark.parametrize("value", [SCRIPT, IMG, KEC, "[x](javascript:alert('XSS-md'))", "![i](x)", "a\n# h"],
                         ids=["script", "img", "iframe", "md-link", "md-image", "newline-heading"])
@pytest.mark.parametrize("renderer", ["mistune", "markdown-it"])
def test_md_keeps_values_as_text(value, renderer):
    """Rendered by nbconvert's Markdown parser (mistune) and by CommonMark (markdown-it, as JupyterLab)."""
    if renderer == "mistune":
        from nbconvert.filters.markdown_mistune import markdown2html_mistune as render
    else:
        import markdown_it

        render = markdown_it.MarkdownIt("commonmark").render
    rendered = render(md_lines([value]))
    assert live_payloads(rendered) == []
    assert "<a " not in rendered and "<img" not in rendered and "<h1" not in rendered
    assert " ".join(value.splitlines()) in _text(rendered)


# -- the reports, through the runner ----------------------------------------------------------------

@pytest.fixture(scope="module")
def poisoned(province, tmp_path_factory):
    base = tmp_path_factory.mktemp("injection")
    data = base / "province"
    shutil.copytree(province, data)
    reg = pd.read_parquet(data / "registry.parquet")
    # a registry whose required column is renamed to a script: the registry fails its contract and
    # the finding lists the columns present; a text value with an event handler is quoted too
    reg = reg.rename(columns={"kks": SCRIPT})
    reg = reg[[SCRIPT, *(c for c in reg.columns if c != SCRIPT)]]  # among the first columns the hint lists
    reg["desa_code"] = reg["desa_code"].astype(str)
    reg.loc[reg.index[:3], "desa_code"] = TEXT
    reg.to_parquet(data / "registry.parquet")
    sv = pd.read_parquet(data / "survey.parquet")
    sv[IMG] = [None if i % 2 else "a" for i in range(len(sv))]  # listed in the missingness table
    sv.to_parquet(data / "survey.parquet")
    ref = base / "reference"
    shutil.copytree(data_dir(), ref, ignore=shutil.ignore_patterns("synthetic"))
    kab = pd.read_csv(ref / "regions_kabupaten.csv", dtype=str, keep_default_na=False)
    kab["kab_name"] = kab["kab_name"] + " " + SVG
    kab.to_csv(ref / "regions_kabupaten.csv", index=False)
    kec = pd.read_csv(ref / "regions_kecamatan.csv", dtype=str, keep_default_na=False)
    kec["kec_name"] = kec["kec_name"] + KEC
    kec.to_csv(ref / "regions_kecamatan.csv", index=False)
    old = os.environ.get("WELFARE_EVAL_DATA")
    os.environ["WELFARE_EVAL_DATA"] = str(ref)  # the kernels inherit it
    from welfare_eval import regions
    regions._read.cache_clear()
    try:
        result = run(data_dir=data, output_root=base / "reports", run_id="inj", kabupaten="all,7601",
                     notebooks=["00_data_quality", "10_poverty_profile", "20_targeting", "90_briefing"])
    finally:
        if old is None:
            os.environ.pop("WELFARE_EVAL_DATA", None)
        else:
            os.environ["WELFARE_EVAL_DATA"] = old
        regions._read.cache_clear()
    return result


def test_reports_ran_on_the_poisoned_province(poisoned):
    assert poisoned.ok, [(j["job_id"], j.get("error")) for j in poisoned.jobs if j["status"] != "ok"]


def test_no_page_carries_a_live_payload(poisoned):
    pages = sorted(poisoned.run_dir.rglob("*.html"))
    kinds = {p.name.split("_")[0] for p in pages}
    assert {"index.html", "briefing"} <= {p.name if p.name == "index.html" else "briefing" for p in pages
                                          if p.name == "index.html" or p.name.startswith("briefing")}
    assert any(p.name.endswith(".code.html") for p in pages) and any(not p.name.endswith(".code.html")
                                                                     for p in pages), kinds
    found = {p.name: live_payloads(p.read_text(encoding="utf-8")) for p in pages}
    assert {k: v for k, v in found.items() if v} == {}


def test_payloads_reach_the_pages_as_text(poisoned):
    """The test is not vacuous: each payload is on a page, shown as the text it is."""
    text = {p.name: _text(p.read_text(encoding="utf-8")) for p in poisoned.run_dir.rglob("*.html")}
    dq = "".join(v for k, v in text.items() if k.startswith("00_data_quality") and not k.endswith(".code.html"))
    assert SCRIPT in dq  # the column name, in the findings
    assert IMG in dq     # the column name, in the missingness table
    assert SVG in dq     # the kabupaten name, in the coverage table
    targeting = "".join(v for k, v in text.items() if k.startswith("20_targeting"))
    assert KEC in targeting  # kecamatan names, in the missed-poor table
    assert SVG in text["index.html"]  # the kabupaten name in the index
