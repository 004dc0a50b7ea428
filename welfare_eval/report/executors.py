"""Where jobs run: local worker processes (the default) or a Dask distributed cluster.

Both take job specs and hand back job records (see :func:`execute.execute_job`). An executor
never raises for a job: a worker that dies, a job that hangs past its hard deadline or a task the
cluster gives up on comes back as a failed record marked transient, and the runner decides
whether to try again.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import time
from multiprocessing.connection import wait as mp_wait

from ..config import BLAS_THREAD_VARIABLES
from .execute import DEFAULT_WARM_IMPORTS, _now, worker_main


def kernel_threads(workers: int) -> dict[str, str]:
    """BLAS threads for each kernel of ``workers`` local workers, the cores shared among them (the
    configured workers, not as many as a resume has jobs left: a job's kernel is the same in a full
    run and in a resume). The workers already keep the cores busy with one job each; OpenBLAS's own
    threads on top only compete (the province's impact estimates: 4.2 s of CPU with two threads
    against 2.4 s with one, for the same wall time on an idle machine). A value set in the
    environment is kept."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    per = str(max(1, cores // max(1, workers)))
    return {v: per for v in BLAS_THREAD_VARIABLES if v not in os.environ}


#: Seconds past a job's own timeout before its worker is killed from outside (the worker's
#: watchdog stops the kernel at the timeout; this covers a worker stuck writing its outputs).
HARD_DEADLINE_GRACE = 120


def _lost(spec: dict, kind: str, message: str, where: dict) -> dict:
    return {"status": "failed", "transient": True, "outputs": {}, "where": where, "started": spec.get("_started"),
            "finished": _now(), "duration_s": None,
            "error": {"kind": kind, "type": "WorkerLost" if kind == "worker_lost" else "Timeout", "message": message}}


class LocalExecutor:
    """``n`` worker processes on this machine, each with a warm kernel ready for its next job."""

    name = "local"

    def __init__(self, n: int, *, cwd: str, warm_imports=DEFAULT_WARM_IMPORTS, kernel_env: dict | None = None):
        self.n, self.cwd, self.imports = n, cwd, tuple(warm_imports)
        self.kernel_env = dict(kernel_env or {})  # what the run's kernels get (see runner._execute)
        self._ctx = mp.get_context("spawn")
        self._workers: dict[str, dict] = {}
        self._serial = 0
        for _ in range(n):
            self._spawn()

    def _spawn(self) -> None:
        self._serial += 1
        name = f"local-{self._serial}"
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(target=worker_main, args=(child, name, self.cwd, self.imports, self.kernel_env),
                                 name=name, daemon=True)
        proc.start()
        child.close()
        self._workers[name] = {"proc": proc, "conn": parent, "spec": None, "deadline": None}

    def free_slots(self) -> int:
        return sum(w["spec"] is None for w in self._workers.values())

    def running(self) -> list[dict]:
        return [w["spec"] for w in self._workers.values() if w["spec"] is not None]

    def submit(self, spec: dict) -> dict:
        """Send a job to an idle worker; returns where it went."""
        name = next(k for k, w in self._workers.items() if w["spec"] is None)
        w = self._workers[name]
        spec = {**spec, "_started": _now()}
        w["conn"].send(spec)
        w["spec"] = spec
        w["deadline"] = time.monotonic() + float(spec.get("timeout") or 1800) + HARD_DEADLINE_GRACE
        return {"executor": "local", "worker": name, "pid": w["proc"].pid}

    def wait(self, timeout: float) -> list[tuple[dict, dict]]:
        """Records of the jobs that ended within ``timeout`` seconds, as (spec, record) pairs."""
        busy = {n: w for n, w in self._workers.items() if w["spec"] is not None}
        if not busy:
            return []
        handles = {}
        for n, w in busy.items():
            handles[w["conn"]] = n
            handles[w["proc"].sentinel] = n
        ready = mp_wait(list(handles), timeout=timeout)
        done, dead = [], set()
        for h in ready:
            n = handles[h]
            w = self._workers[n]
            if n in dead or w["spec"] is None:
                continue
            spec = w["spec"]
            rec = None
            if h is w["conn"] or w["conn"].poll():
                try:
                    rec = w["conn"].recv()
                except (EOFError, OSError):
                    rec = None
            if rec is None:
                where = {"executor": "local", "worker": n, "pid": w["proc"].pid}
                rec = _lost(spec, "worker_lost", f"worker {n} (pid {w['proc'].pid}) died while running the job "
                            f"(exit code {w['proc'].exitcode})", where)
                dead.add(n)
            w["spec"] = None
            done.append((spec, rec))
        now = time.monotonic()
        for n, w in busy.items():
            if w["spec"] is not None and now > w["deadline"]:
                spec = w["spec"]
                w["proc"].kill()
                where = {"executor": "local", "worker": n, "pid": w["proc"].pid}
                done.append((spec, _lost(spec, "timeout", f"the job did not end within its timeout of "
                                         f"{spec.get('timeout')} s plus {HARD_DEADLINE_GRACE} s; its worker was "
                                         "stopped", where)))
                w["spec"] = None
                dead.add(n)
        for n in dead:
            w = self._workers.pop(n)
            w["proc"].join(5)
            w["conn"].close()
            self._spawn()
        return done

    def close(self, now: bool = False) -> None:
        """Stop the workers: after their jobs (``now=False``), or at once, their kernels with them
        (a worker stops its kernels on SIGTERM)."""
        if now:
            for w in self._workers.values():
                if w["proc"].is_alive():
                    w["proc"].terminate()
        for w in self._workers.values():
            try:
                w["conn"].send(None)
            except (OSError, BrokenPipeError):
                pass
        for w in self._workers.values():
            w["proc"].join(20)
            if w["proc"].is_alive():
                w["proc"].kill()
        self._workers.clear()


