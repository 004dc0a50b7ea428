"""Disclosure control: the smallest group decides, secondary suppression holds against recomputation,
and a real run on a region cut to a handful of households shows no small cell in any output.

The attacker of the secondary-suppression tests is written here independently of
``store.recomputable``: line by line (a line with one blank cell gives it as total minus the rest,
repeated until nothing more comes out) and, for several lines at once, by the rank of the linear
system (a blank cell is determined when its unit vector lies in the row space of the constraints on
the blank cells).
"""
from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np
import pandas as pd
import pytest
from notebook_cells import run_notebook

from welfare_eval.report import store
from welfare_eval.report.runner import discover_notebooks, run
from welfare_eval.report.strings import t

MIN_CELL = 10
#: Rank decisions on 0/1 matrices of a few dozen cells: singular values are 0 or well above this.
RANK_TOL = 1e-8


# -- an attacker ------------------------------------------------------------------------------------

def _line_members(frame: pd.DataFrame, margins) -> list[np.ndarray]:
    out = []
    for m in margins:
        if not m:
            out.append(np.arange(len(frame)))
        else:
            keys = frame[list(m)].astype(str).apply("|".join, axis=1).to_numpy()
            out += [np.flatnonzero(keys == k) for k in np.unique(keys)]
    return [ln for ln in out if len(ln) > 1]


def peel(values: np.ndarray, blank: np.ndarray, lines: list[np.ndarray]) -> set[int]:
    """Cells an attacker works out one line at a time from the shown cells and the line totals."""
    known = ~blank.copy()
    got = set()
    progress = True
    while progress:
        progress = False
        for ln in lines:
            unknown = ln[~known[ln]]
            if len(unknown) == 1:
                known[unknown[0]] = True
                got.add(int(unknown[0]))
                progress = True
    return got


def determined_by_rank(blank: np.ndarray, lines: list[np.ndarray]) -> set[int]:
    """Blank cells fixed by all line equations together (unit vector in the row space)."""
    cells = np.flatnonzero(blank)
    if not len(cells) or not lines:
        return set()
    a = np.array([[1.0 if c in ln else 0.0 for c in cells] for ln in lines])
    r = np.linalg.matrix_rank(a, tol=RANK_TOL)
    out = set()
    for j, c in enumerate(cells):
        e = np.zeros(len(cells))
        e[j] = 1.0
        if np.linalg.matrix_rank(np.vstack([a, e]), tol=RANK_TOL) == r:
            out.add(int(c))
    return out


def recovered(values, blank, lines):
    return peel(values, blank, lines) | determined_by_rank(blank, lines)


# -- the rule ---------------------------------------------------------------------------------------

def test_smallest_group_decides():
    f = pd.DataFrame({"estimate": [0.3, 0.2, 0.1, 0.4], "std_error": 0.01, "ci_lower": 0.0, "ci_upper": 1.0,
                      "nobs": [400, 400, 400, 9], "n_treated": [6, 394, 200, np.nan]})
    out = store.suppress(f, min_cell=MIN_CELL)
    # 6 recipients; 6 comparison households (400 - 394); both groups large; 9 households in all
    assert out["suppressed"].tolist() == [True, True, False, True]
    assert out["estimate"].isna().tolist() == [True, True, False, True]


def test_each_side_of_a_cut_off():
    f = pd.DataFrame({"estimate": [1.0, 2.0], "ci_lower": 0.0, "ci_upper": 3.0, "nobs": [500, 500],
                      "n_left": [8, 60], "n_right": [300, 40]})
    assert store.suppress(f, min_cell=MIN_CELL)["suppressed"].tolist() == [True, False]


def test_a_row_marked_by_secondary_suppression_stays_suppressed_in_the_store():
    f = pd.DataFrame({"estimand": ["a", "b"], "estimate": [0.1, 0.2], "nobs": [50, 50], "suppressed": [True, False]})
    rows = store.append(None, f, notebook="x", region="all", min_cell=MIN_CELL)
    assert rows["suppressed"].tolist() == [True, False] and np.isnan(rows["estimate"].iloc[0])
    assert rows["n_min_group"].tolist() == [50, 50]


