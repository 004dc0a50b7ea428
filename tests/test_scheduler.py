"""Scheduled runs: configuration, parallel workers, resume, fault isolation, the lock, and Dask.

Every test runs real kernels through papermill on small notebooks written here (the report
notebooks themselves are covered by test_runner and test_reports); the Dask test starts a real
local cluster on loopback.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from welfare_eval.cli import main
from welfare_eval.exceptions import ParameterError
from welfare_eval.report import runconfig
from welfare_eval.report.runner import RunLock, RunLocked, run_config

PARAMS = ('data_dir: str = ""  # data\nkabupaten: str = "all"  # region\nlanguage: str = "id"  # language\n'
          'results: str = ""  # results store\nnap: float = 0.0  # seconds to sleep')


def _notebook(path: Path, body: str, **meta) -> Path:
    nb = nbformat.v4.new_notebook()
    p = nbformat.v4.new_code_cell(PARAMS)
    p.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {path.stem}"), p, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    if meta:
        nb.metadata["welfare_eval"] = meta
    nbformat.write(nb, str(path))
    return path


STORE = ('import time, pandas as pd\nfrom welfare_eval.report import store\ntime.sleep(nap)\n'
         'store.append(store.results_path(results), pd.DataFrame({"estimand": ["n"], "estimate": [len(kabupaten)],'
         ' "nobs": [100]}), notebook="{name}", region=kabupaten)')


#: A summary notebook: counts the rows its region's other notebooks stored.
BRIEF = ("from welfare_eval.report import store\nf = store.read(results)\n"
         "print(f'rows={(f.region.astype(str) == kabupaten).sum()}')")


@pytest.fixture()
def nbdir(tmp_path):
    d = tmp_path / "nbs"
    d.mkdir()
    return d


#: What the kernels of these runs import while they wait for a job: what the small notebooks here
#: import, not the report notebooks' heavy modules (the default, DEFAULT_WARM_IMPORTS, which
#: test_run_faults checks; about 0.5 s of CPU more per kernel, and these runs start some 30).
WARM_IMPORTS = ("pandas", "welfare_eval.report.store")


def _cfg(nbdir, province, out, **kw) -> runconfig.RunConfig:
    base = dict(notebook_dir=nbdir, data=province, output_root=out, run_id="r", workers=2, retries=0, timeout=120,
                grid={"kabupaten": ["all"], "language": ["id"]}, warm_imports=WARM_IMPORTS)
    base.update(kw)
    return runconfig.check(runconfig.RunConfig(**base))


def _manifest(run_dir: Path) -> dict:
    return {j["job_id"].split("_")[0] + "_" + j["job_id"].split("_")[1]: j
            for j in json.loads((run_dir / "manifest.json").read_text())["jobs"]}


def test_config_file_grid_dry_run_and_only(province, tmp_path, nbdir, capsys):
    _notebook(nbdir / "10_a.ipynb", "x = 1")
    _notebook(nbdir / "90_brief.ipynb", "y = 2", stage="summary")
    cfg = tmp_path / "run.yaml"
    cfg.write_text(f"notebook_dir: nbs\ndata: {province}\noutput_root: out\nrun_id: monthly-{{month}}\n"
                   "grid:\n  kabupaten: [all, 7602]\n  language: [id, en]\nworkers: 2\n")
    assert main(["run", str(cfg), "--dry-run"]) == 0
    err = capsys.readouterr().err
    assert "8 job(s): 8 to run" in err and "90_brief_7602_en" in err
    assert not (tmp_path / "out").exists()  # a dry run writes nothing
    loaded = runconfig.load(cfg)
    assert loaded.grid["kabupaten"] == ["all", "7602"] and loaded.resolved_run_id().startswith("monthly-20")
    # --only with a parameter filter picks a region; its briefing brings its own inputs along
    res = run_config(loaded, only=["kabupaten=7602", "90_*"], dry_run=True, quiet=True)
    assert sorted(j.job_id for j in res.planned) == ["10_a_7602_en", "10_a_7602_id", "90_brief_7602_en",
                                                     "90_brief_7602_id"]
    # the briefing waits for every job of its region (both languages write the same results)
    brief = next(j for j in res.planned if j.job_id == "90_brief_7602_id")
    assert set(brief.deps) == {"10_a_7602_id", "10_a_7602_en"}


@pytest.mark.parametrize("text, message", [
    ("grid: {kabupaten: [7609]}\n", "'7609' is not a kabupaten of West Sulawesi"),
    ("grid: {language: [fr]}\n", "'fr' is not offered; allowed: id, en"),
    ("workers: two\n", "workers: must be a whole number"),
    ("executor: spark\n", "executor: 'spark' is not known; allowed: local, dask"),
    ("executor: dask\n", "needs the scheduler's address"),
    ("colour: red\n", "unknown key(s) colour"),
    ("run_id: '{week}'\n", "unknown placeholder"),
    ("grid: [1, 2\n", "not valid YAML"),
    ("timeout: -5\nretries: 1.5\n", "2 problem(s)"),
])
def test_malformed_configuration_is_refused_with_the_key_and_what_is_allowed(tmp_path, text, message):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    with pytest.raises(runconfig.ConfigError) as exc:
        runconfig.load(cfg)
    assert message in str(exc.value) and "bad.yaml" in str(exc.value)
    assert main(["run", str(cfg)]) == 2


def test_unknown_parameter_or_wrong_type_stops_before_anything_runs(province, tmp_path, nbdir):
    _notebook(nbdir / "10_a.ipynb", "x = 1")
    with pytest.raises(ParameterError, match="has no parameter 'colour'"):
        run_config(_cfg(nbdir, province, tmp_path / "out", parameters={"colour": "red"}), quiet=True)
    with pytest.raises(ParameterError, match="'nap' parameter of notebook 10_a.ipynb must be of type float"):
        run_config(_cfg(nbdir, province, tmp_path / "out", parameters={"nap": "long"}), quiet=True)
    assert not (tmp_path / "out").exists()


#: The timeout of the fault run is this many times a healthy notebook's own measured execution (the
#: part of a job the timeout governs: papermill's run of the notebook, ``execute_s``, not the kernel's
#: start or the HTML export), and at least TIMEOUT_FLOOR seconds: on a loaded machine a fixed figure
#: would time out the healthy one. Measured quiet, the healthy notebook executes in about 0.5 s; the
#: floor, 20 times that, covers the healthy notebook when the fault run's four jobs and retries share
#: a machine that became busy after the baseline ran (the sleeper waits it out twice, idle).
TIMEOUT_FACTOR = 10.0
TIMEOUT_FLOOR = 10.0
#: The sleeping notebook sleeps far longer than any timeout above, so a stop at the timeout shows.
SLEEP_S = 600


@pytest.fixture(scope="module")
def faults(province, tmp_path_factory):
    """One run of four notebooks (one raises, one's kernel dies with os._exit, one sleeps past its
    timeout, one works) with one retry, on the output root of a baseline run (the healthy notebook
    alone, on this machine now, which sets the timeout): its tests read the same run."""
    tmp = tmp_path_factory.mktemp("faults")
    nbdir = tmp / "nbs"
    nbdir.mkdir()
    out = tmp / "out"
    _notebook(nbdir / "40_works.ipynb", STORE.replace("{name}", "40_works"))
    base = run_config(_cfg(nbdir, province, out, run_id="2026-10", timeout=600), quiet=True)
    assert base.ok
    timeout = max(TIMEOUT_FLOOR, TIMEOUT_FACTOR * base.jobs[0]["execute_s"])
    _notebook(nbdir / "10_raises.ipynb", "raise RuntimeError('boom in cell')")
    _notebook(nbdir / "20_dies.ipynb", "import os\nos._exit(3)")
    _notebook(nbdir / "30_sleeps.ipynb", f"import time\ntime.sleep({SLEEP_S})")
    cfg = _cfg(nbdir, province, out, run_id="2026-11", timeout=timeout, retries=1)
    return cfg, run_config(cfg, quiet=True)


def test_failures_are_isolated_recorded_retried_and_shown(faults):
    """A notebook that raises, a kernel killed with os._exit, a notebook past its timeout: the others
    finish, each failure is in the manifest and on the index, transient ones are retried."""
    cfg, res = faults
    jobs = _manifest(res.run_dir)
    assert jobs["40_works"]["status"] == "ok" and jobs["40_works"]["retries"] == 0
    raised = jobs["10_raises"]
    assert raised["status"] == "failed" and raised["error"]["kind"] == "error" and raised["retries"] == 0
    assert raised["error"]["failing_cell"]["evalue"] == "boom in cell"
    died = jobs["20_dies"]
    assert died["status"] == "failed" and died["error"]["kind"] == "kernel_died" and died["retries"] == 1
    assert len(died["attempts"]) == 2
    slept = jobs["30_sleeps"]
    assert slept["status"] == "failed" and slept["error"]["kind"] == "timeout" and slept["retries"] == 1
    assert slept["attempts"][0]["duration_s"] < SLEEP_S / 2  # stopped at its timeout, not after the sleep
    for j in jobs.values():
        assert j["where"]["executor"] == "local" and j["where"]["host"] and j["started"] and j["finished"]
        assert j["package_versions"]["pandas"] and j["inputs"] and len(j["fingerprint"]) == 64
    index = (res.run_dir / "index.html").read_text()
    assert "boom in cell" in index and "kernel mati" in index and "melewati batas waktu" in index
    assert not list(res.run_dir.glob(".*.tmp*"))
    # the exit code says a job failed; a rerun redoes only what is missing
    again = run_config(cfg.with_overrides(notebooks=("10_raises", "40_works")), quiet=True)
    assert again.ran == 1 and again.skipped == 1


def test_index_links_the_previous_run(faults):
    """The fault run's index links the baseline run made before it on the same output root."""
    _, res = faults
    index = (res.run_dir / "index.html").read_text()
    assert 'href="../2026-10/index.html"' in index


