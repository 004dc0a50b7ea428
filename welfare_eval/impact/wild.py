"""The wild (cluster) bootstrap of one coefficient's t statistic, in numpy.

The same statistics as the ``wildboottest`` package (0.3) that pyfixest's ``Feols.wildboottest``,
``rwolf`` and ``wyoung`` call: the "11" bootstrap (residuals as they are, CR1 / HC1 statistics with
the small-sample factor ``(N-1)/(N-K)``, times ``G/(G-1)`` with clusters), the null imposed (WCR)
or not (WCU), Rademacher or Webb weights, and the two-sided p-value ``mean(|t| < |t*|)``. The
weights are drawn from ``numpy.random.default_rng(seed)`` by the same calls as that package's
``draw_weights``, so one seed gives the same bootstrap samples and the same p-values (up to
floating-point rounding of the t statistics); tests/reference/wild_reference.py makes the fixture
that checks it. The cluster bootstrap uses Roodman et al.'s (2019) algebra: the G x G matrix
behind every draw's numerator and CR1 variance is formed once, and all draws are one matrix product
(wildboottest compiles a numba loop on every call, about 0.3 s).

References
----------
Roodman, MacKinnon, Nielsen and Webb (2019), "Fast and wild: Bootstrap inference in Stata using
boottest", Stata Journal 19(1). Webb (2023), "Reworking wild bootstrap-based inference for clustered
errors", Canadian Journal of Economics 56(3).
"""
from __future__ import annotations

from itertools import product

import numpy as np

#: Webb's six-point distribution (wildboottest's order: the draws index into it).
WEBB_POINTS = np.concatenate([-np.sqrt(np.array([3, 2, 1]) / 2), np.sqrt(np.array([1, 2, 3]) / 2)])
#: Bootstrap t statistics are computed this many draws at a time without clusters (N x draws floats).
HC_CHUNK = 256


def draw_weights(weights_type: str, clusters: int, reps: int, seed: int) -> np.ndarray:
    """Cluster weights, ``clusters x draws``: Rademacher or Webb draws from ``default_rng(seed)``,
    or, for Rademacher weights when ``2**clusters < reps``, the full enumeration of the ``2**G``
    sign patterns (then there are ``2**G`` draws), as wildboottest does."""
    if weights_type == "rademacher" and 2**clusters < reps:
        return np.array(list(product([-1, 1], repeat=clusters))).T
    rng = np.random.default_rng(seed)
    points = [-1, 1] if weights_type == "rademacher" else WEBB_POINTS
    return rng.choice(points, size=clusters * reps, replace=True).reshape(clusters, reps)


def cluster_codes(cluster) -> tuple[np.ndarray, int]:
    """Codes 0..G-1 of the clusters in sorted order (the rows of :func:`draw_weights`), and G."""
    uniques, codes = np.unique(np.asarray(cluster), return_inverse=True)
    return codes.ravel(), len(uniques)


def _cluster_sums(values: np.ndarray, codes: np.ndarray, G: int) -> np.ndarray:
    """Column sums of ``values`` (N x m) within each cluster: G x m."""
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(G))
    return np.add.reduceat(values[order], starts, axis=0)


def cluster_t(X: np.ndarray, Y: np.ndarray, codes: np.ndarray, G: int, j: int, v: np.ndarray, *,
              impose_null: bool) -> tuple[float, np.ndarray]:
    """The CR1 t statistic of coefficient ``j`` (null 0) of the OLS of ``Y`` on ``X``, and its wild
    cluster bootstrap distribution over the weight columns of ``v`` (G x B).

    With ``q = (X'X)^-1 e_j``, the scores ``s_g = X_g' u_g`` of the restricted (WCR) or unrestricted
    (WCU) residuals and ``a_g = X_g' X_g q``: a draw ``w`` gives the numerator ``sum_g w_g q's_g`` and the
    variance ``c sum_g (w_g q's_g - sum_h w_h a_g' (X'X)^-1 s_h)^2`` (wildboottest's ``get_numer`` and
    ``get_denom``), ``c = (N-1)/(N-K) G/(G-1)``.
    """
    X = np.asarray(X, float)
    Y = np.asarray(Y, float).ravel()
    N, k = X.shape
    ssc = (N - 1) / (N - k) * G / (G - 1)
    XXinv = np.linalg.inv(X.T @ X)
    q = XXinv[:, j]
    beta = XXinv @ (X.T @ Y)
    u_hat = Y - X @ beta
    score_hat = _cluster_sums(X * u_hat[:, None], codes, G) @ q
    t = float(beta[j] / np.sqrt(ssc * np.sum(score_hat**2)))
    if impose_null:
        beta = beta - q * (beta[j] / q[j])
    u = Y - X @ beta
    S = _cluster_sums(X * u[:, None], codes, G)             # G x k scores
    A = _cluster_sums(X * (X @ q)[:, None], codes, G)        # G x k
    C = S @ q                                                # G
    H = A @ XXinv @ S.T                                      # G x G
    numer = C @ v
    Z = C[:, None] * v - H @ v
    return t, numer / np.sqrt(ssc * np.sum(Z * Z, axis=0))