# -- secondary suppression --------------------------------------------------------------------------

def _kab_area(seed: int, n_kab: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f = pd.DataFrame([(k, a) for k in range(n_kab) for a in ("urban", "rural")], columns=["kab", "area"])
    f["nobs"] = rng.choice([3, 7, 12, 25, 60, 140], size=len(f), p=[.15, .15, .15, .2, .2, .15])
    f["estimate"] = rng.integers(1, 500, size=len(f)).astype(float)  # counts: totals are sums
    return f


def test_the_issue_case_urban_cell_recomputable_before_and_not_after():
    f = pd.DataFrame({"kab": ["A", "A", "B", "B"], "area": ["u", "r", "u", "r"], "nobs": [4, 80, 60, 90],
                      "estimate": [5.0, 70.0, 40.0, 30.0]})
    lines = _line_members(f, [["kab"]])
    primary = store.suppress(f, min_cell=MIN_CELL)["suppressed"].to_numpy()
    assert recovered(f["estimate"].to_numpy(), primary, lines) == {0}  # kabupaten total minus rural
    second = store.secondary_suppress(f, margins=[["kab"]], min_cell=MIN_CELL)["suppressed"].to_numpy()
    assert second.tolist() == [True, True, False, False]
    assert recovered(f["estimate"].to_numpy(), second, lines) == set()


@pytest.mark.parametrize("margins", [[["kab"]], [["kab"], ["area"]], [["kab"], ["area"], []]],
                         ids=["kab-totals", "kab-and-area-totals", "with-grand-total"])
@pytest.mark.parametrize("seed", range(12), ids=lambda s: f"seed{s}")
def test_no_suppressed_cell_can_be_recomputed(seed, margins):
    f = _kab_area(seed)
    out = store.secondary_suppress(f, margins=margins, min_cell=MIN_CELL)
    blank = out["suppressed"].to_numpy()
    assert blank[(f["nobs"] < MIN_CELL).to_numpy()].all()  # primary cells are blank
    assert out.loc[blank, "estimate"].isna().all() and out.loc[~blank, "estimate"].notna().all()
    lines = _line_members(f, margins)
    assert recovered(f["estimate"].to_numpy(), blank, lines) == set()
    # and the attacker does find cells when only primary suppression is applied (the test bites)
    primary = (f["nobs"] < MIN_CELL).to_numpy()
    if primary.any() and any(primary[ln].sum() == 1 for ln in lines):
        assert recovered(f["estimate"].to_numpy(), primary, lines)


def test_secondary_suppression_within_blocks_is_independent():
    f = pd.concat([_kab_area(1).assign(measure="P0"), _kab_area(2).assign(measure="P1")], ignore_index=True)
    out = store.secondary_suppress(f, margins=[["kab"], ["area"]], within=["measure"], min_cell=MIN_CELL)
    for m, g in out.groupby("measure"):
        alone = store.secondary_suppress(f[f["measure"] == m], margins=[["kab"], ["area"]], min_cell=MIN_CELL)
        assert g["suppressed"].tolist() == alone["suppressed"].tolist(), m


@pytest.mark.parametrize("seed", range(6), ids=lambda s: f"seed{s}")
def test_small_area_kecamatan_cannot_be_recomputed_from_the_kabupaten(seed):
    """Benchmarked kecamatan estimates add up to the kabupaten's: the hidden ones stay hidden, and
    every output (whatever order it holds the kecamatan in) hides the same ones."""
    from welfare_eval.report.small_area_view import publishable

    rng = np.random.default_rng(seed)
    kec = pd.DataFrame({"kab_code": np.repeat(["7601", "7602", "7603"], 5),
                        "kec_code": [f"76{k}{i:02d}" for k in "123" for i in range(5)],
                        "nobs": rng.choice([0, 4, 15, 40, 90], size=15, p=[.1, .2, .2, .3, .2]),
                        "quality": rng.choice(["reliable", "caution", "unreliable"], size=15, p=[.6, .3, .1]),
                        "estimate": rng.uniform(0.02, 0.4, size=15)})
    shown = publishable(kec, min_cell=MIN_CELL).to_numpy()
    assert not shown[(kec["nobs"] < MIN_CELL).to_numpy() | (kec["quality"] == "unreliable").to_numpy()].any()
    lines = _line_members(kec, [["kab_code"]])
    assert recovered(kec["estimate"].to_numpy(), ~shown, lines) == set()
    shuffled = kec.sample(frac=1, random_state=seed)
    assert (publishable(shuffled, min_cell=MIN_CELL).reindex(kec.index).to_numpy() == shown).all()


def test_complementary_shares_hide_each_other(province):
    """Coverage of the poor + exclusion error = 100%: a blank one is not shown through the other."""
    rows = run_notebook("20_targeting", data_dir=str(province), kabupaten="7601", language="en",
                        min_cell=MIN_CELL).namespace["indicators"]
    for prog, g in rows.groupby("program"):
        pair = g[g["estimand"].isin(["coverage_rate", "exclusion_error_rate"])]
        assert pair["suppressed"].nunique() == 1, prog


# -- a region cut to a handful of households --------------------------------------------------------

TINY_KAB = "7601"
#: Cells of the notebooks (their ids) that show the poverty summary and the scenario table.
POVERTY_SUMMARY = "10-04"
SCENARIO_TABLE = "50-04"
TINY_PKH = 6        # recipients of PKH in the panel of the tiny kabupaten
TINY_OTHERS = 40    # other panel households there


def make_tiny(src: Path, out: Path) -> Path:
    """The test province with kabupaten 7601 cut to 8 survey households (2 per PSU, 2 PSUs per
    stratum), 46 panel households of which 6 receive PKH, and 6 households' disbursement records."""
    shutil.copytree(src, out)
    sv = pd.read_parquet(src / "survey.parquet")
    k = sv[sv["kab_code"] == TINY_KAB]
    keep = [i for _, g in k.groupby("strata") for psu in g["psu"].unique()[:2] for i in g[g["psu"] == psu].index[:2]]
    sv[(sv["kab_code"] != TINY_KAB) | sv.index.isin(keep)].to_parquet(out / "survey.parquet")
    pn = pd.read_parquet(src / "panel.parquet")
    kp = pn[pn["kab_code"] == TINY_KAB]
    base = kp[kp["wave"] == kp["wave"].min()]
    ids = [*base.loc[base["pkh"], "hh_id"].unique()[:TINY_PKH], *base.loc[~base["pkh"], "hh_id"].unique()[:TINY_OTHERS]]
    pn[(pn["kab_code"] != TINY_KAB) | pn["hh_id"].isin(ids)].to_parquet(out / "panel.parquet")
    d = pd.read_parquet(src / "disbursement.parquet")
    mine = d["kec_code"].astype(str).str.startswith(TINY_KAB)
    d[~mine | d["hh_id"].isin(d.loc[mine, "hh_id"].unique()[:6])].to_parquet(out / "disbursement.parquet")
    return out


@pytest.fixture(scope="module")
def tiny(province, tmp_path_factory):
    return make_tiny(province, tmp_path_factory.mktemp("tiny") / "province")


def test_poverty_text_follows_the_store(tiny):
    run = run_notebook("10_poverty_profile", data_dir=str(tiny), kabupaten=TINY_KAB, language="id", min_cell=MIN_CELL)
    text = run.texts[POVERTY_SUMMARY]
    assert "%" not in text and t("suppressed_text", "id", n=MIN_CELL) in text
    assert np.isnan(run.namespace["scope"]["P0"]["estimate"].iloc[0])


def test_simulation_table_is_suppressed(tiny):
    run = run_notebook("50_policy_simulation", data_dir=str(tiny), kabupaten=TINY_KAB, language="en",
                       min_cell=MIN_CELL)
    scenarios = run.tables[SCENARIO_TABLE]
    marker = t("suppressed", "en", n=MIN_CELL)
    assert (scenarios[t("headcount_change", "en")] == marker).all()
    rest = scenarios.drop(columns=[t("reform", "en"), t("headcount_change", "en")])
    assert not rest.replace("", np.nan).notna().any().any()


def test_pkh_effects_of_six_recipients_are_not_shown(tiny):
    run = run_notebook("30_impact_bansos", tiny, kabupaten=TINY_KAB, language="en", min_cell=MIN_CELL)
    effects = run.tables["30-05"]  # the effects table as the notebook shows it
    assert (effects[t("effect_pp", "en")] == t("suppressed", "en", n=MIN_CELL)).all()
    assert (effects[t("relative", "en")] == "").all()
    stored = run.namespace["pkh"].rows[0][2]  # the effects as stored (before the store's own rule)
    assert stored["suppressed"].all() and stored["estimate"].isna().all()
    written = run.store[(run.store["program"] == "PKH") & run.store["estimand"].str.startswith("ATT ")]
    assert len(written) == len(stored) and written["suppressed"].all() and written["estimate"].isna().all()


# -- every output of a real run -----------------------------------------------------------------------

class _Tables(HTMLParser):
    """The tables of a page as lists of rows of cell texts."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables, self._row, self._cell = [], None, None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self._row = []
            self.tables[-1].append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _numbers(text: str) -> list[float]:
    """Whole numbers in a cell written either way (1.234 in id, 1,234 in en)."""
    return [float(v.replace(".", "").replace(",", "")) for v in re.findall(r"\d[\d.,]*", text)]


@pytest.fixture(scope="module")
def tiny_run(tiny, tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny-run")
    # every report notebook but the data-quality one, which stores nothing and whose page shows the
    # data's counts by design (the tests below leave it out); bootstrap: the draws hidden_values uses
    # too; no bootstrap of the EBP cross-check's MSE (the cells, not the standard errors, are the point)
    notebooks = [p.stem for p in discover_notebooks() if not p.stem.startswith("00_data_quality")]
    result = run(data_dir=tiny, output_root=out, run_id="tiny", kabupaten=TINY_KAB, language=["id", "en"],
                 notebooks=notebooks, parameters={"min_cell": MIN_CELL, "bootstrap": HIDDEN_VALUES_BOOTSTRAP,
                                                  "ebp_bootstrap": TINY_EBP_BOOTSTRAP})
    assert result.ok, [(j["job_id"], j.get("error")) for j in result.jobs if j["status"] != "ok"]
    return result


#: Formatted values shorter than this many digits are left out of the leak search: "3,9" of a hidden
#: household size also appears, by coincidence, as a shown effect of "3,9 pp" on another page.
MIN_DIGITS = 3
#: Raw hidden estimates compared with the numbers of results.csv and any xlsx: equal to this
#: relative tolerance (CSV keeps 17 significant digits; xlsx doubles exactly).
RAW_RTOL = 1e-9
#: Bootstrap draws of the tiny region's runs (40_tksk_empowerment's default is 999; 15_small_area's
#: 100): fewer draws, since the cells are the point, not the standard errors.
HIDDEN_VALUES_BOOTSTRAP = 99
#: Replicates of 15_small_area's EBP cross-check MSE in the tiny run (20 by default, about four
#: fifths of that notebook's time): none, since no test here reads that MSE.
TINY_EBP_BOOTSTRAP = 0
#: Notebooks whose own cells are the analysis: run in this process (notebook_cells.run_notebook).
NOTEBOOKS = ("10_poverty_profile", "20_targeting", "30_impact_bansos", "40_tksk_empowerment",
             "50_policy_simulation")


def _hidden_cells(table: pd.DataFrame, shut: pd.DataFrame, lang: str) -> set[str]:
    """Values ``table`` (made with no disclosure control) prints where ``shut`` prints a suppression mark."""
    out = set()
    for col in table.columns:
        if col not in shut.columns or len(shut) != len(table):
            continue
        for a, b in zip(table[col].astype(str), shut[col].astype(str)):
            if a != b and b.startswith(t("suppressed", lang, n=MIN_CELL)[:8]) \
                    and len(re.sub(r"\D", "", a).lstrip("0")) >= MIN_DIGITS:
                out.add(a)
    return out


@pytest.fixture(scope="module")
def hidden_values(tiny):
    """What the tiny region's reports would print with no disclosure control (min_cell=1) in cells
    that are suppressed at MIN_CELL: per notebook, the values as the pages write them, and the raw
    estimates of the stored rows. None may appear in any output."""
    shown, raw = {}, set()
    for nb in NOTEBOOKS:
        for lang in ("id", "en"):
            kw = dict(data_dir=str(tiny), kabupaten=TINY_KAB, language=lang,
                      **({"bootstrap": HIDDEN_VALUES_BOOTSTRAP} if nb.startswith("40") else {}))
            with TemporaryDirectory() as folder:
                open_ = run_notebook(nb, min_cell=1, results=f"{folder}/open", **kw)
                closed = run_notebook(nb, min_cell=MIN_CELL, results=f"{folder}/closed", **kw)
                stored_open, stored_closed = store.read(f"{folder}/open"), store.read(f"{folder}/closed")
            for cell, table in open_.tables.items():
                shown.setdefault(nb, set()).update(_hidden_cells(table, closed.tables[cell], lang))
            # the raw estimates the closed store hides, found by each row's key in the open store
            key = ["program", "outcome", "estimand", "group"]
            both = stored_closed.merge(stored_open, on=key, how="inner", suffixes=("", "_open"))
            hid = both["suppressed"].astype(bool)
            raw |= {float(v) for v in both.loc[hid, "estimate_open"] if pd.notna(v) and v != 0}
    return shown, raw


def _visible(page: str) -> str:
    """The text of a page a reader sees: no styles, scripts or embedded images."""
    out, depth = [], [0]

    class V(HTMLParser):
        def handle_starttag(self, tag, attrs):
            depth[0] += tag in ("style", "script")

        def handle_endtag(self, tag):
            depth[0] -= tag in ("style", "script")

        def handle_data(self, data):
            if depth[0] <= 0:
                out.append(data)

    V(convert_charrefs=True).feed(page)
    return " ".join(out)


def _texts(run_dir: Path) -> dict[str, str]:
    texts = {}
    for p in run_dir.rglob("*"):
        if p.suffix in (".html", ".csv"):
            texts[p.name] = p.read_text(encoding="utf-8")
        elif p.suffix == ".pdf":
            texts[p.name] = subprocess.run(["pdftotext", "-layout", str(p), "-"], capture_output=True,
                                           text=True, check=True).stdout
        elif p.suffix == ".xlsx":
            import openpyxl

            wb = openpyxl.load_workbook(p, read_only=True)
            texts[p.name] = "\n".join("\t".join("" if v is None else str(v) for v in row)
                                      for ws in wb.worksheets for row in ws.iter_rows(values_only=True))
    return texts


def test_results_store_rows_follow_the_rule(tiny_run):
    f = pd.read_csv(tiny_run.run_dir / "results.csv", dtype={"region": str})
    supp = f["suppressed"].astype(bool)
    assert supp.any() and (~supp).any(), "the tiny region must produce both shown and suppressed cells"
    assert f.loc[supp, ["estimate", "std_error", "ci_lower", "ci_upper"]].isna().all().all()
    # every shown row carries the count the rule tested, and it is at least min_cell; only facts
    # about the programme (a kecamatan's first TKSK wave) rest on no households
    uncounted = ~supp & f["n_min_group"].isna()
    assert set(f.loc[uncounted, "estimand"]) <= {"tksk_cohort"}, f.loc[uncounted, ["notebook", "estimand"]]
    assert (f.loc[~supp & ~uncounted, "n_min_group"] >= MIN_CELL).all()
    # no count under min_cell anywhere, suppressed rows included (a small count is a small cell)
    for col in ("nobs", "n_min_group"):
        assert not (f[col].notna() & (f[col] < MIN_CELL)).any(), col


def test_stored_kabupaten_area_cells_cannot_be_recomputed(tiny_run):
    f = pd.read_csv(tiny_run.run_dir / "results.csv", dtype={"region": str})
    for outcome in ("headcount", "gap", "extreme"):
        g = f[(f["notebook"] == "10_poverty_profile") & (f["outcome"] == outcome)
              & f["group"].astype(str).str.contains("area=")].reset_index(drop=True)
        if g.empty:
            continue
        parts = g["group"].str.extract(r"kab_name=(?P<kab>[^;]+); area=(?P<area>.+)")
        lines = _line_members(parts, [["kab"], ["area"]])
        assert recovered(g["estimate"].to_numpy(), g["suppressed"].to_numpy(bool), lines) == set(), outcome


def test_no_small_cell_in_any_page_table(tiny_run):
    """Every household count shown beside an estimate is at least min_cell."""
    pages = [p for p in tiny_run.run_dir.rglob("*.html") if not p.name.startswith("00_data_quality")]
    assert len(pages) > 5
    checked = 0
    for page in pages:
        parser = _Tables()
        parser.feed(page.read_text(encoding="utf-8"))
        for table in parser.tables:
            if not table:
                continue
            head = table[0]
            ncols = [i for i, h in enumerate(head) if re.match(r"^n\b", h) or h in (t("sa_n", "id"), t("sa_n", "en"))]
            for row in table[1:]:
                for i in ncols:
                    if i < len(row):
                        vals = _numbers(row[i])
                        checked += len(vals)
                        # a kecamatan the survey did not sample says 0: nothing rests on it
                        unsampled = head[i] in (t("sa_n", "id"), t("sa_n", "en")) and vals == [0.0]
                        assert unsampled or all(v >= MIN_CELL for v in vals), (page.name, head, row)
    assert checked > 0


def test_no_hidden_value_in_any_output(tiny_run, hidden_values):
    shown, raw = hidden_values
    assert shown and raw, "the tiny region must have cells that disclosure control hides"
    texts = _texts(tiny_run.run_dir)
    assert any(n.endswith(".pdf") for n in texts) and "results.csv" in texts
    # formatted: in what a reader sees of the notebook's own pages and of the briefings (HTML and
    # PDF), as a whole number (not part of a longer one); in the index, the shares it shows
    def seen(value: str, text: str) -> bool:
        return re.search(r"(?<![\d.,])" + re.escape(value) + r"(?![\d])", text) is not None

    leaks = {(name, v) for nb, values in shown.items() for name, text in texts.items()
             for v in values if (name.startswith((nb, "briefing")) or (name == "index.html" and "%" in v))
             and seen(v, _visible(text) if name.endswith(".html") else text)}
    assert leaks == set()
    # the workbooks' counts: none under min_cell
    for xlsx in tiny_run.run_dir.rglob("*.xlsx"):
        import openpyxl

        for ws in openpyxl.load_workbook(xlsx, read_only=True).worksheets:
            rows = list(ws.iter_rows(values_only=True))
            for i, row in enumerate(rows):
                heads = [j for j, v in enumerate(row) if isinstance(v, str) and re.match(r"^n\b", v)]
                for j in heads:
                    below = [r[j] for r in rows[i + 1:] if j < len(r) and isinstance(r[j], (int, float))]
                    assert all(v >= MIN_CELL for v in below), (xlsx.name, ws.title, below)
    # raw: in the tables of numbers
    hidden = np.array(sorted(raw))
    for name, text in texts.items():
        if not name.endswith((".csv", ".xlsx")):
            continue
        numbers = np.array([float(v) for v in re.findall(r"-?\d+\.\d+(?:e-?\d+)?", text)])
        if len(numbers):
            close = np.isclose(numbers[:, None], hidden[None, :], rtol=RAW_RTOL, atol=0)
            assert not close.any(), (name, numbers[close.any(axis=1)][:5])


def test_poverty_page_prints_no_number_for_eight_households(tiny_run):
    page = next(tiny_run.run_dir.rglob(f"10_poverty_profile_{TINY_KAB}_id.html")).read_text(encoding="utf-8")
    assert t("suppressed_text", "id", n=MIN_CELL) in page
    assert "SK 0,0%" not in page and "0,0% (" not in page


# -- a kabupaten hidden in the province's table is hidden in its own report ---------------------------

KABUPATEN = ("7601", "7602", "7603", "7604", "7605", "7606")


def _hidden_kabupaten(store_rows: pd.DataFrame, outcome: str, **match) -> set[str]:
    rows = store_rows[store_rows["outcome"] == outcome]
    for col, value in match.items():
        rows = rows[rows[col] == value]
    codes = rows["group"].astype(str).str.extract(r"kab_code=(\d{4})")[0]   # not the kabupaten x area cells
    return set(codes[rows["suppressed"].astype(bool) & codes.notna()])


@pytest.fixture(scope="module")
def kabupaten_runs(tiny):
    """Notebooks 10 and 20 for the province and each of the six kabupaten of the tiny province."""
    return {(nb, kab): run_notebook(nb, data_dir=str(tiny), kabupaten=kab, language="en", min_cell=MIN_CELL).store
            for nb in ("10_poverty_profile", "20_targeting") for kab in ("all", *KABUPATEN)}


@pytest.mark.parametrize("measure, province_table", [("P0", "P0 by kabupaten"), ("extreme", "extreme by kabupaten")],
                         ids=["headcount", "extreme"])
def test_poverty_kabupaten_hidden_alike_in_every_report(kabupaten_runs, measure, province_table):
    """The set of kabupaten whose own report hides the measure is the set the province's kabupaten
    table hides (and the kabupaten tables of every report agree with it)."""
    own = set().union(*(_hidden_kabupaten(kabupaten_runs["10_poverty_profile", kab], measure) for kab in KABUPATEN))
    tables = {kab: _hidden_kabupaten(kabupaten_runs["10_poverty_profile", kab], province_table)
              for kab in ("all", *KABUPATEN)}
    assert TINY_KAB in own and len(own) >= 2, own   # the tiny one, and its partner
    assert all(hidden == own for hidden in tables.values()), (own, tables)


@pytest.mark.parametrize("program", ["PKH", "BPNT"])
def test_targeting_kabupaten_hidden_alike_in_every_report(kabupaten_runs, program):
    """Per indicator, the kabupaten whose own report hides it are never a single one (the province's
    figure, which the province report shows, would give it away) and include the tiny kabupaten for
    coverage of the poor."""
    stores = {kab: kabupaten_runs["20_targeting", kab] for kab in KABUPATEN}
    estimands = set(stores[TINY_KAB]["estimand"][stores[TINY_KAB]["outcome"] == "targeting"])
    assert "coverage_rate" in estimands
    for estimand in sorted(estimands):
        own = set().union(*(_hidden_kabupaten(s, "targeting", program=program, estimand=estimand)
                            for s in stores.values()))
        assert len(own) != 1, (estimand, own)
        if estimand == "coverage_rate":
            assert TINY_KAB in own, own


def test_the_partner_s_own_report_says_why_its_headcount_is_hidden(tiny, kabupaten_runs):
    partners = _hidden_kabupaten(kabupaten_runs["10_poverty_profile", "all"], "P0 by kabupaten") - {TINY_KAB}
    assert partners
    run = run_notebook("10_poverty_profile", data_dir=str(tiny), kabupaten=sorted(partners)[0], language="id",
                       min_cell=MIN_CELL)
    text = run.texts[POVERTY_SUMMARY]
    assert t("pp_suppressed_secondary_text", "id") in text and "%" not in text