def test_resume_skips_completed_jobs_and_force_reruns(province, tmp_path, nbdir):
    _notebook(nbdir / "10_a.ipynb", STORE.replace("{name}", "10_a"))
    _notebook(nbdir / "20_b.ipynb", STORE.replace("{name}", "20_b"))
    _notebook(nbdir / "90_brief.ipynb", BRIEF,
              stage="summary")
    cfg = _cfg(nbdir, province, tmp_path / "out", workers=1)  # one worker: the runs here test what is redone
    first = run_config(cfg, quiet=True)
    assert first.ok and first.ran == 3
    stamp = (first.run_dir / "10_a_provinsi_id.html").stat().st_mtime_ns
    second = run_config(cfg, quiet=True)
    assert second.ran == 0 and second.skipped == 3
    assert (first.run_dir / "10_a_provinsi_id.html").stat().st_mtime_ns == stamp
    # a changed notebook reruns, and so does the briefing that reads it; the other is kept
    _notebook(nbdir / "20_b.ipynb", STORE.replace("{name}", "20_b") + "\nprint('changed')")
    third = run_config(cfg, quiet=True)
    assert third.ran == 2 and {j["job_id"] for j in third.jobs if not j["resumed"]} == {"20_b_provinsi_id",
                                                                                         "90_brief_provinsi_id"}
    # a damaged output makes its job incomplete
    (first.run_dir / "10_a_provinsi_id.html").write_text("truncated")
    assert run_config(cfg, quiet=True).ran == 1
    assert run_config(cfg, quiet=True, force=True).ran == 3
    store = pd.read_csv(first.run_dir / "results.csv")
    assert sorted(store["notebook"]) == ["10_a", "20_b"]


