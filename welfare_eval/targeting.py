"""Social protection and targeting indicators (ASPIRE, CEQ, Coady-Grosh-Hoddinott), design-based.

Notation (shared/DOMAIN.md): ``y_post`` per-capita welfare as observed, ``T`` the per-capita
transfer of the programme (Rp per capita per month), ``y_pre = y_post - T`` (no behavioural
response, the ASPIRE and CEQ convention), ``z`` the poverty line, person weights ``w s``
(household weight x household size). Every indicator is a ratio of weighted totals (or a smooth
function of two), so each carries a linearized standard error from :mod:`welfare_eval.survey`.

Who is poor, for targeting. Coverage of the poor and the inclusion and exclusion errors use one
definition (``poor_before``, default ``"all_transfers"``): a person is poor when welfare before
*all* transfers, ``y_post - sum_p T_p`` over the programmes in the data (PKH and BPNT), is below
the line, as ASPIRE and CEQ define pre-transfer welfare. With one definition, coverage of the
poor + exclusion error = 1 in every domain and programme (a test). ``"own_transfer"``
(``y_post - T`` of the programme alone) is on request and is said in the output. The effect of one
programme (poverty reductions, benefit-cost ratio, CEQ efficiency, CGH) compares welfare with and
without that programme's own transfer, because it measures what that transfer did.

Intervals. Every indicator that is a share (coverage, incidence, adequacy, error rates, reductions
of FGT measures, CEQ efficiencies, the benefit-cost ratio, which equals the poverty reduction
efficiency) takes ``ci_method`` (default ``"logit"``, as R ``svyciprop``; ``"beta"``, ``"wald"``), so
its interval stays in [0, 1]; the sampled units behind a share are the households where its
denominator is not zero (the poor, for an exclusion error). CGH (a ratio around 1) and the Gini
reduction keep the symmetric interval.

References
----------
World Bank ASPIRE, "Atlas of Social Protection Indicators of Resilience and Equity", methodology.
Beckerman (1979); Immervoll et al. (2009); Lustig (ed.) (2018), Commitment to Equity Handbook,
ch. 6 (the ceqef indicators).
Coady, Grosh and Hoddinott (2004), Targeting of Transfers in Developing Countries. World Bank.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal, get_args

import numpy as np
import pandas as pd

from .config import DEFAULT_LEVEL
from .exceptions import DataValidationError, ParameterError, parameter_error
from .poverty import _line, _person_fgt, _size, _welfare, gini_parts, welfare_order
from .results import CIMethod, EstimateTable, check_ci_method, check_level
from .survey import (
    SurveyDesign,
    _memo,
    _method,
    domains,
    estimate_table,
    linearized_variance,
    numeric,
    prepare,
    ratio_cells,
    ratio_estimate,
    ratio_family,
    replicate_variance,
    reuse_prepared,
    share_columns,
    variance_of_psu_totals,
)

Threshold = Literal["poverty_line", "quota"]
Normalize = Literal["beneficiaries", "group"]
#: Who counts as poor for coverage of the poor and for inclusion/exclusion errors: welfare before
#: every transfer (the ASPIRE/CEQ convention, the default) or before the programme's own transfer.
PoorBefore = Literal["all_transfers", "own_transfer"]
POOR_BEFORE: tuple[str, ...] = get_args(PoorBefore)


@dataclass(frozen=True)
class Program:
    """Where a programme's receipt and amount are in the data.

    ``amount`` is Rp per household per ``amount_period`` (the contract: per year); the
    per-capita monthly transfer is ``amount / (12 if yearly) / household size``.
    """

    name: str
    amount: str
    flag: str | None = None
    amount_period: Literal["year", "month"] = "year"


#: PKH and BPNT as the survey table of the data contract holds them.
PKH = Program("PKH", amount="pkh_amount", flag="pkh")
BPNT = Program("BPNT", amount="bpnt_amount", flag="bpnt")


class _Inputs:
    """Checked arrays shared by the indicators of one programme."""

    def __init__(self, data: pd.DataFrame, program: Program, *, welfare: str, poverty_line, household_size: str,
                 design: SurveyDesign | None):
        if not isinstance(program, Program):
            raise parameter_error("program", "targeting", "a Program (targeting.PKH, targeting.BPNT, or your own)",
                                  program)
        self.data = data
        self.prep = prepare(data, design)
        self.s = _size(data, household_size)
        self.y_post = _welfare(data, welfare)
        amount = numeric(data, program.amount, role="programme amount")
        if (amount < 0).any():
            raise DataValidationError(f"Column {program.amount!r} has {int((amount < 0).sum())} negative amounts; "
                                      "transfers must be >= 0.")
        per_month = 12.0 if program.amount_period == "year" else 1.0
        # derived arrays are shared by every indicator of the programme within a reuse block
        self.T = _memo("transfer", amount, (id(self.s), per_month), lambda: amount / per_month / self.s)
        self.b = (numeric(data, program.flag, role="programme flag") > 0) if program.flag else amount > 0
        self.y_pre = _memo("y_pre", self.y_post, id(self.T), lambda: self.y_post - self.T)
        if (self.y_pre < 0).any():
            rows = ", ".join(str(i + 1) for i in np.flatnonzero(self.y_pre < 0)[:5])
            raise DataValidationError(f"The {program.name} transfer exceeds welfare in {int((self.y_pre < 0).sum())} "
                                      f"row(s) (rows {rows}): y_pre = y_post - T < 0; check units (Rp per year).")
        self.z = None if poverty_line is None else _line(data, poverty_line, len(data))
        self.program = program
        self.welfare, self.household_size = welfare, household_size

    # products shared by several indicators: one array each, so their cell totals are computed once
    @cached_property
    def sT(self) -> np.ndarray:
        return self.s * self.T

    @cached_property
    def poor_pre(self) -> np.ndarray:
        return self.y_pre < self.z

    @cached_property
    def need(self) -> np.ndarray:
        """``max(z - y_pre, 0)``: what lifts a household to the line."""
        return np.maximum(self.z - self.y_pre, 0.0)

    @cached_property
    def s_closing(self) -> np.ndarray:
        """``s min(T, need)``: the part of transfers that closes poverty gaps (= s (gap_pre - gap_post))."""
        return self.s * np.minimum(self.T, self.need)


def transfer_programs(data: pd.DataFrame, program: Program | None = None,
                      all_programs: tuple[Program, ...] | None = None) -> tuple[Program, ...]:
    """The programmes whose transfers make up "all transfers": ``all_programs``, or PKH and BPNT when
    their amount columns are in the data; ``program`` is always one of them."""
    if all_programs is None:
        progs = [p for p in (PKH, BPNT) if p.amount in data.columns]
    else:
        if isinstance(all_programs, Program) or not all(isinstance(p, Program) for p in all_programs):
            raise parameter_error("all_programs", "targeting", "a tuple of Program", all_programs)
        progs = list(all_programs)
    if program is not None and program.amount not in [p.amount for p in progs]:
        progs.append(program)
    return tuple(progs)


def pre_transfer_welfare(data: pd.DataFrame, *, welfare: str = "cons_pc", household_size: str = "hh_size",
                         programs: tuple[Program, ...] | None = None) -> np.ndarray:
    """Per-capita welfare before all transfers: ``y_post - sum_p T_p`` (ASPIRE/CEQ, no behavioural response).

    Parameters
    ----------
    data : DataFrame
        One row per household.
    welfare : str
        Per-capita welfare as observed (after transfers), Rp per month.
    household_size : str
        Household size column (the transfers are per household).
    programs : tuple of Program, optional
        The transfers to take out; default PKH and BPNT, those of them whose amount is in the data.

    Notes
    -----
    ``T_p = amount_p / 12 / size`` for yearly amounts (the data contract). ASPIRE and CEQ call
    this pre-transfer (market) welfare; Lustig (ed.) (2018), CEQ Handbook, ch. 1 and 6.
    """
    progs = transfer_programs(data, None, programs)
    size = _size(data, household_size)
    y = _welfare(data, welfare).copy()
    for p in progs:
        amount = numeric(data, p.amount, role="programme amount")
        y = y - amount / (12.0 if p.amount_period == "year" else 1.0) / size
    if (y < 0).any():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(y < 0)[:5])
        raise DataValidationError(f"Transfers ({', '.join(p.name for p in progs)}) exceed welfare in "
                                  f"{int((y < 0).sum())} row(s) (rows {rows}): welfare before all transfers < 0; "
                                  "check units (Rp per year).")
    return y


def pre_transfer_poor(data: pd.DataFrame, *, poverty_line="poverty_line", welfare: str = "cons_pc",
                      household_size: str = "hh_size", programs: tuple[Program, ...] | None = None) -> pd.Series:
    """Whether each row is poor before all transfers: the "poor" of coverage of the poor and of the
    targeting errors (``poor_before="all_transfers"``); use it to group other estimates the same way.

    Parameters
    ----------
    data : DataFrame
    poverty_line : float or str
        The line: a number or a column.
    welfare, household_size : str
        As in :func:`pre_transfer_welfare`.
    programs : tuple of Program, optional
        The transfers to take out (default PKH and BPNT).
    """
    y = pre_transfer_welfare(data, welfare=welfare, household_size=household_size, programs=programs)
    return pd.Series(y < _line(data, poverty_line, len(data)), index=data.index, name="pre_poor")


def poor_definition(poor_before: str, programs: tuple[Program, ...], program: Program) -> str:
    """The definition of "poor" a targeting result used, in words (English; the report words it)."""
    if poor_before == "own_transfer":
        return f"poor: welfare before the {program.name} transfer below the poverty line"
    return f"poor: welfare before all transfers ({', '.join(p.name for p in programs)}) below the poverty line"


def _check_poor_before(poor_before, where: str) -> str:
    if poor_before not in POOR_BEFORE:
        raise parameter_error("poor_before", where, f"one of {POOR_BEFORE}", poor_before)
    return poor_before


def _inputs(data: pd.DataFrame, program: Program, *, welfare: str, poverty_line, household_size: str,
            design: SurveyDesign | None) -> _Inputs:
    """The checked inputs of a programme, built once per frame within a reuse block."""
    key = (program, welfare, poverty_line if isinstance(poverty_line, (str, type(None))) else float(poverty_line),
           household_size, design)
    return _memo("inputs", data, key, lambda: _Inputs(data, program, welfare=welfare, poverty_line=poverty_line,
                                                      household_size=household_size, design=design))


def _table(inp: _Inputs, a, b, *, by, level, estimand: str, ci_method: CIMethod | None = None, note: str = "",
           **extra) -> EstimateTable:
    t = ratio_family(a, b, inp.data, design=inp.prep.design, by=by, level=level, estimand=estimand, prep=inp.prep,
                     ci_method=ci_method)
    f = t.to_frame()
    f.insert(1, "program", inp.program.name)
    for k, v in extra.items():
        f[k] = v
    if note:
        f["notes"] = [f"{n}; {note}" if n else note for n in f["notes"]]
    return EstimateTable(f, group_columns=t.group_columns, level=level, notes=t.notes + ((note,) if note else ()))


def _combine(tables: list[EstimateTable]) -> EstimateTable:
    frames = [t.to_frame() for t in tables]
    first = tables[0]
    notes = tuple(dict.fromkeys(n for t in tables for n in t.notes))
    return EstimateTable(pd.concat(frames, ignore_index=True), group_columns=first.group_columns, level=first.level,
                         notes=notes)


def _population_rank(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Mid-point share of the population (weights ``p``) poorer than each row, in (0, 1)."""
    order = welfare_order(y)
    cum = np.empty(len(y))
    cum[order] = (np.cumsum(p[order]) - 0.5 * p[order]) / p.sum()
    return cum


