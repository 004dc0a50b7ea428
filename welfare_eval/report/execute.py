"""Execute one report job in a kernel of its own: the worker side of ``welfare-eval run``.

The same function, :func:`execute_job`, runs in the local worker processes and on Dask workers.
A worker keeps one kernel started and warmed ahead of need (its heavy modules already imported,
in a throw-away namespace so the notebook still sees a clean one), so a job does not wait for a
Python process to start and import pandas, statsmodels and matplotlib. Every notebook still
gets a kernel process of its own, shut down when the job ends.

A job's record says what happened and whether the failure is *transient* (the kernel died, the
job ran past its timeout, the kernel would not start): those the runner retries. A notebook that
raises is not retried; it would raise again.
"""
from __future__ import annotations

import atexit
import datetime as dt
import errno
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import forkkernel

if TYPE_CHECKING:  # imported where a kernel is started (jupyter_client is slow to import)
    from jupyter_client.blocking import BlockingKernelClient
    from jupyter_client.manager import AsyncKernelManager

#: Modules a warm kernel imports before its job arrives: what the report notebooks import (their
#: own imports and the report views, ``briefing`` and ``quality`` pull in numpy, pandas,
#: scipy, matplotlib and pyarrow). statsmodels.api is not among them: no notebook and no module of
#: the package imports it, and it cost 4.2 s of CPU per kernel.
DEFAULT_WARM_IMPORTS = ("numpy", "pandas", "scipy.stats", "matplotlib.pyplot", "pyarrow.parquet", "IPython.display",
                        "welfare_eval.report.impact_view", "welfare_eval.report.poverty_view",
                        "welfare_eval.report.targeting_view", "welfare_eval.report.briefing", "welfare_eval.quality")

#: What every kernel runs before its notebook (standard library only, in a throw-away namespace so
#: the notebook starts clean). Python warnings and library log records below ERROR (xhtml2pdf's CSS
#: notices, matplotlib's layout notices) go to the kernel's log file, which the runner reads into the
#: job's record, instead of the page; records at ERROR and above still reach stderr, where they make
#: the job fail. Then the heavy modules are imported, each failure logged.
KERNEL_SETUP = '''
import importlib, json, logging, sys, warnings

def _welfare_eval_setup(log_path, modules):
    def record(kind, **fields):
        try:
            with open(log_path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"kind": kind, **fields}, default=str) + "\\n")
        except OSError:
            pass

    def showwarning(message, category, filename, lineno, file=None, line=None):
        record("warning", category=category.__name__, message=str(message), where="%s:%s" % (filename, lineno))

    warnings.showwarning = showwarning

    class ToLog(logging.Handler):
        def emit(self, rec):
            if rec.levelno < logging.ERROR:
                record("log", logger=rec.name, level=rec.levelname, message=rec.getMessage())

    class ToStderr(logging.Handler):
        def emit(self, rec):
            sys.stderr.write("%s: %s\\n" % (rec.levelname, rec.getMessage()))

    root = logging.getLogger()
    root.addHandler(ToLog(logging.WARNING))
    root.addHandler(ToStderr(logging.ERROR))
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:
            record("warm_import_failed", module=name, error="%s: %s" % (type(exc).__name__, exc))
'''

#: Seconds to wait for a kernel to start and answer (a loaded machine can be slow to start one).
KERNEL_START_TIMEOUT = 120


@dataclass
class _Warm:
    km: AsyncKernelManager
    kc: BlockingKernelClient
    msg_id: str
    key: tuple
    log: str = ""  # the kernel's log file (warnings, library notices), read into the job's record
    notices: list = field(default_factory=list)  # what happened as it started (a fork that failed)


_WARM: _Warm | None = None
_KERNEL_PIDS: set = set()  # every kernel this process started and has not shut down
_EXPORTERS: dict = {}
_LOCK = threading.Lock()


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def setup_code(imports, log_path: str | os.PathLike) -> str:
    """The code a kernel runs before its job: :data:`KERNEL_SETUP` and its call, executed in a
    fresh namespace (modules land in ``sys.modules``; the notebook's namespace stays empty)."""
    call = f"_welfare_eval_setup({str(log_path)!r}, {tuple(imports)!r})"
    return f"exec({KERNEL_SETUP + call!r}, {{}})"


