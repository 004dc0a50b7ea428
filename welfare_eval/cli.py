"""``welfare-eval``: a thin shell over the Python API.

    welfare-eval synth [--seed N] [--scale X] [--out DIR]
    welfare-eval validate --table NAME [--mapping NAME_OR_YAML] [--encoding E] [--delimiter D] FILE [FILE ...]
    welfare-eval run [CONFIG] [--data DIR] [--kabupaten all|76NN|every] [--language id|en] [-p NAME=VALUE ...]
                     [--only PATTERN] [--dry-run] [--force] [--workers N] [--scheduler ADDRESS] [--json]
    welfare-eval docs [--check] [--out FILE]
    welfare-eval --version

Exit codes: 0 success, 1 invalid data, a failed report or a full disk, 2 a bad parameter, configuration or usage,
75 another run holds the output root's lock (try again later), 143 stopped by SIGTERM.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import __version__
from .config import (
    DEFAULT_SEED,
    PACKAGE_DIR,
    SYNTHETIC_SUBDIR,
    configs_dir,
    docs_dir,
    synthetic_dir,
)
from .exceptions import DataValidationError, ParameterError, RunError


def _parse_value(text: str):
    """``-p name=value``: JSON literals (numbers, true/false, quoted strings), else the text."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def cmd_synth(args) -> int:
    from . import synth

    out = synth.synth(seed=args.seed, scale=args.scale, 
                      out=args.out if args.out is not None else Path.cwd() / SYNTHETIC_SUBDIR)
    print(f"Synthetic province (seed {args.seed}, scale {args.scale:g}) written to {out}")
    return 0


