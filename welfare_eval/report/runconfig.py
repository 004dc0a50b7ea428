"""The run configuration: which notebooks, a parameter grid, where, how many workers, how patient.

A YAML file (see ``configs/report.yaml`` and ``docs/running.md``) or the same keys as keyword
arguments. Every problem is reported at once, each with the key it concerns and what is allowed;
nothing runs until the configuration is right.

.. code-block:: yaml

    notebooks: all                 # or a list: [10_poverty_profile, 90_briefing]
    data: ../data/synthetic        # folder of contract tables (relative to this file)
    output_root: ../reports        # each run writes <output_root>/<run_id>/
    run_id: "{date}"               # {date} 2026-11-28, {month} 2026-11, {time} 20261128-140500
    grid:                          # every combination becomes a job per notebook
      kabupaten: every             # all (province), BPS codes, or every (province and each kabupaten)
      language: [id]
    parameters: {min_cell: 10}     # the same for every job
    executor: local                # or dask (with scheduler: tcp://host:8786)
    workers: auto                  # local worker processes; auto = as many as cores
    timeout: 1800                  # seconds one notebook may run before it is stopped
    retries: 1                     # extra attempts after a transient failure
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..config import configs_dir, notebooks_dir, reports_dir, synthetic_dir
from ..exceptions import ParameterError, RunError
from .execute import DEFAULT_WARM_IMPORTS

EXECUTORS = ("local", "dask")
_KEYS = {"notebooks", "data", "output_root", "run_id", "grid", "parameters", "executor", "scheduler", "workers",
         "timeout", "retries", "warm_imports", "notebook_dir"}


class ConfigError(RunError, ParameterError):
    """The run configuration is wrong; the message lists every problem."""


@dataclass(frozen=True)
class RunConfig:
    notebooks: tuple = ()              # notebook stems; empty = every NN_*.ipynb in notebook_dir
    data: Path = field(default_factory=synthetic_dir)
    output_root: Path = field(default_factory=reports_dir)
    run_id: str = "{time}"
    grid: dict = field(default_factory=lambda: {"kabupaten": ["all"], "language": ["id"]})
    parameters: dict = field(default_factory=dict)
    executor: str = "local"
    scheduler: str | None = None
    workers: int = 0                   # 0 = as many as cores
    timeout: float = 1800.0
    retries: int = 1
    warm_imports: tuple = DEFAULT_WARM_IMPORTS
    notebook_dir: Path = field(default_factory=notebooks_dir)
    source: str = "(arguments)"        # where the configuration came from, for messages

    def resolved_run_id(self, now: dt.datetime | None = None) -> str:
        now = now or dt.datetime.now()
        return self.run_id.format(date=now.strftime("%Y-%m-%d"), month=now.strftime("%Y-%m"),
                                  time=now.strftime("%Y%m%d-%H%M%S"))

    def n_workers(self) -> int:
        return self.workers or os.cpu_count() or 1

    def with_overrides(self, **kw) -> "RunConfig":
        kw = {k: v for k, v in kw.items() if v is not None}
        return check(replace(self, **kw)) if kw else self


def _expand_kabupaten(values) -> list[str]:
    from ..regions import kab_names

    out = []
    for v in values:
        if v == "every":
            out += ["all", *kab_names()]
        else:
            out.append(v)
    return list(dict.fromkeys(out))


def run_id_problem(rid: str) -> str | None:
    """What is wrong with a run id as a folder name directly under the output root, or None."""
    if not rid or "/" in rid or "\\" in rid or rid.startswith(".") or "\0" in rid:
        return f"{rid!r} must be a folder name (no '/', not starting with '.')"
    return None


def check_run_id(rid: str, where: str = "run_id") -> None:
    """Refuse a run id (``--run-id``, or the configuration's) that is not a plain folder name:
    ``../victim`` or ``/tmp/x`` would write, lock and clean outside the output root."""
    problem = run_id_problem(rid)
    if problem:
        raise ConfigError(f"{where}: {problem}; the run folder is always <output_root>/<run id>.")


def check(cfg: RunConfig) -> RunConfig:
    """Validate a configuration; raise :class:`ConfigError` listing every problem."""
    from ..regions import kab_names
    from .strings import LANGUAGES

    problems = []
    src = cfg.source
    if not Path(cfg.notebook_dir).is_dir():
        problems.append(f"notebook_dir: folder {cfg.notebook_dir} does not exist")
    else:
        have = {p.stem for p in Path(cfg.notebook_dir).glob("[0-9][0-9]_*.ipynb")}
        missing = [n for n in cfg.notebooks if n not in have]
        if missing:
            problems.append(f"notebooks: no notebook {', '.join(map(repr, missing))} in {cfg.notebook_dir}; "
                            f"there are {', '.join(sorted(have))}")
    if not isinstance(cfg.grid, dict) or not cfg.grid:
        problems.append("grid: must map parameter names to lists of values, e.g. {kabupaten: [all], language: [id]}")
    else:
        for key, values in cfg.grid.items():
            if not isinstance(values, list) or not values:
                problems.append(f"grid.{key}: must be a non-empty list of values, got {values!r}")
            elif any(isinstance(v, (list, dict)) or v is None for v in values):
                problems.append(f"grid.{key}: values must be single numbers or words, got {values!r}")
        kabs = cfg.grid.get("kabupaten", [])
        bad = [k for k in kabs if isinstance(k, str) and k not in ("all", "every") and k not in kab_names()]
        bad += [k for k in kabs if not isinstance(k, str)]
        if bad:
            problems.append(f"grid.kabupaten: {', '.join(map(repr, bad))} is not a kabupaten of West Sulawesi; "
                            f"allowed: all, every, {', '.join(kab_names())} (write codes in quotes)")
        langs = [v for v in cfg.grid.get("language", []) if v not in LANGUAGES]
        if langs:
            problems.append(
                f"grid.language: {', '.join(map(repr, langs))} is not offered; allowed: {', '.join(LANGUAGES)}"
            )
        clash = sorted(set(cfg.grid) & set(cfg.parameters or {}))
        if clash:
            problems.append(f"parameters: {', '.join(clash)} is also in grid; give each parameter in one place")
    if not isinstance(cfg.parameters, dict):
        problems.append(f"parameters: must map names to values, got {cfg.parameters!r}")
    elif {"data_dir", "results"} & set(cfg.parameters):
        problems.append("parameters: data_dir and results are set by the runner; use the data key for the data")
    if cfg.executor not in EXECUTORS:
        problems.append(f"executor: {cfg.executor!r} is not known; allowed: {', '.join(EXECUTORS)}")
    if cfg.executor == "dask" and not cfg.scheduler:
        problems.append("scheduler: the dask executor needs the scheduler's address, e.g. tcp://10.0.0.5:8786")
    if isinstance(cfg.workers, bool) or not isinstance(cfg.workers, int) or cfg.workers < 0:
        problems.append(f"workers: must be a whole number >= 1 or auto, got {cfg.workers!r}")
    if isinstance(cfg.timeout, bool) or not isinstance(cfg.timeout, (int, float)) or cfg.timeout <= 0:
        problems.append(f"timeout: must be a number of seconds > 0, got {cfg.timeout!r}")
    if isinstance(cfg.retries, bool) or not isinstance(cfg.retries, int) or cfg.retries < 0:
        problems.append(f"retries: must be a whole number >= 0, got {cfg.retries!r}")
    if not isinstance(cfg.run_id, str) or not cfg.run_id:
        problems.append(f"run_id: must be text such as '{{date}}' or 'monthly-{{month}}', got {cfg.run_id!r}")
    else:
        try:
            problem = run_id_problem(cfg.resolved_run_id())
            if problem:
                problems.append(f"run_id: {problem}")
        except (KeyError, IndexError, ValueError) as exc:
            problems.append(f"run_id: unknown placeholder {exc}; allowed: {{date}}, {{month}}, {{time}}")
    if problems:
        raise ConfigError(f"The run configuration {src} has {len(problems)} problem(s):\n  - "
                          + "\n  - ".join(problems))
    if "kabupaten" in cfg.grid:
        cfg = replace(cfg, grid={**cfg.grid, "kabupaten": _expand_kabupaten(cfg.grid["kabupaten"])})
    return cfg


def load(path: str | os.PathLike, **overrides) -> RunConfig:
    """Read and validate a YAML run configuration; relative paths are relative to the file."""
    import yaml

    path = Path(path)
    if not path.exists():
        raise ConfigError(f"No run configuration at {path}; see configs/report.yaml for an example.")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"The run configuration {path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(
            f"The run configuration {path} must be a mapping of keys to values, got {type(raw).__name__}."
        )
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise ConfigError(f"The run configuration {path} has unknown key(s) {', '.join(unknown)}; "
                          f"allowed: {', '.join(sorted(_KEYS))}.")
    base = path.resolve().parent

    def _path(v):
        return v if v is None else (base / str(v)).resolve()

    kw: dict = {"source": str(path)}
    nbs = raw.get("notebooks", "all")
    if nbs not in (None, "all"):
        if isinstance(nbs, str):
            nbs = [nbs]
        if not isinstance(nbs, list):
            raise ConfigError(f"The run configuration {path}: notebooks must be all or a list of names, got {nbs!r}.")
        kw["notebooks"] = tuple(Path(str(n)).stem for n in nbs)
    for key in ("data", "output_root", "notebook_dir"):
        if raw.get(key) is not None:
            kw[key] = _path(raw[key])
    if "grid" in raw:
        grid = raw["grid"]
        if isinstance(grid, dict):
            grid = {k: (v if isinstance(v, list) else [v]) for k, v in grid.items()}
            grid = {k: [str(x) if k == "kabupaten" and isinstance(x, int) else x for x in v] for k, v in grid.items()}
        kw["grid"] = grid
    if raw.get("workers", "auto") == "auto":
        kw["workers"] = 0
    else:
        kw["workers"] = raw["workers"]
    for key in ("run_id", "parameters", "executor", "scheduler", "timeout", "retries"):
        if key in raw and raw[key] is not None:
            kw[key] = raw[key]
    if raw.get("warm_imports") is not None:
        kw["warm_imports"] = tuple(raw["warm_imports"])
    return check(RunConfig(**kw)).with_overrides(**overrides)


def default_config_path() -> Path:
    """The shipped default run configuration (``configs/report.yaml``, package data in a wheel)."""
    return configs_dir() / "report.yaml"