def weighted_quantile_groups(data: pd.DataFrame, *, welfare: str, n: int = 5, weights: str | None = None,
                             household_size: str | None = None) -> pd.Series:
    """Quantile group (1 = poorest) of each row by ``welfare``, with groups of equal population.

    The cut points are estimated from the sample and then held fixed (their sampling variability
    is not carried into the standard errors of indicators by group, as in ASPIRE and CEQ).
    """
    y = numeric(data, welfare, role="welfare")
    w = numeric(data, weights, role="weights") if weights else np.ones(len(data))
    s = numeric(data, household_size, role="household_size") if household_size else np.ones(len(data))
    groups = np.clip(np.floor(_population_rank(y, w * s) * n).astype(int) + 1, 1, n)
    return pd.Series(groups, index=data.index, name=f"q{n}_{welfare}")


# ------------------------------------------------------------------------------------------------
# ASPIRE

def coverage(data: pd.DataFrame, program: Program, *, design: SurveyDesign | None = None, by=None,
             household_size: str = "hh_size", welfare: str = "cons_pc", level: float = DEFAULT_LEVEL,
             ci_method: CIMethod = "logit") -> EstimateTable:
    """Coverage: people living in a beneficiary household / people, by group (``coverage_rate``).

    Coverage of the poor is :func:`poor_coverage` (or this function ``by`` :func:`pre_transfer_poor`).
    ``ci_method``: the interval of the share, ``"logit"`` (default), ``"beta"`` or ``"wald"``
    (:func:`welfare_eval.results.share_interval`).
    """
    check_level(level, "coverage")
    check_ci_method(ci_method, "coverage")
    inp = _inputs(data, program, welfare=welfare, poverty_line=None, household_size=household_size, design=design)
    return _table(inp, inp.s * inp.b, inp.s, by=by, level=level, estimand="coverage_rate", ci_method=ci_method)


