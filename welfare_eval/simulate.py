"""Static microsimulation of a reform of PKH or BPNT on the survey.

The programme's current transfer is taken out of welfare (``y_pre = y_post - T``, no behavioural
response), the reformed transfer is put in, and poverty, extreme poverty, gap, Gini, cost and the
benefit-cost ratio are estimated before and after on the same sample, so every change carries a
standard error that accounts for the covariance of the two estimates.

Reforms: a factor on benefit amounts; a decile cut-off (households in deciles up to ``max_decile``
receive; newcomers get the mean current benefit of recipients, or ``new_amount``); a coverage
target (the poorest-ranked non-recipients by PMT decile join until coverage reaches it); and a
budget-neutral option that rescales amounts to the current cost.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .config import DEFAULT_LEVEL
from .exceptions import parameter_error
from .poverty import change
from .results import EstimateTable, check_level
from .survey import SurveyDesign, numeric, prepare, total
from .targeting import Program, poverty_reduction


@dataclass(frozen=True)
class Reform:
    """What changes. Amounts are Rp per household per year, as in the data contract."""

    amount_factor: float = 1.0
    max_decile: int | None = None
    new_amount: float | None = None
    coverage_rate: float | None = None
    budget_neutral: bool = False

    def __post_init__(self):
        if not (isinstance(self.amount_factor, (int, float)) and self.amount_factor >= 0):
            raise parameter_error("amount_factor", "Reform", "a number >= 0", self.amount_factor)
        if self.max_decile is not None and self.max_decile not in range(1, 11):
            raise parameter_error("max_decile", "Reform", "a whole number from 1 to 10", self.max_decile)
        if self.coverage_rate is not None and not 0 < self.coverage_rate < 1:
            raise parameter_error("coverage_rate", "Reform", "a share strictly between 0 and 1", self.coverage_rate)
        if self.new_amount is not None and self.new_amount < 0:
            raise parameter_error("new_amount", "Reform", "an amount >= 0", self.new_amount)


def reformed_amounts(data: pd.DataFrame, program: Program, reform: Reform, *, weights: np.ndarray,
                     household_size: str, decile: str = "decile") -> np.ndarray:
    """Each household's yearly amount under the reform."""
    amount = numeric(data, program.amount, role="programme amount")
    receives = amount > 0
    w = weights
    mean_current = float(np.sum(w * amount * receives) / max(np.sum(w * receives), 1e-12))
    newcomer = reform.new_amount if reform.new_amount is not None else mean_current
    new = amount * reform.amount_factor
    if reform.max_decile is not None or reform.coverage_rate is not None:
        dec = numeric(data, decile, role="decile")
        if reform.max_decile is not None:
            eligible = dec <= reform.max_decile
            new = np.where(eligible, np.where(receives, new, newcomer * reform.amount_factor), 0.0)
            receives = eligible
        if reform.coverage_rate is not None:
            s = numeric(data, household_size, role="household_size")
            p = w * s
            target = reform.coverage_rate * p.sum()
            current = np.sum(p * receives)
            if target > current:  # add non-recipients, poorest decile first, in a fixed order
                order = np.lexsort((np.arange(len(dec)), dec))
                order = order[~receives[order]]
                cum = current + np.cumsum(p[order])
                join = order[cum - p[order] < target]
                new[join] = newcomer * reform.amount_factor
            elif target < current:  # drop recipients, richest decile first
                order = np.lexsort((np.arange(len(dec)), -dec))
                order = order[receives[order]]
                cum = current - np.cumsum(p[order])
                leave = order[cum + p[order] > target]
                new[leave] = 0.0
    if reform.budget_neutral:
        cost_now = np.sum(w * amount)
        cost_new = np.sum(w * new)
        if cost_new > 0:
            new = new * cost_now / cost_new
    return new


def simulate(data: pd.DataFrame, program: Program, reform: Reform, *, poverty_line="poverty_line",
             extreme_line="extreme_line", design: SurveyDesign | None = None, by=None, household_size: str = "hh_size",
             welfare: str = "cons_pc", decile: str = "decile", level: float = DEFAULT_LEVEL) -> EstimateTable:
    """Poverty, extreme poverty, gap, Gini, yearly cost and benefit-cost ratio before and after a reform.

    Rows per measure: ``before``, ``after`` and ``change`` (after - before), with standard
    errors; cost is the estimated yearly total in Rp; the benefit-cost ratio is the reduction of the
    aggregate poverty gap per rupiah transferred, before and after.
    """
    check_level(level, "simulate")
    if not isinstance(reform, Reform):
        raise parameter_error("reform", "simulate", "a Reform(...)", reform)
    prep = prepare(data, design)
    s = numeric(data, household_size, role="household_size")
    amount = numeric(data, program.amount, role="programme amount")
    new = reformed_amounts(data, program, reform, weights=prep.w, household_size=household_size, decile=decile)
    y_post = numeric(data, welfare, role="welfare")
    y_new = y_post + (new - amount) / 12.0 / s
    d = data.assign(_y_now=y_post, _y_new=np.maximum(y_new, 0.0), _amount_new=new, _cost_change=new - amount)
    kw = dict(design=design, by=by, level=level, household_size=household_size)
    frames = []
    for measure, line in (("fgt0", poverty_line), ("fgt1", poverty_line), ("fgt2", poverty_line),
                          ("fgt0", extreme_line), ("gini", None)):
        t = change(d, before="_y_now", after="_y_new", measure=measure, poverty_line=line, **kw).to_frame()
        name = {"fgt0": "headcount", "fgt1": "poverty_gap", "fgt2": "severity", "gini": "gini"}[measure]
        if line is extreme_line and measure == "fgt0":
            name = "extreme_headcount"
        t["estimand"] = [f"{name}: before", f"{name}: after", f"{name}: change"]
        frames.append(t)
    cost_kw = dict(design=design, by=by, level=level)
    for label, col in (("before", program.amount), ("after", "_amount_new"), ("change", "_cost_change")):
        t = total(d, col, **cost_kw).to_frame()
        t["estimand"] = f"yearly cost (Rp): {label}"
        frames.append(t)
    for label, col in (("before", program.amount), ("after", "_amount_new")):
        prog = Program(program.name, amount=col)
        dd = d if label == "before" else d.assign(**{welfare: d["_y_new"]})
        r = poverty_reduction(dd, prog, poverty_line=poverty_line, welfare=welfare, **kw).to_frame()
        r = r[r["estimand"] == "benefit_cost_ratio"].copy()
        r["estimand"] = f"benefit_cost_ratio: {label}"
        frames.append(r.drop(columns=["program"]))
    out = pd.concat(frames, ignore_index=True)
    out.insert(1, "program", program.name)
    groups = () if by is None else ((by,) if isinstance(by, str) else tuple(by))
    return EstimateTable(out, group_columns=groups, level=level,
                         notes=(f"reform: {reform}", "static: no behavioural response; same sample before and after"))
