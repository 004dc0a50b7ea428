"""Studentized (bootstrap-t) intervals for AIPW when the comparison group is effectively small.

Why: with few effective comparison units and a rare binary outcome, the influence-function
standard error moves with the estimate (few comparison events give both a high estimate and a
small standard error), so estimate +- 1.96 se under-covers: 88% on the synthetic province's PKH
design (about 70 effective comparison households) and in a plain simulation of that design
(tests/reference/coverage_small_sample.py), 95% at five times the sample. Re-estimating the whole
AIPW (logit, outcome regressions, influence function) in each resample and studentizing captures
that dependence (Hall 1992, ch. 3): 94.5% in the same simulation and on the synthetic province
(docs/methods.md).

A resample is a vector of counts over the units (or clusters), so all draws are computed at once
as frequency-weighted fits: a batch of Newton steps and normal equations, no Python loop over
draws. With counts of one the batch gives the ordinary estimate exactly (tested), and counts give
the same numbers as the resampled rows they stand for (tested).
"""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse
from scipy.special import expit

#: Draws per block, so that draws x units stays near this many cells (memory stays under ~100 MB).
BLOCK_CELLS = 2_000_000
#: Newton steps for each draw's logit; the draws start at the full sample's coefficients.
MAX_NEWTON = 50
#: A draw whose outcome-regression or logit normal matrix is this ill-conditioned is dropped
#: (a resample with too few units of one arm in some covariate cell, or a separated logit).
MAX_CONDITION = 1e12
#: A draw's logit has converged when no coefficient moves by more than this, relative to the largest.
NEWTON_TOL = 1e-10


def _solve(A: np.ndarray, b: np.ndarray, ok: np.ndarray, check: bool = False) -> np.ndarray:
    """Batched solve of A x = b. Draws already marked bad in ``ok``, or found singular (by the
    condition number when ``check``, else when the batched solve fails), get zeros and are marked."""
    bad = ~ok | ~np.isfinite(A).all(axis=(1, 2))
    if check:
        bad[~bad] = np.linalg.cond(A[~bad]) > MAX_CONDITION
    A = np.where(bad[:, None, None], np.eye(A.shape[1]), A)
    try:
        x = np.linalg.solve(A, b[..., None])[..., 0]
    except np.linalg.LinAlgError:
        x = np.zeros(b.shape)
        for i in np.flatnonzero(~bad):
            try:
                x[i] = np.linalg.solve(A[i], b[i])
            except np.linalg.LinAlgError:
                bad[i] = True
    ok &= ~bad
    return np.where(bad[:, None], 0.0, x)


def _grams(W: np.ndarray, XX: np.ndarray, k: int) -> np.ndarray:
    """X' diag(w_b) X for each row w_b of W, as one matrix product with the rows' outer products."""
    return (W @ XX).reshape(len(W), k, k)


