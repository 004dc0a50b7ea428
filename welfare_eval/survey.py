"""Design-based estimation for stratified multi-stage samples (SUSENAS and the like).

Every estimator here is a smooth function of weighted totals. Its variance is the variance of the
estimated total of its linearized (influence) variable ``u_i`` under the design, with the
with-replacement approximation at the first stage, as R's survey package computes by default:

    V = sum_h (1 - f_h) n_h / (n_h - 1) sum_i (t_hi - mean_h t)^2,   t_hi = sum_{k in PSU hi} w_k u_k

Domains are subpopulations of the full design: ``u`` is zero outside the domain and every PSU of a
stratum counts in ``n_h``, whether or not it has domain members (Cochran 1977, 2.13; Lumley 2010,
3.4). Intervals use Student t with the design degrees of freedom (PSUs minus strata).

A stratum with one PSU is an error unless ``lonely_psu`` says what to do, with R's options:
``"remove"`` and ``"certainty"`` (it contributes nothing), ``"adjust"`` (its PSU is centred at the
overall mean, zero, instead of the stratum mean), ``"average"`` (the variance is scaled up by
strata / strata with two or more PSUs, counting for a domain only the strata it reaches, as R
does through its subset designs).

Replicate weights (``replicates="jackknife"``, JKn, or ``"bootstrap"``, Rao-Wu rescaling) are the
alternative; the variance is computed around the mean of the replicate estimates, as R's
``svrepdesign`` does by default (``mse = FALSE``).

References
----------
Lumley (2010), Complex Surveys: A Guide to Analysis Using R. Wiley.
Wolter (2007), Introduction to Variance Estimation, 2nd ed. Springer.
Rao and Wu (1988), "Resampling inference with complex survey data", JASA 83, 231-241.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable, Literal, Sequence

import numpy as np
import pandas as pd

from .config import DEFAULT_LEVEL
from .exceptions import DataValidationError, ParameterError, parameter_error
from .results import CIMethod, EstimateTable, check_ci_method, check_level

LonelyPSU = Literal["fail", "remove", "certainty", "adjust", "average"]
LONELY_PSU = ("fail", "remove", "certainty", "adjust", "average")
REPLICATES = (None, "jackknife", "bootstrap")


@dataclass(frozen=True)
class SurveyDesign:
    """Names of the design columns of a survey table.

    Parameters
    ----------
    weights : str, optional
        Expansion weights (inverse inclusion probabilities); None means equal weights.
    strata : str, optional
        First-stage strata; None means one stratum.
    psu : str, optional
        Primary sampling units, nested in strata (codes may repeat across strata); None means
        each row is its own PSU.
    fpc : str, optional
        Finite population correction per row: the number of PSUs in the population stratum
        (>= 1) or the first-stage sampling fraction (< 1). None: with replacement.
    lonely_psu : {"fail", "remove", "certainty", "adjust", "average"}
        What a stratum with a single PSU contributes to the variance (see the module notes).
    replicates : {None, "jackknife", "bootstrap"}
        Use replicate weights instead of linearization.
    n_replicates, seed : int
        Number of bootstrap replicates and their random seed.
    """

    weights: str | None = None
    strata: str | None = None
    psu: str | None = None
    fpc: str | None = None
    lonely_psu: LonelyPSU = "fail"
    replicates: Literal[None, "jackknife", "bootstrap"] = None
    n_replicates: int = 200
    seed: int = 0

    def __post_init__(self):
        if self.lonely_psu not in LONELY_PSU:
            raise parameter_error("lonely_psu", "SurveyDesign", f"one of {LONELY_PSU}", self.lonely_psu)
        if self.replicates not in REPLICATES:
            raise parameter_error("replicates", "SurveyDesign", f"one of {REPLICATES}", self.replicates)
        if isinstance(self.n_replicates, bool) or not isinstance(self.n_replicates, int) or self.n_replicates < 2:
            raise parameter_error("n_replicates", "SurveyDesign", "a whole number >= 2", self.n_replicates)

    def columns(self) -> list[str]:
        return [c for c in (self.weights, self.strata, self.psu, self.fpc) if c]


#: The design of the survey table of the data contract (docs/data.md).
SUSENAS = SurveyDesign(weights="weight", strata="strata", psu="psu")


@dataclass(frozen=True)
class Prepared:
    """A design turned into arrays for one data frame."""

    w: np.ndarray            # weights (n,)
    psu: np.ndarray          # PSU index (n,), PSUs numbered stratum by stratum
    n_psu_h: np.ndarray      # PSUs per stratum (H,)
    psu_start: np.ndarray    # first PSU index of each stratum (H,)
    fpc_h: np.ndarray        # 1 - sampling fraction per stratum (H,)
    df: float                # design degrees of freedom
    design: SurveyDesign
    stratum: np.ndarray      # stratum index (n,)

    @property
    def n(self) -> int:
        return len(self.w)

    @property
    def n_psu(self) -> int:
        return int(self.n_psu_h.sum())


#: Integer codes spanning at most this many values are coded by a lookup table (O(n), no sort).
LOOKUP_SPAN = 50_000_000


def int_codes(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes 0..k-1 of an integer array in increasing order of its values, and the values."""
    lo, hi = int(x.min()), int(x.max())
    if hi - lo < LOOKUP_SPAN:
        present = np.zeros(hi - lo + 1, dtype=bool)
        present[x - lo] = True
        rank = np.cumsum(present) - 1
        return rank[x - lo], np.flatnonzero(present) + lo
    codes, uniques = pd.factorize(x, sort=True)
    return codes, np.asarray(uniques)


def _codes(s: pd.Series) -> np.ndarray:
    """Codes of a column (any consistent numbering; sorted values for numbers and categories)."""
    if len(s) and pd.api.types.is_integer_dtype(s.dtype) and not isinstance(s.dtype, pd.CategoricalDtype):
        return int_codes(s.to_numpy())[0]
    if isinstance(s.dtype, pd.CategoricalDtype) and not s.isna().any():
        return int_codes(s.cat.codes.to_numpy().astype(np.int64))[0]
    return pd.factorize(s, sort=True)[0]


_REUSE: ContextVar[dict | None] = ContextVar("welfare_eval_reuse", default=None)


