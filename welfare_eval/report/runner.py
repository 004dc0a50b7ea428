"""Run the report notebooks: ``welfare-eval run [CONFIG]``.

A run configuration (:mod:`.runconfig`) names notebooks, a parameter grid and fixed parameters;
the runner expands them into jobs, checks every parameter against each notebook's ``parameters``
cell before anything runs, and executes the jobs on local worker processes (each notebook in a
kernel of its own, started and warmed ahead of need) or on a Dask cluster. For each job: the
executed notebook, HTML without code for readers, HTML with code for analysts, and a record in
``manifest.json`` (parameters, input fingerprints, notebook hash, package versions, git commit,
start, end, duration, status, error, retries, where it ran). ``index.html`` links them and the
previous run.

Resume: a job whose fingerprint (notebook content, parameters, input data, package version and
source, and its dependencies' fingerprints) is unchanged and whose outputs are intact is skipped;
``force`` reruns. A job that fails transiently (its kernel died, it ran past its timeout, its worker
was lost) is retried; a notebook that raises is recorded with its failing cell. Every file is
written under a temporary name and moved into place when complete, and a lock refuses a second run
on the same output root while one is running.
"""
from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..cache import ENV as CACHE_ENV
from ..config import DEFAULT_MIN_CELL, PACKAGE_DIR, REPO_DIR, notebooks_dir
from ..config import data_dir as reference_dir
from ..exceptions import ParameterError, RunError
from ..io import write_text_atomic
from . import runconfig
from .execute import _now, sha256_file
from .index import screenshots, write_index  # noqa: F401 - part of the runner's interface
from .strings import check_language

#: Parameters every report notebook declares; the runner passes them to each.
COMMON_PARAMETERS = ("data_dir", "kabupaten", "language", "results")

#: Exit codes of ``welfare-eval run`` (documented in docs/running.md for schedulers).
EXIT_OK, EXIT_JOB_FAILED, EXIT_CONFIG, EXIT_LOCKED = 0, 1, 2, 75

#: Packages whose versions each job records.
RECORDED_PACKAGES = ("numpy", "pandas", "scipy", "statsmodels", "matplotlib", "pyfixest", "papermill", "nbclient",
                     "ipykernel", "pyarrow")

_TYPES: dict[str, type | tuple[type, ...]] = {"str": str, "int": int, "float": (int, float), "bool": bool}


class RunLocked(RunError):
    """Another run holds the output root's lock."""


@dataclass(frozen=True)
class Job:
    notebook: Path
    parameters: dict
    job_id: str
    title: str = ""
    summary: bool = False
    extra_outputs: tuple = ()
    deps: tuple = ()


@dataclass
class RunResult:
    run_id: str
    run_dir: Path
    jobs: list = field(default_factory=list)
    planned: list = field(default_factory=list)
    ran: int = 0
    skipped: int = 0

    @property
    def ok(self) -> bool:
        return all(j["status"] == "ok" for j in self.jobs)

    @property
    def index(self) -> Path:
        return self.run_dir / "index.html"

    @property
    def failed(self) -> list[str]:
        return [j["job_id"] for j in self.jobs if j["status"] != "ok"]


def discover_notebooks(folder: str | os.PathLike | None = None) -> list[Path]:
    """Report notebooks ``NN_topic.ipynb`` in ``folder`` (default ``notebooks/``), in order."""
    folder = Path(folder) if folder else notebooks_dir()
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))


_DECLARED: dict = {}


def _parse_parameters_cell(source: str, name: str) -> dict[str, dict]:
    """Names, types, defaults and help of a ``parameters`` cell written ``name: type = value  # help``
    (papermill's convention), read with :mod:`ast` so that listing jobs does not start papermill."""
    import ast

    tree = ast.parse(source)
    lines = source.splitlines()
    out = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            target, ann, value = node.target.id, node.annotation, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target, ann, value = node.targets[0].id, None, node.value
        else:
            continue
        try:
            default = ast.literal_eval(value) if value is not None else None
        except ValueError:
            default = None
        text = ast.get_source_segment(source, value) if value is not None else "None"
        typ = ann.id if isinstance(ann, ast.Name) else (type(default).__name__ if default is not None else "None")
        line = lines[node.lineno - 1]
        help_ = line.split("#", 1)[1].strip() if "#" in line[node.end_col_offset:] or "#" in line else ""
        allowed = None
        m = _ALLOWED.search(help_)
        if m:
            allowed = m.group(1).strip()
            help_ = (help_[:m.start()] + help_[m.end():]).strip()
            try:
                _allowed_rule(allowed)
            except ValueError as exc:
                raise ParameterError(f"Notebook {name}: the allowed values of parameter {target!r} "
                                     f"('[allowed: {allowed}]') cannot be read: {exc}.") from None
        out[target] = {"name": target, "inferred_type_name": typ, "default": text, "help": help_, "allowed": allowed}
    if not out:
        raise ParameterError(f"Notebook {name} has a 'parameters' cell without parameters.")
    return out


