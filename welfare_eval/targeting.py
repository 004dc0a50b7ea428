"""Social protection and targeting indicators (ASPIRE, CEQ, Coady-Grosh-Hoddinott), design-based.

Notation (shared/DOMAIN.md): ``y_post`` per-capita welfare as observed, ``T`` the per-capita
transfer of the programme (Rp per capita per month), ``y_pre = y_post - T`` (no behavioural
response, the ASPIRE and CEQ convention), ``z`` the poverty line, person weights ``w s``
(household weight x household size). Every indicator is a ratio of weighted totals (or a smooth
function of two), so each carries a linearized standard error from :mod:`welfare_eval.survey`.

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
from typing import Literal

import numpy as np
import pandas as pd

from .config import DEFAULT_LEVEL
from .exceptions import DataValidationError, ParameterError, parameter_error
from .poverty import _line, _person_fgt, _size, _welfare, gini_parts, welfare_order
from .results import EstimateTable, check_level
from .survey import (
    SurveyDesign, _method, domains, estimate_table, linearized_variance, numeric, prepare, ratio_estimate,
    _memo, ratio_cells, ratio_family, replicate_variance, reuse_prepared, variance_of_psu_totals,
)

Threshold = Literal["poverty_line", "quota"]
Normalize = Literal["beneficiaries", "group"]


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


def _inputs(data: pd.DataFrame, program: Program, *, welfare: str, poverty_line, household_size: str,
            design: SurveyDesign | None) -> _Inputs:
    """The checked inputs of a programme, built once per frame within a reuse block."""
    key = (program, welfare, poverty_line if isinstance(poverty_line, (str, type(None))) else float(poverty_line),
           household_size, design)
    return _memo("inputs", data, key, lambda: _Inputs(data, program, welfare=welfare, poverty_line=poverty_line,
                                                      household_size=household_size, design=design))


def _table(inp: _Inputs, a, b, *, by, level, estimand: str, **extra) -> EstimateTable:
    t = ratio_family(a, b, inp.data, design=inp.prep.design, by=by, level=level, estimand=estimand, prep=inp.prep)
    f = t.to_frame()
    f.insert(1, "program", inp.program.name)
    for k, v in extra.items():
        f[k] = v
    return EstimateTable(f, group_columns=t.group_columns, level=level, notes=t.notes)


def _combine(tables: list[EstimateTable]) -> EstimateTable:
    frames = [t.to_frame() for t in tables]
    first = tables[0]
    return EstimateTable(pd.concat(frames, ignore_index=True), group_columns=first.group_columns, level=first.level)


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
             household_size: str = "hh_size", welfare: str = "cons_pc", level: float = DEFAULT_LEVEL) -> EstimateTable:
    """Coverage: people living in a beneficiary household / people, by group (``coverage_rate``)."""
    check_level(level, "coverage")
    inp = _inputs(data, program, welfare=welfare, poverty_line=None, household_size=household_size, design=design)
    return _table(inp, inp.s * inp.b, inp.s, by=by, level=level, estimand="coverage_rate")


def _share(inp: _Inputs, value: np.ndarray, groups: pd.Series, *, by, level, estimand: str) -> EstimateTable:
    """Share of a total that falls in each group (incidence), within each ``by`` domain."""
    g = pd.Series(groups).to_numpy()
    out = []
    for q in np.unique(g):
        t = _table(inp, value * (g == q), value, by=by, level=level, estimand=estimand)
        f = t.to_frame()
        f.insert(2, str(getattr(groups, "name", None) or "group"), q)
        out.append(EstimateTable(f, group_columns=(str(getattr(groups, "name", None) or "group"), *t.group_columns),
                                 level=level))
    return _combine(out)


def beneficiary_incidence(data: pd.DataFrame, program: Program, *, groups: pd.Series,
                          design: SurveyDesign | None = None, by=None, household_size: str = "hh_size",
                          welfare: str = "cons_pc", level: float = DEFAULT_LEVEL) -> EstimateTable:
    """Beneficiaries in each group / all beneficiaries (the shares sum to one)."""
    inp = _inputs(data, program, welfare=welfare, poverty_line=None, household_size=household_size, design=design)
    return _share(inp, inp.s * inp.b, groups, by=by, level=level, estimand="beneficiary_incidence")


def benefit_incidence(data: pd.DataFrame, program: Program, *, groups: pd.Series, design: SurveyDesign | None = None,
                      by=None, household_size: str = "hh_size", welfare: str = "cons_pc",
                      level: float = DEFAULT_LEVEL) -> EstimateTable:
    """Transfers to each group / all transfers (the shares sum to one)."""
    inp = _inputs(data, program, welfare=welfare, poverty_line=None, household_size=household_size, design=design)
    return _share(inp, inp.s * inp.T, groups, by=by, level=level, estimand="benefit_incidence")


def adequacy(data: pd.DataFrame, program: Program, *, design: SurveyDesign | None = None, by=None,
             household_size: str = "hh_size", welfare: str = "cons_pc", level: float = DEFAULT_LEVEL) -> EstimateTable:
    """Transfers / total (post-transfer) welfare of beneficiary households (``adequacy_rate``)."""
    inp = _inputs(data, program, welfare=welfare, poverty_line=None, household_size=household_size, design=design)
    return _table(inp, inp.s * inp.T * inp.b, inp.s * inp.y_post * inp.b, by=by, level=level,
                  estimand="adequacy_rate")


def cgh(data: pd.DataFrame, program: Program, *, design: SurveyDesign | None = None, by=None,
        household_size: str = "hh_size", welfare: str = "cons_pc", level: float = DEFAULT_LEVEL) -> EstimateTable:
    """Coady-Grosh-Hoddinott indicator: share of benefits to the bottom 40% (pre-transfer) / 0.40.

    Above 1 is progressive; the median programme in Coady, Grosh and Hoddinott (2004) is about 1.25.
    """
    inp = _inputs(data, program, welfare=welfare, poverty_line=None, household_size=household_size, design=design)
    bottom40 = _population_rank(inp.y_pre, inp.prep.w * inp.s) < 0.40
    return _table(inp, inp.s * inp.T * bottom40 / 0.40, inp.s * inp.T, by=by, level=level, estimand="cgh")


def _reduction(inp: _Inputs, measure: str, *, by, level: float) -> EstimateTable:
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
        e0, t0 = ratio_cells(_person_fgt(inp.y_pre, inp.z, alpha, inp.s), inp.s, dom, prep)
        e1, t1 = ratio_cells(_person_fgt(inp.y_post, inp.z, alpha, inp.s), inp.s, dom, prep)
        with np.errstate(divide="ignore", invalid="ignore"):
            est = 1.0 - e1 / e0
            t = (e1[:, None] * t0 - e0[:, None] * t1) / e0[:, None] ** 2
        var = variance_of_psu_totals(t, dom.codes, prep)
    names = {"fgt0": "headcount_reduction_rate", "fgt1": "poverty_gap_reduction_rate",
             "fgt2": "severity_reduction_rate", "gini": "gini_reduction_rate"}
    t = estimate_table(names[measure], est, var, dom, prep, level=level, method=_method(prep))
    f = t.to_frame()
    f.insert(1, "program", inp.program.name)
    return EstimateTable(f, group_columns=t.group_columns, level=level)


def poverty_reduction(data: pd.DataFrame, program: Program, *, poverty_line, design: SurveyDesign | None = None,
                      by=None, household_size: str = "hh_size", welfare: str = "cons_pc",
                      level: float = DEFAULT_LEVEL) -> EstimateTable:
    """Relative reductions of headcount, gap, severity and Gini from ``y_pre`` to ``y_post``,
    and the benefit-cost ratio (reduction of the aggregate poverty gap in Rp per Rp transferred)."""
    inp = _inputs(data, program, welfare=welfare, poverty_line=poverty_line, household_size=household_size,
                  design=design)
    tables = [_reduction(inp, m, by=by, level=level) for m in ("fgt0", "fgt1", "fgt2", "gini")]
    # ASPIRE's definition from the two poverty gaps; CEQ's poverty reduction efficiency computes the
    # same number as min(T, (z - y_pre)+) (ceq_efficiency), and a test holds them equal
    gap_change = np.maximum(inp.z - inp.y_pre, 0.0) - np.maximum(inp.z - inp.y_post, 0.0)
    tables.append(_table(inp, inp.s * gap_change, inp.sT, by=by, level=level, estimand="benefit_cost_ratio"))
    return _combine(tables)


# ------------------------------------------------------------------------------------------------
# CEQ (Beckerman-Immervoll)

def ceq_efficiency(data: pd.DataFrame, program: Program, *, poverty_line, design: SurveyDesign | None = None,
                   by=None, household_size: str = "hh_size", welfare: str = "cons_pc",
                   level: float = DEFAULT_LEVEL) -> EstimateTable:
    """Beckerman-Immervoll indicators as in CEQ's ceqef.

    - vertical_expenditure_efficiency: transfers to the pre-transfer poor / all transfers;
    - spillover: transfers beyond what lifts the pre-transfer poor to z / transfers to them;
    - poverty_reduction_efficiency: the part of transfers that closes poverty gaps / all
      transfers (equals ASPIRE's benefit-cost ratio);
    - poverty_gap_efficiency: reduction of the aggregate poverty gap (Rp) / the pre-transfer
      aggregate gap (equals ASPIRE's poverty gap reduction when the line is one number).
    """
    inp = _inputs(data, program, welfare=welfare, poverty_line=poverty_line, household_size=household_size,
                  design=design)
    sT_poor = inp.sT * inp.poor_pre
    return _combine([
        _table(inp, sT_poor, inp.sT, by=by, level=level, estimand="vertical_expenditure_efficiency"),
        _table(inp, sT_poor - inp.s_closing * inp.poor_pre, sT_poor, by=by, level=level, estimand="spillover"),
        _table(inp, inp.s_closing, inp.sT, by=by, level=level, estimand="poverty_reduction_efficiency"),
        _table(inp, inp.s_closing, inp.s * inp.need, by=by, level=level, estimand="poverty_gap_efficiency"),
    ])


# ------------------------------------------------------------------------------------------------
# inclusion and exclusion errors

def _target(inp: _Inputs, threshold: str, quota: float | None) -> np.ndarray:
    """Who should receive: the pre-transfer poor, or the poorest ``quota`` share of people."""
    if threshold == "poverty_line":
        if inp.z is None:
            raise ParameterError("The 'poverty_line' parameter is needed when threshold='poverty_line'.")
        return inp.y_pre < inp.z
    if threshold == "quota":
        p = inp.prep.w * inp.s
        share = float(np.sum(p * inp.b) / np.sum(p)) if quota is None else quota
        if isinstance(share, bool) or not 0 < share < 1:
            raise parameter_error("quota", "targeting_errors", "a share strictly between 0 and 1", share)
        return _population_rank(inp.y_pre, p) < share
    raise parameter_error("threshold", "targeting_errors", "'poverty_line' or 'quota'", threshold)


def targeting_errors(data: pd.DataFrame, program: Program, *, threshold: Threshold = "poverty_line",
                     normalize: Normalize = "group", poverty_line=None, quota: float | None = None,
                     design: SurveyDesign | None = None, by=None, household_size: str = "hh_size",
                     welfare: str = "cons_pc", level: float = DEFAULT_LEVEL) -> EstimateTable:
    """Inclusion and exclusion error rates, with the convention in the output.

    ``threshold``: who should receive: the pre-transfer poor (``"poverty_line"``) or the poorest
    ``quota`` share of people by pre-transfer welfare (``"quota"``; default share: the
    programme's own coverage, so that perfect targeting is possible).
    ``normalize``: ``"group"`` gives inclusion errors per non-target person and exclusion
    errors per target person (as Alatas et al. 2012 report them); ``"beneficiaries"`` gives
    both per beneficiary (inclusion: the share of beneficiaries who are not targets).
    """
    if normalize not in ("group", "beneficiaries"):
        raise parameter_error("normalize", "targeting_errors", "'group' or 'beneficiaries'", normalize)
    inp = _inputs(data, program, welfare=welfare, poverty_line=poverty_line, household_size=household_size,
                  design=design)
    target = _target(inp, threshold, quota)
    s, b = inp.s, inp.b
    inc_den = s * ~target if normalize == "group" else s * b
    exc_den = s * target if normalize == "group" else s * b
    return _combine([
        _table(inp, s * b * ~target, inc_den, by=by, level=level, estimand="inclusion_error_rate",
               threshold=threshold, normalized_by="non-target" if normalize == "group" else "beneficiaries"),
        _table(inp, s * ~b * target, exc_den, by=by, level=level, estimand="exclusion_error_rate",
               threshold=threshold, normalized_by="target" if normalize == "group" else "beneficiaries"),
    ])


def overlap(data: pd.DataFrame, *, programs: tuple[Program, Program] = (PKH, BPNT), design: SurveyDesign | None = None,
            by=None, household_size: str = "hh_size", welfare: str = "cons_pc",
            level: float = DEFAULT_LEVEL) -> EstimateTable:
    """Share of people in households receiving both programmes, only one, or neither."""
    a = _inputs(data, programs[0], welfare=welfare, poverty_line=None, household_size=household_size, design=design)
    b = _inputs(data, programs[1], welfare=welfare, poverty_line=None, household_size=household_size, design=design)
    p, q = programs[0].name, programs[1].name
    cells = {f"both {p} and {q}": a.b & b.b, f"only {p}": a.b & ~b.b, f"only {q}": ~a.b & b.b, "neither": ~a.b & ~b.b}
    out = []
    for label, mask in cells.items():
        t = ratio_family(a.s * mask, a.s, data, design=a.prep.design, by=by, level=level, prep=a.prep,
                         estimand="overlap_rate")
        f = t.to_frame()
        f.insert(1, "program", label)
        out.append(EstimateTable(f, group_columns=t.group_columns, level=level))
    return _combine(out)


def indicator_table(data: pd.DataFrame, *, programs=(PKH, BPNT), poverty_line="poverty_line",
                    extreme_line: float | str | None = "extreme_line", design: SurveyDesign | None = None, by=None,
                    household_size: str = "hh_size", welfare: str = "cons_pc",
                    level: float = DEFAULT_LEVEL) -> EstimateTable:
    """The standard table: FGT 0/1/2 and extreme poverty, then per programme coverage, adequacy,
    reductions, benefit-cost ratio, CGH, CEQ efficiency and targeting errors, by domain."""
    from .poverty import fgt

    with reuse_prepared():
        return _indicator_table(data, programs=programs, poverty_line=poverty_line, extreme_line=extreme_line,
                                design=design, by=by, household_size=household_size, welfare=welfare, level=level,
                                fgt=fgt)


def _indicator_table(data, *, programs, poverty_line, extreme_line, design, by, household_size, welfare, level, fgt):
    tables = [fgt(data, welfare=welfare, poverty_line=poverty_line, alpha=a, design=design, by=by, level=level,
                  household_size=household_size) for a in (0, 1, 2)]
    if extreme_line is not None:
        t = fgt(data, welfare=welfare, poverty_line=extreme_line, design=design, by=by, level=level,
                household_size=household_size)
        f = t.to_frame()
        f["estimand"] = "extreme_poverty_rate"
        tables.append(EstimateTable(f, group_columns=t.group_columns, level=level))
    for prog in programs:
        kw = dict(design=design, by=by, household_size=household_size, welfare=welfare, level=level)
        tables += [coverage(data, prog, **kw), adequacy(data, prog, **kw),
                   poverty_reduction(data, prog, poverty_line=poverty_line, **kw),
                   cgh(data, prog, **kw), ceq_efficiency(data, prog, poverty_line=poverty_line, **kw),
                   targeting_errors(data, prog, poverty_line=poverty_line, **kw)]
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
