"""The policy simulation for readers and for the results store.

The reforms (``simulate.Reform``) and the survey they are simulated on are chosen in
``notebooks/50_policy_simulation.ipynb``; this module translates, formats, applies the disclosure
rule and shapes the rows the notebook stores. Nothing here estimates.
"""
from __future__ import annotations

import pandas as pd

from ..config import DEFAULT_MIN_CELL
from ..results import EstimateTable
from .store import markers, suppress
from .strings import fmt_number, fmt_pp, t, t_or

#: A reform costing less than this (Rp per year) is budget-neutral in effect: no cost per point.
NEUTRAL_COST = 1e6


def scenario_rows(results: dict[str, EstimateTable], *, min_cell: int = DEFAULT_MIN_CELL) -> dict[str, pd.DataFrame]:
    """Each scenario's rows (measure before, after and their change; cost; benefit-cost ratio),
    numbers blanked below ``min_cell`` households, indexed by estimand."""
    return {name: suppress(table.to_frame(), min_cell=min_cell).set_index("estimand")
            for name, table in results.items()}


def store_rows(rows: dict[str, pd.DataFrame]) -> list[tuple[str, str, pd.DataFrame]]:
    """(programme, scenario name, rows) for the store; the scenario's name is its store key in every language."""
    return [(str(f["program"].iloc[0]), name, f.reset_index()) for name, f in rows.items()]


def scenario_table(rows: dict[str, pd.DataFrame], labels: dict[str, str], language: str, *,
                   min_cell: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
    """One line per scenario: the change of the headcount (with its standard error) and of extreme
    poverty in percentage points, the extra yearly cost and the cost per point of poverty reduced.
    ``labels``: scenario name -> string key of its reader's name (a name without one is shown as written)."""
    out = []
    for name, f in rows.items():
        key = labels.get(name, name)
        label = t_or(key, language, name)
        mark = markers(f.loc[["headcount: change"]], language, min_cell=min_cell)[0]
        if mark:  # every number of the scenario rests on the same few households
            out.append({t("reform", language): label, t("headcount_change", language): mark,
                        t("n_households", language): ""})
            continue
        dp0 = f.loc["headcount: change", "estimate"]
        dcost = f.loc["yearly cost (Rp): change", "estimate"]
        out.append({t("reform", language): label,
                    t("headcount_change", language): fmt_pp(dp0, language, digits=2, unit=False),
                    t("std_error_pp", language): fmt_pp(f.loc["headcount: change", "std_error"], language, digits=2,
                                                        unit=False),
                    t("extreme_change", language): fmt_pp(f.loc["extreme_headcount: change", "estimate"], language,
                                                          digits=2, unit=False),
                    t("rp_billion_year", language): fmt_number(dcost / 1e9, language, digits=1),
                    # a cost per point only for a fall of poverty its interval shows (upper bound below 0)
                    t("cost_per_pp", language): fmt_number(dcost / 1e9 / (-100 * dp0), language, digits=1)
                    if f.loc["headcount: change", "ci_upper"] < 0 and dcost > NEUTRAL_COST else "–",
                    t("n_households", language): fmt_number(f.loc["headcount: change", "nobs"], language)})
    table = pd.DataFrame(out).fillna("")
    table.attrs["note"] = t("sim_cost_per_pp_note", language)
    return table