#: ``[allowed: SPEC]`` at the end of a parameter's comment: the values the notebook accepts.
#: SPEC is alternatives separated by ``|``: a value (``extreme_215_2017ppp``, ``0``), a bound
#: (``at least 1``, ``more than 0``, ``at most 100``, ``less than 1``), a range (``1 to 100``); or
#: ``list of A | B``: a comma-separated choice of those values (``PKH,BPNT``). Words, not ``>=``:
#: papermill cannot read a parameter line with ``>=`` in its comment.
_ALLOWED = re.compile(r"\[allowed:\s*([^\]]+)\]")
_BOUND = re.compile(r"^(at least|at most|more than|less than)\s+(-?[0-9.]+)$")
_RANGE = re.compile(r"^(-?[0-9.]+)\s+to\s+(-?[0-9.]+)$")


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None


def _allowed_rule(spec: str):
    """A test ``value -> bool`` for an ``[allowed: ...]`` spec (ValueError if it cannot be read)."""
    listed = spec.startswith("list of ")
    alts = [a.strip() for a in (spec[len("list of "):] if listed else spec).split("|")]
    if not all(alts):
        raise ValueError("an alternative is empty")
    tests: list[Callable[..., bool]] = []
    for alt in alts:
        if m := _BOUND.match(alt):
            op, bound = m.group(1), _number(m.group(2))
            tests.append(lambda v, op=op, b=bound: isinstance(v, (int, float)) and not isinstance(v, bool) and {
                "at least": v >= b, "at most": v <= b, "more than": v > b, "less than": v < b}[op])
        elif m := _RANGE.match(alt):
            lo, hi = _number(m.group(1)), _number(m.group(2))
            tests.append(lambda v, lo=lo, hi=hi: isinstance(v, (int, float)) and not isinstance(v, bool)
                         and lo <= v <= hi)
        else:
            tests.append(lambda v, alt=alt: str(v) == alt)
    if listed:
        def rule(v):
            items = [x.strip() for x in str(v).split(",")]
            return bool(items) and all(items) and all(any(t(x) for t in tests) for x in items)
        return rule
    return lambda v: any(t(v) for t in tests)


def _spec_words(spec: str) -> str:
    """``0 | at least 99`` -> ``0 or at least 99``;
    ``list of PKH | BPNT`` -> ``a comma-separated list of PKH, BPNT``."""
    if spec.startswith("list of "):
        return "a comma-separated list of " + ", ".join(a.strip() for a in spec[len("list of "):].split("|"))
    alts = [a.strip() for a in spec.split("|")]
    return alts[0] if len(alts) == 1 else ", ".join(alts[:-1]) + " or " + alts[-1]


def allowed_values(notebook: str | os.PathLike, name: str) -> list[str] | None:
    """The plain values listed in a parameter's ``[allowed: ...]`` (None when it lists none)."""
    spec = declared_parameters(notebook).get(name, {}).get("allowed")
    if not spec:
        return None
    alts = [a.strip() for a in spec.removeprefix("list of ").split("|")]
    return [a for a in alts if not (_BOUND.match(a) or _RANGE.match(a))] or None


def declared_parameters(notebook: str | os.PathLike) -> dict[str, dict]:
    """The parameters a notebook declares in its ``parameters`` cell: name -> type, default, help."""
    path = Path(notebook)
    key = (str(path), path.stat().st_mtime_ns)
    if key not in _DECLARED:
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = [c for c in nb.get("cells", []) if "parameters" in c.get("metadata", {}).get("tags", [])]
        if not cells:
            raise ParameterError(f"Notebook {path.name} has no cell tagged 'parameters'; tag one.")
        _DECLARED[key] = _parse_parameters_cell("".join(cells[0]["source"]), path.name)
    return _DECLARED[key]


def check_parameters(notebook: str | os.PathLike, parameters: dict) -> None:
    """Stop on a name the notebook does not declare or a value of another type than its default."""
    declared = declared_parameters(notebook)
    name = Path(notebook).name
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise ParameterError(
            f"Notebook {name} has no parameter {', '.join(map(repr, unknown))}; "
            f"its parameters are {', '.join(sorted(declared))}.")
    problems = []
    for key, value in parameters.items():
        typ = declared[key].get("inferred_type_name")
        want = _TYPES.get(typ) if isinstance(typ, str) else None
        if want is not None:
            wrong = not isinstance(value, want) or (typ in ("int", "float") and isinstance(value, bool))
            if wrong:
                problems.append(f"The {key!r} parameter of notebook {name} must be of type {typ} "
                                f"(default {declared[key].get('default')}). Got {value!r} instead.")
                continue
        spec = declared[key].get("allowed")
        if spec and not _allowed_rule(spec)(value):
            problems.append(f"The {key!r} parameter of notebook {name} must be {_spec_words(spec)} "
                            f"(default {declared[key].get('default')}). Got {value!r} instead.")
    if problems:
        raise ParameterError(" ".join(problems))


