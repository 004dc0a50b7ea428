"""BPS's reading of the relative standard error (RSE = standard error / estimate), in one place.

Up to ``RSE_RELIABLE`` (25%) an estimate is reliable; over it and up to ``RSE_CAUTION`` (50%) it is
shown with a caution mark (*); over 50% it is not published alone (combine areas or model them,
e.g. small-area estimation). The report tables (``report.store.display_table``), the charts
(``plots.bar_with_intervals``), the workbooks (``report.excel``), the briefing and the kecamatan
estimates (``small_area``) all read these bands from here.

A zero estimate has no relative error (0/0 when its standard error is 0, as the linearized variance
of a rate with no sampled case is): the sample found no case, which says the rate is small, not that
it is zero. It gets an infinite RSE and so is not published, as BPS does not publish a rate its
sample cannot measure (docs/methods.md, "Reliability bands").
"""
from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

#: Up to this RSE an estimate is reliable (BPS).
RSE_RELIABLE = 0.25
#: Over RSE_RELIABLE and up to this, use with caution (marked *); over it, not published (BPS).
RSE_CAUTION = 0.50

Band = Literal["reliable", "caution", "unreliable", "none"]


def relative_se(estimate, std_error) -> np.ndarray:
    """Standard error / |estimate| per value: infinite for a zero estimate (not published), NaN where
    the estimate or the standard error is missing (no band: nothing to judge)."""
    est = pd.to_numeric(pd.Series(np.asarray(estimate, dtype=object).ravel()), errors="coerce").to_numpy(float)
    se = pd.to_numeric(pd.Series(np.asarray(std_error, dtype=object).ravel()), errors="coerce").to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(est == 0, np.inf, se / np.abs(est))
    return np.where(np.isnan(est) | np.isnan(se), np.nan, out)


def band(rse) -> np.ndarray:
    """``"reliable"``, ``"caution"`` or ``"unreliable"`` (not published) per RSE; ``"none"`` where it is NaN."""
    r = np.asarray(rse, dtype=float)
    return np.select([np.isnan(r), r <= RSE_RELIABLE, r <= RSE_CAUTION], ["none", "reliable", "caution"],
                     "unreliable")
