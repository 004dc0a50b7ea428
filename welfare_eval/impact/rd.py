"""Regression discontinuity at the PMT / decile threshold, on rdrobust and rddensity.

Sharp (``treatment=None``) or fuzzy (``treatment`` = receipt, jumping at the cut-off): local
polynomial estimates with MSE-optimal bandwidths and robust bias-corrected intervals (Calonico,
Cattaneo and Titiunik 2014), and the density (manipulation) test of Cattaneo, Jansson and Ma
(2020) attached as a diagnostic. The estimate reported is the conventional point estimate; its
interval is the robust bias-corrected one (as rdrobust recommends).
"""
from __future__ import annotations

import contextlib
import io

import numpy as np
import pandas as pd

from ..config import DEFAULT_LEVEL
from ..exceptions import DataValidationError, ParameterError
from ..results import Diagnostic, Estimate, check_level

#: Fewer effective observations than this on either side make the estimate unreliable.
MIN_SIDE = 20


def rd(data: pd.DataFrame, *, outcome: str, running: str, cutoff: float, treatment: str | None = None,
       level: float = DEFAULT_LEVEL, cluster: str | None = None) -> Estimate:
    """The effect at the cut-off (units below it are treated when the running variable is a PMT
    score ranked poorest-first: pass the data as is; the sign follows rdrobust's right-minus-left)."""
    import rddensity
    import rdrobust

    check_level(level, "rd")
    for c in (outcome, running) + ((treatment,) if treatment else ()) + ((cluster,) if cluster else ()):
        if c not in data.columns:
            raise ParameterError(f"Column {c!r} is not in the data.")
    d = data[[c for c in (outcome, running, treatment, cluster) if c]].dropna()
    x = d[running].to_numpy(float)
    y = d[outcome].to_numpy(float)
    left, right = int((x < cutoff).sum()), int((x >= cutoff).sum())
    if min(left, right) < MIN_SIDE:
        raise DataValidationError(f"Running variable {running!r} has {left} observations below and {right} above "
                                  f"the cut-off {cutoff:g}; at least {MIN_SIDE} on each side are needed.")
    kw = dict(y=y, x=x, c=cutoff, level=100 * level)
    if treatment:
        kw["fuzzy"] = d[treatment].to_numpy(float)
    if cluster:
        kw["cluster"] = pd.factorize(d[cluster])[0]
    with contextlib.redirect_stdout(io.StringIO()):
        r = rdrobust.rdrobust(**kw)
        dens = rddensity.rddensity(X=x, c=cutoff)
    est = float(r.coef.iloc[0, 0])
    se_rb = float(r.se.iloc[2, 0])
    ci = (float(r.ci.iloc[2, 0]), float(r.ci.iloc[2, 1]))
    n_eff = [int(v) for v in np.ravel(r.N_h)]
    p_dens = float(dens.test["p_jk"])
    diags = [Diagnostic("density_at_cutoff", p_dens, None if np.isnan(p_dens) else bool(p_dens >= 0.05),
                        f"Density test at the cut-off: p = {p_dens:.3f}; "
                        + ("no sign that households were sorted across the threshold."
                           if p_dens >= 0.05 else "households bunch on one side: the threshold may have been "
                                                  "manipulated, so the comparison at the cut-off is suspect."),
                        (("p", p_dens),)),
             Diagnostic("bandwidth", float(np.ravel(r.bws)[0]), min(n_eff) >= MIN_SIDE,
                        f"Bandwidth {float(np.ravel(r.bws)[0]):.4g} on each side of the cut-off, with {n_eff[0]} and "
                        f"{n_eff[1]} observations inside it"
                        + ("." if min(n_eff) >= MIN_SIDE else ": too few to trust the estimate."),
                        (("h", float(np.ravel(r.bws)[0])), ("left", n_eff[0]), ("right", n_eff[1])))]
    method = ("fuzzy" if treatment else "sharp") + " RD, local linear, robust bias-corrected interval (rdrobust)"
    return Estimate("LATE at the cut-off" if treatment else "effect at the cut-off", est, se_rb, len(d), method,
                    outcome=outcome, treatment=treatment or running, diagnostics=tuple(diags), ci=ci, ci_level=level,
                    notes=("std_error is the robust bias-corrected one; the interval is not estimate +- 1.96 se",))
