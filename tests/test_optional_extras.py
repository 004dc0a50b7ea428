"""Optional extras (pyproject.toml): without one, the workbench says which extra to install. (The wild
bootstrap no longer needs one: tests/test_wild_family.py::test_wild_bootstrap_needs_no_wildboottest.)

A package is made unimportable for one test by ``sys.modules[name] = None`` (Python then raises
ImportError on import, as if it were not installed); the installed environment is not touched.
"""
from __future__ import annotations

import sys

import pytest

from welfare_eval.exceptions import RunError


def test_dask_executor_without_the_extra_names_the_extra(monkeypatch):
    from welfare_eval.report.executors import DaskExecutor

    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(RunError, match=r"'distributed'.*welfare-eval\[dask\]"):
        DaskExecutor("tcp://127.0.0.1:1")
