"""The corpus of defective files (tests/corpus/make_corpus.py): each gives its one clear message and exit code.

Every file goes through the public loader (``load_table``) and through ``welfare-eval validate`` in
process; a subset also through the installed command in a subprocess, whose stderr must hold no
traceback. Exit codes: 1 invalid data, 2 a bad request, 0 accepted with a warning.
"""
from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import pytest

from welfare_eval import load_table
from welfare_eval.cli import main
from welfare_eval.exceptions import (
    DataQualityWarning,
    DataValidationError,
    ParameterError,
)
from welfare_eval.io import contains_nik

sys.path.insert(0, str(Path(__file__).parent / "corpus"))
import make_corpus

#: The corpus is built once, when the tests are collected, from the session's synthetic province.
_OUT = Path(tempfile.mkdtemp(prefix="welfare-eval-corpus-"))
atexit.register(shutil.rmtree, _OUT, ignore_errors=True)
CASES = make_corpus.build(_OUT, os.environ["WELFARE_EVAL_TEST_DATA"])
BY_ID = {c.id: c for c in CASES}

#: Cases also run through the installed command in a subprocess: one of each kind of defect.
SUBPROCESS_CASES = ("empty-csv", "truncated-sav", "dta-renamed-csv", "folder-as-file", "latin1-csv", "semicolon-csv",
                    "dta-header-claims-158M-rows", "nik-scientific", "mapping-invalid-yaml", "mapping-unknown-name",
                    "sav-labels-contradict-recode", "paid-on-ambiguous-day-first", "disbursed-100x-allocated",
                    "sav-crashes-the-reader")

#: Peak memory allowed to the command that refuses a header claiming 158 million rows (reading it
#: would take several GB); the interpreter with pandas, pyarrow and pyreadstat loaded takes ~250 MB.
HEADER_CHECK_MAX_RSS_MB = 800


def _mapping(case) -> str | None:
    if not case.mapping:
        return None
    return str(_OUT / case.mapping) if (_OUT / case.mapping).exists() else case.mapping


def _has_all(text: str, case) -> bool:
    return all(f.lower() in text.lower() for f in case.expect.split(" | "))


def _cli_args(case) -> list[str]:
    args = ["validate", "--table", case.table]
    if case.mapping:
        args += ["--mapping", _mapping(case)]
    if case.encoding:
        args += ["--encoding", case.encoding]
    if case.delimiter:
        args += ["--delimiter", case.delimiter]
    return args + [str(_OUT / case.file)]


def test_corpus_is_large_and_varied():
    assert len(CASES) >= 60
    assert len(BY_ID) == len(CASES), "case ids must be unique"
    assert {c.table for c in CASES} == {"registry", "survey", "panel", "disbursement"}
    kinds = {Path(c.file).suffix for c in CASES} | {Path(c.mapping).suffix for c in CASES if c.mapping}
    assert {".csv", ".parquet", ".dta", ".sav", ".yaml"} <= kinds
    assert {c.exit_code for c in CASES} == {0, 1, 2}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_loader_gives_the_message(case):
    path = _OUT / case.file
    kw = {"table": case.table, "mapping": _mapping(case), "encoding": case.encoding or None,
          "delimiter": case.delimiter or None}
    if case.exit_code == 0:
        with pytest.warns(DataQualityWarning) as rec:
            got = load_table(path, **kw)
        assert _has_all("\n".join(str(w.message) for w in rec), case)
        assert contains_nik(got.to_csv(index=False)) == []  # NIK-like values never stay raw
        return
    expected = DataValidationError if case.exit_code == 1 else (ParameterError, FileNotFoundError)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        with pytest.raises(expected) as err:
            load_table(path, **kw)
    assert _has_all(str(err.value), case), str(err.value)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_validate_command_exit_code(case, capsys):
    code = main(_cli_args(case))
    out = capsys.readouterr()
    assert code == case.exit_code, out.out + out.err
    assert _has_all(out.out + out.err, case), out.out + out.err


@pytest.mark.parametrize("case_id", SUBPROCESS_CASES)
def test_installed_command_has_no_traceback(case_id):
    case = BY_ID[case_id]
    res = subprocess.run([sys.executable, "-m", "welfare_eval.cli", *_cli_args(case)], capture_output=True, text=True,
                         check=False)
    assert res.returncode == case.exit_code, res.stderr
    assert "Traceback" not in res.stderr
    assert _has_all(res.stdout + res.stderr, case)
    if case.exit_code:
        assert res.stderr.startswith("error: ") or "[error]" in res.stdout


#: Runs the command given as arguments and prints its peak resident memory (kB) and exit code.
_PEAK_OF = ("import os, subprocess, sys\n"
            "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
            "_, status, usage = os.wait4(p.pid, 0)\n"
            "print(usage.ru_maxrss, os.waitstatus_to_exitcode(status))")


def test_lying_header_is_refused_before_reading():
    """A .dta claiming 158 million rows is refused from its header: the command never holds gigabytes."""
    case = BY_ID["dta-header-claims-158M-rows"]
    # the peak of this command (and of the reader it waits for) alone, from wait4 in a small parent:
    # Linux keeps a process's peak across fork and exec, so a command started straight from a
    # pytest worker that ran report jobs would report the worker's own peak (about 1 GB), and
    # RUSAGE_CHILDREN would be the largest child the worker ever waited for
    proc = subprocess.run([sys.executable, "-c", _PEAK_OF, sys.executable, "-m", "welfare_eval.cli", *_cli_args(case)],
                          capture_output=True, text=True)
    maxrss_kb, returncode = (int(v) for v in proc.stdout.split())
    assert returncode == 1 and "claims 158,000,000 rows" in proc.stderr
    peak_mb = maxrss_kb / 1024  # kB on Linux
    assert peak_mb < HEADER_CHECK_MAX_RSS_MB
