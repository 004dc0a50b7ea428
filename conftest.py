"""Test session setup shared by the unit tests and the notebooks run through nbval.

A small synthetic province (scale TEST_SCALE) is generated once per session into a temporary
folder; $WELFARE_EVAL_SOURCE points the notebooks at it, so nbval runs them on that data. The NIK
key file goes to a temporary config folder, never to the user's.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

#: Population scale of the test province: about 76,000 households, 1,400 survey households and
#: 1,200 panel households: small enough to be quick, large enough for the impact estimators.
TEST_SCALE = 0.2
TEST_SEED = 7

_tmp: Path | None = None


def pytest_configure(config):
    global _tmp
    if os.environ.get("WELFARE_EVAL_TEST_DATA"):
        return
    _tmp = Path(tempfile.mkdtemp(prefix="welfare-eval-test-"))
    os.environ["XDG_CONFIG_HOME"] = str(_tmp / "config")
    os.environ["WELFARE_EVAL_NIK_KEY"] = "test-key-not-secret-32-bytes-long-0123456789"
    from welfare_eval import synth

    out = synth.synth(seed=TEST_SEED, scale=TEST_SCALE, out=_tmp / "province")
    os.environ["WELFARE_EVAL_TEST_DATA"] = str(out)
    os.environ["WELFARE_EVAL_SOURCE"] = str(out)
    # notebooks run by nbval (in file order) store results here, and the briefing reads them
    os.environ["WELFARE_EVAL_RESULTS"] = str(_tmp / "results" / "results.csv")
    (_tmp / "results").mkdir()


def pytest_unconfigure(config):
    if _tmp is not None:
        shutil.rmtree(_tmp, ignore_errors=True)
