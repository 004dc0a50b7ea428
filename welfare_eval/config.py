"""Paths and defaults in one place.

Reference data (region crosswalk, poverty lines, program rules, column mappings) ships in the
repository's top-level ``data/`` folder. ``WELFARE_EVAL_DATA`` points elsewhere when the package
is used outside a checkout.
"""
from __future__ import annotations

import os
from pathlib import Path

#: Confidence level used everywhere unless a caller asks for another.
DEFAULT_LEVEL = 0.95

#: Seed of the default synthetic province (the March 2024 SUSENAS round, as a number).
DEFAULT_SEED = 20240301

#: Minimum number of unweighted observations behind a published cell (disclosure control).
DEFAULT_MIN_CELL = 10

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent


def data_dir() -> Path:
    """Folder of the shipped reference data (``welfare_eval/data/``, package data)."""
    return Path(os.environ.get("WELFARE_EVAL_DATA", PACKAGE_DIR / "data"))


def synthetic_dir() -> Path:
    """Default folder of the generated synthetic province."""
    return REPO_DIR / "data" / "synthetic"


def reports_dir() -> Path:
    """Default output root of report runs."""
    return Path(os.environ.get("WELFARE_EVAL_REPORTS", REPO_DIR / "reports"))


def notebooks_dir() -> Path:
    """Folder of the report notebooks."""
    return REPO_DIR / "notebooks"


#: Environment variable holding the secret key used to pseudonymize NIK numbers.
NIK_KEY_ENV = "WELFARE_EVAL_NIK_KEY"


def nik_key_file() -> Path:
    """Where a locally generated NIK key is kept when the environment gives none."""
    base = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config"))
    return base / "welfare-eval" / "nik.key"
