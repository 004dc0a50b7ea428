"""Stata and SPSS files read in a child process, so that a damaged file cannot crash the caller.

The ReadStat C library behind ``pyreadstat`` can crash the whole interpreter (a segmentation
fault, seen with SPSS files with a few bytes flipped) instead of raising an error. A crash in a
notebook kernel or in ``welfare-eval validate`` would lose everything, with no message. So
:func:`read` runs the reading in a child process (``_statchild.py``, which imports only pyreadstat):
the child reads the header, refuses a header that claims more rows than the file can hold, reads
the data and hands them back (pickled, with the value labels) through a private temporary folder;
the parent turns any failure, a crash included, into a :class:`~welfare_eval.exceptions.FileFormatError`.
"""
from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

from .exceptions import FileFormatError

#: Exit code of the child when it refuses the file with a message (anything else is a crash or a bug).
REFUSED = 3

#: The child: a script of its own that imports only pyreadstat (not this package), so it starts fast.
CHILD = Path(__file__).with_name("_statchild.py")


def read(path: Path, ext: str) -> pd.DataFrame:
    """The data of a Stata (``.dta``) or SPSS (``.sav``) file, read in a child process.

    Value labels are in ``df.attrs["value_labels"]`` (``{column: {code: label}}``).
    """
    what = "a Stata" if ext == ".dta" else "an SPSS"
    size = path.stat().st_size
    with tempfile.TemporaryDirectory(prefix="welfare-eval-read-") as tmp:
        out = os.path.join(tmp, "data.pickle")
        # -P: the script's folder (this package, with its io.py) must not shadow the standard library
        res = subprocess.run([sys.executable, "-P", str(CHILD), str(path), ext, out], capture_output=True, text=True,
                             check=False)
        if res.returncode != 0:
            if res.returncode == REFUSED:
                reason = res.stderr.strip().splitlines()[-1] if res.stderr.strip() else "unknown reason"
            elif res.returncode < 0:
                sig = signal.Signals(-res.returncode).name
                reason = f"the file reader crashed on it ({sig})"
            else:
                reason = f"the file reader stopped with exit code {res.returncode}: {res.stderr.strip()[-300:]}"
            if reason.startswith("CLAIM "):
                raise FileFormatError(f"File {path} {reason[6:]}.")
            raise FileFormatError(f"File {path} ({size:,} bytes) cannot be read as {what} file: {reason}; it is "
                                  f"probably truncated or damaged: copy it again or save it again from "
                                  f"{'Stata' if ext == '.dta' else 'SPSS'}.")
        with open(out, "rb") as fh:
            df, labels = pickle.load(fh)  # written by our own child into our own temporary folder
    df.attrs["value_labels"] = labels
    return df
