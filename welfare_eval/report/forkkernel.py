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
(poll, wait, signals; a pidfd cannot reach another process that later reuses the pid). The
forked kernel starts a session of its own, takes the environment the manager gives it, and draws
fresh seeds for Python's and numpy's global random generators (the state they had in the
template would be shared by every kernel; nothing the reports show uses them unseeded). The
template ends when its worker ends (its stdin closes, or the parent-death signal), and a forked
kernel when its template ends (the parent-death signal, SIGKILL).

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


def available() -> bool:
    """Whether kernels can be forked here (Linux with pidfd, not turned off)."""
    return (os.environ.get(ENV, "1") != "0" and sys.platform.startswith("linux") and hasattr(os, "pidfd_open")
            and hasattr(signal, "pidfd_send_signal"))


# -- the template process ---------------------------------------------------------------------


def _serve_kernel(connection_file: str, cwd: str, env: dict) -> None:
    """In the forked child: become a kernel, as ``python -m ipykernel_launcher -f FILE`` does."""
    import random

    template = os.getppid()
    try:  # the kernel ends with its template, which ends with its worker (as a launched kernel
        # ends with its worker through ipykernel's parent poller, which a fork cannot use: its
        # JPY_PARENT_PID default was read when the template imported ipykernel)
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != template:  # the template ended before the signal was armed
        os._exit(1)
    os.setsid()
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
        try:
            req = json.loads(line)
            pid = os.fork()
        except Exception as exc:  # noqa: BLE001
            out.write(json.dumps({"error": f"{type(exc).__name__}: {exc}"}) + "\n")
            out.flush()
            continue
        if pid == 0:
            code = 0
            try:
                _serve_kernel(req["connection_file"], req["cwd"], req["env"])
            except BaseException:  # noqa: BLE001
                code = 1
            os._exit(code)
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
    """A template process of this worker, for kernels with one working folder, environment and imports."""

    def __init__(self, cwd: str, env: dict, imports) -> None:
        self.key = (cwd, tuple(sorted(env.items())), tuple(imports))
        self._lock = threading.Lock()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from welfare_eval.report.forkkernel import template_main; template_main()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=cwd, text=True,
            env={**env, "WELFARE_EVAL_TEMPLATE_IMPORTS": json.dumps(list(imports))})

    def alive(self) -> bool:
        return self.proc.poll() is None

    def fork(self, connection_file: str, cwd: str, env: dict) -> int:
        """A new kernel on ``connection_file``; its pid."""
        with self._lock:
            assert self.proc.stdin is not None and self.proc.stdout is not None
            self.proc.stdin.write(json.dumps({"connection_file": connection_file, "cwd": cwd, "env": env}) + "\n")
            self.proc.stdin.flush()
            answer = self.proc.stdout.readline()
        if not answer:
            raise RuntimeError("the kernel template process ended")
        reply = json.loads(answer)
        if "pid" not in reply:
            raise RuntimeError(f"the kernel template could not fork: {reply.get('error')}")
        return int(reply["pid"])

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
            self.pid, self.pgid = pid, None  # signals through the pidfd, not a process group id
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