def _dask_execute(spec: dict) -> dict:
    from .execute import execute_job

    return execute_job(spec, executor="dask")


class DaskExecutor:
    """Jobs as tasks on a Dask distributed cluster. The output root must be a folder every worker
    sees at the same path (a shared file system), as the data folder must be."""

    name = "dask"

    def __init__(self, address: str, *, slots: int | None = None):
        try:
            from distributed import Client
        except ImportError:  # the [dask] extra is not installed
            from ..exceptions import RunError, missing_extra

            raise RunError(str(missing_extra("Running on a Dask cluster", "distributed", "dask"))) from None

        try:
            self.client = Client(address, timeout="30s")
        except OSError as exc:
            from ..exceptions import RunError

            raise RunError(f"Could not reach the Dask scheduler at {address}: {exc}. Start it with "
                           "`dask scheduler` and its workers with `dask worker ADDRESS`, or run locally.") from None
        info = self.client.scheduler_info()
        threads = sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()) or 1
        self.n = slots or threads
        self._futures: dict = {}

    def free_slots(self) -> int:
        return max(self.n - len(self._futures), 0)

    def running(self) -> list[dict]:
        return list(self._futures.values())

    def submit(self, spec: dict) -> dict:
        spec = {**spec, "_started": _now()}
        fut = self.client.submit(_dask_execute, spec, pure=False, key=f"{spec['job_id']}-{time.time_ns()}")
        self._futures[fut] = spec
        return {"executor": "dask", "task": fut.key}

    def wait(self, timeout: float) -> list[tuple[dict, dict]]:
        from distributed import wait as dwait

        if not self._futures:
            return []
        try:
            dwait(list(self._futures), timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            return []
        except Exception:  # noqa: BLE001 - distributed raises its own TimeoutError on older versions
            pass
        done = []
        for fut in [f for f in self._futures if f.done()]:
            spec = self._futures.pop(fut)
            try:
                rec = fut.result()
            except Exception as exc:  # noqa: BLE001 - KilledWorker, a lost connection
                rec = _lost(spec, "worker_lost", f"the cluster could not finish the job: {type(exc).__name__}: {exc}",
                            {"executor": "dask"})
            done.append((spec, rec))
        return done

    def close(self, now: bool = False) -> None:
        from .execute import shutdown_warm

        if now:
            for fut in list(self._futures):
                fut.cancel()

        try:
            self.client.run(shutdown_warm)
        except Exception:  # noqa: BLE001
            pass
        self.client.close()