def git_commit() -> str | None:
    try:
        res = subprocess.run(["git", "-C", str(REPO_DIR), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=10)
        return res.stdout.strip() or None if res.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def _notebook_meta(notebook: Path) -> tuple[str, dict]:
    """The notebook's title (its first ``# `` heading) and its ``welfare_eval`` metadata."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    title = notebook.stem
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            src = "".join(cell.get("source", ""))
            heads = [re.sub(r"<[^>]+>", "", ln[2:]).strip() for ln in src.splitlines() if ln.startswith("# ")]
            if heads:
                title = heads[0]
                break
    return title, nb.get("metadata", {}).get("welfare_eval", {})


def region_label(kabupaten: str) -> str:
    return "provinsi" if kabupaten in ("all", "") else str(kabupaten)


def _job_id(notebook: Path, params: dict, grid_keys=()) -> str:
    parts = [notebook.stem, region_label(params.get("kabupaten", "all")), str(params.get("language", "id"))]
    parts += [f"{k}-{params[k]}" for k in grid_keys if k not in ("kabupaten", "language")]
    return "_".join(parts)


def plan(cfg: runconfig.RunConfig, run_dir: Path) -> list[Job]:
    """Every job of the configuration, parameters checked against each notebook before anything runs.

    A notebook whose metadata marks it ``welfare_eval.stage: summary`` (the briefing) reads what the
    others stored, so it runs after every other job with the same parameters (any language).
    """
    folder = Path(cfg.notebook_dir)
    nbs = [folder / f"{n}.ipynb" for n in cfg.notebooks] if cfg.notebooks else discover_notebooks(folder)
    if not nbs:
        raise RunError(f"No report notebooks found in {folder} (expected NN_topic.ipynb).")
    import itertools

    keys = list(cfg.grid)
    combos = [dict(zip(keys, vals)) for vals in itertools.product(*(cfg.grid[k] for k in keys))]
    jobs: list[Job] = []
    meta = {nb: _notebook_meta(nb) for nb in nbs}
    # a fixed parameter goes to each notebook that declares it (min_cell to all, extreme_line to the
    # poverty profile); one that no selected notebook declares is an error, as is a grid key that
    # any notebook lacks (its jobs would differ only in their names)
    declared = {nb: declared_parameters(nb) for nb in nbs}
    fixed = dict(cfg.parameters or {})
    problems = []
    nobody = sorted(k for k in fixed if not any(k in d for d in declared.values()))
    if nobody:
        problems.append(
            f"Every notebook of this run has no parameter {', '.join(map(repr, nobody))}; their parameters are "
            f"{', '.join(sorted(set().union(*declared.values())))}."
        )
    for combo in combos:  # one combination's notebooks in order
        base = {"data_dir": str(Path(cfg.data).resolve()), "kabupaten": "all", "language": "id",
                "results": str(run_dir / "results"), **combo}
        for nb in nbs:
            params = {**base, **{k: v for k, v in fixed.items() if k in declared[nb]}}
            try:
                check_parameters(nb, params)
            except ParameterError as exc:
                if str(exc) not in problems:
                    problems.append(str(exc))
                continue
            m = meta[nb][1]
            summary = m.get("stage") == "summary"
            extra = tuple(o.format(region=region_label(params["kabupaten"]), language=params["language"])
                          for o in m.get("outputs", ()))
            jobs.append(Job(nb.resolve(), dict(params), _job_id(nb, params, keys), meta[nb][0], summary, extra))
    if problems:
        raise ParameterError(" ".join(problems) if len(problems) == 1 else
                             f"{len(problems)} parameter problems:\n  - " + "\n  - ".join(problems))
    ids = [j.job_id for j in jobs]
    if len(set(ids)) != len(ids):
        raise RunError("Two jobs would write the same outputs; give each grid value once.")

    def same(a: dict, b: dict) -> bool:
        drop = ("language",)
        return {k: v for k, v in a.items() if k not in drop} == {k: v for k, v in b.items() if k not in drop}

    out = []
    for j in jobs:
        if j.summary:
            deps = tuple(o.job_id for o in jobs if not o.summary and same(o.parameters, j.parameters))
            j = dataclasses.replace(j, deps=deps)
        out.append(j)
    return out


def select(jobs: list[Job], only) -> list[Job]:
    """The jobs ``only`` picks: globs on the job id or notebook, or ``name=value`` on a parameter.
    Dependencies of a picked job come along (they are skipped if their outputs are up to date)."""
    if not only:
        return jobs
    pats = [p.strip() for item in ([only] if isinstance(only, str) else only) for p in item.split(",") if p.strip()]
    filters = [p.split("=", 1) for p in pats if "=" in p]
    globs = [p for p in pats if "=" not in p]
    chosen = []
    for j in jobs:
        vals = {**{k: str(v) for k, v in j.parameters.items()}, "notebook": j.notebook.stem}
        if all(vals.get(k) == v for k, v in filters) and (
                not globs or any(fnmatch.fnmatch(j.job_id, g) or fnmatch.fnmatch(j.notebook.stem, g)
                                 or fnmatch.fnmatch(j.notebook.stem, g + "*") for g in globs)):
            chosen.append(j.job_id)
    if not chosen:
        raise RunError(f"--only {','.join(pats)} matches no job; `welfare-eval run --dry-run` lists them.")
    want = set(chosen)
    by_id = {j.job_id: j for j in jobs}
    for jid in chosen:
        want |= set(by_id[jid].deps)
    return [j for j in jobs if j.job_id in want]


# ---------------------------------------------------------------------------------------------
# fingerprints


def _stat_key(p: Path) -> list:
    st = p.stat()
    return [st.st_size, st.st_mtime_ns]


def input_fingerprints(data_dir: str | os.PathLike, cache: Path | None = None) -> dict[str, dict]:
    """SHA-256 and size of each input table in ``data_dir``; hashes are reused from ``cache`` for
    files whose size and modification time have not changed."""
    folder = Path(data_dir)
    known = {}
    if cache and cache.exists():
        try:
            known = json.loads(cache.read_text())
        except (OSError, ValueError):
            known = {}
    out, fresh = {}, {}
    for p in sorted([*folder.glob("*.parquet"), *folder.glob("*.json"), *folder.glob("*.csv"),
                     *folder.glob("*.dta"), *folder.glob("*.sav")]):
        key = str(p.resolve())
        stat = _stat_key(p)
        hit = known.get(key)
        digest = hit["sha256"] if hit and hit.get("stat") == stat else sha256_file(p)
        out[p.name] = {"sha256": digest, "bytes": stat[0]}
        fresh[key] = {"stat": stat, "sha256": digest}
    if cache is not None and fresh != {k: known.get(k) for k in fresh}:
        try:
            write_text_atomic(cache, json.dumps({**known, **fresh}, indent=1))
        except OSError:
            pass
    return out


#: Modules that schedule jobs and draw the index but compute nothing a notebook shows: editing
#: them does not make finished reports stale.
_RUN_SIDE = {"cli.py", "report/runner.py", "report/executors.py", "report/runconfig.py", "report/index.py"}


def package_fingerprint() -> str:
    """Hash of the package's source and the reference data it reads (poverty lines, rules, maps)."""
    h = hashlib.sha256(__version__.encode())
    files = sorted(p for p in PACKAGE_DIR.rglob("*.py") if p.relative_to(PACKAGE_DIR).as_posix() not in _RUN_SIDE)
    ref = reference_dir()
    files += sorted([*ref.glob("*.csv"), *ref.glob("*.yaml"), *(ref / "mappings").glob("*.yaml")])
    for p in files:
        h.update(str(p.name).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def package_versions() -> dict[str, str]:
    from importlib import metadata

    out = {"welfare-eval": __version__, "python": platform.python_version()}
    for name in RECORDED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def _job_fingerprint(job: Job, nb_sha: str, inputs: dict, package: str, deps: list[str]) -> str:
    blob = json.dumps({"notebook": nb_sha, "parameters": job.parameters, "inputs": inputs, "package": package,
                       "deps": deps, "outputs": list(job.extra_outputs)}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _complete(rec: dict | None, fingerprint: str, run_dir: Path) -> bool:
    """Whether an earlier record is for the same inputs and its outputs are all there, unaltered."""
    if not rec or rec.get("status") != "ok" or rec.get("fingerprint") != fingerprint:
        return False
    hashes = rec.get("output_sha256") or {}
    if not hashes or set(hashes) != set(rec.get("outputs", {}).values()):
        return False
    for name, digest in hashes.items():
        p = run_dir / name
        if not p.exists():
            return False
        st = _stat_key(p)
        if rec.get("output_stat", {}).get(name) != st and sha256_file(p) != digest:
            return False
    return True


# ---------------------------------------------------------------------------------------------
# the lock, the log, the progress line


class RunLock:
    """An exclusive lock on the output root (``.welfare-eval.lock``), released when the process ends
    however it ends, so a crash never leaves a stale lock."""

    def __init__(self, root: Path, run_id: str):
        self.path = Path(root) / ".welfare-eval.lock"
        self.run_id = run_id
        self._fh = None

    def __enter__(self):
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise RunLocked(f"Another welfare-eval run is using {self.path.parent} ({holder}). Wait for it to "
                            "finish, or give this run another output root.") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} on {platform.node()}, run {self.run_id}, since {_now()}")
        fh.flush()
        self._fh = fh
        return self

    def __exit__(self, *exc):
        import fcntl

        if self._fh:
            self._fh.seek(0)
            self._fh.truncate()
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None


class Progress:
    """A live line on a terminal (done, failed, running, time left); a line per job elsewhere.
    Every event also goes to ``log.jsonl`` in the run folder, and to stdout with ``json_stdout``."""

    def __init__(self, total: int, log_path: Path | None, *, json_stdout: bool = False, stream=None,
                 quiet: bool = False):
        self.total, self.done, self.failed, self.running = total, 0, 0, 0
        self.t0 = time.monotonic()
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty() and not json_stdout
        self.json_stdout, self.quiet = json_stdout, quiet
        self.log_path = log_path
        self._log = open(log_path, "a", encoding="utf-8") if log_path else None

    def event(self, kind: str, **fields) -> None:
        line = json.dumps({"time": _now(), "event": kind, **fields}, default=str)
        if self._log:
            self._log.write(line + "\n")
            self._log.flush()
        if self.json_stdout:
            print(line, flush=True)

    def update(self, *, done: int, failed: int, running: int, last: str | None = None) -> None:
        self.done, self.failed, self.running = done, failed, running
        if self.quiet or self.json_stdout:
            return
        if self.tty:
            width = 24
            fill = int(width * done / self.total) if self.total else width
            elapsed = time.monotonic() - self.t0
            left = (elapsed / done * (self.total - done)) if done else None
            eta = "" if left is None else f" · ~{_fmt_secs(left)} left"
            self.stream.write(f"\r[{'#' * fill}{'.' * (width - fill)}] {done}/{self.total} done · {failed} failed"
                              f" · {running} running{eta}   ")
            self.stream.flush()
        elif last:
            print(last, file=self.stream, flush=True)

    def close(self) -> None:
        if self.tty and not self.quiet:
            self.stream.write("\n")
        if self._log:
            self._log.close()


def _fmt_secs(s: float) -> str:
    s = int(round(s))
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def _write_manifest(run_dir: Path, manifest: dict) -> None:
    write_text_atomic(run_dir / "manifest.json", json.dumps(manifest, indent=2, default=str) + "\n")


def previous_run(root: Path, run_id: str) -> dict | None:
    """The most recent other run under ``root``: its id and manifest."""
    best = None
    for m in Path(root).glob("*/manifest.json"):
        if m.parent.name == run_id:
            continue
        try:
            data = json.loads(m.read_text())
        except (OSError, ValueError):
            continue
        key = data.get("started") or ""
        if best is None or key > best[0]:
            best = (key, m.parent.name, data)
    return None if best is None else {"run_id": best[1], "manifest": best[2]}


# ---------------------------------------------------------------------------------------------
# the run


def run_config(cfg: runconfig.RunConfig, *, only=None, force: bool = False, dry_run: bool = False,
               run_id: str | None = None, json_log: bool = False, quiet: bool = False, stream=None,
               executor=None) -> RunResult:
    """Execute (or with ``dry_run`` only list) the jobs of a configuration; see the module text."""
    data_dir = Path(cfg.data).resolve()
    if not data_dir.is_dir():
        raise RunError(f"Data folder {data_dir} does not exist; run `welfare-eval synth` first or set data.")
    for lang in cfg.grid.get("language", []):
        check_language(lang)
    if run_id is not None:
        runconfig.check_run_id(run_id, "--run-id")
    run_id = run_id or cfg.resolved_run_id()
    root = Path(cfg.output_root).resolve()
    run_dir = root / run_id
    if run_dir.resolve().parent != root:  # a symbolic link out of the root: refused like '../x'
        raise RunError(f"The run folder {run_dir} leads outside the output root {root}; give a plain folder name.")
    every_job = plan(cfg, run_dir)
    jobs = select(every_job, only)
    check_tables(data_dir, jobs)
    if not dry_run:
        check_writable(root)
    result = RunResult(run_id, run_dir, planned=jobs)
    say = (lambda *a, **k: None) if quiet else (lambda msg: print(msg, file=stream or sys.stderr, flush=True))

    prev_manifest = {}
    if (run_dir / "manifest.json").exists():
        try:
            prev_manifest = json.loads((run_dir / "manifest.json").read_text())
        except ValueError:
            prev_manifest = {}  # a manifest that cannot be read: every job reruns
    prev = {j["job_id"]: j for j in prev_manifest.get("jobs", [])}
    cache = root / ".welfare-eval-fingerprints.json"
    inputs = input_fingerprints(data_dir, cache if not dry_run else None)
    package = package_fingerprint()
    nb_sha = {j.notebook: sha256_file(j.notebook) for j in jobs}
    prints: dict[str, str] = {}
    for j in jobs:  # dependencies come first in plan order
        deps = [prints.get(d) or (prev.get(d) or {}).get("fingerprint") or "" for d in j.deps]
        prints[j.job_id] = _job_fingerprint(j, nb_sha[j.notebook], inputs, package, deps)
    todo = [j for j in jobs if force or not _complete(prev.get(j.job_id), prints[j.job_id], run_dir)]
    if dry_run:
        for j in jobs:
            state = "run" if j in todo else "up to date"
            after = f"  (after {len(j.deps)} job(s) of its region)" if j.deps and j in todo else ""
            say(f"{j.job_id:48s} {state}{after}")
        say(f"{len(jobs)} job(s): {len(todo)} to run, {len(jobs) - len(todo)} up to date (dry run; nothing written)")
        result.jobs = [{"job_id": j.job_id, "status": "planned" if j in todo else "ok", "parameters": j.parameters}
                       for j in jobs]
        return result

    with RunLock(root, run_id):
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "results").mkdir(exist_ok=True)
        remove_leftovers(run_dir)  # of a run that was killed while writing; we hold the lock
        versions = package_versions()
        commit = git_commit()
        manifest = {
            "run_id": run_id, "started": _now(), "finished": None, "package_version": __version__,
            "package_fingerprint": package, "git_commit": commit, "python": platform.python_version(),
            "host": platform.node(), "config": cfg.source, "executor": cfg.executor,
            "workers": cfg.n_workers() if cfg.executor == "local" else None, "scheduler": cfg.scheduler,
            "grid": cfg.grid, "parameters": {"data_dir": str(data_dir), **(cfg.parameters or {})},
            # the index's language: set by the first invocation into the folder (see index.primary_language)
            "primary_language": prev_manifest.get("primary_language") or (cfg.grid.get("language") or ["id"])[0],
            "inputs": inputs, "package_versions": versions, "jobs": [],
            "history": [*prev_manifest.get("history", []),
                        *([{k: prev_manifest.get(k) for k in ("started", "finished")}] if prev_manifest else [])],
        }
        records: dict[str, dict] = {}
        order = [j.job_id for j in every_job]
        for jid, rec in prev.items():  # jobs of earlier runs into this folder that are not redone now
            records[jid] = {**rec, "resumed": True}
        base = {}
        for j in jobs:
            base[j.job_id] = {
                "job_id": j.job_id,
                "notebook": j.notebook.name,
                "title": j.title,
                "notebook_sha256": nb_sha[j.notebook],
                "parameters": j.parameters,
                "fingerprint": prints[j.job_id],
                "deps": list(j.deps),
                "inputs": inputs,
                "package_versions": versions,
                "git_commit": commit,
            }
            if j not in todo:
                records[j.job_id] = {**prev[j.job_id], **base[j.job_id], "resumed": True}
        for j in todo:
            records[j.job_id] = {**base[j.job_id], "status": "pending", "resumed": False, "retries": 0,
                                 "attempts": [], "outputs": {}, "error": None, "started": None, "finished": None,
                                 "duration_s": None}

        def sync() -> None:
            known = [r for r in order if r in records] + [r for r in records if r not in order]
            manifest["jobs"] = [records[r] for r in known]
            _write_manifest(run_dir, manifest)

        sync()
        result.skipped = len(jobs) - len(todo)
        progress = Progress(len(todo), run_dir / "log.jsonl", json_stdout=json_log, stream=stream, quiet=quiet)
        progress.event("run_start", run_id=run_id, jobs=len(jobs), to_run=len(todo), up_to_date=result.skipped,
                       executor=cfg.executor, run_dir=str(run_dir))
        if todo:
            # the run's cache (results several jobs compute alike, welfare_eval.cache) lives for this
            # invocation only: emptied before its jobs start and removed when they end
            shutil.rmtree(cache_folder(run_dir), ignore_errors=True)
            try:
                with _sigterm_interrupts():
                    _execute(cfg, todo, records, run_dir, progress, sync, executor)
            finally:
                shutil.rmtree(cache_folder(run_dir), ignore_errors=True)
                # a worker killed while it wrote a job's outputs leaves its temporary files; no job
                # runs any more, so whatever temporary file is left is such a leftover
                remove_leftovers(run_dir)
        result.ran = len(todo)
        manifest["finished"] = _now()
        sync()
        # a resume with nothing to do leaves results.csv, the workbooks and the index as they are (all
        # were written from these same records); gathering them again cost most of a no-op resume's time
        if todo or not (run_dir / "index.html").exists():
            gather_ok(run_dir, records)
            from .excel import write_workbook  # the run's tables as .xlsx, per region and language

            for region in cfg.grid.get("kabupaten", ["all"]):
                for lang in cfg.grid.get("language", ["id"]):
                    write_workbook(run_dir, region=region, language=lang, manifest=manifest,
                                   min_cell=cfg.parameters.get("min_cell", DEFAULT_MIN_CELL))
            before = previous_run(root, run_id)
            write_index(run_dir, manifest, previous=before)
        if todo and not os.environ.get("WELFARE_EVAL_NO_SCREENSHOTS"):
            shots = screenshots(run_dir)
            if shots:
                progress.event("screenshots", files=[p.name for p in shots])
        failed = [r for r in records.values() if r.get("status") != "ok"]
        progress.event("run_end", run_id=run_id, ok=len(records) - len(failed), failed=len(failed),
                       ran=len(todo), up_to_date=result.skipped, index=str(run_dir / "index.html"))
        progress.close()
        result.jobs = manifest["jobs"]
    return result


def cache_folder(run_dir: Path) -> Path:
    """Where the kernels of a run keep what several jobs compute alike (see :mod:`welfare_eval.cache`)."""
    return run_dir / ".cache"


#: The names :func:`welfare_eval.io.atomic_path` gives its temporary files (``.<stem>.<8 random
#: characters>.tmp<suffix>``); only these are removed as leftovers of a killed run.
_TEMP_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp(\.[A-Za-z0-9]+)?$")


def remove_leftovers(run_dir: Path) -> None:
    """Remove the temporary files of unfinished writes (named as :data:`_TEMP_NAME`) from the run
    folder and its results store; called while no job of the run is writing."""
    for folder in (run_dir, run_dir / "results"):
        for stale in folder.glob(".*.tmp*"):
            if _TEMP_NAME.match(stale.name) and stale.is_file():
                stale.unlink(missing_ok=True)


def check_writable(root: Path) -> None:
    """Refuse an output root that cannot be created or written, before anything runs."""
    import tempfile

    try:
        root.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".welfare-eval-probe.", dir=root)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise RunError(f"The output root {root} cannot be written ({exc.strerror or exc}); choose another "
                       "output_root (--output-root) or make this one writable. Nothing was run.") from None