_IPC_DIR: list = []


def _ipc_prefix() -> str:
    """A path prefix for a new kernel's sockets in a folder private to this process.

    Kernels talk to their clients over Unix sockets, not loopback TCP. A TCP port is picked free by
    the process that starts the kernel and bound by the kernel seconds later; on a loaded machine
    another process's kernel can take it in between. When that port was to be a kernel's heartbeat
    and is already another kernel's shell port, the heartbeat thread fails to bind and the kernel
    runs on, while its client's heartbeat pings (one a second) reach the other kernel's shell, which
    logs ``ValueError: DELIM not in msg_list`` into whatever cell it is running: the tracebacks of
    issue 11 (reproduced in tests/test_run_faults.py). Socket files in a private folder cannot collide.
    """
    import tempfile
    import uuid

    if not _IPC_DIR or not os.path.isdir(_IPC_DIR[0]):
        _IPC_DIR[:] = [tempfile.mkdtemp(prefix="we-k-")]
    return os.path.join(_IPC_DIR[0], uuid.uuid4().hex[:12])


def _remove_ipc_dir() -> None:
    import shutil

    for d in _IPC_DIR:
        shutil.rmtree(d, ignore_errors=True)


def _sync(coro_fn):
    from jupyter_core.utils import run_sync

    return run_sync(coro_fn)


_TEMPLATE: list = []      # this process's kernel template (forkkernel.Template), at most one
_FORK_FAILED: list = []   # a template failed here once: launch kernels from then on
_TEMPLATE_LOCK = threading.Lock()
#: Whether this process forks its kernels from a template: only the runner's own local workers
#: (:func:`worker_main`, one job at a time). On a Dask worker several threads run jobs in one
#: process, and a template closed or killed by one of them would kill the kernels of the others;
#: there, and in any other caller of :func:`execute_job`, kernels are launched.
_FORK_HERE: list = []


def _template(cwd: str, imports, env: dict, key: tuple):
    """This process's kernel template for kernels of ``key`` (working folder, imports, the run's
    kernel variables), started or restarted as needed, or None where kernels are launched instead.

    A template is never closed while a kernel forked from it is alive (its end kills them): a
    kernel of another key, meanwhile, is launched."""
    if not _FORK_HERE or not forkkernel.available():
        return None
    with _TEMPLATE_LOCK:
        if _FORK_FAILED:
            return None
        if _TEMPLATE and not _TEMPLATE[0].alive():
            _TEMPLATE.pop().close()  # it died, and its kernels with it
        if _TEMPLATE and _TEMPLATE[0].key != key:
            if _TEMPLATE[0].busy():
                return None
            _TEMPLATE.pop().close()
        if not _TEMPLATE:
            try:
                _TEMPLATE.append(forkkernel.Template(cwd, env, imports, key=key))
            except OSError:
                _FORK_FAILED.append(True)
                return None
        return _TEMPLATE[0]


def _give_up_template(template) -> None:
    """A fork from ``template`` failed: kernels of this process are launched from now on; the
    template is closed now if none of its kernels is alive, else when the worker ends."""
    with _TEMPLATE_LOCK:
        _FORK_FAILED.append(True)
        if template in _TEMPLATE and not (template.alive() and template.busy()):
            _TEMPLATE.remove(template)
            template.close()


def _close_template() -> None:
    with _TEMPLATE_LOCK:
        while _TEMPLATE:
            _TEMPLATE.pop().close()


def _kernel_pid(km) -> int | None:
    return getattr(getattr(getattr(km, "provisioner", None), "process", None), "pid", None)


def _alive(km) -> bool:
    return bool(_sync(km.is_alive)())


def _env_key(env: dict | None) -> tuple:
    return tuple(sorted((env or {}).items()))


