"""Errors and warnings of welfare-eval.

Errors subclass ``ValueError`` so callers that already catch it keep working. Every message has
one shape: what, where, how many, how to fix.
"""
from __future__ import annotations

from typing import Any


class WelfareEvalError(Exception):
    """Base class of the workbench's own errors."""


class DataValidationError(WelfareEvalError, ValueError):
    """Input data break the data contract. ``report`` holds every finding."""

    def __init__(self, message: str, report=None):
        super().__init__(message)
        self.report = report


class ParameterError(WelfareEvalError, ValueError):
    """A parameter of a function, notebook or run has a value that is not allowed."""


class RunError(WelfareEvalError, RuntimeError):
    """A report run could not start or finish."""


class WelfareEvalWarning(UserWarning):
    """Base class of the workbench's warnings."""


class DataQualityWarning(WelfareEvalWarning):
    """Data pass the contract but something deserves a reader's attention."""


def parameter_error(name: str, where: str, allowed: str, got: object) -> ParameterError:
    """The uniform message for a bad parameter value.

    "The 'scale' parameter of synth must be a number > 0. Got -1 instead."
    """
    return ParameterError(f"The {name!r} parameter of {where} must be {allowed}. Got {got!r} instead.")


class FileFormatError(DataValidationError):
    """A file cannot be read as the table it should hold (empty, truncated, mislabelled, wrong encoding).

    Invalid data: the command-line exit code is 1, like any other :class:`DataValidationError`.
    """


class MappingError(ParameterError):
    """A column mapping (YAML) is malformed; the message lists every problem at once. Exit code 2."""


class NikKeyError(ParameterError):
    """The secret key of the NIK pseudonyms is missing, too short or readable by others. Exit code 2."""


class MissingDependencyError(WelfareEvalError, ImportError):
    """An optional part of the workbench needs a package that is not installed (an extra)."""


def missing_extra(feature: str, package: str, extra: str) -> MissingDependencyError:
    """The uniform message for an optional package that is missing.

    "The wild cluster bootstrap needs the optional package 'wildboottest', which is not installed
    in this environment. Install the extra: pip install 'welfare-eval[wildboot]' (make setup
    installs it)."
    """
    return MissingDependencyError(
        f"{feature} needs the optional package {package!r}, which is not installed in this environment. "
        f"Install the extra: pip install 'welfare-eval[{extra}]' (make setup installs it).")


def check_choice(value: object, choices: object, name: str, where: str) -> Any:
    """``value`` if it is one of the ``Literal`` type ``choices``, else the uniform ParameterError.

    Typed ``Any``: the value is one of ``choices``, a member of the caller's ``Literal`` type, which
    the annotations cannot pass through a runtime argument."""
    import typing

    allowed = typing.get_args(choices)
    if value not in allowed:
        raise parameter_error(name, where, "one of " + ", ".join(repr(a) for a in allowed), value)
    return value
