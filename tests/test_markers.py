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