def _start_kernel(cwd: str, imports, env_extra: dict | None = None) -> _Warm:
    # nbclient needs an asynchronous manager: with a blocking one its check that the kernel is still
    # alive never runs while it waits for output, and a kernel that dies hangs the job
    from jupyter_client.blocking import BlockingKernelClient
    from jupyter_client.manager import AsyncKernelManager

    prefix = _ipc_prefix()
    km = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=prefix)
    km.kernel_id = km.kernel_id or uuid.uuid4().hex
    # the kernel's own log is noise on a scheduler's terminal; what a notebook prints reaches its
    # outputs through the kernel's messages, not this stream
    # (ipykernel stops echoing the process's own stderr into the notebook when it sees
    # PYTEST_CURRENT_TEST: a kernel started by the runner under a test behaves as in production)
    # ``env_extra``: what the run gives its kernels (the run's cache folder, see welfare_eval.cache)
    env = {**{k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}, **(env_extra or {})}
    template = _template(cwd, imports, env, (cwd, tuple(imports), _env_key(env_extra)))
    if template is not None:  # a fork of this worker's warm template (forkkernel), not a new Python
        km.provisioner = forkkernel.provisioner(km, template)
    notices: list = []
    try:
        _sync(km.start_kernel)(cwd=cwd, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=env)
    except Exception as exc:  # noqa: BLE001
        if template is None:
            raise
        _give_up_template(template)  # the template failed: this kernel, and the next, are launched
        notices.append({"kind": "kernel_fork_failed", "type": type(exc).__name__, "message": str(exc)[:500]})
        try:  # the failed kernel's connection file
            _sync(km.cleanup_resources)()
        except Exception:  # noqa: BLE001
            pass
        prefix = _ipc_prefix()  # not the failed kernel's socket paths
        km = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=prefix)
        _sync(km.start_kernel)(cwd=cwd, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=env)
    pid = _kernel_pid(km)
    if pid:
        _KERNEL_PIDS.add(pid)
    kc = BlockingKernelClient()
    kc.load_connection_info(km.get_connection_info())
    kc.start_channels(hb=False)
    log = prefix + ".log.jsonl"
    # queued now, executed as soon as the kernel is up, while this worker does other work
    msg_id = kc.execute(setup_code(imports, log), silent=True, store_history=False)
    return _Warm(km, kc, msg_id, (cwd, tuple(imports), _env_key(env_extra)), log, notices)


def _ready(warm: _Warm, timeout: float) -> None:
    """Block until the kernel has run its setup code (or raise if it died or the code failed)."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise RuntimeError(f"the kernel did not finish starting within {timeout:.0f} s")
        if not _alive(warm.km):
            raise RuntimeError("the kernel died while starting")
        try:
            msg = warm.kc.get_shell_msg(timeout=min(left, 1.0))
        except Exception:  # noqa: BLE001 - queue.Empty: keep waiting
            continue
        if msg.get("parent_header", {}).get("msg_id") == warm.msg_id:
            content = msg.get("content", {})
            if content.get("status") != "ok":
                raise RuntimeError(f"the kernel's setup code failed: {content.get('ename')}: {content.get('evalue')}")
            return


def kernel_log(warm: _Warm) -> list[dict]:
    """The records the kernel's setup code wrote (warnings, library notices, failed warm imports)."""
    out = []
    try:
        with open(warm.log, encoding="utf-8") as fh:
            for line in fh:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    continue
    except OSError:
        pass
    return out


def _shutdown(warm: _Warm | None) -> None:
    if warm is None:
        return
    try:
        warm.kc.stop_channels()
    except Exception:  # noqa: BLE001
        pass
    pid = _kernel_pid(warm.km)
    try:
        _sync(warm.km.shutdown_kernel)(now=True)
    except Exception:  # noqa: BLE001
        pass
    _KERNEL_PIDS.discard(pid)
    for path in (warm.log,):
        try:
            os.unlink(path)
        except OSError:
            pass


def prewarm(cwd: str, imports=DEFAULT_WARM_IMPORTS, env_extra: dict | None = None) -> None:
    """Start (without waiting for it) the kernel the next job of this process will use."""
    global _WARM
    with _LOCK:
        if _WARM is not None and _WARM.key == (cwd, tuple(imports), _env_key(env_extra)) and _alive(_WARM.km):
            return
        _shutdown(_WARM)
        _WARM = None
        try:
            _WARM = _start_kernel(cwd, imports, env_extra)
        except Exception:  # noqa: BLE001 - the job will start its own and report the failure
            _WARM = None


