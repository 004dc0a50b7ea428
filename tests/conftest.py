from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest


@pytest.fixture(scope="session")
def province() -> Path:
    """Folder of the small synthetic province generated for the session (see ../conftest.py)."""
    return Path(os.environ["WELFARE_EVAL_TEST_DATA"])


@pytest.fixture(scope="session")
def truth(province) -> dict:
    return json.loads((province / "truth.json").read_text())


@pytest.fixture(scope="session")
def tables(province) -> dict[str, pd.DataFrame]:
    return {n: pd.read_parquet(province / f"{n}.parquet")
            for n in ("registry", "survey", "panel", "disbursement", "truth_population")}


@pytest.fixture(scope="session")
def world_full():
    """The whole province at the default seed (about 380,000 households; a few seconds)."""
    from welfare_eval import synth
    from welfare_eval.config import DEFAULT_SEED

    return synth.generate(DEFAULT_SEED, 1.0)