def cmd_validate(args) -> int:
    """Every file is checked, even after a bad one; the exit code is the worst: 2 for a bad request
    (no such file, a folder, an unknown or malformed mapping, a short NIK key), else 1 for invalid data."""
    from .io import ColumnMapping, validate_file

    mapping = args.mapping
    if mapping is not None:
        mapping = ColumnMapping.from_yaml(mapping)  # a bad mapping is a bad request for every file: exit 2
    status = 0
    for f in args.files:
        try:
            report = validate_file(f, table=args.table, mapping=mapping, encoding=args.encoding,
                                   delimiter=args.delimiter)
        except DataValidationError as exc:  # the file cannot be read as a table (FileFormatError)
            print(f"error: {exc}", file=sys.stderr)
            status = max(status, 1)
            continue
        except (ParameterError, FileNotFoundError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 2
            continue
        print(report)
        if not report.ok:
            status = max(status, 1)
    return status


def cmd_run(args) -> int:
    from .report import runconfig
    from .report.runner import EXIT_JOB_FAILED, EXIT_OK, run_config

    params = {}
    for item in args.param or []:
        if "=" not in item:
            raise ParameterError(f"-p expects NAME=VALUE. Got {item!r} instead.")
        k, v = item.split("=", 1)
        params[k] = _parse_value(v)
    if args.config:
        cfg = runconfig.load(_config_path(args.config))
    else:
        cfg = runconfig.RunConfig(source="(command line)")
    over: dict = {}
    if args.data is not None:
        over["data"] = args.data.resolve()
    elif not args.config:
        over["data"] = synthetic_dir()
    if args.kabupaten or args.language:
        grid = dict(cfg.grid)
        if args.kabupaten:
            grid["kabupaten"] = [k.strip() for k in args.kabupaten.split(",")]
        if args.language:
            grid["language"] = [x.strip() for x in args.language.split(",")]
        over["grid"] = grid
    if params:
        over["parameters"] = {**cfg.parameters, **params}
    if args.notebooks:
        paths = [Path(n) for n in args.notebooks]
        if paths[0].suffix == ".ipynb":  # files, not names: their folder is the notebook folder
            over["notebook_dir"] = paths[0].resolve().parent
        over["notebooks"] = tuple(p.stem for p in paths)
    if args.output_root:
        over["output_root"] = args.output_root.resolve()
    if args.scheduler:
        over.update(executor="dask", scheduler=args.scheduler)
    for key in ("workers", "timeout", "retries"):
        if getattr(args, key) is not None:
            over[key] = getattr(args, key)
    cfg = cfg.with_overrides(**over)
    result = run_config(cfg, only=args.only, force=args.force, dry_run=args.dry_run, run_id=args.run_id,
                        json_log=args.json)
    if args.dry_run:
        return EXIT_OK
    out = sys.stderr if args.json else sys.stdout
    print(f"Index: {result.index} ({result.ran} run, {result.skipped} up to date)", file=out)
    if result.failed:
        print(f"{len(result.failed)} report(s) failed: {', '.join(result.failed)} "
              f"(details in {result.run_dir / 'manifest.json'})", file=sys.stderr)
        return EXIT_JOB_FAILED
    return EXIT_OK


def _config_path(arg: Path) -> Path:
    """A run configuration file, or the name of a shipped one (``report`` is ``configs/report.yaml``)."""
    shipped = configs_dir() / f"{arg}.yaml"
    return shipped if not arg.exists() and arg.suffix == "" and shipped.exists() else arg


def _data_doc_target(out: Path | None) -> Path:
    """Where ``docs`` writes: the path given; in a checkout its ``docs/data.md``; installed, ``./data.md``."""
    if out is not None:
        return out
    shipped = docs_dir() / "data.md"
    return Path("data.md") if shipped.resolve().is_relative_to(PACKAGE_DIR.resolve()) else shipped


def cmd_docs(args) -> int:
    from .schema import to_markdown

    text = to_markdown()
    if args.check:
        path = args.out or docs_dir() / "data.md"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            print(f"{path} is out of date; run `welfare-eval docs`.", file=sys.stderr)
            return 1
        return 0
    path = _data_doc_target(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"Wrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    docs = docs_dir()
    p = argparse.ArgumentParser(
        prog="welfare-eval", description="Evaluation workbench for PKH, BPNT and TKSK.",
        epilog=f"Documentation ships with the package in {docs}: running.md (runs and their configuration), "
               "data.md (the data contract), methods.md (the estimators), synthetic.md (the synthetic province).")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}",
                   help="print the version and exit")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    s = sub.add_parser("synth", help="generate the synthetic West Sulawesi province",
                       description=f"Generate the synthetic province (see {docs / 'synthetic.md'}).")
    s.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    s.add_argument("--scale", type=float, default=1.0, help="population multiplier (1 = whole province)")
    s.add_argument("--out", type=Path, default=None,
                   help=f"output folder (default {SYNTHETIC_SUBDIR}/ in the working folder)")
    s.set_defaults(func=cmd_synth)
    v = sub.add_parser("validate", help="check files against the data contract",
                       description=f"Check data files against the data contract ({docs / 'data.md'}).")
    v.add_argument("--table", required=True, choices=["registry", "survey", "panel", "disbursement"],
                   help="which contract table the files hold")
    v.add_argument("--mapping", default=None,
                   help="column mapping from raw names to the contract: a shipped mapping's name "
                        "(dtks_registry, susenas) or a YAML file")
    v.add_argument("--encoding", default=None,
                   help="text encoding of CSV files that are not UTF-8, e.g. cp1252 or utf-16")
    v.add_argument(
        "--delimiter", default=None, help="field delimiter of CSV files that are not comma-separated, e.g. ';'"
    )
    v.add_argument("files", nargs="+", help="data files (CSV, Parquet, Stata .dta, SPSS .sav)")
    v.set_defaults(func=cmd_validate)
    r = sub.add_parser("run", help="run the report notebooks",
                       description=f"Run the report notebooks (see {docs / 'running.md'}).")
    r.add_argument("config", nargs="?", type=Path,
                   help="run configuration: a YAML file, or 'report' for the shipped monthly run "
                        f"({configs_dir() / 'report.yaml'}); without one, the options below alone")
    r.add_argument("--data", type=Path, default=None,
                   help=f"folder of contract tables (default: the nearest {SYNTHETIC_SUBDIR}/ of the working folder)")
    r.add_argument(
        "--kabupaten",
        default=None,
        help="all (the province), a BPS code, a comma-separated list, or every (province and each kabupaten)",
    )
    r.add_argument("--language", default=None, help="id, en, or id,en")
    r.add_argument("-p", "--param", action="append", metavar="NAME=VALUE",
                   help="a notebook parameter for every job (repeatable), e.g. -p min_cell=20")
    r.add_argument("--notebooks", nargs="*", default=None, metavar="NOTEBOOK",
                   help="notebook names (10_poverty_profile) or .ipynb files to run instead of all")
    r.add_argument("--output-root", type=Path, default=None,
                   help="folder that receives the run's folder (default reports/ in the working folder)")
    r.add_argument("--run-id", default=None, help="folder name of the run; an existing one is resumed")
    r.add_argument("--only", action="append", metavar="PATTERN",
                   help="jobs to run: a glob on the job id or notebook (10_*), or NAME=VALUE (kabupaten=7602)")
    r.add_argument("--dry-run", action="store_true", help="list the jobs and whether each would run; write nothing")
    r.add_argument("--force", action="store_true", help="rerun jobs whose outputs are up to date")
    r.add_argument("--workers", type=int, default=None, help="local worker processes (default: one per core)")
    r.add_argument("--timeout", type=float, default=None, help="seconds one notebook may run")
    r.add_argument("--retries", type=int, default=None, help="extra attempts after a transient failure")
    r.add_argument("--scheduler", default=None, metavar="ADDRESS", help="run on a Dask cluster, e.g. tcp://host:8786")
    r.add_argument("--json", action="store_true", help="JSON-lines events on stdout (for schedulers)")
    r.set_defaults(func=cmd_run)
    d = sub.add_parser("docs", help="write the data contract as Markdown (data.md)",
                       description=f"Write the data contract as Markdown: in a checkout over {docs / 'data.md'}, "
                                   "installed to data.md in the working folder.")
    d.add_argument("--check", action="store_true", help="only check that the shipped data.md is up to date")
    d.add_argument("--out", type=Path, default=None, help="file to write (or check) instead")
    d.set_defaults(func=cmd_docs)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .report.runner import EXIT_CONFIG, EXIT_LOCKED, RunInterrupted, RunLocked

    try:
        return args.func(args)
    except RunInterrupted:
        print("error: the run was stopped (SIGTERM); running jobs are marked interrupted in the manifest, "
              "and running it again resumes.", file=sys.stderr)
        return 143
    except RunLocked as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except (ParameterError, RunError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except DataValidationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the disk is full or refuses a write: say so, without a traceback
        print(f"error: could not write {exc.filename or 'a file'}: {exc.strerror or exc}. Free space or fix the "
              "permissions, then run again (what finished is kept).", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
