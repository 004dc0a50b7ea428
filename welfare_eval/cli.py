"""``welfare-eval``: a thin shell over the Python API.

    welfare-eval synth [--seed N] [--scale X] [--out DIR]
    welfare-eval validate --table NAME [--mapping NAME_OR_YAML] FILE [FILE ...]
    welfare-eval run [CONFIG] [--data DIR] [--kabupaten all|76NN|every] [--language id|en] [-p NAME=VALUE ...]
                     [--only PATTERN] [--dry-run] [--force] [--workers N] [--scheduler ADDRESS] [--json]
    welfare-eval docs [--check]

Exit codes: 0 success, 1 invalid data, a failed report or a full disk, 2 a bad parameter, configuration or usage,
75 another run holds the output root's lock (try again later), 143 stopped by SIGTERM.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .config import DEFAULT_SEED, REPO_DIR, synthetic_dir
from .exceptions import DataValidationError, ParameterError, RunError


def _parse_value(text: str):
    """``-p name=value``: JSON literals (numbers, true/false, quoted strings), else the text."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def cmd_synth(args) -> int:
    from . import synth

    out = synth.synth(seed=args.seed, scale=args.scale, out=args.out)
    print(f"Synthetic province (seed {args.seed}, scale {args.scale:g}) written to {out}")
    return 0


def cmd_validate(args) -> int:
    from .io import validate_file

    status = 0
    for f in args.files:
        report = validate_file(f, table=args.table, mapping=args.mapping)
        print(report)
        if not report.ok:
            status = 1
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
        cfg = runconfig.load(args.config)
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


def cmd_docs(args) -> int:
    from .schema import to_markdown

    path = REPO_DIR / "docs" / "data.md"
    text = to_markdown()
    if args.check:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            print(f"{path} is out of date; run `welfare-eval docs`.", file=sys.stderr)
            return 1
        return 0
    path.write_text(text, encoding="utf-8")
    print(f"Wrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="welfare-eval", description="Evaluation workbench for PKH, BPNT and TKSK.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("synth", help="generate the synthetic West Sulawesi province")
    s.add_argument("--seed", type=int, default=DEFAULT_SEED)
    s.add_argument("--scale", type=float, default=1.0, help="population multiplier (1 = whole province)")
    s.add_argument("--out", type=Path, default=None, help=f"output folder (default {synthetic_dir()})")
    s.set_defaults(func=cmd_synth)
    v = sub.add_parser("validate", help="check files against the data contract")
    v.add_argument("--table", required=True, choices=["registry", "survey", "panel", "disbursement"])
    v.add_argument("--mapping", default=None, help="column mapping: a name in data/mappings/ or a YAML file")
    v.add_argument("files", nargs="+")
    v.set_defaults(func=cmd_validate)
    r = sub.add_parser("run", help="run the report notebooks (see docs/running.md)")
    r.add_argument("config", nargs="?", type=Path, help="run configuration (YAML), e.g. configs/report.yaml")
    r.add_argument("--data", type=Path, default=None, help="folder of contract tables (default: synthetic)")
    r.add_argument("--kabupaten", default=None,
                   help="all (the province), a BPS code, a comma-separated list, or every (province and each kabupaten)")
    r.add_argument("--language", default=None, help="id, en, or id,en")
    r.add_argument("-p", "--param", action="append", metavar="NAME=VALUE")
    r.add_argument("--notebooks", nargs="*", default=None)
    r.add_argument("--output-root", type=Path, default=None)
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
    d = sub.add_parser("docs", help="write docs/data.md from the data contract")
    d.add_argument("--check", action="store_true", help="only check that docs/data.md is up to date")
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