def shutdown_warm() -> None:
    """Stop this process's warm kernel and kernel template (at exit, or when a Dask run ends)."""
    global _WARM
    with _LOCK:
        _shutdown(_WARM)
        _WARM = None
        _close_template()


atexit.register(shutdown_warm)
atexit.register(_close_template)
atexit.register(_remove_ipc_dir)


def _take_kernel(cwd: str, imports, env_extra: dict | None = None) -> tuple[_Warm, float]:
    """The warm kernel if it suits this job, else a fresh one; seconds spent waiting for it."""
    global _WARM
    t0 = time.perf_counter()
    with _LOCK:
        warm, _WARM = _WARM, None
    if warm is None or warm.key != (cwd, tuple(imports), _env_key(env_extra)) or not _alive(warm.km):
        _shutdown(warm)
        warm = _start_kernel(cwd, imports, env_extra)
    try:
        _ready(warm, KERNEL_START_TIMEOUT)
    finally:
        warm.kc.stop_channels()
    return warm, time.perf_counter() - t0


def _exporter(with_code: bool, language: str = "id"):
    ex = _EXPORTERS.get((with_code, language))
    if ex is None:
        from nbconvert import HTMLExporter

        # the page's <html lang> is the report's language (screen readers, hyphenation, translation)
        ex = HTMLExporter(template_name="lab", language_code=language)
        ex.exclude_input = not with_code
        ex.exclude_input_prompt = not with_code
        ex.exclude_output_prompt = True
        _EXPORTERS[(with_code, language)] = ex
    return ex


_HEADING = re.compile(r"^#\s+(.+)$", re.M)
_EN_SPAN = re.compile(r"<span lang=\"en\">\s*/?\s*(.*?)</span>", re.S)


def page_title(nb, language: str, region: str = "") -> str:
    """The page's <title>: the notebook's first heading in the report's language, then the region.

    Headings are bilingual, ``# Profil kemiskinan <span lang="en">/ Poverty profile</span>``: the
    Indonesian text outside the span, the English inside it."""
    title = ""
    for cell in nb.cells:
        m = _HEADING.search(cell.source) if cell.cell_type == "markdown" else None
        if m:
            head = m.group(1)
            en = _EN_SPAN.search(head)
            title = (en.group(1) if language == "en" and en else _EN_SPAN.sub("", head)).strip()
            break
    return " — ".join(x for x in (title, region) if x)


def _region_name(kabupaten, language: str) -> str:
    from .briefing import region_name  # one way of naming a region across pages

    return region_name(str(kabupaten), language)


def export_html(notebook, out: Path, *, with_code: bool, language: str = "id", title: str = "") -> None:
    """HTML of an executed notebook (a path or an already read notebook); without code cells (and
    prompts) for readers. nbconvert renders each page in its own conversion (the template decides
    what to include, and its HTML post-pass runs on each page), so the notebook is read once and
    the two exporters are built once per worker; the reader page, without code, skips the
    syntax highlighting that makes most of the analyst page's cost."""
    import nbformat

    from ..io import write_text_atomic

    nb = nbformat.read(str(notebook), as_version=4) if isinstance(notebook, (str, os.PathLike)) else notebook
    if title:  # nbconvert's template takes the page title from the notebook's metadata
        nb = nbformat.from_dict({**nb, "metadata": {**nb.metadata, "title": title}})
    body, _ = _exporter(with_code, language).from_notebook_node(nb)
    write_text_atomic(out, body)


def error_cell(nb) -> dict | None:
    """The first cell with an error output: its index, source and error."""
    for i, cell in enumerate(nb.cells):
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                return {"cell": i, "source": cell.source[:500], "ename": o.get("ename"), "evalue": o.get("evalue")}
    return None