def poor_coverage(data: pd.DataFrame, program: Program, *, poverty_line="poverty_line",
                  poor_before: PoorBefore = "all_transfers", all_programs: tuple[Program, ...] | None = None,
                  design: SurveyDesign | None = None, by=None, household_size: str = "hh_size",
                  welfare: str = "cons_pc", level: float = DEFAULT_LEVEL,
                  ci_method: CIMethod = "logit") -> EstimateTable:
    """Coverage of the poor: poor people in beneficiary households / poor people (``poor_coverage_rate``).

    The poor are those of :func:`targeting_errors` (``poor_before``, default before all transfers),
    so that ``poor_coverage_rate + exclusion_error_rate = 1`` in every domain; the definition is in
    the ``poor_before`` column and the notes.

    Parameters
    ----------
    data : DataFrame
    program : Program
    poverty_line : float or str
        The line: a number or a column.
    poor_before : {"all_transfers", "own_transfer"}
        Welfare before every transfer (default, ASPIRE/CEQ) or before this programme's own.
    all_programs : tuple of Program, optional
        The transfers that make up "all" (default PKH and BPNT, those in the data).
    design, by, household_size, welfare, level
        As in :func:`coverage`.
    ``ci_method``: the interval of the share, ``"logit"`` (default), ``"beta"`` or ``"wald"``
    (:func:`welfare_eval.results.share_interval`).
    """
    check_level(level, "poor_coverage")
    check_ci_method(ci_method, "poor_coverage")
    _check_poor_before(poor_before, "poor_coverage")
    inp = _inputs(data, program, welfare=welfare, poverty_line=poverty_line, household_size=household_size,
                  design=design)
    poor, note = _poor(inp, poor_before, all_programs, "poor_coverage")
    return _table(inp, inp.s * inp.b * poor, inp.s * poor, by=by, level=level, estimand="poor_coverage_rate",
                  ci_method=ci_method, note=note, poor_before=poor_before)


