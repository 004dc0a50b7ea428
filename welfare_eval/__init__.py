"""welfare-eval: evaluation workbench for social assistance (PKH, BPNT) and TKSK accompaniment.

The public names below are the package's curated interface; see the README for the reports.
"""
from __future__ import annotations

__version__ = "0.1.0"

from .config import DEFAULT_LEVEL  # noqa: E402
from .exceptions import DataValidationError, ParameterError, RunError, WelfareEvalWarning  # noqa: E402
from .io import Dataset, load_dataset, load_table, validate_file  # noqa: E402
from .validation import ValidationReport, validate  # noqa: E402

__all__ = [
    "__version__", "DEFAULT_LEVEL", "DataValidationError", "ParameterError", "RunError", "WelfareEvalWarning",
    "Dataset", "load_dataset", "load_table", "validate_file", "ValidationReport", "validate",
]
