"""The report notebooks: parameters, the results store, golden headline numbers, disclosure, the
briefing in HTML and PDF, and the index and briefing in a real browser."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from notebook_cells import run_notebook

from welfare_eval.report import briefing, store
from welfare_eval.report.runner import COMMON_PARAMETERS, declared_parameters, discover_notebooks
from welfare_eval.report.strings import t

GOLDEN = Path(__file__).resolve().parent / "golden" / "headline.json"
#: Extra parameters a notebook may declare beyond the runner's, each with a default.
EXTRA_PARAMETERS = {"min_cell", "extreme_line", "bootstrap", "programs", "boundaries", "boundary_code", "ebp_bootstrap",
                    "boundary_system"}


@pytest.mark.parametrize("nb", discover_notebooks(), ids=lambda p: p.stem)
def test_parameters_cell_declares_what_the_runner_passes(nb):
    declared = set(declared_parameters(nb))
    assert set(COMMON_PARAMETERS) <= declared
    assert declared - set(COMMON_PARAMETERS) <= EXTRA_PARAMETERS


@pytest.fixture(scope="module")
def full_run(report_run):
    """The session's shared report run (tests/conftest.py): the province and kabupaten 7602."""
    return report_run


def test_every_report_ran_for_the_province_and_a_kabupaten(full_run):
    names = {(j["notebook"], j["parameters"]["kabupaten"]) for j in full_run.jobs}
    assert {nb for nb, _ in names} == {p.name for p in discover_notebooks()}
    assert {k for _, k in names} == {"all", "7602"}
    for region in ("provinsi", "7602"):
        assert (full_run.run_dir / f"briefing_{region}_id.html").exists()
        pdf = (full_run.run_dir / f"briefing_{region}_id.pdf").read_bytes()
        assert pdf.startswith(b"%PDF") and len(pdf) > 5_000


def test_results_store_has_the_tidy_columns(full_run):
    f = pd.read_csv(full_run.run_dir / "results.csv", dtype={"region": str})
    assert tuple(f.columns) == store.STORE_COLUMNS
    assert set(f["notebook"]) >= {"10_poverty_profile", "20_targeting", "30_impact_bansos", "40_tksk_empowerment",
                                  "50_policy_simulation"}
    # suppressed cells carry no numbers
    supp = f[f["suppressed"]]
    assert supp["estimate"].isna().all() and supp["ci_lower"].isna().all()


def _headline(full_run, region):
    b = briefing.build(full_run.run_dir / "results.csv", language="en", region=region)
    return {label: value for label, value, _ in b.numbers}


def test_golden_headline_numbers(full_run):
    # the fixed test province (seed 7, scale 0.2): exact after rounding to display precision.
    # Regenerate deliberately with WELFARE_EVAL_UPDATE_GOLDEN=1 when a change of method is intended.
    got = {region: _headline(full_run, region) for region in ("all", "7602")}
    if os.environ.get("WELFARE_EVAL_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n")
    assert got == json.loads(GOLDEN.read_text())


def test_briefing_numbers_are_the_stored_estimates(full_run, province):
    # the briefing recomputes nothing: its P0 is the poverty profile's, rounded
    p0 = run_notebook("10_poverty_profile", data_dir=str(province), language="en").namespace["scope"]["P0"]
    assert _headline(full_run, "all")["Poverty headcount (P0)"] == f"{100 * p0['estimate'].iloc[0]:.1f}%"


def test_disclosure_suppresses_small_cells(province):
    by_area = run_notebook("10_poverty_profile", data_dir=str(province), language="en",
                           min_cell=10_000).tables["10-07"]   # the kabupaten x area table
    marked = by_area[t("estimate", "en")].str.startswith("suppressed")
    assert len(marked) and marked.all()


@pytest.mark.parametrize("page", ["index.html", "briefing_provinsi_id.html"])
def test_pages_in_a_real_browser(full_run, chromium, page, tmp_path):
    path = full_run.run_dir / page
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=3000"]
    dom = subprocess.run([*cmd, "--dump-dom", path.as_uri()], capture_output=True, text=True, timeout=120).stdout
    shot = tmp_path / "page.png"
    subprocess.run([*cmd, "--window-size=1000,1600", f"--screenshot={shot}", path.as_uri()], capture_output=True,
                   timeout=120)
    assert shot.exists() and shot.stat().st_size > 10_000
    headline = _headline(full_run, "all")
    p0 = headline["Poverty headcount (P0)"]
    if page == "index.html":
        assert p0.replace(".", ",") in dom and "briefing_provinsi_id.pdf" in dom
    else:
        assert p0.replace(".", ",") in dom                        # the Indonesian briefing, in Indonesian format
        assert dom.count("data:image/png;base64") >= 2            # the charts are there


def test_targeting_report_for_one_programme(province):
    """``programs`` narrows the targeting report to one programme (tables and payment records);
    a value outside PKH/BPNT is refused with what is allowed."""
    from welfare_eval.exceptions import ParameterError

    run = run_notebook("20_targeting", data_dir=str(province), programs="BPNT")
    tables = run.tables
    assert set(tables["20-07"].iloc[:, 0]) == {"BPNT"}                  # the indicators
    assert set(tables["20-11"][t("channel", "id")])                     # the payment records
    assert set(run.namespace["payments"]["kec_code"]) <= set(run.namespace["records"]["kec_code"])
    assert set(run.namespace["records"]["program"].astype(str)) == {"BPNT"}
    assert not (run.namespace["indicators"]["program"] == "PKH").any()  # no PKH figure anywhere
    assert run.texts["20-04"].startswith("PKH menjangkau **–**")       # the summary says so
    with pytest.raises(ParameterError, match="PKH, BPNT or PKH,BPNT"):
        run_notebook("20_targeting", data_dir=str(province), programs="KIS")


def test_impact_report_says_each_warning_once_in_indonesian(province):
    """A warning the five PKH outcomes share (the propensity score, and so the effective sample, is
    the same for all) is said once, naming them; the AIPW rows with a small comparison carry their
    bootstrap-t intervals; nothing English reaches the Indonesian list."""
    from notebook_cells import run_notebook

    run = run_notebook("30_impact_bansos", province, kabupaten="all", language="id")
    text = dict(run.shown)["30-17"].data  # the diagnostics as the notebook shows them (Markdown)
    lines = text.replace("\\", "").splitlines()  # as read: without the Markdown escapes
    ess = [ln for ln in lines if "unit efektif" in ln and f"({t('ipw', 'id')})" in ln]
    assert len(ess) == 1 and "Anak tidak sekolah, Anak stunting" in ess[0]
    assert not any(w in text.split() for w in ("the", "and", "of", "Among"))
    pkh = run.namespace["pkh"].rows[0][2]
    aipw = pkh[pkh["method_key"] == "aipw"]
    assert len(aipw) == 5 and aipw["ci_own"].all() and aipw["method"].str.contains("bootstrap-t").all()
