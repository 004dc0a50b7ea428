"""``welfare-eval``: a thin shell over the Python API.

    welfare-eval synth [--seed N] [--scale X] [--out DIR]
    welfare-eval validate --table NAME [--mapping NAME_OR_YAML] FILE [FILE ...]
    welfare-eval run [--data DIR] [--kabupaten all|76NN] [--language id|en] [-p NAME=VALUE ...]
    welfare-eval docs [--check]

Exit codes: 0 success, 1 invalid data or a failed report, 2 a bad parameter or usage.
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
    from .report.runner import run

    params = {}
    for item in args.param or []:
        if "=" not in item:
            raise ParameterError(f"-p expects NAME=VALUE. Got {item!r} instead.")
        k, v = item.split("=", 1)
        params[k] = _parse_value(v)
    result = run(data_dir=args.data, notebooks=args.notebooks, kabupaten=args.kabupaten, language=args.language,
                 parameters=params, output_root=args.output_root, run_id=args.run_id)
    failed = [j["job_id"] for j in result.jobs if j["status"] != "ok"]
    print(f"Index: {result.index}")
    if failed:
        print(f"{len(failed)} report(s) failed: {', '.join(failed)} (details in {result.run_dir / 'manifest.json'})",
              file=sys.stderr)
        return 1
    return 0


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
    r = sub.add_parser("run", help="run the report notebooks")
    r.add_argument("--data", type=Path, default=None, help="folder of contract tables (default: synthetic)")
    r.add_argument("--kabupaten", default="all",
                   help="all (the province), a BPS code, a comma-separated list, or every (province and each kabupaten)")
    r.add_argument("--language", default="id", choices=["id", "en"])
    r.add_argument("-p", "--param", action="append", metavar="NAME=VALUE")
    r.add_argument("--notebooks", nargs="*", default=None)
    r.add_argument("--output-root", type=Path, default=None)
    r.add_argument("--run-id", default=None)
    r.set_defaults(func=cmd_run)
    d = sub.add_parser("docs", help="write docs/data.md from the data contract")
    d.add_argument("--check", action="store_true", help="only check that docs/data.md is up to date")
    d.set_defaults(func=cmd_docs)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "data", None) is None and args.command == "run":
        args.data = synthetic_dir()
    try:
        return args.func(args)
    except (ParameterError, RunError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except DataValidationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
