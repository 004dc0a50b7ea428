"""The package installs anywhere: what the wheel ships, the CLI's help and version, and a run of the
installed wheel from a folder outside the repository.

The end-to-end test makes a venv, builds the wheel with its pip (``pip wheel .``; the build backend
is fetched into pip's isolated build environment) and installs only the wheel into it with ``--no-deps``;
to keep it quick in the suite, the venv sees the test environment's installed packages through a
``.pth`` line (the dependencies are not downloaded again) and nbconvert's templates through
JUPYTER_PATH. ``welfare_eval`` itself is imported from
the wheel: the test environment's editable install is not on that path, and PYTHONPATH and the
test session's WELFARE_EVAL_* variables are removed. The same steps with a venv that resolves the
dependencies from PyPI (``pip install <wheel>``) were run by hand for the commit that added this.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

import welfare_eval
import welfare_eval.config
from welfare_eval.cli import build_parser
from welfare_eval.config import PACKAGE_DIR, REPO_DIR

PYPROJECT = REPO_DIR / "pyproject.toml"


def _pyproject() -> dict:
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))


def test_one_version_string():
    pp = _pyproject()
    assert "version" not in pp["project"] and "version" in pp["project"]["dynamic"]
    assert pp["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "welfare_eval.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", welfare_eval.__version__)
    assert welfare_eval.__version__ in (REPO_DIR / "CHANGELOG.md").read_text(encoding="utf-8")


def test_license_is_the_one_pyproject_names():
    assert _pyproject()["project"]["license"] == "MIT"
    assert (REPO_DIR / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")


def test_the_package_list_names_every_folder_with_code():
    """The list is explicit (notebooks/, configs/ and docs/ are mapped into the package), so a new
    subpackage must be added to it or the wheel would silently lack it."""
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    code = {".".join(("welfare_eval", *p.parent.relative_to(PACKAGE_DIR).parts)).rstrip(".")
            for p in PACKAGE_DIR.rglob("*.py") if "__pycache__" not in p.parts}
    assert code <= listed, sorted(code - listed)


def test_cli_version(capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.strip() == f"welfare-eval {welfare_eval.__version__}"


def _parsers(parser: argparse.ArgumentParser):
    yield parser.prog, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.items()


@pytest.mark.parametrize("command", [name for name, _ in _parsers(build_parser())])
def test_every_option_has_help_and_help_names_only_shipped_docs(command, monkeypatch):
    monkeypatch.setenv("COLUMNS", "10000")  # argparse wraps long lines at hyphens, paths included
    parser = dict(_parsers(build_parser()))[command]
    missing = [a.dest for a in parser._actions if not isinstance(a, argparse._SubParsersAction) and not a.help]
    assert not missing, f"{command}: options without help text: {missing}"
    text = parser.format_help()
    docs = welfare_eval.config.docs_dir()
    for doc in re.findall(r"[\w./-]+\.md", text):  # absolute paths of shipped files, or names of shipped docs
        path = Path(doc)
        assert (path.is_absolute() and path.exists()) or (path.name == doc and (docs / doc).exists()), \
            f"{command} help names {doc}, which is not a shipped file"


def _clean_env(extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("WELFARE_EVAL_")}
    env["WELFARE_EVAL_NO_SCREENSHOTS"] = "1"
    env["WELFARE_EVAL_NIK_KEY"] = os.environ["WELFARE_EVAL_NIK_KEY"]   # the session's test key (32+ bytes)
    return {**env, **(extra or {})}


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A fresh venv with pip (ensurepip): make setup's venv is uv's and holds no pip. It builds the
    wheel (pip's build isolation installs nothing into it) and then receives it."""
    path = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, timeout=300)
    return path


@pytest.fixture(scope="module")
def wheel(venv, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([venv / "bin" / "python", "-m", "pip", "wheel", str(REPO_DIR), "--no-deps", "-q", "-w", str(out)],
                   check=True, capture_output=True, text=True, env=_clean_env(), timeout=600)
    (whl,) = out.glob("welfare_eval-*.whl")
    return whl


@pytest.mark.slow
def test_wheel_ships_the_reference_data_notebooks_configuration_and_docs(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"welfare_eval/data/{p.relative_to(PACKAGE_DIR / 'data').as_posix()}"
               for p in (PACKAGE_DIR / "data").rglob("*") if p.is_file()}
    shipped |= {f"welfare_eval/notebooks/{p.name}" for p in (REPO_DIR / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    shipped |= {"welfare_eval/configs/report.yaml", "welfare_eval/docs/running.md", "welfare_eval/docs/data.md"}
    assert shipped <= names, sorted(shipped - names)
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)


@pytest.mark.slow
def test_installed_wheel_runs_outside_the_repository(venv, wheel, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    py = venv / "bin" / "python"
    site = Path(subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "test-environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True, env=_clean_env(),
                   capture_output=True, timeout=300)
    # nbconvert's templates are data files of the test environment (a venv that installs the
    # dependencies has its own); only they are lent, not the environment's kernelspec, so kernels
    # run the venv's own Python, which imports the wheel
    lent = tmp_path / "jupyter"
    lent.mkdir()
    (lent / "nbconvert").symlink_to(Path(sys.prefix) / "share" / "jupyter" / "nbconvert")
    env = _clean_env({"XDG_CONFIG_HOME": str(tmp_path / "config"), "JUPYTER_PATH": str(lent)})

    def cli(*args, timeout=900):
        res = subprocess.run([venv / "bin" / "welfare-eval", *args], cwd=work, env=env, capture_output=True,
                             text=True, timeout=timeout, check=False)
        assert res.returncode == 0, f"welfare-eval {' '.join(args)}: {res.stdout}\n{res.stderr}"
        return res.stdout

    where = subprocess.run([py, "-c", "import welfare_eval; print(welfare_eval.__file__)"], cwd=work, env=env,
                           check=True, capture_output=True, text=True).stdout
    assert Path(where.strip()).is_relative_to(venv), where
    before = {p: p.stat().st_mtime for p in Path(where.strip()).parent.rglob("*") if p.is_file()}

    assert cli("--version").strip() == f"welfare-eval {welfare_eval.__version__}"
    cli("synth", "--scale", "0.2", "--seed", "7")
    assert (work / "data" / "synthetic" / "survey.parquet").exists()
    assert "no problems found" in cli("validate", "--table", "survey", "--mapping", "susenas",
                                      "data/synthetic/raw/susenas_kor.dta")
    cli("docs")
    assert (work / "data.md").read_text(encoding="utf-8").startswith("#")
    cli("run", "report", "--dry-run")  # the shipped configuration is found by name
    # no bootstrap of 15_small_area's EBP cross-check (most of that notebook's time; the shared report
    # run makes it): the point is that the installed package runs every notebook
    cli("run", "--kabupaten", "all", "--language", "id", "--run-id", "r1", "--workers", "2", "-p", "ebp_bootstrap=0")
    run = work / "reports" / "r1"
    for name in ("index.html", "briefing_provinsi_id.html", "briefing_provinsi_id.pdf", "results.csv",
                 "tabel_provinsi_id.xlsx"):
        assert (run / name).exists(), name
    after = {p: p.stat().st_mtime for p in Path(where.strip()).parent.rglob("*") if p.is_file()
             and "__pycache__" not in p.parts}
    assert {p: m for p, m in after.items()} == {p: m for p, m in before.items() if "__pycache__" not in p.parts}, \
        "the run wrote next to the installed code"
