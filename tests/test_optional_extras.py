"""Optional extras (pyproject.toml): without one, the workbench says which extra to install, and
the automatic wild bootstrap steps aside with a note instead of failing.

A package is made unimportable for one test by ``sys.modules[name] = None`` (Python then raises
ImportError on import, as if it were not installed); the installed environment is not touched.
"""
from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from welfare_eval.exceptions import MissingDependencyError, RunError
from welfare_eval.impact import regression
from welfare_eval.impact.inference import family_adjust


def _few_clusters(seed: int = 3, G: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(G), rng.integers(20, 60, G))
    d = (rng.permutation(G) < G // 2)[g].astype(int)
    x = rng.normal(size=len(g))
    y = 0.3 * d + 0.5 * x + rng.normal(0, 0.7, G)[g] + rng.normal(size=len(g))
    return pd.DataFrame({"g": g, "d": d, "x": x, "y0": y, "y1": y + rng.normal(size=len(g))})


@pytest.fixture()
def no_wildboottest(monkeypatch):
    monkeypatch.setitem(sys.modules, "wildboottest", None)
    monkeypatch.setitem(sys.modules, "wildboottest.wildboottest", None)


def test_automatic_wild_bootstrap_without_the_extra_notes_it_and_keeps_cr1(no_wildboottest):
    df = _few_clusters()
    est = regression(df, outcome="y0", treatment="d", covariates=["x"], cluster="g")
    plain = regression(df, outcome="y0", treatment="d", covariates=["x"], cluster="g", wild_bootstrap=False)
    assert "wild cluster bootstrap" not in est.method
    assert any("wildboottest is not installed" in n and "welfare-eval[wildboot]" in n for n in est.notes)
    assert (est.estimate, est.std_error, est.pvalue) == (plain.estimate, plain.std_error, plain.pvalue)
    diag = next(d for d in est.diagnostics if d.name == "few_clusters")
    assert diag.passed is False and "lower bound" in diag.message


def test_asking_for_the_wild_bootstrap_without_the_extra_names_the_extra(no_wildboottest):
    df = _few_clusters()
    with pytest.raises(MissingDependencyError, match=r"welfare-eval\[wildboot\]") as exc:
        regression(df, outcome="y0", treatment="d", cluster="g", wild_bootstrap=999)
    assert isinstance(exc.value, ImportError) and "'wildboottest'" in str(exc.value)
    with pytest.raises(MissingDependencyError, match=r"family_adjust .*welfare-eval\[wildboot\]"):
        family_adjust(df, outcomes=["y0", "y1"], treatment="d", cluster="g", reps=99)


def test_dask_executor_without_the_extra_names_the_extra(monkeypatch):
    from welfare_eval.report.executors import DaskExecutor

    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(RunError, match=r"'distributed'.*welfare-eval\[dask\]"):
        DaskExecutor("tcp://127.0.0.1:1")