def page_faults(nb) -> list[dict]:
    """Outputs that must not reach a reader's page: errors and anything written to stderr (a
    traceback logged by the kernel, a warning, a library's notice). Each with its cell."""
    out = []
    for i, cell in enumerate(nb.cells):
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                out.append({"cell": i, "output": "error", "text": f"{o.get('ename')}: {o.get('evalue')}"[:500]})
            elif o.get("output_type") == "stream" and o.get("name") == "stderr":
                out.append({"cell": i, "output": "stderr", "text": str(o.get("text", ""))[:500]})
    return out


#: errno values of a failed write, as the job record names them (the real cause, not a lost worker)
_OS_KINDS = {errno.ENOSPC: "disk_full", errno.EDQUOT: "disk_full", errno.EACCES: "permission_denied",
             errno.EPERM: "permission_denied", errno.EROFS: "read_only_file_system"}


def _os_error(exc: BaseException) -> dict | None:
    """The error of a failed read or write (the OSError itself or one it caused), or None."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno is not None:
            return {"kind": _OS_KINDS.get(seen.errno, "os_error"), "type": type(seen).__name__,
                    "errno": errno.errorcode.get(seen.errno, str(seen.errno)), "message": str(seen)[:500]}
        seen = seen.__cause__ or seen.__context__
    return None


def _where(executor: str, worker: str | None) -> dict:
    out = {"executor": executor, "host": socket.gethostname(), "pid": os.getpid(), "worker": worker}
    if executor == "dask":
        try:
            from distributed import get_worker

            out["worker"] = get_worker().address
        except (ImportError, ValueError):
            pass
    return out


def _cell_seconds(nb) -> float:
    total = 0.0
    for cell in nb.cells:
        d = cell.get("metadata", {}).get("papermill", {}).get("duration")
        if d:
            total += float(d)
    return total


def _notices(records: list[dict], limit: int = 50) -> list[dict]:
    """The kernel log's records, repeated ones counted once (with how many times)."""
    seen: dict = {}
    for r in records:
        key = json.dumps(r, sort_keys=True)
        if key in seen:
            seen[key]["count"] += 1
        elif len(seen) < limit:
            seen[key] = {**r, "count": 1}
    return list(seen.values())


def execute_job(spec: dict, *, executor: str = "local", worker: str | None = None) -> dict:
    """Run one job described by ``spec`` and write its outputs into ``spec['run_dir']``.

    ``spec`` holds ``job_id``, ``notebook`` (path), ``parameters``, ``run_dir``, ``timeout``
    (seconds for the whole notebook), ``warm_imports``, ``extra_outputs`` (files the notebook
    itself writes into the run folder), ``prewarm`` (start the next kernel after this job) and
    ``kernel_env`` (variables for the kernel's environment: the run's cache folder).
    Returns the job's record; never raises for a failure of the notebook, its kernel or the disk.

    The job is ``ok`` only when the notebook ran without an error, its pages hold no error output
    and nothing written to stderr, and every file it promises (the executed notebook, both HTML
    pages, the notebook's own outputs) is on disk, complete. A write that fails says why
    (``disk_full``, ``permission_denied``), not that a worker was lost.
    """
    t0 = time.perf_counter()
    rec = {"started": _now(), "where": _where(executor, worker), "status": "running", "error": None,
           "transient": False, "outputs": {}}
    try:
        _execute_job(spec, rec)
    except Exception as exc:  # noqa: BLE001 - a worker must survive whatever its job meets
        err = _os_error(exc) or {"kind": "runner_error", "type": type(exc).__name__, "message": str(exc)[:2000]}
        rec.update(status="failed", error=err)
    if rec["status"] != "ok":
        rec["transient"] = bool(rec.get("transient"))
    return _finish(rec, t0)