def test_a_second_run_on_the_same_output_root_is_refused(province, tmp_path, nbdir):
    _notebook(nbdir / "10_a.ipynb", "x = 1")
    out = tmp_path / "out"
    with RunLock(out, "other"):
        with pytest.raises(RunLocked, match="Another welfare-eval run is using"):
            run_config(_cfg(nbdir, province, out), quiet=True)
        assert main(["run", "--data", str(province), "--notebooks", str(nbdir / "10_a.ipynb"),
                     "--output-root", str(out)]) == 75
    with RunLock(out, "next"):  # free once the holder is gone (the lock a run takes, taken by hand)
        pass


def _kernels_of(worker: int) -> list[int]:
    """Live kernel processes a worker started (jupyter_client marks them with JPY_PARENT_PID)."""
    found = []
    for env in Path("/proc").glob("[0-9]*/environ"):
        try:
            if f"JPY_PARENT_PID={worker}\0".encode() in env.read_bytes():
                found.append(int(env.parent.name))
        except OSError:
            continue
    return found


def test_resume_after_the_runner_is_killed(province, tmp_path, nbdir):
    """Kill the runner mid-run: nothing half-written looks finished, and a rerun completes only
    what is missing."""
    _notebook(nbdir / "10_fast.ipynb", STORE.replace("{name}", "10_fast"))
    _notebook(nbdir / "20_slow.ipynb", "import time\ntime.sleep(120)")
    out = tmp_path / "out"
    light = tmp_path / "run.yaml"  # the kernels warm what these notebooks import (WARM_IMPORTS)
    light.write_text(f"warm_imports: {list(WARM_IMPORTS)}\n")
    cmd = [sys.executable, "-m", "welfare_eval.cli", "run", str(light), "--data", str(province), "--notebooks",
           str(nbdir / "10_fast.ipynb"), str(nbdir / "20_slow.ipynb"), "--output-root", str(out), "--run-id", "r",
           "--workers", "2", "--json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.time() + 120
    workers = set()
    for line in proc.stdout:  # wait until the fast job is done, then kill the runner outright
        ev = json.loads(line)
        if ev["event"] == "job_start":
            workers.add(ev["where"]["pid"])
        if ev["event"] == "job_end" and ev["job_id"].startswith("10_fast"):
            break
        assert time.time() < deadline
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    run_dir = out / "r"
    man = json.loads((run_dir / "manifest.json").read_text())
    state = {j["job_id"]: j["status"] for j in man["jobs"]}
    assert state["10_fast_provinsi_id"] == "ok" and state["20_slow_provinsi_id"] == "running"
    assert not (run_dir / "20_slow_provinsi_id.html").exists()  # no report of the killed job looks finished
    # its workers, and their kernels, went with it (a worker that outlived it could still write here);
    # they notice within a second or so, later on a loaded machine
    assert len(workers) == 2
    gone_by = time.monotonic() + 60
    while time.monotonic() < gone_by and any(Path(f"/proc/{pid}").exists() or _kernels_of(pid) for pid in workers):
        time.sleep(0.25)
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists()
        assert not _kernels_of(pid)
    _notebook(nbdir / "20_slow.ipynb", "print('now quick')")
    cfg = runconfig.load(light).with_overrides(data=province, notebook_dir=nbdir, notebooks=("10_fast", "20_slow"),
                                               output_root=out, workers=2)
    res = run_config(cfg, run_id="r", quiet=True)
    assert res.ok and res.ran == 1 and res.skipped == 1


def _kills_its_worker_once(nbdir: Path, tmp_path: Path) -> Path:
    """Two notebooks: one whose kernel kills its worker process (the kernel's parent, or for a kernel
    forked from the worker's template, report/forkkernel.py, the template's parent) on its first
    attempt only, leaving a flag file; one that just works. Returns the flag's path."""
    flag = tmp_path / "killed-once"
    _notebook(nbdir / "10_kills_worker.ipynb",
              f"import os, signal, pathlib\nflag = pathlib.Path({str(flag)!r})\n"
              "worker = os.getppid()\n"
              "if b'template_main' in pathlib.Path(f'/proc/{worker}/cmdline').read_bytes():\n"
              "    worker = int(pathlib.Path(f'/proc/{worker}/stat').read_text().rsplit(')', 1)[1].split()[1])\n"
              "if not flag.exists():\n    flag.write_text('x')\n    os.kill(worker, signal.SIGKILL)\n"
              "print('second attempt')")
    _notebook(nbdir / "20_works.ipynb", "x = 1")
    return flag


def test_worker_lost_mid_job_is_retried_elsewhere(province, tmp_path, nbdir):
    """The kernel kills its own worker process (as the OOM killer would): the job is recorded as a
    lost worker, retried on a fresh worker, and the other job is unaffected."""
    flag = _kills_its_worker_once(nbdir, tmp_path)
    res = run_config(_cfg(nbdir, province, tmp_path / "out", retries=1), quiet=True)
    jobs = _manifest(res.run_dir)
    assert res.ok
    k = jobs["10_kills"]
    assert k["retries"] == 1 and k["attempts"][0]["error"]["kind"] == "worker_lost"
    assert k["attempts"][0]["where"]["worker"] != k["where"]["worker"]
    assert os.path.exists(flag)
    # the killed worker's half-written notebook is not left in the run folder
    assert not [p.name for p in res.run_dir.rglob(".*.tmp*")]


@pytest.fixture(scope="module")
def dask_cluster():
    """One real local Dask cluster (two worker processes on loopback) for the Dask tests. The scheduler
    gives up on a task at its first lost worker (allowed-failures 0, read when the scheduler starts), so
    Dask's own silent retry does not hide a lost worker from the runner."""
    distributed = pytest.importorskip("distributed")
    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                           dashboard_address=None)
    with cluster:
        yield cluster


