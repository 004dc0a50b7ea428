"""Kernels forked from a warm template: a job's kernel in ~50 ms of CPU instead of ~1.7 s.

A report kernel spends about 1.7 s of CPU before its notebook's first cell: Python and ipykernel
start, then numpy, pandas, scipy, matplotlib, pyarrow and the package's views are imported (the
warm imports, :data:`execute.DEFAULT_WARM_IMPORTS`). On a 2-core machine running 56 jobs that is
~95 CPU-seconds, a third of the run. A *template* process (one per worker) imports all of that
once; each kernel is then an ``os.fork()`` of it that starts ipykernel on the connection file
the kernel manager wrote, as ``python -m ipykernel_launcher -f FILE`` would. Every notebook still
runs in a kernel process of its own, shut down when its job ends.

The kernel manager (jupyter_client) keeps working as with a launched kernel: a provisioner whose
launch asks the template for a fork, and whose process handle holds a pidfd of the forked kernel
(poll, wait; a pidfd cannot reach another process that later reuses the pid). The forked kernel
starts a session of its own right after the fork, before the template answers with its pid, so
its pid is its process group's id and the manager's signals and kill reach the processes a
notebook started too, as with a launched kernel. It takes the environment the manager gives it,
and draws fresh seeds for Python's and numpy's global random generators (the state they had in
the template would be shared by every kernel; nothing the reports show uses them unseeded). The
template ends when its worker ends (its stdin closes, or the parent-death signal), and a forked
kernel when its template ends (the parent-death signal, SIGKILL; the template's pid is taken
before the fork, so a template that died first is seen gone).

Ending a template kills every kernel forked from it. So kernels are forked only in the runner's
own local workers, which run one job at a time (``execute.worker_main``); on Dask workers, whose
threads run jobs side by side in one process, and for any other caller, kernels are launched. A
template is not closed while a kernel forked from it is alive, and one that does not answer
within :data:`REPLY_TIMEOUT` is killed and the kernel launched instead (the job's record says so).

The template is not single-threaded, though nothing it runs is busy when it forks: pyarrow's
jemalloc starts a background thread at import, and OpenBLAS and jemalloc install fork handlers
(``pthread_atfork``) that put their state right in the child. A fork copies only the forking thread.

Linux only (pidfd); elsewhere, or with ``WELFARE_EVAL_FORK_KERNELS=0``, kernels are launched.
"""
from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading

#: ``0`` turns forked kernels off (every kernel launched as a new Python process).
ENV = "WELFARE_EVAL_FORK_KERNELS"

#: Seconds the worker waits for its template's answer to a fork request. A warm template answers
#: in milliseconds, but its first answer comes only after its imports (~2 s of CPU, far more on a
#: loaded machine), so this is as long as a launched kernel may take to start
#: (:data:`execute.KERNEL_START_TIMEOUT`). A template that has not answered by then is killed and
#: the kernel launched instead.
REPLY_TIMEOUT = 120.0

#: Seconds the template waits for a new fork to say it has started its session (a few system calls;
#: only a child that hangs before them, which should not happen, waits this long).
CHILD_READY_TIMEOUT = 30.0


def available() -> bool:
    """Whether kernels can be forked here (Linux with pidfd, not turned off)."""
    return (os.environ.get(ENV, "1") != "0" and sys.platform.startswith("linux") and hasattr(os, "pidfd_open")
            and hasattr(signal, "pidfd_send_signal"))


# -- the template process ---------------------------------------------------------------------


