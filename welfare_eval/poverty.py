"""Poverty and inequality measures (point values on arrays).

The design-based estimators with standard errors build on these.
"""
from __future__ import annotations

import numpy as np


def fgt_value(welfare: np.ndarray, poverty_line, weights: np.ndarray, alpha: int = 0) -> float:
    """Foster-Greer-Thorbecke index: ``sum w (1 - y/z)^alpha 1[y < z] / sum w``.

    References
    ----------
    Foster, Greer and Thorbecke (1984), "A class of decomposable poverty measures",
    Econometrica 52(3), 761-766.
    """
    y = np.asarray(welfare, float)
    z = np.broadcast_to(np.asarray(poverty_line, float), y.shape)
    w = np.asarray(weights, float)
    gap = np.where(y < z, 1.0 - y / z, 0.0)
    val = (y < z).astype(float) if alpha == 0 else gap**alpha
    return float(np.sum(w * val) / np.sum(w))


def gini_value(welfare: np.ndarray, weights: np.ndarray) -> float:
    """Weighted Gini coefficient from the trapezoid Lorenz curve.

    ``G = 1 - sum_i (w_i / W) (L_{i-1} + L_i)`` with ``L`` the Lorenz ordinates of the sorted
    welfare; equal to ``sum_i sum_j w_i w_j |y_i - y_j| / (2 W^2 mean)``.

    References
    ----------
    Lerman and Yitzhaki (1984), "A note on the calculation and interpretation of the Gini index",
    Economics Letters 15, 363-368.
    """
    y = np.asarray(welfare, float)
    w = np.asarray(weights, float)
    order = np.argsort(y, kind="stable")
    y, w = y[order], w[order]
    wy = w * y
    total = wy.sum()
    cum = np.cumsum(wy)
    lorenz_sum = (2.0 * cum - wy) / total
    return float(1.0 - np.sum(w * lorenz_sum) / w.sum())