def test_dask_cluster_gives_the_same_results_as_a_local_run(province, tmp_path, nbdir, dask_cluster):
    _notebook(nbdir / "10_a.ipynb", STORE.replace("{name}", "10_a"))
    _notebook(nbdir / "20_b.ipynb", STORE.replace("{name}", "20_b"))
    _notebook(nbdir / "90_brief.ipynb", BRIEF,
              stage="summary")
    grid = {"kabupaten": ["all", "7602"], "language": ["id"]}
    local = run_config(_cfg(nbdir, province, tmp_path / "local", grid=grid, workers=1), quiet=True)
    cfg = _cfg(nbdir, province, tmp_path / "dask", grid=grid, executor="dask", scheduler=dask_cluster.scheduler_address)
    remote = run_config(cfg, quiet=True)
    assert local.ok and remote.ok and remote.ran == 6
    where = {j["where"]["executor"] for j in remote.jobs}
    workers = {j["where"]["worker"] for j in remote.jobs}
    assert where == {"dask"} and all(str(w).startswith("tcp://127.0.0.1") for w in workers)
    a = pd.read_csv(local.run_dir / "results.csv").sort_values(["notebook", "region"]).reset_index(drop=True)
    b = pd.read_csv(remote.run_dir / "results.csv").sort_values(["notebook", "region"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    brief = nbformat.read(str(remote.run_dir / "90_brief_7602_id.ipynb"), as_version=4)
    assert "rows=2" in "".join(o.get("text", "") for o in brief["cells"][-1]["outputs"])  # saw its region's rows


def test_dask_worker_lost_mid_job_is_retried(province, tmp_path, nbdir, dask_cluster):
    """On a real Dask cluster the kernel kills its worker process: the scheduler gives up on the task
    at once (allowed-failures 0, so Dask's own silent retry does not hide it), the runner records a
    lost worker and retries the job on the restarted worker, and the other job is unaffected."""
    flag = _kills_its_worker_once(nbdir, tmp_path)
    cfg = _cfg(nbdir, province, tmp_path / "out", retries=1, executor="dask", scheduler=dask_cluster.scheduler_address)
    res = run_config(cfg, quiet=True)
    jobs = _manifest(res.run_dir)
    assert res.ok, jobs
    k = jobs["10_kills"]
    assert k["status"] == "ok" and k["retries"] == 1
    assert k["attempts"][0]["error"]["kind"] == "worker_lost"
    assert "KilledWorker" in k["attempts"][0]["error"]["message"]
    assert jobs["20_works"]["status"] == "ok" and jobs["20_works"]["retries"] == 0
    assert flag.exists()


def test_progress_line_on_a_terminal_and_json_lines_in_the_log(tmp_path):
    import io

    from welfare_eval.report.runner import Progress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    out = Tty()
    p = Progress(4, tmp_path / "log.jsonl", stream=out)
    p.event("job_end", job_id="a", status="ok")
    p.update(done=2, failed=1, running=2)
    p.close()
    line = out.getvalue()
    assert "2/4 done" in line and "1 failed" in line and "2 running" in line and "left" in line
    ev = [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert ev[0]["event"] == "job_end" and ev[0]["job_id"] == "a" and "time" in ev[0]
