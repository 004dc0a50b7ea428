"""Paths and defaults in one place.

What ships with the package and what a user makes are kept apart:

* **Shipped** (package data, read with :mod:`importlib.resources`): the reference data
  (``welfare_eval/data/``: region crosswalk, poverty lines, CPI, programme rules, column mappings,
  synthetic-data calibration), the report notebooks, the default run configuration and the docs.
  In a wheel they sit inside the package (``welfare_eval/notebooks``, ``/configs``, ``/docs``,
  mapped from the repository's top-level folders by ``pyproject.toml``); in a checkout they are
  read from those top-level folders, so there is one copy of each.
* **Made by the user** (the synthetic province, report runs): under the working folder
  (``data/synthetic/``, ``reports/``) or a path given, never next to the code. Readers look for
  them in the working folder and its parents, so a notebook opened in ``notebooks/`` finds the
  ``data/synthetic/`` of the project folder above it.

``WELFARE_EVAL_DATA`` points at another reference-data folder; ``WELFARE_EVAL_REPORTS`` at another
output root.
"""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

#: The environment variables that set BLAS's threads (OpenBLAS, OpenMP, MKL), read when numpy is
#: first imported: the runner gives each local kernel its share of the cores through them, and the
#: run cache keys on them.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

#: Confidence level used everywhere unless a caller asks for another.
DEFAULT_LEVEL = 0.95

#: Seed of the default synthetic province (the March 2024 SUSENAS round, as a number).
DEFAULT_SEED = 20240301

#: Minimum number of unweighted observations behind a published cell (disclosure control).
DEFAULT_MIN_CELL = 10

#: The installed package's folder (``importlib.resources`` gives a real folder for an unzipped install).
PACKAGE_DIR = Path(str(resources.files("welfare_eval")))
#: The checkout's root when the package runs from one (else the folder holding the installed package).
REPO_DIR = PACKAGE_DIR.parent

#: Where user outputs go, relative to the working folder.
SYNTHETIC_SUBDIR = Path("data") / "synthetic"
REPORTS_SUBDIR = Path("reports")


def _shipped(name: str) -> Path:
    """A shipped folder: inside the package (an installed wheel), else the checkout's top level."""
    inside = resources.files("welfare_eval") / name
    return Path(str(inside)) if inside.is_dir() else REPO_DIR / name


def data_dir() -> Path:
    """Folder of the shipped reference data (``welfare_eval/data/``)."""
    return Path(os.environ.get("WELFARE_EVAL_DATA") or _shipped("data"))


def notebooks_dir() -> Path:
    """Folder of the shipped report notebooks."""
    return _shipped("notebooks")


def configs_dir() -> Path:
    """Folder of the shipped run configurations (``report.yaml``, the default)."""
    return _shipped("configs")


def docs_dir() -> Path:
    """Folder of the shipped documentation (``running.md``, ``data.md``, ``methods.md``, ...)."""
    return _shipped("docs")


def find_upwards(relative: str | os.PathLike, start: str | os.PathLike | None = None) -> Path | None:
    """The first ``<folder>/relative`` that exists, for the working folder and then each parent."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / relative).exists():
            return folder / relative
    return None


def synthetic_dir() -> Path:
    """The synthetic province: the nearest ``data/synthetic/`` of the working folder or a parent,
    else ``data/synthetic/`` in the working folder (where ``welfare-eval synth`` writes it)."""
    return find_upwards(SYNTHETIC_SUBDIR) or Path.cwd() / SYNTHETIC_SUBDIR


def reports_dir() -> Path:
    """Output root of report runs: ``$WELFARE_EVAL_REPORTS``, else ``reports/`` in the working folder."""
    return Path(os.environ.get("WELFARE_EVAL_REPORTS") or Path.cwd() / REPORTS_SUBDIR)


#: Environment variable holding the secret key used to pseudonymize NIK numbers.
NIK_KEY_ENV = "WELFARE_EVAL_NIK_KEY"


def nik_key_file() -> Path:
    """Where a locally generated NIK key is kept when the environment gives none."""
    base = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config"))
    return base / "welfare-eval" / "nik.key"
