"""welfare-eval: evaluation workbench for social assistance (PKH, BPNT) and TKSK accompaniment.

The public names below are the package's curated interface; see the README for the reports.
"""
from __future__ import annotations

__version__ = "0.1.0"

from typing import TYPE_CHECKING

from .config import DEFAULT_LEVEL  # noqa: E402
from .exceptions import DataValidationError, ParameterError, RunError, WelfareEvalWarning  # noqa: E402

if TYPE_CHECKING:
    from .io import Dataset, load_dataset, load_table, validate_file
    from .validation import ValidationReport, validate

#: Public names from modules that import numpy and pandas, loaded when first used: importing
#: ``welfare_eval.exceptions`` (pytest's warning filter does, before any conftest) then does not
#: load numpy, which fixes its BLAS thread count at its first import.
_LAZY = {"Dataset": "io", "load_dataset": "io", "load_table": "io", "validate_file": "io",
         "ValidationReport": "validation", "validate": "validation"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "__version__", "DEFAULT_LEVEL", "DataValidationError", "ParameterError", "RunError", "WelfareEvalWarning",
    "Dataset", "load_dataset", "load_table", "validate_file", "ValidationReport", "validate",
]