def _die_with_template(template: int) -> None:
    """In a forked kernel: be killed when the template ``template`` (its parent's pid, taken by the
    parent before the fork) ends, and end now if it already has.

    The kernel ends with its template, which ends with its worker (as a launched kernel ends with
    its worker through ipykernel's parent poller, which a fork cannot use: its JPY_PARENT_PID default
    was read when the template imported ipykernel). The pid comes from the parent: read here with
    ``os.getppid()`` it would already be the reaper's if the template died before this line."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != template:  # the template ended before the signal was armed
        os._exit(1)


def _serve_kernel(connection_file: str, cwd: str, env: dict) -> None:
    """In the forked child (a session leader already, its death signal armed): become a kernel, as
    ``python -m ipykernel_launcher -f FILE`` does."""
    import random

    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # the template's pipe is not the kernel's; its output goes nowhere, as launched
        os.dup2(devnull, fd)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    random.seed()
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    import ipykernel_launcher  # noqa: F401 - its path as argv[0], as a launched kernel has
    from ipykernel.kernelapp import IPKernelApp

    sys.argv = [ipykernel_launcher.__file__, "-f", connection_file]
    app = IPKernelApp.instance()
    app.initialize(sys.argv[1:])
    inline = sys.modules.get("matplotlib_inline.backend_inline")
    if inline is not None:  # loaded by a warm import before any shell existed: hook it up now, as at its import
        inline._enable_matplotlib_integration()
    app.start()


def template_main() -> None:
    """Loop of a template process: import what kernels need, then fork one kernel per request.

    Requests are JSON lines on stdin (``{"connection_file", "cwd", "env"}``); each answer is a
    JSON line on stdout (``{"pid"}`` or ``{"error"}``)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: end with the worker
    except (OSError, AttributeError):
        pass
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")  # as ipykernel sets it
    import importlib

    # not matplotlib_inline.backend_inline: imported with a shell running (in the kernel, when pyplot
    # first needs its backend) it registers the figure formatters; imported here it could not
    for name in ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell",
                 *json.loads(os.environ.get("WELFARE_EVAL_TEMPLATE_IMPORTS", "[]"))):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the kernel's own setup imports it again and logs the failure
            pass
    import gc

    gc.collect()
    gc.freeze()  # what the template made stays shared with its forks (not copied by the collector)
    out = sys.stdout
    stdin = sys.stdin
    while True:
        ready, _, _ = select.select([stdin], [], [], 1.0)
        while True:  # reap forked kernels that ended
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if not pid:
                break
        if not ready:
            continue
        line = stdin.readline()
        if not line:  # the worker closed the pipe: it is ending; its kernels were shut down before
            _reap_all(timeout=10.0)
            break
        me = os.getpid()  # taken before the fork: the child's template (see _die_with_template)
        try:
            req = json.loads(line)
            ready_r, ready_w = os.pipe()
            pid = os.fork()
        except Exception as exc:  # noqa: BLE001
            out.write(json.dumps({"error": f"{type(exc).__name__}: {exc}"}) + "\n")
            out.flush()
            continue
        if pid == 0:
            code = 0
            try:
                os.close(ready_r)
                # a session (and process group) of its own before the worker hears of it: the kernel
                # manager kills the kernel's process group (pgid == pid), so a notebook's
                # subprocesses end with their kernel, as with a launched kernel
                os.setsid()
                _die_with_template(me)
                os.write(ready_w, b"1")
                os.close(ready_w)
                _serve_kernel(req["connection_file"], req["cwd"], req["env"])
            except BaseException:  # noqa: BLE001
                code = 1
            os._exit(code)
        os.close(ready_w)
        try:  # the child's setsid() comes first; a child that died before it answers nothing
            ok = bool(select.select([ready_r], [], [], CHILD_READY_TIMEOUT)[0]) and os.read(ready_r, 1) == b"1"
        finally:
            os.close(ready_r)
        if not ok:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
            out.write(json.dumps({"error": "the forked kernel ended or hung before it started a session"}) + "\n")
        else:
            out.write(json.dumps({"pid": pid}) + "\n")
        out.flush()


