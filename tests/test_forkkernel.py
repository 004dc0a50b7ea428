"""Kernels forked from a worker's warm template (welfare_eval.report.forkkernel) behave as launched
ones: same outputs (figures as PNG), working folder and environment, fresh random state, killed by
their pid, and the template ends with its worker."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
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
    monkeypatch.setattr(execute, "_FORK_HERE", [True])  # as in a local worker (worker_main)
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


#: How long a killed kernel may take to be seen dead (generous: a loaded machine).
DEATH_SECONDS = 30


def _ends(km) -> bool:
    """Whether the kernel of ``km`` is seen dead within DEATH_SECONDS."""
    deadline = time.monotonic() + DEATH_SECONDS
    while execute._alive(km) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not execute._alive(km)


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
        assert _ends(warm.km)
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
        assert _ends(warm.km)
    finally:
        execute._shutdown(warm)
    # the next kernel comes from a new template
    warm, _ = execute._take_kernel(str(tmp_path), (), None)
    try:
        assert execute._alive(warm.km)
    finally:
        execute._shutdown(warm)


def _gone(pid: int, timeout: float = 30.0) -> bool:
    """Whether process ``pid`` has ended (or is a zombie awaiting its reaper) within ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                if fh.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except OSError:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("fork", ["1", "0"], ids=["forked", "launched"])
def test_a_notebooks_subprocess_ends_with_its_kernel(tmp_path, fresh, fork):
    """The kernel is shut down with its process group: a process the notebook started does not
    outlive it (a forked kernel leads its own group, as a launched one does)."""
    import papermill as pm

    fresh.setenv(forkkernel.ENV, fork)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import subprocess\np = subprocess.Popen(['sleep', '300'])\nprint(p.pid)")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "sub.ipynb")
    warm, _ = execute._take_kernel(str(tmp_path), (), None)
    try:
        assert isinstance(warm.km.provisioner.process, forkkernel.ForkedProcess) == (fork == "1")
        pm.execute_notebook(str(tmp_path / "sub.ipynb"), str(tmp_path / "out.ipynb"), kernel_name="python3",
                            cwd=str(tmp_path), progress_bar=False, km=warm.km)
    finally:
        execute._shutdown(warm)
    sleeper = int(nbformat.read(tmp_path / "out.ipynb", as_version=4).cells[0].outputs[0]["text"].split()[0])
    try:
        assert _gone(sleeper), "the notebook's subprocess outlived its kernel"
    finally:
        try:
            os.kill(sleeper, signal.SIGKILL)
        except OSError:
            pass


def test_a_job_outside_a_local_worker_launches_its_kernel(tmp_path, monkeypatch):
    """execute_job on a Dask worker (several threads, one process) or any caller other than a local
    worker: its kernel is launched, no template is started (a template closed by one thread would
    kill the kernels of the others)."""
    execute.shutdown_warm()
    monkeypatch.setenv(forkkernel.ENV, "1")
    assert not execute._FORK_HERE
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1 + 1)")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "two.ipynb")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    rec = execute.execute_job({"job_id": "two", "notebook": str(tmp_path / "two.ipynb"), "parameters": {},
                               "run_dir": str(run_dir), "timeout": 300, "warm_imports": (), "prewarm": False},
                              executor="dask")
    try:
        assert rec["status"] == "ok", rec["error"]
        assert not execute._TEMPLATE, "a kernel template was started outside a local worker"
    finally:
        execute.shutdown_warm()


def test_a_template_is_not_closed_while_its_kernel_runs(tmp_path, fresh):
    """A kernel of another working folder (or run variables) while a forked kernel runs: the new
    one is launched, the running one and its template are left alone."""
    fresh.setenv(forkkernel.ENV, "1")
    other = tmp_path / "other"
    other.mkdir()
    first, _ = execute._take_kernel(str(tmp_path), (), None)
    try:
        template = execute._TEMPLATE[0]
        second, _ = execute._take_kernel(str(other), (), {"WELFARE_EVAL_CACHE": "/tmp/x"})
        try:
            assert not isinstance(second.km.provisioner.process, forkkernel.ForkedProcess)
            assert execute._alive(first.km) and execute._alive(second.km)
            assert template.alive() and execute._TEMPLATE == [template]
        finally:
            execute._shutdown(second)
    finally:
        execute._shutdown(first)
    # with no kernel of it left, the next kernel of another key gets a template of its own
    third, _ = execute._take_kernel(str(other), (), None)
    try:
        assert isinstance(third.km.provisioner.process, forkkernel.ForkedProcess)
        assert execute._TEMPLATE[0] is not template and not template.alive()
    finally:
        execute._shutdown(third)


def test_a_hung_template_is_killed_and_the_kernel_launched(tmp_path, fresh):
    """A template that never answers (stopped): the fork gives up after REPLY_TIMEOUT, the template
    is killed, the kernel is launched instead and the job's record says the fork failed."""
    fresh.setenv(forkkernel.ENV, "1")
    warm, _ = execute._take_kernel(str(tmp_path), (), None)  # the template is up and warm
    execute._shutdown(warm)
    template = execute._TEMPLATE[0]
    fresh.setattr(forkkernel, "REPLY_TIMEOUT", 5.0)  # short here; a stopped process never answers
    os.kill(template.proc.pid, signal.SIGSTOP)
    try:
        warm, _ = execute._take_kernel(str(tmp_path), (), None)
        try:
            assert not isinstance(warm.km.provisioner.process, forkkernel.ForkedProcess)
            assert execute._alive(warm.km)
            assert [n["kind"] for n in warm.notices] == ["kernel_fork_failed"]
            assert template.proc.wait(30) == -signal.SIGKILL
            assert not execute._TEMPLATE and execute._FORK_FAILED
        finally:
            execute._shutdown(warm)
    finally:
        try:
            os.kill(template.proc.pid, signal.SIGKILL)
        except OSError:
            pass


def test_a_kernel_whose_template_died_before_it_armed_its_death_signal_ends(tmp_path):
    """The template's pid is taken before the fork: read in the child after its parent died, it
    would be the reaper's and the kernel would run on."""
    script = tmp_path / "orphan.py"
    mark = tmp_path / "survived"
    script.write_text(f"""
import os, sys, time
from welfare_eval.report import forkkernel
parent = os.getpid()
pid = os.fork()
if pid == 0:
    deadline = time.monotonic() + 60
    while os.getppid() == parent and time.monotonic() < deadline:  # the template is gone first
        time.sleep(0.01)
    try:
        forkkernel._die_with_template(parent)
        open({str(mark)!r}, "w").write("survived")
    except BaseException as exc:
        open({str(mark)!r}, "w").write(repr(exc))
    os._exit(0)
print(pid, flush=True)
os._exit(0)
""")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    child = int(out.stdout.split()[0])
    assert _gone(child, timeout=90)
    assert not mark.exists(), f"the forked kernel ran on after its template had ended: {mark.read_text()}"
