"""welfare-eval run under faults: what is refused before anything runs, what makes a job failed,
where warnings go, a full disk, SIGTERM, and the kernels' transport (the cause of the
'DELIM not in msg_list' tracebacks of issue 11). Real kernels, real papermill runs."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from welfare_eval.cli import main
from welfare_eval.exceptions import ParameterError
from welfare_eval.report import runconfig
from welfare_eval.report.execute import DEFAULT_WARM_IMPORTS, _os_error, _take_kernel, setup_code, shutdown_warm
from welfare_eval.report.runner import allowed_values, check_parameters, declared_parameters, discover_notebooks, plan

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = {p.stem: p for p in discover_notebooks()}
#: Seconds a test waits for a run to reach a state (generous: the machine may be loaded).
PATIENCE = 300


def _notebook(path: Path, *bodies: str) -> Path:
    nb = nbformat.v4.new_notebook()
    p = nbformat.v4.new_code_cell('data_dir: str = ""  # data\nkabupaten: str = "all"  # region\n'
                                  'language: str = "id"  # language\nresults: str = ""  # results store')
    p.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {path.stem}"), p, *(nbformat.v4.new_code_cell(b) for b in bodies)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))
    return path


def _cli(*args: str, env=None, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "WELFARE_EVAL_NO_SCREENSHOTS": "1", **(env or {})}
    env.pop("PYTEST_CURRENT_TEST", None)
    return subprocess.run([sys.executable, "-m", "welfare_eval.cli", "run", *args], capture_output=True, text=True,
                          env=env, timeout=PATIENCE, **kw)


def _manifest(run_dir: Path) -> dict:
    return json.loads((run_dir / "manifest.json").read_text())


#: A run configuration for the small notebooks written here: their kernels import nothing while they
#: wait (the report notebooks' modules, DEFAULT_WARM_IMPORTS, cost about 3 s of CPU per kernel and
#: test_setup_code_runs_and_imports_what_it_lists checks them); every other setting comes from the
#: command line, as a user passes it.
LIGHT_CONFIG = "warm_imports: []\n"


def _light_config(folder: Path) -> str:
    path = folder / "light.yaml"
    path.write_text(LIGHT_CONFIG)
    return str(path)


# --------------------------------------------------------------------------------------------
# the kernel: setup code, transport


def test_setup_code_runs_and_imports_what_it_lists(tmp_path):
    compile(setup_code(DEFAULT_WARM_IMPORTS, tmp_path / "log"), "setup", "exec")  # the old one was a SyntaxError
    warm, _ = _take_kernel(str(tmp_path), DEFAULT_WARM_IMPORTS)
    try:
        from jupyter_client.blocking import BlockingKernelClient

        kc = BlockingKernelClient()
        kc.load_connection_info(warm.km.get_connection_info())
        kc.start_channels()
        kc.wait_for_ready(timeout=PATIENCE)
        probe = f"sorted(m for m in {DEFAULT_WARM_IMPORTS!r} if m not in __import__('sys').modules)"
        reply = kc.execute_interactive("", user_expressions={"missing": probe, "names": "sorted(dir())"},
                                       timeout=PATIENCE, output_hook=lambda m: None)
        exprs = reply["content"]["user_expressions"]
        assert exprs["missing"]["data"]["text/plain"] == "[]"
        names = exprs["names"]["data"]["text/plain"]
        assert "_welfare_eval_setup" not in names and "importlib" not in names  # the notebook starts clean
        # warnings raised in the kernel go to the kernel's log, not to the cell's stderr
        outputs = []
        kc.execute_interactive("import warnings; warnings.warn('a notice')", timeout=PATIENCE,
                               output_hook=lambda m: outputs.append(m))
        assert not [m for m in outputs if m["msg_type"] == "stream" and m["content"]["name"] == "stderr"]
        kc.stop_channels()
        from welfare_eval.report.execute import kernel_log

        assert any(r["kind"] == "warning" and r["message"] == "a notice" for r in kernel_log(warm))
        assert warm.km.transport == "ipc"  # Unix sockets: no port to share with another kernel
    finally:
        from welfare_eval.report.execute import _shutdown

        _shutdown(warm)
        shutdown_warm()


def test_a_setup_code_that_fails_is_a_kernel_start_failure(tmp_path):
    from welfare_eval.report import execute

    bad = execute.KERNEL_SETUP
    try:
        execute.KERNEL_SETUP = bad + "\nraise RuntimeError('setup broke')\n"
        with pytest.raises(RuntimeError, match="setup code failed.*setup broke"):
            warm, _ = _take_kernel(str(tmp_path), ())
    finally:
        execute.KERNEL_SETUP = bad
        shutdown_warm()


def test_heartbeat_pings_on_a_shell_port_are_the_delim_tracebacks():
    """The cause of 'ValueError: DELIM not in msg_list' in reader pages, reproduced with loopback TCP
    (jupyter_client's default): kernel B is given as heartbeat port a port kernel A holds as its
    shell port (what a port picked free by one process and bound seconds later by a kernel can
    become on a loaded machine). B's heartbeat thread fails to bind and B runs on; its client's
    heartbeat pings reach A's shell, and A logs the traceback into the cell it is running."""
    from jupyter_client.manager import KernelManager

    # as in production: ipykernel does not echo the kernel's own stderr into cells under pytest
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    managers, clients = [], []
    try:
        km_a = KernelManager(kernel_name="python3")
        km_a.start_kernel(stderr=subprocess.DEVNULL, env=env)
        managers.append(km_a)
        ca = km_a.client()
        clients.append(ca)
        ca.start_channels()
        # A must hold its shell port before B is started on it: otherwise B's heartbeat may bind it
        # first and A, not B, is the kernel that cannot bind (and dies before replying)
        ca.wait_for_ready(timeout=PATIENCE)
        km_b = KernelManager(kernel_name="python3")
        km_b.cache_ports = False
        km_b.hb_port = km_a.shell_port
        km_b.start_kernel(stderr=subprocess.DEVNULL, env=env)
        managers.append(km_b)
        cb = km_b.client()
        clients.append(cb)
        cb.start_channels()
        cb.wait_for_ready(timeout=PATIENCE)  # B answers: nothing tells its user that its heartbeat is elsewhere
        outputs: list = []
        ca.execute_interactive("import time; time.sleep(4)", timeout=PATIENCE, output_hook=outputs.append)
        stderr = "".join(m["content"]["text"] for m in outputs
                         if m["msg_type"] == "stream" and m["content"]["name"] == "stderr")
        assert "DELIM not in msg_list" in stderr, [(m["msg_type"], m["content"]) for m in outputs]
    finally:
        for c in clients:
            c.stop_channels()
        for k in managers:
            k.shutdown_kernel(now=True)

# --------------------------------------------------------------------------------------------
# refused before anything runs (exit 2)


@pytest.mark.parametrize("param,value,words", [
    ("min_cell", "0", "at least 1"),
    ("extreme_line", "nope", "extreme_215_2017ppp"),
    ("bootstrap", "-3", "0 or at least 99"),
    ("programs", "PKH,XYZ", "comma-separated list of PKH, BPNT"),
], ids=["min_cell-0", "extreme_line-nope", "bootstrap-negative", "programs-unknown"])
def test_a_value_a_notebook_would_reject_is_refused_before_anything_runs(province, tmp_path, capsys, param, value,
                                                                         words):
    code = main(["run", "--data", str(province), "--output-root", str(tmp_path / "out"), "--run-id", "r",
                 "-p", f"{param}={value}"])
    err = capsys.readouterr().err
    assert code == 2 and words in err and repr(json.loads(value) if value.lstrip("-").isdigit() else value) in err
    assert not (tmp_path / "out" / "r").exists()


def test_allowed_values_are_declared_and_agree_with_the_package():
    from welfare_eval.io import extreme_line_ids
    from welfare_eval.report.targeting_view import PROGRAMS

    assert allowed_values(NOTEBOOKS["10_poverty_profile"], "extreme_line") == list(extreme_line_ids())
    assert allowed_values(NOTEBOOKS["20_targeting"], "programs") == list(PROGRAMS)
    for nb in NOTEBOOKS.values():
        declared = declared_parameters(nb)
        assert declared["min_cell"]["allowed"], nb.name
        import ast

        defaults = {k: ast.literal_eval(d["default"]) for k, d in declared.items()}
        check_parameters(nb, defaults)  # every default is one of its allowed values
        # papermill reads every line of the parameters cell too (it warns and skips one it cannot)
        from papermill.translators import PythonTranslator

        cell = next(c for c in nbformat.read(str(nb), as_version=4).cells if "parameters" in c.metadata.get("tags", []))
        assert {p.name for p in PythonTranslator.inspect(cell)} == set(declared), nb.name


def test_the_documented_parameters_apply_to_the_notebooks_that_declare_them(tmp_path):
    """docs/running.md: ``parameters: {min_cell: 10, extreme_line: ...}`` with ``notebooks: all``."""
    text = (REPO / "docs" / "running.md").read_text()
    example = next(line for line in text.splitlines() if line.startswith("| `parameters` |"))
    assert "{min_cell: 10, extreme_line: extreme_215_2017ppp}" in example
    cfg = runconfig.check(runconfig.RunConfig(parameters={"min_cell": 10, "extreme_line": "extreme_215_2017ppp"},
                                              output_root=tmp_path))
    jobs = plan(cfg, tmp_path / "r")
    assert {j.notebook.stem for j in jobs} == set(NOTEBOOKS)
    for j in jobs:
        assert j.parameters["min_cell"] == 10
        assert ("extreme_line" in j.parameters) == ("extreme_line" in declared_parameters(j.notebook))
    assert "extreme_line" in next(j for j in jobs if j.notebook.stem == "10_poverty_profile").parameters
    assert "extreme_line" not in next(j for j in jobs if j.notebook.stem == "20_targeting").parameters
    with pytest.raises(ParameterError, match="Every notebook of this run has no parameter 'colour'"):
        plan(runconfig.check(runconfig.RunConfig(parameters={"colour": 1}, output_root=tmp_path)), tmp_path / "r")


def test_a_data_folder_missing_a_needed_table_is_refused(province, tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(province, data)
    (data / "panel.parquet").unlink()
    code = main(["run", "--data", str(data), "--output-root", str(tmp_path / "out"), "--run-id", "r"])
    err = capsys.readouterr().err
    assert code == 2 and "panel.parquet" in err and "30_impact_bansos" in err and "Traceback" not in err
    assert not (tmp_path / "out" / "r").exists()
    # the notebooks that do not need the panel may still run
    assert main(["run", "--data", str(data), "--output-root", str(tmp_path / "out"), "--run-id", "r",
                 "--notebooks", "50_policy_simulation", "--dry-run"]) == 0


@pytest.mark.parametrize("run_id", ["../victim", "/tmp/welfare-eval-victim", ".hidden", "a/b"],
                         ids=["parent", "absolute", "dot", "nested"])
def test_a_run_id_that_is_not_a_folder_name_is_refused(province, tmp_path, capsys, run_id):
    root = tmp_path / "root"
    code = main(["run", "--data", str(province), "--output-root", str(root), "--run-id", run_id,
                 "--notebooks", "00_data_quality"])
    assert code == 2 and "--run-id" in capsys.readouterr().err
    assert not (tmp_path / "victim").exists() and not Path("/tmp/welfare-eval-victim").exists()


def test_an_output_root_that_cannot_be_written_is_refused(province, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code = main(["run", "--data", str(province), "--output-root", str(blocker / "reports"), "--run-id", "r",
                 "--notebooks", "00_data_quality"])
    err = capsys.readouterr().err
    assert code == 2 and "cannot be written" in err and "Traceback" not in err


def test_errno_of_a_failed_write_is_named():
    assert _os_error(OSError(28, "No space left on device"))["kind"] == "disk_full"
    assert _os_error(PermissionError(13, "Permission denied"))["kind"] == "permission_denied"
    try:
        try:
            raise OSError(28, "No space left on device")
        except OSError as inner:
            raise RuntimeError("writing the notebook failed") from inner
    except RuntimeError as outer:
        assert _os_error(outer)["errno"] == "ENOSPC"


# --------------------------------------------------------------------------------------------
# what makes a job failed, and what a failed job leaves


STORE_ROWS = ("import pandas as pd\nfrom welfare_eval.report import store\n"
              "store.append(store.results_path(results), pd.DataFrame({'estimand': ['P0'], 'estimate': [0.1], "
              "'nobs': [500]}), notebook='{nb}', region=kabupaten)")
#: A temporary file a killed run left in the run folder (the name of one of this run's outputs), and a
#: user's file whose name only looks like one.
STALE_TEMPORARY = ".02_warns_provinsi_id.a1b2c3d4.tmp.html"
USERS_FILE = ".important.tmp.txt"


@pytest.fixture(scope="module")
def small_run(province, tmp_path_factory):
    """One run through the CLI of four small notebooks (one prints to stderr, one warns, one stores its
    rows and then fails, one stores its rows) into a run folder that holds a stale temporary file and a
    user's file: its tests read the same run. Returns the CLI's exit code and the run folder."""
    tmp = tmp_path_factory.mktemp("small-run")
    nbdir = tmp / "nbs"
    nbdir.mkdir()
    _notebook(nbdir / "01_prints_to_stderr.ipynb", "import sys; print('oops', file=sys.stderr)")
    _notebook(nbdir / "02_warns.ipynb", "import warnings, logging\nwarnings.warn('careful')\n"
              "logging.getLogger('xhtml2pdf').warning('Ignoring CSS properties')\nprint('fine')")
    _notebook(nbdir / "03_stores_then_fails.ipynb", STORE_ROWS.replace("{nb}", "03_stores_then_fails"),
              "import sys; print('late failure', file=sys.stderr)")
    _notebook(nbdir / "04_stores.ipynb", STORE_ROWS.replace("{nb}", "04_stores"))
    run_dir = tmp / "out" / "r"
    run_dir.mkdir(parents=True)
    (run_dir / USERS_FILE).write_text("a user's file")
    (run_dir / STALE_TEMPORARY).write_text("left by a killed run")
    code = main(["run", _light_config(tmp), "--data", str(province), "--notebooks",
                 *map(str, sorted(nbdir.glob("*.ipynb"))), "--output-root", str(tmp / "out"), "--run-id", "r"])
    return code, run_dir


def test_stderr_and_warnings_in_a_notebook(small_run):
    code, run_dir = small_run
    assert code == 1
    jobs = {j["notebook"]: j for j in _manifest(run_dir)["jobs"]}
    bad = jobs["01_prints_to_stderr.ipynb"]
    assert bad["status"] == "failed" and bad["error"]["kind"] == "page_output" and "oops" in bad["error"]["message"]
    ok = jobs["02_warns.ipynb"]
    assert ok["status"] == "ok"
    assert {n["message"] for n in ok["notices"]} == {"careful", "Ignoring CSS properties"}
    page = (run_dir / ok["outputs"]["html"]).read_text()
    assert "careful" not in page and "Warning" not in page and "fine" in page


def test_a_failed_jobs_rows_never_reach_results_csv(small_run):
    _, run_dir = small_run
    jobs = {j["notebook"]: j for j in _manifest(run_dir)["jobs"]}
    assert jobs["03_stores_then_fails.ipynb"]["status"] == "failed" and jobs["04_stores.ipynb"]["status"] == "ok"
    results = (run_dir / "results.csv").read_text()
    assert "04_stores" in results and "03_stores_then_fails" not in results
    assert not (run_dir / "results" / "03_stores_then_fails__all.csv").exists()  # the briefing cannot read it
    assert (run_dir / "results" / "failed" / "03_stores_then_fails__all.csv").exists()  # kept for the analyst


def test_a_stale_temporary_file_is_removed_and_a_users_file_kept(small_run):
    """The run folder's mechanics, on small notebooks (the report notebooks run in report_run)."""
    _, run_dir = small_run
    assert (run_dir / USERS_FILE).read_text() == "a user's file"
    assert not (run_dir / STALE_TEMPORARY).exists()
    assert (run_dir / "02_warns_provinsi_id.html").exists()


#: The full-disk cases: how many kB the notebook leaves free on its 3 MB file system, and so what
#: of its outputs does not fit: the executed notebook, its HTML pages, or even the manifest.
FULL_DISK_CASES = {"notebook": 16, "html": 120, "manifest": 0}

#: Run inside a private mount namespace on three small file systems, one per case: two runs each
#: (the second must not take the failed job as up to date) through the CLI's ``main`` in this one
#: process (one interpreter for the six runs); each case's stderr (file descriptor 2, which the
#: workers inherit) goes to a file of its own, its exit codes to stdout.
FULL_DISK_SCRIPT = """
import os, shutil, sys
from pathlib import Path

from welfare_eval.cli import main


def cases(tmp, config, data, names):
    for case in names:
        mnt = tmp / "mnt" / case
        with open(tmp / f"{case}.stderr", "w") as err:
            sys.stderr.flush()
            keep = os.dup(2)
            os.dup2(err.fileno(), 2)
            try:
                for i in (1, 2):
                    code = main(["run", config, "--data", data, "--notebooks",
                                 str(tmp / "nbs" / case / "01_fills_the_disk.ipynb"), "--output-root", str(mnt),
                                 "--run-id", "r", "--retries", "0"])
                    print(case, "exit", code, flush=True)
                    if (mnt / "r" / "manifest.json").exists():
                        shutil.copy(mnt / "r" / "manifest.json", tmp / f"{case}-manifest-{i}.json")
                    (mnt / "filler").unlink(missing_ok=True)
            finally:
                sys.stderr.flush()
                os.dup2(keep, 2)


if __name__ == "__main__":  # the runner's worker processes are spawned: they import this file
    cases(Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:])
"""


@pytest.fixture(scope="module")
def full_disk(province, tmp_path_factory):
    """The run folder on a 3 MB file system that the notebook fills up to a case's free space, for each
    case of FULL_DISK_CASES: per case, the exit codes of its two runs, its stderr and its manifests."""
    if not shutil.which("unshare"):
        pytest.fail("this test needs util-linux's unshare (a private mount of a small tmpfs)")
    tmp = tmp_path_factory.mktemp("full-disk")
    mounts = []
    for case, free_kb in FULL_DISK_CASES.items():
        nbdir = tmp / "nbs" / case
        nbdir.mkdir(parents=True)
        _notebook(nbdir / "01_fills_the_disk.ipynb",
                  "import os\nfrom pathlib import Path\nroot = Path(results).parent.parent\n"
                  "st = os.statvfs(root)\n"
                  f"left = st.f_bavail * st.f_frsize - {free_kb} * 1024\n"
                  "Path(root, 'filler').write_bytes(b'0' * max(left, 0))\n"
                  "print('x' * 20000)")
        (tmp / "mnt" / case).mkdir(parents=True)
        mounts.append(f"mount -t tmpfs -o size=3m tmpfs {tmp / 'mnt' / case}")
    (tmp / "full_disk.py").write_text(FULL_DISK_SCRIPT)
    cmd = " && ".join([*mounts, f"{sys.executable} {tmp / 'full_disk.py'} {tmp} {_light_config(tmp)} {province} "
                                + " ".join(FULL_DISK_CASES)])
    env = {**os.environ, "PYTHONPATH": str(REPO), "WELFARE_EVAL_NO_SCREENSHOTS": "1"}
    env.pop("PYTEST_CURRENT_TEST", None)
    res = subprocess.run(["unshare", "-rm", "sh", "-c", cmd], capture_output=True, text=True, env=env,
                         timeout=PATIENCE)
    assert res.returncode == 0, res.stdout + res.stderr
    return {case: {"exits": [line.split()[-1] for line in res.stdout.splitlines() if line.startswith(f"{case} exit")],
                   "stderr": (tmp / f"{case}.stderr").read_text(),
                   "manifests": [tmp / f"{case}-manifest-{i}.json" for i in (1, 2)]}
            for case in FULL_DISK_CASES}


@pytest.mark.parametrize("cut", list(FULL_DISK_CASES), ids=["notebook-cut-short", "html-not-written", "nothing-fits"])
def test_a_full_disk_is_recorded_as_disk_full_and_rerun(full_disk, cut):
    """The run folder on a 3 MB file system that the notebook fills up to ``FULL_DISK_CASES[cut]`` kB:
    what it writes next (``cut``: the executed notebook, its HTML pages, or even the manifest) does not
    fit. The job is failed with kind disk_full (not ok, not a lost worker) and a second run does not
    take it as up to date; when not even the manifest fits, the runner says so in one line."""
    case = full_disk[cut]
    assert case["exits"] == ["1", "1"], case
    assert "Traceback" not in case["stderr"], case["stderr"]
    if cut == "manifest":
        assert case["stderr"].count("No space left on device") >= 2
        return
    for manifest in case["manifests"]:
        job = json.loads(manifest.read_text())["jobs"][0]
        assert job["status"] == "failed" and job["error"]["kind"] == "disk_full", (cut, job["error"])
        assert job["resumed"] is False  # the second run ran it again
        assert (cut == "notebook") == ("notebook" not in job["outputs"])


def test_sigterm_marks_running_jobs_interrupted(province, tmp_path):
    nbdir = tmp_path / "nbs"
    nbdir.mkdir()
    _notebook(nbdir / "01_slow.ipynb", "import time; time.sleep(120)")
    env = {**os.environ, "PYTHONPATH": str(REPO), "WELFARE_EVAL_NO_SCREENSHOTS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "welfare_eval.cli", "run", _light_config(tmp_path), "--data",
                             str(province), "--notebooks", str(nbdir / "01_slow.ipynb"), "--output-root",
                             str(tmp_path / "out"), "--run-id", "r"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    run_dir = tmp_path / "out" / "r"
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        if (run_dir / "log.jsonl").exists() and '"job_start"' in (run_dir / "log.jsonl").read_text():
            break
        time.sleep(0.5)
    time.sleep(2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=PATIENCE)
    assert proc.returncode == 143, err
    job = _manifest(run_dir)["jobs"][0]
    assert job["status"] == "interrupted" and job["finished"]
    assert "Traceback" not in err


# --------------------------------------------------------------------------------------------
# a saturated machine


#: What no reader page may show: a traceback, a warning, an error, a path into the code or its
#: environment, an object's repr.
NOT_ON_A_PAGE = ("Traceback", "Warning", "Error:", "site-packages", ".venv", str(REPO), "object at 0x")


def _unclean(run_dir: Path, job: dict) -> list:
    """What is wrong with a finished job's executed notebook (error output, anything on stderr) and its
    reader page (NOT_ON_A_PAGE)."""
    nb = nbformat.read(str(run_dir / job["outputs"]["notebook"]), as_version=4)
    outs = [o for c in nb.cells for o in c.get("outputs", [])]
    found = [o.get("ename") or o.get("text", "")[:200] for o in outs
             if o.get("output_type") == "error" or o.get("name") == "stderr"]
    page = (run_dir / job["outputs"]["html"]).read_text()
    return found + [bad for bad in NOT_ON_A_PAGE if bad in page]


def test_every_page_of_the_shared_run_is_clean(report_run):
    """Every report notebook, for the province and a kabupaten (the shared run): no error output and
    nothing on stderr in an executed notebook, and no reader page shows a traceback, a warning or a
    path into the code or its environment."""
    jobs = json.loads((report_run.run_dir / "manifest.json").read_text())["jobs"]
    assert {j["notebook"] for j in jobs} == {p.name for p in NOTEBOOKS.values()}
    assert {j["job_id"]: _unclean(report_run.run_dir, j) for j in jobs if _unclean(report_run.run_dir, j)} == {}


#: The report notebooks run on a saturated machine: quick ones (each page's content is checked in the
#: shared run above; what a loaded machine breaks is the machinery: kernel starts, their transport,
#: timeouts), one job more than workers, so that both workers start kernels, and one warms its next
#: kernel during a job, while the hogs run.
SATURATED_NOTEBOOKS = ("00_data_quality", "10_poverty_profile", "20_targeting")
#: The share of the CPUs' time left idle while the hogs ran: at most this (they keep every core busy).
SATURATED_IDLE_MAX = 0.05


def _cores() -> list[int]:
    """The cores this process may run on (a container's cpuset, else every core)."""
    return sorted(os.sched_getaffinity(0))


def _cpu_jiffies() -> tuple[int, int]:
    """(idle, total) CPU time of this process's cores since boot, from /proc/stat, in clock ticks."""
    idle = total = 0
    for line in Path("/proc/stat").read_text().splitlines():
        name, *fields = line.split()
        if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in _cores():
            values = [int(v) for v in fields[:8]]
            idle, total = idle + values[3] + values[4], total + sum(values)  # idle and iowait; user .. steal
    return idle, total


@pytest.mark.slow
def test_jobs_on_a_saturated_machine_have_clean_pages(province, tmp_path):
    """A CPU hog on every core (killed at the end) while a kabupaten's reports run on two workers: no
    job failed, no error output and nothing on stderr in any executed notebook, and no reader page
    shows a traceback, a warning or a path into the code or its environment."""
    idle0, total0 = _cpu_jiffies()
    hogs = [
        subprocess.Popen([sys.executable, "-c", "import time\nend = time.time() + 900\nwhile time.time() < end: pass"])
        for _ in _cores()
    ]
    try:
        res = _cli("--data", str(province), "--kabupaten", "7603", "--output-root", str(tmp_path), "--run-id", "r",
                   "--workers", "2", "--notebooks", *SATURATED_NOTEBOOKS)
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    idle1, total1 = _cpu_jiffies()
    assert (idle1 - idle0) / (total1 - total0) <= SATURATED_IDLE_MAX  # the machine was busy throughout
    run_dir = tmp_path / "r"
    jobs = _manifest(run_dir)["jobs"]
    assert res.returncode == 0 and all(j["status"] == "ok" for j in jobs), [(j["job_id"], j["error"]) for j in jobs]
    assert {j["notebook"] for j in jobs} == {f"{n}.ipynb" for n in SATURATED_NOTEBOOKS}
    assert {j["job_id"]: _unclean(run_dir, j) for j in jobs if _unclean(run_dir, j)} == {}