def check_tables(data_dir: Path, jobs: list[Job]) -> None:
    """Refuse a data folder that lacks a table a selected notebook needs (its metadata's ``tables``)."""
    need: dict[str, list[str]] = {}
    for j in jobs:
        for table in _notebook_meta(j.notebook)[1].get("tables", ()):
            if j.notebook.stem not in need.setdefault(table, []):
                need[table].append(j.notebook.stem)
    missing = {t: nbs for t, nbs in need.items() if not (Path(data_dir) / f"{t}.parquet").is_file()}
    if missing:
        lines = [f"{t}.parquet (needed by {', '.join(nbs)})" for t, nbs in missing.items()]
        raise RunError(f"The data folder {data_dir} has no {'; no '.join(lines)}. Add the table (see docs/data.md) "
                       "or run only the notebooks that do not need it (--notebooks). Nothing was run.")


def _store_file(job_rec: dict) -> str:
    """The results store file a job's notebook writes (``<notebook>__<region>.csv``)."""
    return f"{Path(job_rec['notebook']).stem}__{job_rec['parameters'].get('kabupaten', 'all')}.csv"


def quarantine(run_dir: Path, rec: dict) -> None:
    """Move a failed job's rows out of the results store (to ``results/failed/``), so that neither
    the briefing nor ``results.csv`` nor the index reads them."""
    src = run_dir / "results" / _store_file(rec)
    if src.is_file():
        (src.parent / "failed").mkdir(exist_ok=True)
        os.replace(src, src.parent / "failed" / src.name)