def _reap_all(timeout: float) -> None:
    """Wait (up to ``timeout`` seconds in all) for the forked kernels still running, then kill the rest."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid:
            continue
        if time.monotonic() > deadline:  # a kernel still running exits when it sees its parent gone
            return
        time.sleep(0.05)


# -- the worker side ----------------------------------------------------------------------------


class Template:
    """A template process of this worker, for kernels with one working folder, environment and imports.

    ``key``: what the kernels it forks have in common (the caller's choice: working folder, the
    run's kernel variables, imports). ``kernels``: the kernels forked from it; a template must not
    be closed while one of them is alive (its end kills them)."""

    def __init__(self, cwd: str, env: dict, imports, key=None) -> None:
        self.key = key if key is not None else (cwd, tuple(sorted(env.items())), tuple(imports))
        self.kernels: list = []
        self._lock = threading.Lock()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from welfare_eval.report.forkkernel import template_main; template_main()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=cwd,
            env={**env, "WELFARE_EVAL_TEMPLATE_IMPORTS": json.dumps(list(imports))})

    def alive(self) -> bool:
        return self.proc.poll() is None

    def busy(self) -> bool:
        """Whether a kernel forked from this template is still alive."""
        self.kernels = [k for k in self.kernels if k.poll() is None]
        return bool(self.kernels)

    def fork(self, connection_file: str, cwd: str, env: dict, timeout: float | None = None) -> int:
        """A new kernel on ``connection_file``; its pid. A template that does not answer within
        ``timeout`` seconds (:data:`REPLY_TIMEOUT`) is killed and TimeoutError raised."""
        timeout = REPLY_TIMEOUT if timeout is None else timeout
        with self._lock:
            assert self.proc.stdin is not None and self.proc.stdout is not None
            request = json.dumps({"connection_file": connection_file, "cwd": cwd, "env": env}) + "\n"
            try:
                self.proc.stdin.write(request.encode())
                self.proc.stdin.flush()
            except OSError as exc:
                raise RuntimeError("the kernel template process ended") from exc
            answer = self._read_line(timeout)
        if not answer:
            raise RuntimeError("the kernel template process ended")
        reply = json.loads(answer)
        if "pid" not in reply:
            raise RuntimeError(f"the kernel template could not fork: {reply.get('error')}")
        return int(reply["pid"])

    def _read_line(self, timeout: float) -> bytes:
        """One line of the template's answer (b"" if it ended), read without blocking past ``timeout``."""
        import time

        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        data = b""
        while not data.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                self.proc.kill()  # hung (stopped, or stuck in a fork handler): it must not fork later
                raise TimeoutError(f"the kernel template did not answer within {timeout:.0f} s; it was killed")
            chunk = os.read(fd, 4096)
            if not chunk:
                return b""
            data += chunk
        return data

    def close(self) -> None:
        try:
            if self.proc.stdin:
                self.proc.stdin.close()
            self.proc.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()


class ForkedProcess:
    """What jupyter_client's local provisioner needs of a ``Popen``, for a kernel it did not start."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._fd = os.pidfd_open(pid)

    def poll(self) -> int | None:
        if self.returncode is None and select.select([self._fd], [], [], 0)[0]:
            self._ended()
        return self.returncode

    def _ended(self) -> None:
        self.returncode = -1  # ended (its exit status went to the template, which reaped it)
        try:
            os.close(self._fd)
        except OSError:
            pass

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not select.select([self._fd], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout or 0)
            self._ended()
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            try:
                signal.pidfd_send_signal(self._fd, signum)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


def provisioner(km, template: Template):
    """A local provisioner for ``km`` whose kernels are forks of ``template``."""
    from jupyter_client.provisioning import LocalProvisioner

    class ForkProvisioner(LocalProvisioner):
        async def launch_kernel(self, cmd, **kwargs):
            connection_file = cmd[cmd.index("-f") + 1]
            env = kwargs.get("env") or dict(os.environ)
            pid = template.fork(connection_file, kwargs.get("cwd") or os.getcwd(), dict(env))
            self.process = ForkedProcess(pid)
            template.kernels.append(self.process)
            # the kernel leads a process group of its own (setsid before the template answered):
            # the manager's signals and kill reach the notebook's subprocesses too, as with a
            # launched kernel; the kernel itself is also reached through its pidfd
            self.pid, self.pgid = pid, pid
            return self.connection_info

        async def kill(self, restart: bool = False) -> None:
            await super().kill(restart)
            # a killed kernel is gone within milliseconds; waiting for it here spares the manager's
            # next check of it (a poll every 0.1 s, so ~0.1 s of every job's shutdown)
            if isinstance(self.process, ForkedProcess):
                try:
                    self.process.wait(1.0)
                except subprocess.TimeoutExpired:
                    pass

    return ForkProvisioner(kernel_id=km.kernel_id, kernel_spec=km.kernel_spec, parent=km)
