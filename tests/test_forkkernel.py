"""Kernels forked from a worker's warm template (welfare_eval.report.forkkernel) behave as launched
ones: same outputs (figures as PNG), working folder and environment, fresh random state, killed by
their pid, and the template ends with its worker."""
from __future__ import annotations

import os
import signal
import time

import nbformat
import pytest

from welfare_eval.report import execute, forkkernel

pytestmark = [pytest.mark.runner,
              pytest.mark.skipif(not forkkernel.available(), reason="kernels are forked on Linux with pidfd only")]

CELLS = [
    "import os, random\nimport numpy as np\nimport matplotlib.pyplot as plt",
    "fig, ax = plt.subplots(figsize=(2, 2))\nax.plot([1, 2, 3], [3, 1, 2])\nfig",
    "print(os.getcwd(), os.environ.get('WELFARE_EVAL_CACHE'), os.environ.get('MPLBACKEND'))",
    "print(os.getpid(), np.random.random(), random.random())",
]


@pytest.fixture
def notebook(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "probe.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture
def fresh(monkeypatch):
    """No template or warm kernel left from another test; the mode chosen by the test."""
    execute.shutdown_warm()
    execute._FORK_FAILED.clear()
    yield monkeypatch
    execute.shutdown_warm()
    execute._FORK_FAILED.clear()


def run(notebook, tmp_path, name: str) -> list:
    import papermill as pm

    cwd = str(notebook.parent)
    warm, _ = execute._take_kernel(cwd, ("numpy", "matplotlib.pyplot"), {"WELFARE_EVAL_CACHE": "/tmp/probe-cache"})
    try:
        pm.execute_notebook(str(notebook), str(tmp_path / f"{name}.ipynb"), kernel_name="python3", cwd=cwd,
                            progress_bar=False, km=warm.km)
    finally:
        execute._shutdown(warm)
    return nbformat.read(tmp_path / f"{name}.ipynb", as_version=4).cells


def outputs(cells, i):
    return cells[i].get("outputs", [])


def test_forked_kernel_runs_a_notebook_as_a_launched_one(notebook, tmp_path, fresh):
    fresh.setenv(forkkernel.ENV, "0")
    launched = run(notebook, tmp_path, "launched")
    fresh.setenv(forkkernel.ENV, "1")
    forked = run(notebook, tmp_path, "forked")
    assert execute._TEMPLATE, "the kernel was not forked from a template"
    for cells in (launched, forked):
        assert "image/png" in outputs(cells, 1)[0]["data"]          # the figure, drawn inline
    # the same figure, pixel for pixel
    assert outputs(launched, 1)[0]["data"]["image/png"] == outputs(forked, 1)[0]["data"]["image/png"]
    # the same working folder, the run's environment, matplotlib's inline backend
    assert outputs(launched, 2)[0]["text"] == outputs(forked, 2)[0]["text"]
    assert str(notebook.parent) in outputs(forked, 2)[0]["text"] and "/tmp/probe-cache" in outputs(forked, 2)[0]["text"]


def test_forked_kernels_have_their_own_random_state(notebook, tmp_path, fresh):
    fresh.setenv(forkkernel.ENV, "1")
    a = outputs(run(notebook, tmp_path, "a"), 3)[0]["text"].split()
    b = outputs(run(notebook, tmp_path, "b"), 3)[0]["text"].split()
    assert a[0] != b[0]                 # two kernel processes
    assert a[1] != b[1] and a[2] != b[2]  # numpy's and Python's global generators not shared through the fork


def test_forked_kernel_killed_by_its_pid_is_seen_dead(tmp_path, fresh):
    """The job watchdog kills a kernel by its pid; the manager must then see it dead (a dead kernel
    is a transient failure, retried)."""
    fresh.setenv(forkkernel.ENV, "1")
    warm, _ = execute._take_kernel(str(tmp_path), (), None)
    try:
        pid = execute._kernel_pid(warm.km)
        assert isinstance(warm.km.provisioner.process, forkkernel.ForkedProcess)
        assert execute._alive(warm.km)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while execute._alive(warm.km) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not execute._alive(warm.km)
    finally:
        execute._shutdown(warm)


def test_template_ends_with_its_worker(tmp_path, fresh):
    fresh.setenv(forkkernel.ENV, "1")
    warm, _ = execute._take_kernel(str(tmp_path), (), None)
    execute._shutdown(warm)
    proc = execute._TEMPLATE[0].proc
    execute.shutdown_warm()             # what a worker does as it ends
    assert proc.wait(15) == 0
    assert not execute._TEMPLATE


def test_a_dead_template_takes_its_kernels_along_and_is_replaced(tmp_path, fresh):
    """A worker killed (the OOM killer) takes its template along, and the template its kernels: no
    kernel is left running without a worker."""
    fresh.setenv(forkkernel.ENV, "1")
    warm, _ = execute._take_kernel(str(tmp_path), (), None)
    template = execute._TEMPLATE[0]
    template.proc.kill()
    template.proc.wait(10)
    try:
        deadline = time.monotonic() + 30
        while execute._alive(warm.km) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not execute._alive(warm.km)
    finally:
        execute._shutdown(warm)
    # the next kernel comes from a new template
    warm, _ = execute._take_kernel(str(tmp_path), (), None)
    try:
        assert execute._alive(warm.km)
    finally:
        execute._shutdown(warm)
