"""Errors and warnings of welfare-eval.

Errors subclass ``ValueError`` so callers that already catch it keep working. Every message has
one shape: what, where, how many, how to fix.
"""
from __future__ import annotations


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


def check_choice(value: object, choices: object, name: str, where: str) -> str:
    """``value`` if it is one of the ``Literal`` type ``choices``, else the uniform ParameterError."""
    import typing

    allowed = typing.get_args(choices)
    if value not in allowed:
        raise parameter_error(name, where, "one of " + ", ".join(repr(a) for a in allowed), value)
    return value  # type: ignore[return-value]