def _poor(inp: _Inputs, poor_before: str, all_programs, where: str) -> tuple[np.ndarray, str]:
    """The poor of the targeting indicators under ``poor_before``, and the definition in words."""
    if inp.z is None:
        raise ParameterError(f"The 'poverty_line' parameter of {where} is needed to say who is poor.")
    progs = transfer_programs(inp.data, inp.program, all_programs)
    if poor_before == "own_transfer":
        y = inp.y_pre
    else:
        y = _memo("y_pre_all", inp.data, (tuple(p.amount for p in progs), inp.welfare, inp.household_size),
                  lambda: pre_transfer_welfare(inp.data, welfare=inp.welfare, household_size=inp.household_size,
                                               programs=progs))
    return y < inp.z, poor_definition(poor_before, progs, inp.program)


def _share(inp: _Inputs, value: np.ndarray, groups: pd.Series, *, by, level, estimand: str,
           ci_method: CIMethod) -> EstimateTable:
    """Share of a total that falls in each group (incidence), within each ``by`` domain."""
    g = pd.Series(groups).to_numpy()
    out = []
    for q in np.unique(g):
        t = _table(inp, value * (g == q), value, by=by, level=level, estimand=estimand, ci_method=ci_method)
        f = t.to_frame()
        f.insert(2, str(getattr(groups, "name", None) or "group"), q)
        out.append(EstimateTable(f, group_columns=(str(getattr(groups, "name", None) or "group"), *t.group_columns),
                                 level=level))
    return _combine(out)


def beneficiary_incidence(data: pd.DataFrame, program: Program, *, groups: pd.Series,
                          design: SurveyDesign | None = None, by=None, household_size: str = "hh_size",
                          welfare: str = "cons_pc", level: float = DEFAULT_LEVEL,
                          ci_method: CIMethod = "logit") -> EstimateTable:
    """Beneficiaries in each group / all beneficiaries (the shares sum to one).
    ``ci_method``: the interval of the share, ``"logit"`` (default), ``"beta"`` or ``"wald"``
    (:func:`welfare_eval.results.share_interval`).
    """
    check_ci_method(ci_method, "beneficiary_incidence")
    inp = _inputs(data, program, welfare=welfare, poverty_line=None, household_size=household_size, design=design)
    return _share(inp, inp.s * inp.b, groups, by=by, level=level, estimand="beneficiary_incidence", ci_method=ci_method)


def benefit_incidence(data: pd.DataFrame, program: Program, *, groups: pd.Series, design: SurveyDesign | None = None,
                      by=None, household_size: str = "hh_size", welfare: str = "cons_pc",
                      level: float = DEFAULT_LEVEL, ci_method: CIMethod = "logit") -> EstimateTable:
    """Transfers to each group / all transfers (the shares sum to one).
    ``ci_method``: the interval of the share, ``"logit"`` (default), ``"beta"`` or ``"wald"``
    (:func:`welfare_eval.results.share_interval`).
    """
    check_ci_method(ci_method, "benefit_incidence")
    inp = _inputs(data, program, welfare=welfare, poverty_line=None, household_size=household_size, design=design)
    return _share(inp, inp.s * inp.T, groups, by=by, level=level, estimand="benefit_incidence", ci_method=ci_method)


