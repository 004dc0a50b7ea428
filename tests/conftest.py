"""Shared fixtures. The province is generated once per session (../conftest.py); the report run is
made once per session (per pytest-xdist worker, and ../conftest.py keeps the tests that use it on
one worker). See tests/README.md for which fixture to use and how a test gets its marker."""
from __future__ import annotations

import json
import os
import shutil
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


@pytest.fixture(scope="session")
def report_data(province, tmp_path_factory) -> Path:
    """A copy of the province whose registry was loaded from the raw DTKS export, the one with
    national ID numbers (NIK), as an office's would be: the shared report run reads it, so the
    privacy test can scan every output of a real run for NIK numbers. The values equal the
    generated registry's (only the NIK hash column is added)."""
    from welfare_eval import load_table

    data = tmp_path_factory.mktemp("report-data")
    shutil.copytree(province, data, ignore=shutil.ignore_patterns("raw"), dirs_exist_ok=True)
    reg = load_table(province / "raw" / "dtks_registry.csv", table="registry", mapping="dtks_registry")
    reg.to_parquet(data / "registry.parquet", index=False)
    return data


@pytest.fixture(scope="session")
def report_run(report_data, tmp_path_factory):
    """One real report run shared by every test that reads a run's outputs: all notebooks for the
    province and kabupaten 7602, in Indonesian, on ``report_data``, with the screenshots of its
    index and briefings; it must succeed. Tests only read it (a test that changes a run folder
    makes its own run). Using it marks a test ``runner``."""
    from welfare_eval.report.runner import run

    out = tmp_path_factory.mktemp("reports")
    # the one run of the session that takes the screenshots (../conftest.py turns them off elsewhere)
    skip_shots = os.environ.pop("WELFARE_EVAL_NO_SCREENSHOTS", None)
    try:
        result = run(data_dir=report_data, output_root=out, run_id="shared", kabupaten="all,7602")
    finally:
        if skip_shots is not None:
            os.environ["WELFARE_EVAL_NO_SCREENSHOTS"] = skip_shots
    assert result.ok, [j.get("error") for j in result.jobs if j["status"] != "ok"]
    return result


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's headless Chromium (.ci/run installs it); without it the test is skipped with the
    reason. Using it marks a test ``browser``."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("no chromium on this machine (.ci/run installs Debian's chromium)")
    return path