def gather_ok(run_dir: Path, records: dict) -> Path | None:
    """``results.csv``: the rows of the store files whose every job is ``ok`` (a failed job's rows
    never enter it, nor the index's headline numbers read from it)."""
    import pandas as pd

    from ..io import atomic_path

    def read(f: Path) -> pd.DataFrame:  # as store.read, without importing the estimators (scipy.stats)
        return pd.read_csv(f, dtype={"region": str})

    status: dict[str, bool] = {}
    for rec in records.values():
        name = _store_file(rec)
        status[name] = status.get(name, True) and rec.get("status") == "ok"
    files = [run_dir / "results" / n for n, ok in sorted(status.items()) if ok and (run_dir / "results" / n).is_file()]
    target = run_dir / "results.csv"
    if not files:
        if target.exists():
            target.unlink()
        return None
    with atomic_path(target) as tmp:
        pd.concat([read(f) for f in files], ignore_index=True).to_csv(tmp, index=False)
    return target


class RunInterrupted(BaseException):
    """SIGTERM reached the runner: running jobs are marked ``interrupted`` and the run stops."""


def _execute(cfg, todo: list[Job], records: dict, run_dir: Path, progress: Progress, sync, executor=None) -> None:
    from .executors import DaskExecutor, LocalExecutor, kernel_threads

    queue = deque(todo)
    pending_ids = {j.job_id for j in todo}
    finished: dict[str, str] = {}
    attempts: dict[str, int] = {}
    by_id = {j.job_id: j for j in todo}
    own = executor is None
    kernel_env = {CACHE_ENV: str(cache_folder(run_dir))}
    if cfg.executor != "dask":  # local kernels: their share of this machine's cores for BLAS
        kernel_env.update(kernel_threads(cfg.n_workers()))
    if executor is None:
        if cfg.executor == "dask":
            executor = DaskExecutor(cfg.scheduler)
        else:
            executor = LocalExecutor(min(cfg.n_workers(), len(todo)), cwd=str(Path(cfg.notebook_dir).resolve()),
                                     warm_imports=cfg.warm_imports, kernel_env=kernel_env)
    n_failed = 0

    def spec_of(j: Job) -> dict:
        return {"job_id": j.job_id, "notebook": str(j.notebook), "parameters": j.parameters, "run_dir": str(run_dir),
                "timeout": cfg.timeout, "warm_imports": list(cfg.warm_imports), "extra_outputs": list(j.extra_outputs),
                "kernel_env": kernel_env}

    try:
        while queue or executor.running():
            # start what can start: a job waits for its dependencies still pending in this run
            for _ in range(len(queue)):
                if not executor.free_slots():
                    break
                j = queue.popleft()
                if any(d in pending_ids and d not in finished for d in j.deps):
                    queue.append(j)
                    continue
                attempts[j.job_id] = attempts.get(j.job_id, 0) + 1
                rec = records[j.job_id]
                rec["status"] = "running"
                rec["started"] = rec["started"] or _now()
                # the worker starts its next kernel during this job only if a job is likely to come
                # its way: as many jobs left as workers busy (with this one); the others' kernels
                # would start, import and be shut down unused at the end of the run
                spec = {**spec_of(j), "prewarm": len(queue) >= len(executor.running()) + 1}
                where = executor.submit(spec)
                progress.event("job_start", job_id=j.job_id, attempt=attempts[j.job_id], where=where)
            progress.update(done=len(finished), failed=n_failed, running=len(executor.running()))
            for spec, out in executor.wait(0.5):
                jid = spec["job_id"]
                rec = records[jid]
                attempt = {"attempt": attempts[jid], "status": out["status"], "where": out.get("where"),
                           "duration_s": out.get("duration_s"), "error": out.get("error")}
                rec["attempts"].append(attempt)
                if out["status"] != "ok" and out.get("transient") and attempts[jid] <= cfg.retries:
                    rec["retries"] = attempts[jid]
                    rec["status"] = "retrying"
                    progress.event("job_retry", job_id=jid, attempt=attempts[jid], error=out.get("error"))
                    queue.appendleft(by_id[jid])
                    sync()
                    continue
                started = rec["started"]
                rec.update({k: v for k, v in out.items() if k not in ("transient",)})
                rec["started"] = started
                rec["retries"] = attempts[jid] - 1
                if rec.get("output_sha256"):
                    rec["output_stat"] = {n: _stat_key(run_dir / n) for n in rec["output_sha256"]
                                          if (run_dir / n).exists()}
                finished[jid] = rec["status"]
                if rec["status"] != "ok":
                    try:
                        quarantine(run_dir, rec)
                    except OSError:
                        pass
                n_failed += rec["status"] != "ok"
                progress.event("job_end", job_id=jid, status=rec["status"], duration_s=rec.get("duration_s"),
                               cells_s=rec.get("cells_s"), overhead_s=rec.get("overhead_s"), retries=rec["retries"],
                               where=rec.get("where"), error=(rec.get("error") or {}).get("kind"))
                progress.update(done=len(finished), failed=n_failed, running=len(executor.running()),
                                last=f"[{rec['status']}] {jid} ({rec.get('duration_s') or 0:.1f} s"
                                     f"{', retried ' + str(rec['retries']) + 'x' if rec['retries'] else ''})")
                sync()
    except BaseException:
        for r in records.values():
            if r.get("status") in ("running", "pending", "retrying"):
                r["status"] = "interrupted"
                r["finished"] = _now()
        sync()
        progress.event(
            "run_interrupted", interrupted=[k for k, r in records.items() if r.get("status") == "interrupted"]
        )
        if own:
            executor.close(now=True)
            own = False
        raise
    finally:
        if own:
            executor.close()