def adequacy(data: pd.DataFrame, program: Program, *, design: SurveyDesign | None = None, by=None,
             household_size: str = "hh_size", welfare: str = "cons_pc", level: float = DEFAULT_LEVEL,
             ci_method: CIMethod = "logit") -> EstimateTable:
    """Transfers / total (post-transfer) welfare of beneficiary households (``adequacy_rate``).
    ``ci_method``: the interval of the share, ``"logit"`` (default), ``"beta"`` or ``"wald"``
    (:func:`welfare_eval.results.share_interval`).
    """
    check_ci_method(ci_method, "adequacy")
    inp = _inputs(data, program, welfare=welfare, poverty_line=None, household_size=household_size, design=design)
    return _table(inp, inp.s * inp.T * inp.b, inp.s * inp.y_post * inp.b, by=by, level=level,
                  estimand="adequacy_rate", ci_method=ci_method)


def cgh(data: pd.DataFrame, program: Program, *, design: SurveyDesign | None = None, by=None,
        household_size: str = "hh_size", welfare: str = "cons_pc", level: float = DEFAULT_LEVEL) -> EstimateTable:
    """Coady-Grosh-Hoddinott indicator: share of benefits to the bottom 40% (pre-transfer) / 0.40.

    Above 1 is progressive; the median programme in Coady, Grosh and Hoddinott (2004) is about 1.25.
    """
    inp = _inputs(data, program, welfare=welfare, poverty_line=None, household_size=household_size, design=design)
    bottom40 = _population_rank(inp.y_pre, inp.prep.w * inp.s) < 0.40
    return _table(inp, inp.s * inp.T * bottom40 / 0.40, inp.s * inp.T, by=by, level=level, estimand="cgh")


def _reduction(inp: _Inputs, measure: str, *, by, level: float, ci_method: str | None = None) -> EstimateTable:
    """(M(y_pre) - M(y_post)) / M(y_pre); the linearized variable of ``1 - M1/M0`` is
    ``(M1 u0 - M0 u1) / M0^2``, formed here from PSU totals (FGT) or per-row scores (Gini)."""
    prep = inp.prep
    dom = domains(inp.data, by)

    def parts(w=None):  # estimates and per-row scores, for any weights (replicates) and the Gini
        if measure == "gini":
            e0, u0 = gini_parts(inp.y_pre, inp.s, dom, prep.w if w is None else w)
            if w is None:  # the post-transfer Gini is the same for every programme: computed once per frame
                e1, u1 = _memo("gini_post", inp.data, (inp.welfare, inp.household_size, id(dom)),
                               lambda: gini_parts(inp.y_post, inp.s, dom, prep.w))
            else:
                e1, u1 = gini_parts(inp.y_post, inp.s, dom, w)
        else:
            alpha = float(measure[-1])
            e0, u0, _ = ratio_estimate(_person_fgt(inp.y_pre, inp.z, alpha, inp.s), inp.s, dom, prep, weights=w)
            e1, u1, _ = ratio_estimate(_person_fgt(inp.y_post, inp.z, alpha, inp.s), inp.s, dom, prep, weights=w)
        with np.errstate(divide="ignore", invalid="ignore"):
            c = np.where(dom.codes >= 0, dom.codes, 0)
            return 1.0 - e1 / e0, (e1[c] * u0 - e0[c] * u1) / e0[c] ** 2

    if prep.design.replicates:
        est = parts()[0]
        var = replicate_variance(lambda w: parts(w)[0], prep)
    elif measure == "gini":
        est, scores = parts()
        var = linearized_variance(scores, dom.codes, dom.n, prep)
    else:
        alpha = float(measure[-1])
        assert inp.z is not None, "poverty_reduction always builds its inputs with a poverty line"
        e0, t0 = ratio_cells(_person_fgt(inp.y_pre, inp.z, alpha, inp.s), inp.s, dom, prep)
        e1, t1 = ratio_cells(_person_fgt(inp.y_post, inp.z, alpha, inp.s), inp.s, dom, prep)
        with np.errstate(divide="ignore", invalid="ignore"):
            est = 1.0 - e1 / e0
            t = (e1[:, None] * t0 - e0[:, None] * t1) / e0[:, None] ** 2
        var = variance_of_psu_totals(t, dom.codes, prep)
    names = {"fgt0": "headcount_reduction_rate", "fgt1": "poverty_gap_reduction_rate",
             "fgt2": "severity_reduction_rate", "gini": "gini_reduction_rate"}
    extra = {}
    if ci_method is not None and measure != "gini":
        # an FGT reduction is a share: of the pre-transfer poor lifted out (P0), of the pre-transfer gap
        # closed (P1); the units behind it are the households poor before the transfer
        extra = share_columns(dom, prep, inp.y_pre < inp.z, ci_method)
    t = estimate_table(names[measure], est, var, dom, prep, level=level, method=_method(prep), extra=extra)
    f = t.to_frame()
    f.insert(1, "program", inp.program.name)
    return EstimateTable(f, group_columns=t.group_columns, level=level)