def aipw_draws(y: np.ndarray, d: np.ndarray, X: np.ndarray, C: np.ndarray, estimand: str, beta0: np.ndarray,
               clip: float, codes: np.ndarray | None = None, s: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """AIPW estimate and influence-function standard error for each row of counts ``C`` (draws x
    units): the same estimator as ``weighting.aipw`` with unit ``i`` counted ``C[b, i]`` times.
    ``codes`` (cluster of each unit) gives cluster-robust errors. ``s``: sampling weights; a unit
    drawn ``c`` times then counts ``c s_i`` in every sum, and ``c`` times ``(s_i infl_i)^2`` in the
    variance. Returns (estimates, standard errors, valid draws)."""
    B, n = C.shape
    Cn = C                                              # resampling counts (for the variance)
    if s is not None:
        C = C * s                                       # counts times sampling weights (for every sum)
    k = X.shape[1]
    XX = (X[:, :, None] * X[:, None, :]).reshape(n, k * k)
    N = C.sum(axis=1)                                   # units in each draw
    ok = np.ones(B, bool)
    # a draw without both arms in every covariate cell cannot fit the outcome regressions: found once here
    G0, G1 = _grams(C * (d == 0), XX, k), _grams(C * (d == 1), XX, k)
    for G in (G0, G1) if estimand == "ATE" else (G0,):
        _solve(G, np.zeros((B, k)), ok, check=True)
    beta = np.broadcast_to(beta0, (B, k)).copy()
    for _ in range(MAX_NEWTON):
        p = expit(beta @ X.T)
        H = _grams(C * p * (1 - p), XX, k)
        step = _solve(H, (C * (d - p)) @ X, ok)
        beta += step
        moving = np.abs(step).max(axis=1) >= NEWTON_TOL * np.maximum(1.0, np.abs(beta).max(axis=1))
        if not (moving & ok).any():
            break
    # A resample whose logit has no maximum (an arm separated by the covariates: the coefficients
    # still move after MAX_NEWTON steps, or the propensities reach 0 or 1 exactly and the Hessian is
    # singular) is dropped, as a resample without both arms in a covariate cell is above. Kept, its
    # value is whatever point the divergent steps reached, and that depends on rounding: the same
    # data and seed gave intervals differing in the third digit with one BLAS thread or two.
    ok &= ~moving
    p = expit(beta @ X.T)
    pc = np.clip(p, clip, 1 - clip)

    def arm_fit(arm, G):
        return _solve(G, (C * (d == arm) * y) @ X, ok) @ X.T

    m0 = arm_fit(0, G0)
    Nb = N[:, None]
    g_or: tuple[tuple[int, Any, np.ndarray, np.ndarray], ...]  # (arm, gradient, Gram matrices, fit) per arm
    if estimand == "ATE":
        m1 = arm_fit(1, G1)
        phi = m1 - m0 + d * (y - m1) / pc - (1 - d) * (y - m0) / (1 - pc)
        est = (C * phi).sum(axis=1) / N
        infl = phi - est[:, None]
        g_ps = (C * (-(d * (y - m1) * (1 - pc) / pc) - (1 - d) * (y - m0) * pc / (1 - pc))) @ X / Nb
        g_or = ((1, (C * (1 - d / pc)) @ X / Nb, G1, m1), (0, -(C * (1 - (1 - d) / (1 - pc))) @ X / Nb, G0, m0))
    else:
        w0 = (1 - d) * pc / (1 - pc)
        Bm, Em = (C * d).sum(axis=1) / N, (C * w0).sum(axis=1) / N
        resid = y - m0
        t1 = (C * d * resid).sum(axis=1) / N / Bm
        t0 = (C * w0 * resid).sum(axis=1) / N / Em
        est = t1 - t0
        infl = d * (resid - t1[:, None]) / Bm[:, None] - w0 * (resid - t0[:, None]) / Em[:, None]
        g_ps = -(C * w0 * (resid - t0[:, None])) @ X / Nb / Em[:, None]
        g_or = ((0, -(C * d) @ X / Nb / Bm[:, None] + (C * w0) @ X / Nb / Em[:, None], G0, m0),)
    H_ps = _grams(C * p * (1 - p), XX, k) / N[:, None, None]
    infl = infl + (d - p) * (_solve(H_ps, g_ps, ok, check=True) @ X.T)
    for arm, g, G, m in g_or:
        e = np.where(d == arm, y - m, 0.0)
        infl = infl + e * (_solve(G / N[:, None, None], g, ok) @ X.T)
    if s is not None:
        infl = infl * s                                 # the variance counts (s_i infl_i)^2 per draw of unit i
    if codes is None:
        se = np.sqrt((Cn * infl**2).sum(axis=1)) / N
    else:
        # cluster sums of the influence function; a cluster drawn k times counts k times (every
        # unit of a cluster carries its cluster's count)
        n_clusters = int(codes.max()) + 1
        member = sparse.csr_matrix((np.ones(n), (codes, np.arange(n))), shape=(n_clusters, n))
        per = np.asarray((member @ infl.T).T)           # draws x clusters
        kc = Cn[:, np.unique(codes, return_index=True)[1]]
        se = np.sqrt((kc * per**2).sum(axis=1)) / N
    ok &= np.isfinite(est) & np.isfinite(se) & (se > 0)
    return est, se, ok


def counts(rng: np.random.Generator, n: int, draws: int, codes: np.ndarray | None = None) -> np.ndarray:
    """Resampling counts (draws x units): units drawn with replacement, or whole clusters."""
    m = n if codes is None else int(codes.max()) + 1
    # m indices drawn per row, counted per row in one bincount (row b's indices offset by b * m)
    idx = rng.integers(0, m, (draws, m)) + (np.arange(draws) * m)[:, None]
    C = np.bincount(idx.ravel(), minlength=draws * m).reshape(draws, m).astype(float)
    return C if codes is None else C[:, codes]


def bootstrap_t(est: float, se: float, draw, n: int, draws: int, seed: int, level: float,
                codes: np.ndarray | None = None) -> tuple[tuple[float, float], float, int]:
    """Percentile-t interval and equal-tailed p-value from ``draws`` resamples; ``draw(C)``
    returns (estimates, standard errors, valid) for a block of counts. Returns (interval,
    p-value, valid draws)."""
    rng = np.random.default_rng(seed)
    block = max(1, BLOCK_CELLS // n)
    blocks = []
    for start in range(0, draws, block):
        C = counts(rng, n, min(block, draws - start), codes)
        e, s, ok = draw(C)
        blocks.append((e[ok] - est) / s[ok])  # invalid draws (s = 0) are never divided
    T = np.concatenate(blocks)
    a = (1 - level) / 2
    lo, hi = np.quantile(T, [a, 1 - a])
    t0 = est / se
    # under no effect the statistic est/se is a draw of T: equal-tailed, as the interval; counted
    # with the observed statistic among the draws, so it is never exactly zero
    tail = min(np.sum(T >= t0), np.sum(T <= t0))
    p = float(min(1.0, 2 * (tail + 1) / (T.size + 1)))
    return (float(est - hi * se), float(est - lo * se)), p, int(T.size)