def _execute_job(spec: dict, rec: dict) -> None:
    import nbformat
    import papermill as pm
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    from ..io import atomic_path

    run_dir = Path(spec["run_dir"])
    notebook = Path(spec["notebook"])
    cwd = str(notebook.parent)
    imports = tuple(spec.get("warm_imports", DEFAULT_WARM_IMPORTS))
    timeout = float(spec.get("timeout") or 1800)
    kernel_env = spec.get("kernel_env") or None
    out_nb = run_dir / f"{spec['job_id']}.ipynb"
    timed_out = threading.Event()
    try:
        warm, waited = _take_kernel(cwd, imports, kernel_env)
    except Exception as exc:  # noqa: BLE001
        rec.update(status="failed", transient=True,
                   error={"kind": "kernel_start", "type": type(exc).__name__, "message": str(exc)[:2000]})
        return
    rec["kernel_wait_s"] = round(waited, 3)
    pid = _kernel_pid(warm.km)
    if spec.get("prewarm", True):
        prewarm(cwd, imports, kernel_env)  # the next job's kernel starts and imports while this job runs

    def _kill():  # the whole notebook ran past its timeout: stop its kernel
        timed_out.set()
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    watchdog = threading.Timer(timeout, _kill)
    watchdog.daemon = True
    watchdog.start()
    t_exec = time.perf_counter()
    wrote = False
    notices: list = []
    try:
        with atomic_path(out_nb) as tmp:
            try:
                pm.execute_notebook(
                    str(notebook), str(tmp), parameters=spec["parameters"], kernel_name="python3", cwd=cwd,
                    progress_bar=False, log_output=False, execution_timeout=int(timeout) + 1, report_mode=False,
                    request_save_on_cell_execute=False, km=warm.km)
                rec["status"] = "ok"
            except Exception as exc:  # noqa: BLE001 - recorded, not raised
                rec["status"] = "failed"
                err = None if hasattr(exc, "ename") else _os_error(exc)
                if err and err["kind"] == "os_error":
                    err = None  # a dead kernel's broken connection, not the disk
                err = err or {"type": type(exc).__name__, "message": str(exc).strip()[-2000:]}
                for attr in ("ename", "evalue", "exec_count"):
                    if hasattr(exc, attr):
                        err[attr] = str(getattr(exc, attr))
                if "kind" in err:
                    pass  # the disk refused the executed notebook
                elif timed_out.is_set() or isinstance(exc, CellTimeoutError):
                    err["kind"] = "timeout"
                    err["message"] = f"the notebook ran past its timeout of {timeout:.0f} s and was stopped"
                    rec["transient"] = True
                elif isinstance(exc, DeadKernelError) or not _alive(warm.km):
                    err["kind"] = "kernel_died"
                    rec["transient"] = True
                else:
                    err["kind"] = "error"
                try:
                    written = nbformat.read(str(tmp), as_version=4) if tmp.stat().st_size else None
                except Exception:  # noqa: BLE001 - a notebook cut short by a full disk cannot be read
                    written = None
                cell = error_cell(written) if written is not None else None
                if cell:
                    err["failing_cell"] = cell
                rec["error"] = err
                if written is None:
                    raise _NoNotebook from None  # nothing worth keeping: no executed notebook
            finally:
                watchdog.cancel()
                notices = warm.notices + kernel_log(warm)
                _shutdown(warm)
        wrote = True
    except _NoNotebook:
        pass
    except OSError as exc:  # the executed notebook could not be written or moved into place
        watchdog.cancel()
        _shutdown(warm)
        rec.update(status="failed", transient=False, error=_os_error(exc) or {
            "kind": "os_error", "type": type(exc).__name__, "message": str(exc)[:500]})
    if notices:
        rec["notices"] = _notices(notices)
    rec["execute_s"] = round(time.perf_counter() - t_exec, 3)
    t_exp = time.perf_counter()
    if wrote:
        nb = nbformat.read(str(out_nb), as_version=4)
        rec["cells_s"] = round(_cell_seconds(nb), 3)
        rec["outputs"]["notebook"] = out_nb.name
        faults = page_faults(nb)
        if faults and rec["status"] == "ok":
            first = faults[0]
            rec["status"] = "failed"
            rec["error"] = {
                "kind": "page_output",
                "type": "StderrOutput" if first["output"] == "stderr" else "ErrorOutput",
                "message": f"{len(faults)} output(s) on stderr or errors in the executed notebook; the "
                f"first, in cell {first['cell']}: {first['text'][:300]}",
                "outputs": faults[:20],
            }
        language = str(spec["parameters"].get("language", "id"))
        title = page_title(nb, language, _region_name(spec["parameters"].get("kabupaten", "all"), language))
        for kind, with_code in (("html", False), ("html_code", True)):
            target = run_dir / f"{spec['job_id']}{'' if kind == 'html' else '.code'}.html"
            try:
                export_html(nb, target, with_code=with_code, language=language, title=title)
                rec["outputs"][kind] = target.name
            except Exception as exc:  # noqa: BLE001
                err = _os_error(exc) or {"kind": "export", "type": type(exc).__name__, "message": str(exc)[:500]}
                rec.setdefault("export_errors", []).append(err)
                if rec["status"] == "ok":
                    rec["status"], rec["error"] = "failed", {**err, "message": f"{target.name}: {err['message']}"}
    if rec["status"] == "ok":
        missing = [name for name in spec.get("extra_outputs", ()) if not (run_dir / name).is_file()]
        if missing:
            rec["status"] = "failed"
            rec["error"] = {"kind": "missing_output", "type": "MissingOutput",
                            "message": f"the notebook ran but did not write {', '.join(missing)}"}
        for name in spec.get("extra_outputs", ()):
            if name not in missing:
                rec["outputs"][name] = name
    rec["export_s"] = round(time.perf_counter() - t_exp, 3)
    rec["output_sha256"] = {name: sha256_file(run_dir / name) for name in rec["outputs"].values()
                            if (run_dir / name).exists()}