def poverty_reduction(data: pd.DataFrame, program: Program, *, poverty_line, design: SurveyDesign | None = None,
                      by=None, household_size: str = "hh_size", welfare: str = "cons_pc",
                      level: float = DEFAULT_LEVEL, ci_method: CIMethod = "logit") -> EstimateTable:
    """Relative reductions of headcount, gap, severity and Gini from ``y_pre`` to ``y_post``,
    and the benefit-cost ratio (reduction of the aggregate poverty gap in Rp per Rp transferred).

    ``y_pre`` is welfare before this programme's own transfer: the reductions measure what it did.
    The FGT reductions and the benefit-cost ratio lie in [0, 1] (a transfer cannot raise poverty;
    no more than the transfer closes a gap) and get the interval of ``ci_method`` (``"logit"``
    default, ``"beta"``, ``"wald"``); the Gini reduction keeps the symmetric one.
    """
    check_ci_method(ci_method, "poverty_reduction")
    inp = _inputs(data, program, welfare=welfare, poverty_line=poverty_line, household_size=household_size,
                  design=design)
    tables = [_reduction(inp, m, by=by, level=level, ci_method=ci_method) for m in ("fgt0", "fgt1", "fgt2", "gini")]
    # ASPIRE's definition from the two poverty gaps; CEQ's poverty reduction efficiency computes the
    # same number as min(T, (z - y_pre)+) (ceq_efficiency), and a test holds them equal
    gap_change = np.maximum(inp.z - inp.y_pre, 0.0) - np.maximum(inp.z - inp.y_post, 0.0)
    tables.append(_table(inp, inp.s * gap_change, inp.sT, by=by, level=level, estimand="benefit_cost_ratio",
                         ci_method=ci_method))
    return _combine(tables)


# ------------------------------------------------------------------------------------------------
# CEQ (Beckerman-Immervoll)

def ceq_efficiency(data: pd.DataFrame, program: Program, *, poverty_line, design: SurveyDesign | None = None,
                   by=None, household_size: str = "hh_size", welfare: str = "cons_pc",
                   level: float = DEFAULT_LEVEL, ci_method: CIMethod = "logit") -> EstimateTable:
    """Beckerman-Immervoll indicators as in CEQ's ceqef (all four are shares, with ``ci_method``).

    The pre-transfer poor here are those before this programme's own transfer: the indicators
    judge how that transfer's rupiah were spent.

    - vertical_expenditure_efficiency: transfers to the pre-transfer poor / all transfers;
    - spillover: transfers beyond what lifts the pre-transfer poor to z / transfers to them;
    - poverty_reduction_efficiency: the part of transfers that closes poverty gaps / all
      transfers (equals ASPIRE's benefit-cost ratio);
    - poverty_gap_efficiency: reduction of the aggregate poverty gap (Rp) / the pre-transfer
      aggregate gap (equals ASPIRE's poverty gap reduction when the line is one number).
    """
    check_ci_method(ci_method, "ceq_efficiency")
    inp = _inputs(data, program, welfare=welfare, poverty_line=poverty_line, household_size=household_size,
                  design=design)
    sT_poor = inp.sT * inp.poor_pre
    kw = {"by": by, "level": level, "ci_method": ci_method}
    return _combine([
        _table(inp, sT_poor, inp.sT, estimand="vertical_expenditure_efficiency", **kw),
        _table(inp, sT_poor - inp.s_closing * inp.poor_pre, sT_poor, estimand="spillover", **kw),
        _table(inp, inp.s_closing, inp.sT, estimand="poverty_reduction_efficiency", **kw),
        _table(inp, inp.s_closing, inp.s * inp.need, estimand="poverty_gap_efficiency", **kw),
    ])


# ------------------------------------------------------------------------------------------------
# inclusion and exclusion errors

def _target(inp: _Inputs, threshold: str, quota: float | None, poor_before: str,
            all_programs) -> tuple[np.ndarray, str]:
    """Who should receive: the pre-transfer poor, or the poorest ``quota`` share of people (ranked by
    the same pre-transfer welfare); and the definition in words."""
    if threshold == "poverty_line":
        if inp.z is None:
            raise ParameterError("The 'poverty_line' parameter is needed when threshold='poverty_line'.")
        return _poor(inp, poor_before, all_programs, "targeting_errors")
    if threshold == "quota":
        p = inp.prep.w * inp.s
        share = float(np.sum(p * inp.b) / np.sum(p)) if quota is None else quota
        if isinstance(share, bool) or not 0 < share < 1:
            raise parameter_error("quota", "targeting_errors", "a share strictly between 0 and 1", share)
        progs = transfer_programs(inp.data, inp.program, all_programs)
        y = inp.y_pre if poor_before == "own_transfer" else pre_transfer_welfare(
            inp.data, welfare=inp.welfare, household_size=inp.household_size, programs=progs)
        what = f"the {inp.program.name} transfer" if poor_before == "own_transfer" else \
            f"all transfers ({', '.join(p.name for p in progs)})"
        return _population_rank(y, p) < share, f"target: the poorest {share:.4g} of people by welfare before {what}"
    raise parameter_error("threshold", "targeting_errors", "'poverty_line' or 'quota'", threshold)