def hetero_t(X: np.ndarray, Y: np.ndarray, j: int, reps: int, seed: int) -> tuple[float, np.ndarray]:
    """The HC1 t statistic of coefficient ``j`` (null 0) and its wild bootstrap distribution with the
    null imposed and Rademacher weights per observation (wildboottest's ``WildboottestHC``, whose
    draws, one ``rng.choice`` of N per draw, are repeated here)."""
    X = np.asarray(X, float)
    Y = np.asarray(Y, float).ravel()
    N, k = X.shape
    ssc = (N - 1) / (N - k)
    XXinv = np.linalg.inv(X.T @ X)
    q = XXinv[:, j]
    beta = XXinv @ (X.T @ Y)
    rx2 = (X @ q) ** 2                                       # (R (X'X)^-1 X')^2
    t = float(beta[j] / np.sqrt(ssc * rx2 @ (Y - X @ beta) ** 2))
    beta_r = beta - q * (beta[j] / q[j])
    fit = X @ beta_r
    u = Y - fit
    XXinvX = XXinv @ X.T
    rng = np.random.default_rng(seed)
    out = np.empty(reps)
    for start in range(0, reps, HC_CHUNK):
        b = min(HC_CHUNK, reps - start)
        V = np.stack([rng.choice([-1, 1], size=N, replace=True) for _ in range(b)], axis=1)
        Ystar = fit[:, None] + u[:, None] * V
        B = XXinvX @ Ystar
        R = Ystar - X @ B
        out[start:start + b] = B[j] / np.sqrt(ssc * rx2 @ R**2)
    return t, out


def two_sided_p(t: float, t_boot: np.ndarray) -> float:
    """Share of bootstrap statistics farther from zero than the observed one (wildboottest's
    ``two-tailed`` p-value)."""
    return float(np.mean(abs(t) < np.abs(t_boot)))


def romano_wolf(t: np.ndarray, t_boot: np.ndarray) -> np.ndarray:
    """Romano and Wolf (2005) stepdown p-values from the observed t statistics (S) and their joint
    bootstrap draws (B x S), with the ``(count + 1) / (B + 1)`` rule of pyfixest's ``rwolf``."""
    t, tb = np.abs(np.asarray(t, float)), np.abs(np.asarray(t_boot, float))
    B, S = tb.shape
    order = np.argsort(t)[::-1]
    p = np.empty(S)
    for s in range(S):
        max_stat = np.max(tb[:, order[s:]], axis=1)
        p[s] = min(1.0, (np.sum(max_stat >= t[order[s]]) + 1) / (B + 1))
    out = np.empty(S)
    out[order] = np.maximum.accumulate(p)
    return out


def westfall_young(p: np.ndarray, p_boot: np.ndarray) -> np.ndarray:
    """Westfall and Young (1993) free stepdown p-values from the observed p-values (S) and the
    bootstrap ones (B x S), as pyfixest's ``wyoung``."""
    p = np.asarray(p, float)
    order = np.argsort(p)
    Q = np.minimum.accumulate(np.asarray(p_boot, float)[:, order[::-1]], axis=1)[:, ::-1]
    pinit = np.less_equal(Q, p[order]).sum(axis=0) / Q.shape[0]
    out = np.empty(len(p))
    out[order] = np.maximum.accumulate(pinit)
    return out
