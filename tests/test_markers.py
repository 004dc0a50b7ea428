"""The test suite's own plumbing: markers given by conftest.py (so `make test-fast` leaves out what
is expensive), and the guard that stops an unmarked test from starting report jobs."""
from __future__ import annotations

from pathlib import Path

import pytest


def _root_conftest(config):
    path = str(config.rootpath / "conftest.py")
    return next(p for p in config.pluginmanager.get_plugins() if getattr(p, "__file__", None) == path)


def test_markers_follow_files_fixtures_and_notebooks(request):
    root = _root_conftest(request.config)
    items = request.session.items
    for item in items:
        names = {m.name for m in item.iter_markers()}
        path = Path(str(item.fspath))
        fixtures = set(getattr(item, "fixturenames", ()))
        if path.suffix == ".ipynb":
            assert {"notebooks", "xdist_group"} <= names, item.nodeid
        if fixtures & {f for f, m in root.FIXTURE_MARKERS.items() if "runner" in m}:
            assert "runner" in names, item.nodeid
        if "report_run" in fixtures:
            assert item.get_closest_marker("xdist_group").args == ("report_run",), item.nodeid
        if path.name in ("test_runner.py", "test_scheduler.py"):
            assert "runner" in names, item.nodeid


def test_an_unmarked_test_cannot_start_report_jobs(tmp_path):
    from welfare_eval.report.executors import LocalExecutor

    with pytest.raises(RuntimeError, match="is not marked 'runner'.*FIXTURE_MARKERS"):
        LocalExecutor(1, cwd=str(tmp_path))


@pytest.mark.runner  # three pytest processes (a controller and two workers): about 9 s of CPU
def test_a_shared_session_fixture_is_made_once_under_two_workers(tmp_path):
    """conftest.py's scheduler (``--dist loadgroup``): the users of a fixture in SHARED_GROUPS run on
    one worker whatever their file, so the fixture is made once; the other tests of a file stay
    together. A throwaway project with this repository's conftest.py, on two real xdist workers."""
    import os
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[1]
    (tmp_path / "conftest.py").write_text(
        (repo / "conftest.py").read_text()
        + "\n\n@pytest.fixture(scope='session')\ndef world_full():\n"
          "    made = Path(os.environ['MADE_LOG'])\n"
          "    with made.open('a') as fh:\n        fh.write(os.environ['PYTEST_XDIST_WORKER'] + '\\n')\n"
          "    return os.environ['PYTEST_XDIST_WORKER']\n")
    for k in range(3):
        (tmp_path / f"test_f{k}.py").write_text(
            f"def test_uses_{k}(world_full):\n    pass\n\ndef test_other_{k}():\n    pass\n")
    env = {**os.environ, "MADE_LOG": str(tmp_path / "made.log"), "WELFARE_EVAL_XDIST_GROUPS": str(tmp_path / "g")}
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "2", "--dist",
                           "loadgroup", "-q", "-c", os.devnull, "--rootdir", str(tmp_path), str(tmp_path)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert (tmp_path / "made.log").read_text().split() in (["gw0"], ["gw1"])