def targeting_errors(data: pd.DataFrame, program: Program, *, threshold: Threshold = "poverty_line",
                     normalize: Normalize = "group", poverty_line=None, quota: float | None = None,
                     poor_before: PoorBefore = "all_transfers", all_programs: tuple[Program, ...] | None = None,
                     design: SurveyDesign | None = None, by=None, household_size: str = "hh_size",
                     welfare: str = "cons_pc", level: float = DEFAULT_LEVEL,
                     ci_method: CIMethod = "logit") -> EstimateTable:
    """Inclusion and exclusion error rates, with the convention in the output.

    ``threshold``: who should receive: the pre-transfer poor (``"poverty_line"``) or the poorest
    ``quota`` share of people by pre-transfer welfare (``"quota"``; default share: the
    programme's own coverage, so that perfect targeting is possible).
    ``normalize``: ``"group"`` gives inclusion errors per non-target person and exclusion
    errors per target person (as Alatas et al. 2012 report them); ``"beneficiaries"`` gives
    both per beneficiary (inclusion: the share of beneficiaries who are not targets).
    ``poor_before``: pre-transfer welfare before ``"all_transfers"`` (default: PKH and BPNT, or
    ``all_programs``; the ASPIRE/CEQ convention, the same poor as :func:`poor_coverage`, so that
    coverage of the poor + exclusion error = 1) or before the programme's ``"own_transfer"``. The
    choice is in the ``poor_before`` column and, in words, in the notes.
    ``ci_method``: the interval of the rates, ``"logit"`` (default), ``"beta"`` or ``"wald"``; the
    units behind an exclusion error are the sampled target households.
    """
    if normalize not in ("group", "beneficiaries"):
        raise parameter_error("normalize", "targeting_errors", "'group' or 'beneficiaries'", normalize)
    check_ci_method(ci_method, "targeting_errors")
    _check_poor_before(poor_before, "targeting_errors")
    inp = _inputs(data, program, welfare=welfare, poverty_line=poverty_line, household_size=household_size,
                  design=design)
    target, note = _target(inp, threshold, quota, poor_before, all_programs)
    s, b = inp.s, inp.b
    inc_den = s * ~target if normalize == "group" else s * b
    exc_den = s * target if normalize == "group" else s * b
    kw = {"by": by, "level": level, "ci_method": ci_method, "note": note, "threshold": threshold,
          "poor_before": poor_before}
    return _combine([
        _table(inp, s * b * ~target, inc_den, estimand="inclusion_error_rate",
               normalized_by="non-target" if normalize == "group" else "beneficiaries", **kw),
        _table(inp, s * ~b * target, exc_den, estimand="exclusion_error_rate",
               normalized_by="target" if normalize == "group" else "beneficiaries", **kw),
    ])


def overlap(data: pd.DataFrame, *, programs: tuple[Program, Program] = (PKH, BPNT), design: SurveyDesign | None = None,
            by=None, household_size: str = "hh_size", welfare: str = "cons_pc",
            level: float = DEFAULT_LEVEL, ci_method: CIMethod = "logit") -> EstimateTable:
    """Share of people in households receiving both programmes, only one, or neither.
    ``ci_method``: the interval of the share, ``"logit"`` (default), ``"beta"`` or ``"wald"``
    (:func:`welfare_eval.results.share_interval`).
    """
    check_ci_method(ci_method, "overlap")
    a = _inputs(data, programs[0], welfare=welfare, poverty_line=None, household_size=household_size, design=design)
    b = _inputs(data, programs[1], welfare=welfare, poverty_line=None, household_size=household_size, design=design)
    p, q = programs[0].name, programs[1].name
    cells = {f"both {p} and {q}": a.b & b.b, f"only {p}": a.b & ~b.b, f"only {q}": ~a.b & b.b, "neither": ~a.b & ~b.b}
    out = []
    for label, mask in cells.items():
        t = ratio_family(a.s * mask, a.s, data, design=a.prep.design, by=by, level=level, prep=a.prep,
                         estimand="overlap_rate", ci_method=ci_method)
        f = t.to_frame()
        f.insert(1, "program", label)
        out.append(EstimateTable(f, group_columns=t.group_columns, level=level))
    return _combine(out)