class _sigterm_interrupts:
    """While jobs run, SIGTERM (a scheduler's stop, `kill`) raises :class:`RunInterrupted` in the
    runner's main thread, so the manifest marks the running jobs ``interrupted`` before it exits."""

    def __enter__(self):
        import signal
        import threading

        self._old = None
        if threading.current_thread() is threading.main_thread():
            def _raise(signum, frame):
                raise RunInterrupted(f"signal {signum}")

            self._old = signal.signal(signal.SIGTERM, _raise)
        return self

    def __exit__(self, *exc):
        import signal

        if self._old is not None:
            signal.signal(signal.SIGTERM, self._old)
        return False


def run(*, data_dir: str | os.PathLike, notebooks: list | None = None, kabupaten="all", language="id",
        parameters: dict | None = None, output_root: str | os.PathLike | None = None, run_id: str | None = None,
        timeout: float = 1800, workers: int = 0, retries: int = 1, force: bool = False, only=None,
        quiet: bool = True, executor: str = "local", scheduler: str | None = None) -> RunResult:
    """Run the report notebooks without a configuration file (the keyword form of ``run_config``).

    ``kabupaten`` is ``"all"`` (the province), a BPS code, a comma-separated list or list of them, or
    ``"every"`` (the province and each kabupaten); ``language`` a code or a list of codes.
    """
    regions = [k.strip() for k in kabupaten.split(",")] if isinstance(kabupaten, str) else list(kabupaten)
    langs = [language] if isinstance(language, str) else list(language)
    kw: dict[str, Any] = dict(data=Path(data_dir), grid={"kabupaten": regions, "language": langs},
                              parameters=dict(parameters or {}), timeout=timeout, workers=workers, retries=retries,
                              executor=executor, scheduler=scheduler)
    if notebooks:
        paths = [Path(n) for n in notebooks]
        kw["notebook_dir"] = paths[0].resolve().parent if paths[0].suffix else notebooks_dir()
        kw["notebooks"] = tuple(p.stem for p in paths)
    if output_root:
        kw["output_root"] = Path(output_root)
    cfg = runconfig.check(runconfig.RunConfig(**kw))
    return run_config(cfg, only=only, force=force, run_id=run_id, quiet=quiet)
