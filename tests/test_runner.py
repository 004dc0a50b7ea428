"""welfare-eval run: outputs, manifest, parameter checks and failure isolation, with real papermill runs."""
from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from welfare_eval.cli import main
from welfare_eval.exceptions import ParameterError
from welfare_eval.report.runner import check_parameters, discover_notebooks, run

NOTEBOOKS = discover_notebooks()


def _notebook(path: Path, body: str) -> Path:
    nb = nbformat.v4.new_notebook()
    p = nbformat.v4.new_code_cell('data_dir: str = ""  # data\nkabupaten: str = "all"  # region\n'
                                  'language: str = "id"  # language\nresults: str = ""  # results store')
    p.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {path.stem}"), p, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))
    return path


def test_notebooks_are_discovered_by_glob():
    assert NOTEBOOKS and all(p.name[:2].isdigit() for p in NOTEBOOKS)


def test_full_run_writes_index_manifest_and_html(report_run):
    result = report_run  # the session's shared run (tests/conftest.py): every notebook, province and 7602
    assert result.ok
    files = {p.name for p in result.run_dir.iterdir()}
    assert {"index.html", "manifest.json"} <= files
    man = json.loads((result.run_dir / "manifest.json").read_text())
    assert man["package_version"] and man["grid"]["kabupaten"] == ["all", "7602"]
    assert set(man["inputs"]) >= {"survey.parquet", "registry.parquet"}
    for job in man["jobs"]:
        assert job["status"] == "ok" and job["duration_s"] > 0 and len(job["notebook_sha256"]) == 64
        reader = (result.run_dir / job["outputs"]["html"]).read_text()
        analyst = (result.run_dir / job["outputs"]["html_code"]).read_text()
        assert "hl-ipython3" not in reader and "hl-ipython3" in analyst  # code cells only for analysts
        region = "Provinsi Sulawesi Barat" if job["parameters"]["kabupaten"] == "all" else "Kabupaten Polewali Mandar"
        for page in (reader, analyst):  # the run's language and the notebook's own heading, not "Notebook"
            assert '<html lang="id">' in page
            title = re.search(r"<title>(.*?)</title>", page).group(1)
            assert title.endswith(f" — {region}") and "Notebook" not in title and 'lang="en"' not in title
        assert job["outputs"]["html"] in (result.run_dir / "index.html").read_text()
    assert not [p for p in result.run_dir.iterdir() if ".tmp" in p.name]


def test_the_run_keeps_screenshots_of_its_index_and_briefings(report_run, chromium):
    pages = ["index", *sorted(p.stem for p in report_run.run_dir.glob("briefing_*.html"))]
    assert len(pages) >= 3  # the index and the province's and 7602's briefings
    for stem in pages:
        shot = report_run.run_dir / "screenshots" / f"{stem}.png"
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", stem


def test_run_for_one_kabupaten_in_english(province, tmp_path):
    """Every report notebook runs in English for a kabupaten of the test province (a page with an
    error or with anything on stderr fails its job), and the run's language and region reach the
    page. (The EBP cross-check's bootstrap is off: its interval is not what this test is about.)"""
    result = run(data_dir=province, output_root=tmp_path, run_id="r2", kabupaten="7602", language="en",
                 parameters={"ebp_bootstrap": 0})
    assert result.ok, [j["job_id"] for j in result.jobs if j["status"] != "ok"]
    assert len(result.jobs) == len(NOTEBOOKS)
    html = (result.run_dir / result.jobs[0]["outputs"]["html"]).read_text()
    assert "Polewali Mandar" in html and "Data quality" in html
    assert '<html lang="en">' in html and "<title>Data quality — Polewali Mandar district</title>" in html


def test_unknown_parameter_stops_before_anything_runs(province, tmp_path):
    with pytest.raises(ParameterError, match="has no parameter 'colour'"):
        run(data_dir=province, output_root=tmp_path, run_id="r3", parameters={"colour": "red"})
    assert not (tmp_path / "r3").exists()


def test_wrong_type_is_an_error():
    with pytest.raises(ParameterError, match="must be of type int"):
        check_parameters(NOTEBOOKS[0], {"min_cell": "ten"})


def test_a_value_the_notebook_would_reject_stops_before_anything_runs(province, tmp_path):
    with pytest.raises(ParameterError, match="extreme_215_2017ppp") as err:
        run(data_dir=province, output_root=tmp_path, run_id="r4", notebooks=["10_poverty_profile"],
            parameters={"extreme_line": "extreme_999"})
    assert "'extreme_999'" in str(err.value)
    assert not (tmp_path / "r4").exists()


def test_a_kabupaten_code_that_does_not_exist_stops_before_anything_runs(province, tmp_path):
    with pytest.raises(ParameterError, match="'9999' is not a kabupaten of West Sulawesi"):
        run(data_dir=province, output_root=tmp_path, run_id="r4b", kabupaten="9999")
    assert not (tmp_path / "r4b").exists()


@pytest.fixture(scope="module")
def small_run(province, tmp_path_factory):
    """One CLI run of two small notebooks (one fails, one works; their kernels warm no imports) into
    an existing run folder that holds a file of an earlier run: the runner's mechanics, not the report
    notebooks (those run in report_run). Returns the exit code and the run folder."""
    tmp = tmp_path_factory.mktemp("small-run")
    nbdir = tmp / "nbs"
    nbdir.mkdir()
    _notebook(nbdir / "01_fails.ipynb", "raise RuntimeError('boom in cell')")
    _notebook(nbdir / "02_works.ipynb", "print('fine')")
    run_dir = tmp / "out" / "r5"
    run_dir.mkdir(parents=True)
    (run_dir / "keep.txt").write_text("earlier output")
    (tmp / "light.yaml").write_text("warm_imports: []\n")
    code = main(["run", str(tmp / "light.yaml"), "--data", str(province), "--notebooks",
                 *map(str, sorted(nbdir.glob("*.ipynb"))), "--output-root", str(tmp / "out"), "--run-id", "r5"])
    return code, run_dir


def test_a_failing_notebook_does_not_stop_the_others(small_run):
    code, run_dir = small_run
    assert code == 1
    man = json.loads((run_dir / "manifest.json").read_text())
    status = {j["notebook"]: j for j in man["jobs"]}
    assert status["01_fails.ipynb"]["status"] == "failed"
    assert status["01_fails.ipynb"]["error"]["failing_cell"]["evalue"] == "boom in cell"
    assert status["02_works.ipynb"]["status"] == "ok"
    index = (run_dir / "index.html").read_text()
    assert "boom in cell" in index
    # the executed notebook of the failure is kept for the analyst, with the error in it
    assert (run_dir / status["01_fails.ipynb"]["outputs"]["notebook"]).exists()


def test_existing_run_folder_is_resumed_and_its_other_files_kept(small_run):
    """The run folder's mechanics, on a small notebook (the report notebooks run in report_run)."""
    _, run_dir = small_run
    assert (run_dir / "keep.txt").read_text() == "earlier output"
    assert (run_dir / "02_works_provinsi_id.html").exists()


def test_missing_data_folder(tmp_path, capsys):
    assert main(["run", "--data", str(tmp_path / "none"), "--output-root", str(tmp_path)]) == 2
    assert "welfare-eval synth" in capsys.readouterr().err