def indicator_table(data: pd.DataFrame, *, programs=(PKH, BPNT), poverty_line="poverty_line",
                    extreme_line: float | str | None = "extreme_line", design: SurveyDesign | None = None, by=None,
                    household_size: str = "hh_size", welfare: str = "cons_pc",
                    level: float = DEFAULT_LEVEL, ci_method: CIMethod = "logit",
                    poor_before: PoorBefore = "all_transfers") -> EstimateTable:
    """The standard table: FGT 0/1/2 and extreme poverty, then per programme coverage, coverage of
    the poor, adequacy, reductions, benefit-cost ratio, CGH, CEQ efficiency and targeting errors, by
    domain. Shares get the interval of ``ci_method``; the poor of coverage of the poor and of the
    errors are those of ``poor_before`` (default: before all transfers)."""
    from .poverty import fgt

    check_ci_method(ci_method, "indicator_table")
    _check_poor_before(poor_before, "indicator_table")
    with reuse_prepared():
        return _indicator_table(data, programs=programs, poverty_line=poverty_line, extreme_line=extreme_line,
                                design=design, by=by, household_size=household_size, welfare=welfare, level=level,
                                fgt=fgt, ci_method=ci_method, poor_before=poor_before)


def _indicator_table(data, *, programs, poverty_line, extreme_line, design, by, household_size, welfare, level, fgt,
                     ci_method, poor_before):
    tables = [fgt(data, welfare=welfare, poverty_line=poverty_line, alpha=a, design=design, by=by, level=level,
                  household_size=household_size, ci_method=ci_method) for a in (0, 1, 2)]
    if extreme_line is not None:
        t = fgt(data, welfare=welfare, poverty_line=extreme_line, design=design, by=by, level=level,
                household_size=household_size, ci_method=ci_method)
        f = t.to_frame()
        f["estimand"] = "extreme_poverty_rate"
        tables.append(EstimateTable(f, group_columns=t.group_columns, level=level))
    for prog in programs:
        kw = dict(design=design, by=by, household_size=household_size, welfare=welfare, level=level)
        ci = dict(kw, ci_method=ci_method)
        poor = dict(ci, poverty_line=poverty_line, poor_before=poor_before)  # all transfers of the data
        tables += [coverage(data, prog, **ci), poor_coverage(data, prog, **poor), adequacy(data, prog, **ci),
                   poverty_reduction(data, prog, poverty_line=poverty_line, **ci),
                   cgh(data, prog, **kw), ceq_efficiency(data, prog, poverty_line=poverty_line, **ci),
                   targeting_errors(data, prog, **poor)]
    frames = [t.to_frame() for t in tables]
    return EstimateTable(pd.concat(frames, ignore_index=True), group_columns=tables[0].group_columns, level=level)


# ------------------------------------------------------------------------------------------------
# disbursement records

def reconcile_disbursement(records: pd.DataFrame, *, by=("kec_code", "channel"), late_after_days: int = 30,
                           scheduled: str = "scheduled_on") -> pd.DataFrame:
    """Allocated, paid, late, short and not received, by kecamatan and channel (a census of records).

    ``late``: received more than ``late_after_days`` after the scheduled date (the first month of
    the quarter when the records carry no schedule); ``short``: received less than allocated.
    """
    d = records
    by = [by] if isinstance(by, str) else list(by)
    if scheduled in d.columns:
        sched = pd.to_datetime(d[scheduled])
    else:
        per = d["period"].astype(str)
        sched = pd.to_datetime(per.str[:4] + "-" + ((per.str[-1].astype(int) - 1) * 3 + 1).astype(str) + "-01")
    received = d["paid_on"].notna()
    delay = (pd.to_datetime(d["paid_on"]) - sched).dt.days
    work = pd.DataFrame({**{c: d[c] for c in by}, "allocated": d["allocated_amount"], "paid": d["disbursed_amount"],
                         "records": 1, "received": received, "late": received & (delay > late_after_days),
                         "short": received & (d["disbursed_amount"] < d["allocated_amount"]),
                         "delay_days": delay.where(received)})
    g = work.groupby(by, observed=True)
    out = g.agg(records=("records", "sum"), allocated=("allocated", "sum"), paid=("paid", "sum"),
                received=("received", "sum"), late=("late", "sum"), short=("short", "sum"),
                median_delay_days=("delay_days", "median")).reset_index()
    out["paid_rate"] = out["paid"] / out["allocated"]
    out["not_received_rate"] = 1 - out["received"] / out["records"]
    out["late_rate"] = out["late"] / out["received"]
    out["short_rate"] = out["short"] / out["received"]
    out["shortfall"] = out["allocated"] - out["paid"]
    return out