class _NoNotebook(Exception):
    """The kernel died or timed out before papermill wrote the executed notebook."""


def _finish(rec: dict, t0: float) -> dict:
    rec["finished"] = _now()
    rec["duration_s"] = round(time.perf_counter() - t0, 3)
    if rec.get("cells_s") is not None:
        rec["overhead_s"] = round(rec["duration_s"] - rec["cells_s"], 3)
    return rec


def _stop_now(code: int) -> None:
    """Kill this process's kernels and exit at once: no locks, no event loop (either may be held by
    the thread this interrupts)."""
    for pid in list(_KERNEL_PIDS):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    os._exit(code)


def _die_with_parent() -> None:
    """End this worker when the runner that started it ends, however it ends (a killed runner must
    not leave workers writing into a run folder that a new run has taken over)."""
    parent = os.getppid()
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: SIGTERM when the parent goes
        signal.signal(signal.SIGTERM, lambda *_: _stop_now(143))
    except (OSError, AttributeError):
        pass

    def _watch():  # elsewhere (and as a second guard): poll
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                _stop_now(1)

    threading.Thread(target=_watch, daemon=True).start()


def _without_iri_grammar() -> None:
    """In a worker process of our own: jsonschema (which nbformat, so papermill, imports) registers an
    IRI format check when the optional ``rfc3987-syntax`` is installed (JupyterLab's jupyter-events
    brings it), and that package compiles a Lark grammar at import: 0.7 s of CPU in every worker
    (papermill's import 1.1 s, 0.33 s without it). No notebook schema has an IRI format and a worker
    validates nothing else, so the worker skips that optional import (jsonschema's own fallback
    when the package is absent). Only here: never in a process that is not the runner's own."""
    import sys

    if "rfc3987_syntax" not in sys.modules:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # None: the import raises ImportError


def worker_main(conn, name: str, cwd: str, imports, kernel_env: dict | None = None) -> None:
    """Loop of a local worker process: warm a kernel, then run each job it is sent until ``None``.

    ``kernel_env``: environment variables the run gives its kernels (the first kernel starts
    before a job says so)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runner handles Ctrl-C and stops its workers
    _die_with_parent()
    _without_iri_grammar()
    _FORK_HERE.append(True)  # one job at a time here: kernels are forked from a template (forkkernel)
    import papermill  # noqa: F401 - imported once per worker, not once per job

    prewarm(cwd, imports, kernel_env)
    _exporter(False), _exporter(True)
    while True:
        try:
            spec = conn.recv()
        except EOFError:
            break
        if spec is None:
            break
        conn.send(execute_job(spec, executor="local", worker=name))
    shutdown_warm()  # and the kernel template: here, not at exit (a worker process ends without atexit)