@contextmanager
def reuse_prepared():
    """Within the block, prepared designs and domains are computed once per data frame.

    For functions that compute many indicators on the same frame (``indicator_table``); the
    frame must not change inside the block.
    """
    token = _REUSE.set({})
    try:
        yield
    finally:
        _REUSE.reset(token)


def _memo(kind: str, data: pd.DataFrame, key, build):
    cache = _REUSE.get()
    if cache is None:
        return build()
    k = (kind, id(data), key)
    if k not in cache:
        cache[k] = (data, build())  # holding the frame keeps its id from being reused
    return cache[k][1]


def prepare(data: pd.DataFrame, design: SurveyDesign | None) -> Prepared:
    """Check the design columns once and turn them into arrays."""
    return _memo("design", data, design, lambda: _prepare(data, design))


def _prepare(data: pd.DataFrame, design: SurveyDesign | None) -> Prepared:
    design = design or SurveyDesign()
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame. Got {type(data).__name__} instead.")
    missing = [c for c in design.columns() if c not in data.columns]
    if missing:
        raise DataValidationError(f"Design column(s) {', '.join(map(repr, missing))} not in the data; "
                                  f"columns present: {', '.join(map(str, data.columns[:20]))}.")
    n = len(data)
    if design.weights:
        w = pd.to_numeric(data[design.weights], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(w) | (w <= 0)
        if bad.any():
            rows = ", ".join(str(i + 1) for i in np.flatnonzero(bad)[:5])
            kinds = []
            if np.isnan(w).any():
                kinds.append(f"{int(np.isnan(w).sum())} missing")
            if (w == 0).any():
                kinds.append(f"{int((w == 0).sum())} zero")
            if (w < 0).any():
                kinds.append(f"{int((w < 0).sum())} negative")
            raise DataValidationError(
                f"Column {design.weights!r} (weights) has {', '.join(kinds) or 'non-finite'} values "
                f"(rows {rows}{', ...' if bad.sum() > 5 else ''}); weights must be positive numbers. "
                "Drop those rows or fix the weights before estimating.")
    else:
        w = np.ones(n)
    for col in (design.strata, design.psu):
        if col and data[col].isna().any():
            rows = ", ".join(str(i + 1) for i in np.flatnonzero(data[col].isna().to_numpy())[:5])
            raise DataValidationError(f"Design column {col!r} has {int(data[col].isna().sum())} missing values "
                                      f"(rows {rows}); every row needs its stratum and PSU.")
    stratum = _codes(data[design.strata]) if design.strata else np.zeros(n, dtype=np.int64)
    if design.psu:
        psu_raw = _codes(data[design.psu])
        # nested: a PSU is the pair (stratum, psu code); number them stratum by stratum
        key = stratum.astype(np.int64) * (int(psu_raw.max()) + 1 if n else 1) + psu_raw
        psu = int_codes(key)[0] if n else key
    else:
        psu = np.argsort(np.argsort(stratum, kind="stable"), kind="stable")  # each row its own PSU
    n_strata = int(stratum.max()) + 1 if n else 0
    psu_stratum = np.zeros(int(psu.max()) + 1 if n else 0, dtype=np.int64)
    psu_stratum[psu] = stratum
    n_psu_h = np.bincount(psu_stratum, minlength=n_strata)
    psu_start = np.concatenate([[0], np.cumsum(n_psu_h)[:-1]]) if n_strata else np.zeros(0, dtype=np.int64)
    fpc_h = np.ones(n_strata)
    if design.fpc:
        f = pd.to_numeric(data[design.fpc], errors="coerce").to_numpy(dtype=float)
        if not np.isfinite(f).all() or (f <= 0).any():
            raise DataValidationError(f"Column {design.fpc!r} (fpc) must be positive numbers in every row.")
        fh = np.zeros(n_strata)
        fh[stratum] = f
        pop = np.where(fh < 1, n_psu_h / np.where(fh < 1, fh, 1), fh)  # a fraction gives N_h = n_h / f
        if (pop < n_psu_h - 1e-9).any():
            raise DataValidationError(f"Column {design.fpc!r}: a stratum has more sampled PSUs than its population "
                                      "count; give the number of PSUs in the population stratum.")
        fpc_h = (pop - n_psu_h) / pop
    lonely = np.flatnonzero(n_psu_h == 1)
    if lonely.size and design.lonely_psu == "fail" and design.replicates is None:
        labels = (pd.factorize(data[design.strata], sort=True)[1][lonely] if design.strata else lonely)
        raise DataValidationError(
            f"{lonely.size} stratum/strata with a single PSU ({', '.join(map(str, labels[:5]))}); a variance needs two "
            "PSUs per stratum. Collapse the stratum with a neighbour, or choose SurveyDesign(lonely_psu=...) "
            "from 'remove', 'certainty', 'adjust', 'average'.")
    return Prepared(w=w, psu=psu, n_psu_h=n_psu_h, psu_start=psu_start, fpc_h=fpc_h,
                    df=float(n_psu_h.sum() - n_strata), design=design, stratum=stratum)


# ------------------------------------------------------------------------------------------------
# variance of linearized totals, for many domains at once

def cell_totals(values: np.ndarray, domain: np.ndarray, n_domains: int, prep: Prepared) -> np.ndarray:
    """Weighted totals ``sum w_i v_i`` in each (domain, PSU) cell: a (domains x PSUs) matrix.

    Rows with domain -1 count nowhere. Every linearized variance below is built from such cells.
    """
    return _memo("cells", values, (id(domain), n_domains, id(prep)),
                 lambda: _cell_totals(values, domain, n_domains, prep))


def _cell_totals(values: np.ndarray, domain: np.ndarray, n_domains: int, prep: Prepared) -> np.ndarray:
    P = prep.n_psu
    if (domain >= 0).all():
        key = _memo("psu_key", prep, id(domain), lambda: domain.astype(np.int64) * P + prep.psu)
        return np.bincount(key, weights=prep.w * values, minlength=n_domains * P).reshape(n_domains, P)
    ok = domain >= 0
    key = domain[ok].astype(np.int64) * P + prep.psu[ok]
    return np.bincount(key, weights=(prep.w * values)[ok], minlength=n_domains * P).reshape(n_domains, P)


def variance_of_psu_totals(t: np.ndarray, domain: np.ndarray, prep: Prepared) -> np.ndarray:
    """Design variance per domain from the PSU totals ``t`` (domains x PSUs) of a linearized variable."""
    n_domains, P = t.shape
    n_h = prep.n_psu_h
    starts = prep.psu_start
    s1 = np.add.reduceat(t, starts, axis=1) if P else np.zeros((n_domains, 0))
    s2 = np.add.reduceat(t * t, starts, axis=1) if P else np.zeros((n_domains, 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        centred = s2 - s1 * s1 / n_h  # sum over PSUs of (t - mean_h)^2
        contrib = np.where(n_h > 1, n_h / (n_h - 1) * centred, 0.0) * prep.fpc_h
    lonely = n_h == 1
    if lonely.any():
        rule = prep.design.lonely_psu
        if rule == "adjust":
            contrib[:, lonely] = s2[:, lonely] * prep.fpc_h[lonely]  # centred at the overall mean, zero
        elif rule == "average":
            # as R: the sum over strata with two or more PSUs, scaled by (strata the domain reaches) /
            # (those of them with two or more PSUs)
            H = len(n_h)
            ok = domain >= 0
            present = np.bincount(domain[ok].astype(np.int64) * H + prep.stratum[ok],
                                  minlength=n_domains * H).reshape(n_domains, H) > 0
            reached = present.sum(axis=1)
            usable = (present & ~lonely).sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                return contrib.sum(axis=1) * np.where(usable > 0, reached / usable, np.nan)
    return contrib.sum(axis=1)


def linearized_variance(scores: np.ndarray, domain: np.ndarray, n_domains: int, prep: Prepared) -> np.ndarray:
    """Design variance of ``sum_i w_i u_i`` for each domain.

    ``scores`` are the linearized variables ``u_i`` (zero outside the row's domain is implied:
    each row contributes only to ``domain[i]``; rows with domain -1 contribute nowhere).
    """
    return variance_of_psu_totals(cell_totals(scores, domain, n_domains, prep), domain, prep)


def ratio_cells(a: np.ndarray, b: np.ndarray | None, dom: "Domains", prep: Prepared
                ) -> tuple[np.ndarray, np.ndarray]:
    """Estimates of ``sum w a / sum w b`` (or the total ``sum w a``) by domain, and the PSU totals of
    their linearized variables, from (domain, PSU) cell totals: no per-row scores are formed.

    ``t_dp = (A_dp - R_d B_dp) / B_d`` is the PSU total of ``u_i = (a_i - R_d b_i) / B_d``.
    """
    A = cell_totals(a, dom.codes, dom.n, prep)
    if b is None:
        return A.sum(axis=1), A
    B = cell_totals(b, dom.codes, dom.n, prep)
    Bd = B.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        est = A.sum(axis=1) / Bd
        t = (A - est[:, None] * B) / Bd[:, None]
    return est, t


def replicate_weights(prep: Prepared) -> tuple[np.ndarray, np.ndarray, float]:
    """Replicate weights (n x R), per-replicate scales ``rscales`` and the overall ``scale``.

    JKn: drop one PSU, multiply its stratum's other PSUs by n_h/(n_h - 1); rscale (n_h - 1)/n_h.
    Bootstrap (Rao-Wu): per stratum draw n_h - 1 PSUs with replacement, weight x n_h/(n_h - 1) x
    times drawn; scale 1/R.
    """
    d = prep.design
    n_h = prep.n_psu_h
    psu_stratum = np.repeat(np.arange(len(n_h)), n_h)
    if d.replicates == "jackknife":
        P = prep.n_psu
        reps = np.empty((prep.n, P))
        rscales = np.empty(P)
        for r in range(P):
            h = psu_stratum[r]
            factor = np.ones(prep.n)
            in_h = prep.stratum == h
            if n_h[h] > 1:
                factor[in_h] = n_h[h] / (n_h[h] - 1)
            factor[prep.psu == r] = 0.0
            reps[:, r] = prep.w * factor
            rscales[r] = (n_h[h] - 1) / n_h[h] * prep.fpc_h[h] if n_h[h] > 1 else 0.0
        return reps, rscales, 1.0
    rng = np.random.default_rng(d.seed)
    R = d.n_replicates
    reps = np.empty((prep.n, R))
    for r in range(R):
        mult = np.zeros(prep.n_psu)
        for start, m in zip(prep.psu_start, n_h):
            if m < 2:
                mult[start:start + m] = 1.0
                continue
            counts = np.bincount(rng.integers(0, m, m - 1), minlength=m)
            mult[start:start + m] = counts * m / (m - 1)
        reps[:, r] = prep.w * mult[prep.psu]
    return reps, np.ones(R), 1.0 / R


def replicate_variance(estimator: Callable[[np.ndarray], np.ndarray], prep: Prepared) -> np.ndarray:
    """Variance of ``estimator(weights)`` (a vector per domain) from replicate weights."""
    reps, rscales, scale = replicate_weights(prep)
    thetas = np.array([estimator(reps[:, r]) for r in range(reps.shape[1])])
    centre = np.nanmean(thetas, axis=0)
    return scale * np.nansum(rscales[:, None] * (thetas - centre) ** 2, axis=0)


# ------------------------------------------------------------------------------------------------
# domains

@dataclass(frozen=True)
class Domains:
    codes: np.ndarray        # domain of each row (n,), -1 for rows in no domain
    frame: pd.DataFrame      # one row per domain: the values of the `by` columns
    columns: tuple[str, ...]

    @property
    def n(self) -> int:
        return len(self.frame)

    @cached_property
    def nobs(self) -> np.ndarray:
        """Rows in each domain."""
        return np.bincount(self.codes[self.codes >= 0], minlength=self.n)


def domains(data: pd.DataFrame, by: str | Sequence[str] | None) -> Domains:
    """Rows grouped by the values of ``by`` (None: one domain, the whole sample)."""
    key = by if by is None or isinstance(by, str) else tuple(by)
    return _memo("domains", data, key, lambda: _domains(data, by))


def _domains(data: pd.DataFrame, by) -> Domains:
    if by is None:
        return Domains(np.zeros(len(data), dtype=np.int64), pd.DataFrame(index=[0]), ())
    cols = (by,) if isinstance(by, str) else tuple(by)
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise ParameterError(f"The 'by' parameter names column(s) {', '.join(map(repr, missing))} that are not "
                             f"in the data; columns present: {', '.join(map(str, data.columns[:20]))}.")
    if len(cols) == 1 and len(data):
        col = data[cols[0]]
        if pd.api.types.is_integer_dtype(col.dtype) and not isinstance(col.dtype, pd.CategoricalDtype):
            codes, values = int_codes(col.to_numpy())
            return Domains(codes.astype(np.int64), pd.DataFrame({cols[0]: values.astype(col.dtype)}), cols)
    # categorical columns keep their unobserved categories: an empty domain is reported (NaN, noted)
    observed = not any(isinstance(data[c].dtype, pd.CategoricalDtype) for c in cols)
    g = data.groupby(list(cols), sort=True, observed=observed, dropna=False)
    codes = g.ngroup().to_numpy()
    frame = g.size().reset_index()[list(cols)]
    return Domains(codes.astype(np.int64), frame, cols)


# ------------------------------------------------------------------------------------------------
# ratio-type estimators: mean, proportion, ratio, total

def numeric(data: pd.DataFrame, column: str, *, role: str) -> np.ndarray:
    """A column as float, with a clear error for text or missing values (read-only result)."""
    if column not in data.columns:
        raise ParameterError(f"The {role!r} column {column!r} is not in the data; columns present: "
                             f"{', '.join(map(str, data.columns[:20]))}.")
    return _memo("numeric", data, column, lambda: _numeric(data, column, role))


def _numeric(data: pd.DataFrame, column: str, role: str) -> np.ndarray:
    if column not in data.columns:
        raise ParameterError(f"The {role!r} column {column!r} is not in the data; columns present: "
                             f"{', '.join(map(str, data.columns[:20]))}.")
    s = data[column]
    if pd.api.types.is_bool_dtype(s):
        return s.to_numpy(dtype=float)
    if pd.api.types.is_numeric_dtype(s.dtype) and not isinstance(s.dtype, pd.CategoricalDtype):
        x = s.to_numpy(dtype=float, na_value=np.nan)
        if not np.isnan(x).any():
            return x
    num = pd.to_numeric(s, errors="coerce")
    bad = num.isna() & s.notna()
    if bad.any():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(bad.to_numpy())[:5])
        raise DataValidationError(f"Column {column!r} ({role}) has {int(bad.sum())} values that are not numbers "
                                  f"(rows {rows}); convert or drop them before estimating.")
    if num.isna().any():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(num.isna().to_numpy())[:5])
        raise DataValidationError(f"Column {column!r} ({role}) has {int(num.isna().sum())} missing values "
                                  f"(rows {rows}); drop those rows or impute them before estimating.")
    return num.to_numpy(dtype=float)


def ratio_estimate(a: np.ndarray, b: np.ndarray | None, dom: Domains, prep: Prepared, *,
                   weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estimates sum w a / sum w b (or the total sum w a when b is None) by domain.

    Returns the estimates, the linearized scores of each row (for its own domain) and the
    denominators; uses ``weights`` instead of the design weights when given (replicates).
    """
    w = prep.w if weights is None else weights
    D = dom.n
    c = dom.codes
    ok = c >= 0
    if ok.all():
        num = np.bincount(c, weights=w * a, minlength=D)
        if b is None:
            return num, a, np.ones(D)
        den = np.bincount(c, weights=w * b, minlength=D)
        with np.errstate(divide="ignore", invalid="ignore"):
            est = num / den
            return est, (a - est[c] * b) / den[c], den
    c = np.where(ok, c, 0)
    num = np.bincount(c[ok], weights=(w * a)[ok], minlength=D)
    if b is None:
        return num, a * ok, np.ones(D)
    den = np.bincount(c[ok], weights=(w * b)[ok], minlength=D)
    with np.errstate(divide="ignore", invalid="ignore"):
        est = num / den
        scores = np.where(ok, (a - est[c] * b) / den[c], 0.0)
    return est, scores, den


def deff_srs(a: np.ndarray, b: np.ndarray | None, est: np.ndarray, var: np.ndarray, dom: Domains,
             prep: Prepared, nobs: np.ndarray) -> np.ndarray:
    """Design effect against simple random sampling without replacement of the same size (R's default)."""
    if b is None:
        return np.full(dom.n, np.nan)
    ok = dom.codes >= 0
    c = np.where(ok, dom.codes, 0)
    w = prep.w
    # the mean of y = a/b per unit of b; for b = 1 this is R's svyvar-based deff of svymean
    wb = w * b
    N = np.bincount(c[ok], weights=wb[ok], minlength=dom.n)
    y = np.where(b != 0, a / np.where(b != 0, b, 1), 0.0)
    ss = np.bincount(c[ok], weights=(wb * (y - est[c]) ** 2)[ok], minlength=dom.n)
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = ss / N * nobs / (nobs - 1)
        vsrs = s2 * (N - nobs) / (N * nobs)
        return var / vsrs


def estimate_table(estimand: str, est: np.ndarray, var: np.ndarray, dom: Domains, prep: Prepared, *,
                   level: float, method: str, extra: dict | None = None, notes: tuple[str, ...] = ()) -> EstimateTable:
    nobs = dom.nobs
    est = np.where(nobs == 0, np.nan, est)
    se = np.where(nobs == 0, np.nan, np.sqrt(var))
    cols: dict[str, Any] = {"estimand": np.full(dom.n, estimand, dtype=object)}
    cols.update({c: dom.frame[c].to_numpy() for c in dom.columns})
    cols.update(estimate=est, std_error=se, ci_lower=np.nan, ci_upper=np.nan, level=level, nobs=nobs, method=method,
                df=prep.df if prep.design.replicates is None else float(prep.n_psu - len(prep.n_psu_h)))
    cols.update(extra or {})
    cols["notes"] = np.select(
        [nobs == 0, ~np.isfinite(est), se == 0],
        ["empty domain: no observations",
         "not computable: the denominator is zero in this domain",
         "no variation in this domain (for example no sampled case): a zero standard error is not certainty"],
        "")
    frame = pd.DataFrame(cols)
    return EstimateTable(frame, group_columns=dom.columns, level=level, notes=notes)


def share_columns(dom: Domains, prep: Prepared, support: np.ndarray | None, ci_method: str) -> dict:
    """The columns that let a table give a share its own interval (``results.share_interval``).

    ``ci_n``: sampled rows behind the share in each domain (rows where its denominator is not
    zero, ``support``; None: every row of the domain); ``ci_df``: their PSUs minus their strata,
    as ``degf()`` of R's subset design (with replicate weights: the design's degrees of freedom).
    """
    ok = dom.codes >= 0
    if support is not None:
        ok = ok & np.asarray(support, bool)
    code = dom.codes[ok].astype(np.int64)
    n = np.bincount(code, minlength=dom.n)
    if prep.design.replicates:
        df = np.full(dom.n, float(prep.n_psu - len(prep.n_psu_h)))
    else:
        psus = np.unique(code * prep.n_psu + prep.psu[ok])
        strata = np.unique(code * max(len(prep.n_psu_h), 1) + prep.stratum[ok])
        df = (np.bincount(psus // prep.n_psu, minlength=dom.n)
              - np.bincount(strata // max(len(prep.n_psu_h), 1), minlength=dom.n)).astype(float) if len(code) \
            else np.zeros(dom.n)
    return {"ci_method": np.full(dom.n, ci_method, dtype=object), "ci_n": n, "ci_df": df}


def _method(prep: Prepared) -> str:
    d = prep.design
    if d.replicates:
        return f"replicate weights ({d.replicates})"
    return "Taylor linearization" if (d.strata or d.psu or d.weights) else "simple random sampling"


def ratio_family(a: np.ndarray, b: np.ndarray | None, data: pd.DataFrame, *, design: SurveyDesign | None,
                 by, level: float, estimand: str, prep: Prepared | None = None, deff: bool = False,
                 ci_method: CIMethod | None = None) -> EstimateTable:
    """Shared body of mean, proportion, ratio and total: estimates, variances, table.

    ``ci_method`` marks the estimate as a share in [0, 1] with that interval (``share_interval``).
    """
    prep = prep or prepare(data, design)
    dom = domains(data, by)
    est, t = ratio_cells(a, b, dom, prep)
    if prep.design.replicates:
        var = replicate_variance(lambda w: ratio_estimate(a, b, dom, prep, weights=w)[0], prep)
    else:
        var = variance_of_psu_totals(t, dom.codes, prep)
    extra = {}
    if deff:
        nobs = np.bincount(dom.codes[dom.codes >= 0], minlength=dom.n)
        extra["deff"] = deff_srs(a, b, est, var, dom, prep, nobs)
    if ci_method is not None:
        extra.update(share_columns(dom, prep, None if b is None else b != 0, ci_method))
    return estimate_table(estimand, est, var, dom, prep, level=level, method=_method(prep), extra=extra)


def mean(data: pd.DataFrame, column: str, *, design: SurveyDesign | None = None, by=None,
         level: float = DEFAULT_LEVEL, deff: bool = False) -> EstimateTable:
    """Weighted mean of ``column``, overall or by domain, with a design-based standard error.

    Parameters
    ----------
    data : DataFrame
    column : str
    design : SurveyDesign, optional
        None means unweighted simple random sampling (with replacement).
    by : str or list of str, optional
        Domain columns; each domain is estimated as a subpopulation of the full design.
    level : float
        Confidence level of the intervals (Student t with the design degrees of freedom).
    deff : bool
        Add the design effect against simple random sampling without replacement (R's default).

    Notes
    -----
    ``ybar_d = sum_d w y / sum_d w``; linearized variable ``u_i = 1_d (y_i - ybar_d) / sum_d w``.
    Matches R ``svyby(~y, ~d, design, svymean)`` (tests/reference/).
    """
    check_level(level, "mean")
    y = numeric(data, column, role="column")
    return ratio_family(y, np.ones(len(data)), data, design=design, by=by, level=level, estimand=f"mean({column})",
                        deff=deff)


def proportion(data: pd.DataFrame, column: str, *, design: SurveyDesign | None = None, by=None,
               level: float = DEFAULT_LEVEL, deff: bool = False, ci_method: CIMethod = "logit") -> EstimateTable:
    """Share of rows where ``column`` is true (a 0/1 or boolean column), by domain.

    Parameters
    ----------
    data : DataFrame
    column : str
        A 0/1 or true/false column.
    design : SurveyDesign, optional
    by : str or list of str, optional
        Domain columns; each domain is estimated as a subpopulation of the full design.
    level : float
        Confidence level.
    deff : bool
        Add the design effect against simple random sampling without replacement.
    ci_method : {"logit", "beta", "wald"}
        The interval: ``"logit"`` (default) as R ``svyciprop(method = "logit")``, ``"beta"``
        (Korn-Graubard) as ``svyciprop(method = "beta")``, both with the degrees of freedom of the
        domain (its PSUs minus its strata, R's ``degf`` of the subset design); ``"wald"`` the
        symmetric ``p +- t se`` with the design's degrees of freedom. A domain estimated at 0 or 1
        gets a one-sided Clopper-Pearson interval with the domain's sampled rows as effective sample
        size (``results.share_interval`` says why). Matches R ``svyby(~y, ~d, design, svyciprop)``
        (tests/reference/svyciprop_reference.R).
    """
    check_level(level, "proportion")
    check_ci_method(ci_method, "proportion")
    y = numeric(data, column, role="column")
    if not np.isin(y, (0.0, 1.0)).all():
        raise DataValidationError(f"Column {column!r} must hold 0/1 or true/false for a proportion; "
                                  f"it has {int((~np.isin(y, (0.0, 1.0))).sum())} other values.")
    return ratio_family(y, np.ones(len(data)), data, design=design, by=by, level=level,
                        estimand=f"proportion({column})", deff=deff, ci_method=ci_method)


def ratio(data: pd.DataFrame, numerator: str, denominator: str, *, design: SurveyDesign | None = None, by=None,
          level: float = DEFAULT_LEVEL) -> EstimateTable:
    """Ratio of two weighted totals, ``sum w y / sum w x``, by domain (R ``svyratio``)."""
    check_level(level, "ratio")
    y = numeric(data, numerator, role="numerator")
    x = numeric(data, denominator, role="denominator")
    return ratio_family(y, x, data, design=design, by=by, level=level, estimand=f"ratio({numerator}/{denominator})")


def total(data: pd.DataFrame, column: str, *, design: SurveyDesign | None = None, by=None,
          level: float = DEFAULT_LEVEL) -> EstimateTable:
    """Weighted total of ``column``, by domain (R ``svytotal``)."""
    check_level(level, "total")
    y = numeric(data, column, role="column")
    return ratio_family(y, None, data, design=design, by=by, level=level, estimand=f"total({column})")


# ------------------------------------------------------------------------------------------------
# design-based regression (R svyglm)

Family = Literal["gaussian", "binomial", "poisson"]
#: Newton (IRLS) iterations of a binomial or Poisson fit stop when no coefficient moves by more than
#: this, relative to its size: far below the 1e-6 at which the fits are checked against R.
GLM_TOL = 1e-12
GLM_MAX_ITER = 100
#: Names a formula may use besides the data's columns: numpy as ``np`` and R-style ``log``, ``exp``,
#: ``sqrt``, ``abs`` (patsy adds its own ``C``, ``I``, ``center``, ``scale``, ... itself).
FORMULA_FUNCTIONS = {"np": np, "log": np.log, "exp": np.exp, "sqrt": np.sqrt, "abs": np.abs}


def design_with_weights(design: SurveyDesign | None, weights: str | None, where: str) -> SurveyDesign | None:
    """The design to use when a function takes both ``weights=`` and ``design=``.

    ``weights`` alone means a weighted simple random sample; with a design it must name the design's
    own weights column (two different weights would make one of them silently ignored).
    """
    if weights is None:
        return design
    if not isinstance(weights, str):
        raise parameter_error("weights", where, "the name of a column, or None", weights)
    if design is None:
        return SurveyDesign(weights=weights)
    if design.weights != weights:
        raise ParameterError(f"The 'weights' parameter of {where} names column {weights!r}, but the design's "
                             f"weights are {design.weights!r}; give the weights once, in the SurveyDesign, or make "
                             "them the same column.")
    return design


def _formula_names(formula: str, data: pd.DataFrame) -> list[str]:
    """Column names a patsy formula refers to; an unknown name is an error (not patsy's NameError)."""
    import ast
    import builtins

    import patsy
    import patsy.builtins

    try:
        desc = patsy.ModelDesc.from_formula(formula)
    except patsy.PatsyError as e:
        raise ParameterError(f"The formula {formula!r} of regression cannot be read: {e.message}. Write it as "
                             "'outcome ~ x1 + x2 + C(group)'.") from None
    if not desc.lhs_termlist:
        raise ParameterError(f"The formula {formula!r} of regression has no outcome; write 'outcome ~ x1 + x2'.")
    known = set(FORMULA_FUNCTIONS) | set(patsy.builtins.__all__) | set(dir(builtins))
    names: list[str] = []
    unknown: list[str] = []
    for term in desc.lhs_termlist + desc.rhs_termlist:
        for factor in term.factors:
            for node in ast.walk(ast.parse(factor.code, mode="eval")):
                if isinstance(node, ast.Name):
                    if node.id in data.columns:
                        if node.id not in names:
                            names.append(node.id)
                    elif node.id not in known and node.id not in unknown:
                        unknown.append(node.id)
    if unknown:
        raise ParameterError(f"The formula {formula!r} of regression names {len(unknown)} column(s) that are not in "
                             f"the data: {', '.join(map(repr, unknown))}; columns present: "
                             f"{', '.join(map(str, data.columns[:20]))}.")
    return names


def _glm_fit(y: np.ndarray, X: np.ndarray, w: np.ndarray, family: str) -> tuple[np.ndarray, np.ndarray, bool]:
    """Weighted GLM with the canonical link: coefficients, fitted means, converged.

    Gaussian: weighted least squares. Binomial (logit) and Poisson (log): Newton's method, which for
    a canonical link is IRLS, started as R's glm starts them.
    """
    ws = w / w.mean()  # rescaled as svyglm does; the coefficients do not depend on the scale
    if family == "gaussian":
        sw = np.sqrt(ws)
        beta = np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)[0]
        return beta, X @ beta, True
    mu = (ws * y + 0.5) / (ws + 1) if family == "binomial" else y + 0.1
    eta = np.log(mu / (1 - mu)) if family == "binomial" else np.log(mu)
    v = mu * (1 - mu) if family == "binomial" else mu
    z = eta + (y - mu) / v
    beta = np.linalg.solve(X.T @ (X * (ws * v)[:, None]), X.T @ (ws * v * z))
    for _ in range(GLM_MAX_ITER):
        eta = X @ beta
        mu = 1 / (1 + np.exp(-eta)) if family == "binomial" else np.exp(eta)
        v = mu * (1 - mu) if family == "binomial" else mu
        step = np.linalg.solve(X.T @ (X * (ws * v)[:, None]), X.T @ (ws * (y - mu)))
        beta = beta + step
        if np.all(np.abs(step) <= GLM_TOL * (1 + np.abs(beta))):
            eta = X @ beta
            mu = 1 / (1 + np.exp(-eta)) if family == "binomial" else np.exp(eta)
            return beta, mu, True
    return beta, mu, False


def _term_position(term, terms) -> int:
    """Where ``term`` is written in the formula (patsy's terms compare by their factors)."""
    return list(terms).index(term) if term in terms else len(terms)


def regression(data: pd.DataFrame, formula: str, *, design: SurveyDesign | None = None,
               family: Family = "gaussian", weights: str | None = None,
               level: float = DEFAULT_LEVEL) -> EstimateTable:
    """Design-based regression (R ``svyglm``): one row per term with a linearized standard error.

    Parameters
    ----------
    data : DataFrame
    formula : str
        A patsy formula, ``"poor ~ hh_size + urban + C(kab_code)"``; numpy is ``np`` and ``log``,
        ``exp``, ``sqrt``, ``abs`` may be used directly.
    design : SurveyDesign, optional
        Weights, strata, PSUs (and fpc, lonely-PSU rule, replicate weights). None: unweighted simple
        random sampling.
    family : {"gaussian", "binomial", "poisson"}
        Linear regression, logit (outcome a share in [0, 1]) or log-linear (outcome >= 0, a count);
        the quasi-likelihood families of ``svyglm`` (``quasibinomial``, ``quasipoisson``): a
        design-based standard error does not use the family's variance assumption.
    weights : str, optional
        The weights column, for a weighted sample without a design; with a design it must be the
        design's weights column.
    level : float
        Confidence level.

    Returns
    -------
    EstimateTable
        Rows in the formula's order, intercept first, main effects before interactions (R's order,
        so the rows line up with ``svyglm``'s; patsy would move categorical terms first), columns
        ``term``, ``estimate``, ``std_error``, intervals, ``df``, ``outcome``, ``family``.

    Notes
    -----
    The coefficients solve the weighted score equations ``sum_i w_i x_i (y_i - mu_i) = 0`` (canonical
    link). Their linearized variable is ``u_i = A^{-1} x_i (y_i - mu_i)``, ``A = sum_i w_i v_i x_i x_i'``
    (``v`` the variance function: 1, ``mu (1 - mu)``, ``mu``), and ``V(beta) = V(sum_i w_i u_i)``
    under the design, the sandwich of Binder (1983). Intervals: Student t on ``df = PSUs - strata
    - p + 1`` (``p`` coefficients), the ``df.residual`` of ``svyglm``. Matches R ``svyglm`` with
    ``gaussian()``, ``quasibinomial()``, ``quasipoisson()`` (tests/reference/svyglm_reference.R).

    References
    ----------
    Binder (1983), "On the variances of asymptotically normal estimators from complex surveys",
    International Statistical Review 51, 279-292. Lumley (2010), Complex Surveys, ch. 5-6.
    """
    import patsy

    from .exceptions import check_choice

    check_level(level, "regression")
    check_choice(family, Family, "family", "regression")
    if not isinstance(formula, str):
        raise parameter_error("formula", "regression", "a formula string such as 'y ~ x1 + x2'", formula)
    design = design_with_weights(design, weights, "regression")
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame. Got {type(data).__name__} instead.")
    columns = _formula_names(formula, data)
    for c in columns:
        miss = data[c].isna().to_numpy()
        if miss.any():
            rows = ", ".join(str(i + 1) for i in np.flatnonzero(miss)[:5])
            raise DataValidationError(f"Column {c!r} of the formula {formula!r} has {int(miss.sum())} missing values "
                                      f"(rows {rows}{', ...' if miss.sum() > 5 else ''}); drop those rows from the "
                                      "design or impute them before fitting (dropping rows changes the design).")
    prep = prepare(data, design)
    env = patsy.EvalEnvironment([FORMULA_FUNCTIONS])
    try:
        with np.errstate(divide="ignore", invalid="ignore"):  # log(0) and the like: reported just below
            ymat, xmat = patsy.dmatrices(formula, data, eval_env=env, NA_action="raise", return_type="dataframe")
    except patsy.PatsyError as e:
        raise DataValidationError(f"The formula {formula!r} of regression cannot be evaluated on the data: "
                                  f"{e.message}") from None
    if ymat.shape[1] != 1:
        raise ParameterError(f"The formula {formula!r} of regression must have one numeric outcome; it has "
                             f"{ymat.shape[1]} columns ({', '.join(ymat.columns)}). Code a text outcome as 0/1.")
    # columns in the formula's order, main effects before interactions (R's order: svyglm's rows);
    # patsy would put terms of categorical factors alone first
    info = xmat.design_info
    written = patsy.ModelDesc.from_formula(formula).rhs_termlist
    ordered = sorted(info.terms, key=lambda t: (len(t.factors), _term_position(t, written)))
    cols = [c for t in ordered for c in info.column_names[info.term_slices[t]]]
    xmat = xmat[cols]
    y = ymat.iloc[:, 0].to_numpy(float)
    X = xmat.to_numpy(float)
    terms = list(xmat.columns)
    bad = ~np.isfinite(y) | ~np.isfinite(X).all(axis=1)
    if bad.any():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(bad)[:5])
        raise DataValidationError(f"The formula {formula!r} gives {int(bad.sum())} rows with infinite or undefined "
                                  f"values (rows {rows}), for example log of zero; change the formula or drop them.")
    if family == "binomial" and ((y < 0) | (y > 1)).any():
        raise DataValidationError(f"The outcome of {formula!r} has {int(((y < 0) | (y > 1)).sum())} values outside "
                                  "[0, 1]; family='binomial' needs a 0/1 outcome or a share.")
    if family == "poisson" and (y < 0).any():
        raise DataValidationError(f"The outcome of {formula!r} has {int((y < 0).sum())} negative values; "
                                  "family='poisson' needs counts or other non-negative amounts.")
    p = X.shape[1]
    rank = np.linalg.matrix_rank(X)
    if rank < p:
        raise DataValidationError(f"The model matrix of {formula!r} has {p} columns but rank {rank}: some terms are "
                                  "collinear (a category present in no row, or a column that is a sum of others); "
                                  "drop or merge them.")
    beta, mu, converged = _glm_fit(y, X, prep.w, family)
    notes: tuple[str, ...] = () if converged else (
        f"the {family} fit did not converge in {GLM_MAX_ITER} iterations (separation?): estimates are unreliable",)
    if prep.design.replicates:
        var = replicate_variance(lambda w: _glm_fit(y, X, w, family)[0], prep)
        df = float(prep.n_psu - len(prep.n_psu_h)) + 1 - p
    else:
        v = np.ones_like(mu) if family == "gaussian" else (mu * (1 - mu) if family == "binomial" else mu)
        A = X.T @ (X * (prep.w * v)[:, None])
        infl = (X * (y - mu)[:, None]) @ np.linalg.inv(A)
        zero = np.zeros(len(y), dtype=np.int64)
        var = np.array([linearized_variance(np.ascontiguousarray(infl[:, j]), zero, 1, prep)[0] for j in range(p)])
        df = prep.df + 1 - p
    outcome = ymat.columns[0]
    frame = pd.DataFrame({
        "estimand": "coefficient", "term": terms, "estimate": beta, "std_error": np.sqrt(var),
        "ci_lower": np.nan, "ci_upper": np.nan, "level": level, "nobs": len(y),
        "method": f"{_method(prep)}, design-based {family} regression", "df": df, "outcome": outcome,
        "family": family, "notes": "; ".join(notes)})
    return EstimateTable(frame, group_columns=("term",), level=level, notes=notes)


# ------------------------------------------------------------------------------------------------
# quantiles (R svyquantile)

def weighted_quantile(x: np.ndarray, w: np.ndarray, p: float) -> float:
    """The smallest ``x`` whose weighted distribution function reaches ``p``: ``min{v: F(v) >= p}``.

    R survey's default rule (``qrule = "math"``). Cumulative weights are summed in extended precision,
    as R's ``cumsum`` and ``sum`` do, so a share that lands exactly on ``p`` is found as R finds it.
    When ``p`` is below the share of the smallest value, R (survey 4.1.1, ``qs``) returns the
    second-smallest value, not the smallest the rule defines; this is done here too, so that the
    Woodruff interval ends equal R's (it matters only for a lower end in the extreme tail of a small
    domain).
    """
    order = np.argsort(x, kind="stable")
    xs = x[order]
    cum = np.cumsum(w[order].astype(np.longdouble)).astype(float)
    total = float(np.sum(w.astype(np.longdouble)))
    below = np.flatnonzero(cum <= p * total)
    pos = below[-1] if below.size else 0  # R: last() of no TRUE is the first row, then the next is taken
    if p - cum[pos] / total == 0 or pos == len(xs) - 1:
        return float(xs[pos])
    return float(xs[pos + 1])


def quantile(data: pd.DataFrame, column: str, *, quantiles: float | Sequence[float] = (0.5,),
             design: SurveyDesign | None = None, by=None, weights: str | None = None,
             level: float = DEFAULT_LEVEL) -> EstimateTable:
    """Weighted quantiles (the median by default) by domain, with Woodruff intervals (R ``svyquantile``).

    Parameters
    ----------
    data : DataFrame
    column : str
    quantiles : float or sequence of float
        Probabilities in (0, 1); 0.5 is the median.
    design : SurveyDesign, optional
    by : str or list of str, optional
        Domains, each a subpopulation of the full design.
    weights : str, optional
        The weights column without a design; with a design it must be the design's.
    level : float
        Confidence level.

    Returns
    -------
    EstimateTable
        One row per domain and quantile (column ``quantile``), with Woodruff's interval (kept at
        ``level``: it is not ``estimate +- t se``) and the standard error R reports.

    Notes
    -----
    The quantile is ``min{v: F(v) >= p}`` of the weighted distribution function of the domain.
    Woodruff (1952): the share ``F(q)`` of the domain at or below the estimate is a domain mean with
    a linearized standard error; its interval ``F(q) +- t se`` (``t`` on the domain's degrees of
    freedom, PSUs minus strata, R's ``degf`` of the subset design) is carried back through the
    quantile function. The standard error is the interval's width over ``2 t`` (R's ``se``). An end
    beyond [0, 1] is undefined (NaN), as in R. Matches ``svyquantile(..., ci = TRUE)`` with its
    defaults (``qrule = "math"``, ``interval.type = "mean"``; tests/reference/inequality_reference.R).

    References
    ----------
    Woodruff (1952), "Confidence intervals for medians and other position measures", JASA 47,
    635-646. Lumley (2010), Complex Surveys, 2.5.
    """
    from scipy import stats

    check_level(level, "quantile")
    probs = [quantiles] if isinstance(quantiles, (int, float)) else list(quantiles)
    if not probs or any(isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0 < p < 1
                        for p in probs):
        raise parameter_error("quantiles", "quantile", "probabilities strictly between 0 and 1", quantiles)
    design = design_with_weights(design, weights, "quantile")
    prep = prepare(data, design)
    x = numeric(data, column, role="column")
    dom = domains(data, by)
    df = share_columns(dom, prep, None, "wald")["ci_df"] if (by is not None and not prep.design.replicates) \
        else np.full(dom.n, prep.df if not prep.design.replicates else float(prep.n_psu - len(prep.n_psu_h)))
    tcrit = np.where(df > 0, stats.t.ppf(0.5 + level / 2, np.where(df > 0, df, 1)), np.nan)
    rows_of = [np.flatnonzero(dom.codes == d) for d in range(dom.n)]
    frames = []
    for p in probs:
        q = np.array([weighted_quantile(x[r], prep.w[r], float(p)) if len(r) else np.nan for r in rows_of])
        at_or_below = (x <= q[np.where(dom.codes >= 0, dom.codes, 0)]).astype(float)
        share, t = ratio_cells(at_or_below, np.ones(len(x)), dom, prep)
        if prep.design.replicates:
            def shares(w: np.ndarray, a: np.ndarray = at_or_below) -> np.ndarray:
                return ratio_estimate(a, np.ones(len(x)), dom, prep, weights=w)[0]
            var = replicate_variance(shares, prep)
        else:
            var = variance_of_psu_totals(t, dom.codes, prep)
        se_share = np.sqrt(var)
        lo_p, hi_p = share - tcrit * se_share, share + tcrit * se_share
        lo = np.array([weighted_quantile(x[r], prep.w[r], lp) if len(r) and lp >= 0 else np.nan
                       for r, lp in zip(rows_of, lo_p)])
        hi = np.array([weighted_quantile(x[r], prep.w[r], hp) if len(r) and hp <= 1 else np.nan
                       for r, hp in zip(rows_of, hi_p)])
        se = (hi - lo) / (2 * tcrit)
        table = estimate_table(f"quantile({column}, p={p:g})", q, se ** 2, dom, prep, level=level,
                               method=f"{_method(prep)}, Woodruff interval",
                               extra={"quantile": float(p), "df": df, "ci_own": True})
        f = table.to_frame()
        f["ci_lower"], f["ci_upper"] = lo, hi
        frames.append(f)
    out = pd.concat(frames, ignore_index=True)
    return EstimateTable(out, group_columns=dom.columns, level=level)
