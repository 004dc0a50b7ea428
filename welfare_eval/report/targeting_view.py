"""The targeting report for readers and for the results store.

The analysis (which programmes, who counts as poor, the indicators, the missed poor, the payment
records) is called in ``notebooks/20_targeting.ipynb`` with its choices in view; this module checks
the ``programs`` parameter, translates, formats, applies the disclosure rules and shapes the rows
the notebook stores. Nothing here estimates.
"""
from __future__ import annotations

import matplotlib.figure
import numpy as np
import pandas as pd

from .. import plots, regions, targeting
from ..config import DEFAULT_MIN_CELL
from ..exceptions import parameter_error
from ..quality import Region
from ..results import EstimateTable
from .store import (
    RSE_CAUTION,
    display_table,
    relative_se,
    secondary_suppress,
    suppress,
    suppress_by_kabupaten,
)
from .strings import fmt_number, fmt_pct, t, t_or

#: The programmes a targeting report can cover, by the name the ``programs`` parameter uses.
#: (Programme knowledge; it belongs with the receipt rules in ``welfare_eval.programs`` once that exists.)
PROGRAMS = {"PKH": targeting.PKH, "BPNT": targeting.BPNT}

#: The method of rows counted over every record of an administrative file (the disbursement list):
#: a census of payments, with no sampling error and so no interval.
ADMINISTRATIVE = "administrative records (every payment; no sampling error)"


def check_programs(programs: str) -> list[targeting.Program]:
    """``"PKH,BPNT"`` (the default), ``"PKH"`` or ``"BPNT"``: the programmes a report covers."""
    names = [p.strip().upper() for p in str(programs).split(",") if p.strip()]
    if not names or any(n not in PROGRAMS for n in names):
        raise parameter_error("programs", "the report", "PKH, BPNT or PKH,BPNT", programs)
    return [PROGRAMS[n] for n in dict.fromkeys(names)]


def coverage_rows(tables: list[EstimateTable], region: Region, *, min_cell: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
    """Coverage by decile of each programme, for the region. The deciles make up the programme's
    coverage, and kabupaten x decile cells also the province's deciles: secondary suppression over
    those totals, so that no hidden cell can be worked out."""
    frames = []
    for table in tables:
        f = table.to_frame()
        by_kab = "kab_code" in f.columns
        f = secondary_suppress(f, margins=[["kab_code"], ["decile"]] if by_kab else [()], min_cell=min_cell)
        frames.append(region.pick(f))
    return pd.concat(frames, ignore_index=True)


def coverage_figure(rows: pd.DataFrame, language: str) -> matplotlib.figure.Figure:
    """Coverage by decile, one line per programme."""
    fig, _ = plots.line_by_group(rows, x="decile", group="program", title=t("coverage_decile", language),
                                 language=language, ylabel=t("coverage_rate", language), xlabel=t("decile", language))
    return fig


def indicator_rows(tables: dict[str, list[EstimateTable]], region: Region, *, estimands,
                   min_cell: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
    """The region's rows of the indicators named in ``estimands``, per programme (``tables``: programme
    name -> its tables) in the order computed, numbers blanked below ``min_cell`` (a measure by
    kabupaten over all six, ``store.suppress_by_kabupaten``). Coverage of the
    poor (coverage in the domain of the poor, its row ``coverage_rate``) and the exclusion error add
    up to 100%: one hidden hides the other."""
    rows = []
    for program, program_tables in tables.items():
        for table in program_tables:
            f = table.to_frame()
            if "normalized_by" in f.columns and "ci_n" in f.columns:
                # an error rate rests on the households of its denominator (the poor for exclusion, the
                # non-poor for inclusion), not on all households: its n and its disclosure test
                f["nobs"] = f["ci_n"].where(f["ci_n"].notna(), f["nobs"])
            # by kabupaten: hidden over the six first, so that every region's report hides the same ones
            f = region.pick(suppress_by_kabupaten(f, min_cell=min_cell))
            if "pre_poor" in f.columns:   # coverage by poor / non-poor: the poor's row is coverage of the poor
                f = f[f["pre_poor"].astype(bool)]
            f = f[f["estimand"].isin(list(estimands))].assign(program=program)
            rows.append(suppress(f, min_cell=min_cell))
    ind = pd.concat(rows, ignore_index=True)
    pair = ind["estimand"].isin(["coverage_rate", "exclusion_error_rate"])
    return secondary_suppress(ind.assign(_line=np.where(pair, "poor", ind["estimand"].astype(str))),
                              margins=[["program", "_line"]], min_cell=min_cell).drop(columns="_line")


def indicator_table(rows: pd.DataFrame, language: str, *, transfers: list[str],
                    min_cell: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
    """The indicators as text: shares in percent, the CGH and benefit-cost ratio as numbers; under the
    table, the definition of "poor" it uses (before the transfers named in ``transfers``)."""
    disp = display_table(rows, language, label_columns=("program", "estimand"), min_cell=min_cell)
    ratio = rows["estimand"].isin(["cgh", "benefit_cost_ratio"]).to_numpy()  # ratios, not shares
    as_num = display_table(rows, language, label_columns=("program", "estimand"), min_cell=min_cell, pct=False,
                           digits=2)
    disp.loc[ratio] = as_num.loc[ratio]
    disp["estimand"] = [t("poor_coverage_rate" if e == "coverage_rate" else e, language) for e in rows["estimand"]]
    out = disp.rename(columns={"program": t("program", language), "estimand": t("indicator", language),
                               "estimate": t("estimate", language), t("n_households", language): t("tg_n_denominator",
                                                                                                     language)})
    out.attrs["note"] = t("tg_poor_definition", language, programs=" + ".join(transfers)) + " " + \
        t("tg_n_note", language)
    return out


def _value(rows: pd.DataFrame, program: str, estimand: str) -> pd.DataFrame:
    return rows[(rows["program"] == program) & (rows["estimand"] == estimand)]


def summary(rows: pd.DataFrame, language: str, *, min_cell: int = DEFAULT_MIN_CELL) -> str:
    """The paragraph under the title: coverage of the poor of PKH and BPNT and PKH's exclusion error,
    as the table shows them (a suppressed figure is said to be suppressed; a programme the report
    leaves out is a dash)."""
    def say(program: str, estimand: str) -> str:
        r = _value(rows, program, estimand)
        if len(r) and bool(r["suppressed"].iloc[0]):
            return t("suppressed", language, n=min_cell)
        return fmt_pct(float(r["estimate"].iloc[0]) if len(r) else float("nan"), language)

    return t("tg_text", language, pkh=say("PKH", "coverage_rate"), bpnt=say("BPNT", "coverage_rate"),
             exc=say("PKH", "exclusion_error_rate"))


def missed_rows(totals: EstimateTable, households: pd.DataFrame, *, column: str = "missed", top: int = 10,
                min_cell: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
    """The ``top`` kecamatan by estimated poor people missed (``column`` of ``households``: the people
    of a poor household that does not receive the programme), among those whose estimate may be
    published: at least ``min_cell`` sampled missed households (disclosure rests on them, not on all
    the kecamatan's households) and a relative standard error of at most 50% (BPS). A ranking of
    estimates too small or too uncertain to publish would rank noise; how many kecamatan were left
    out is kept in ``attrs["unranked"]``. A count of people is not negative: the interval's lower
    bound is cut at 0."""
    kec = totals.to_frame()
    missed_hh = (households[column] > 0).groupby(households["kec_code"]).sum()
    kec["nobs"] = kec["kec_code"].map(missed_hh).fillna(0).astype(int)
    kec["estimand"] = "missed_poor_total"   # the store's name of the count
    kec["ci_lower"] = kec["ci_lower"].clip(lower=0.0)
    kec = suppress(kec, min_cell=min_cell)
    shown = ~kec["suppressed"].astype(bool) & (kec["estimate"] > 0) & ~(relative_se(kec) > RSE_CAUTION)
    out = kec[shown].sort_values("estimate", ascending=False).head(top)
    out.attrs["unranked"] = int((~shown).sum())
    return out


def missed_table(rows: dict[str, pd.DataFrame], language: str, *, min_cell: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
    """Per programme (``rows``: programme name -> its :func:`missed_rows`), the kecamatan and their
    estimated poor people not receiving it, with the 95% interval and the relative standard error
    (aggregates only, never households); under the table, how many kecamatan could not be ranked."""
    names = regions.kec_names()
    frames = []
    for program, f in rows.items():
        if not len(f):  # not one kecamatan publishable: said in the table, not an empty table
            frames.append(pd.DataFrame({"program": [program], "kec": [t("tg_missed_none", language)]}))
            continue
        labelled = f.assign(program=program, kec=[names.get(str(k), str(k)) for k in f["kec_code"]])
        frames.append(display_table(labelled, language, pct=False, digits=0, label_columns=("program", "kec"),
                                    min_cell=min_cell, reliability=True))
    out = pd.concat(frames, ignore_index=True).fillna("").rename(columns={
        "program": t("program", language), "kec": t("kecamatan", language),
        "estimate": t("tg_missed_poor_count", language)})
    unranked = {program: f.attrs.get("unranked", 0) for program, f in rows.items()}
    out.attrs["note"] = " ".join([t("rse_note", language)] + [
        t("tg_missed_unranked", language, n=n, program=program) for program, n in unranked.items() if n])
    return out


def disbursement_rows(payments: pd.DataFrame, records: pd.DataFrame, *, sort_by: str = "late_rate", top: int = 10,
                      min_cell: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
    """The ``top`` kecamatan x channel cells by ``sort_by``, among cells of at least ``min_cell``
    households (records are household-quarters: the rule counts the households behind them)."""
    hh = records.groupby(["kec_code", "channel"], observed=True)["hh_id"].nunique().rename("nobs").reset_index()
    rec = payments.merge(hh.astype({"kec_code": payments["kec_code"].dtype, "channel": payments["channel"].dtype}),
                         on=["kec_code", "channel"], how="left")
    return rec[rec["nobs"].fillna(0) >= min_cell].sort_values(sort_by, ascending=False).head(top)


def store_disbursement(rows: pd.DataFrame, columns=("late_rate", "median_delay_days")) -> list[tuple]:
    """The payment findings as (programme, outcome, rows) for the store (the briefing's next steps)."""
    return [("", "disbursement", pd.DataFrame({
        "estimand": col, "kec_code": rows["kec_code"].astype(str).to_numpy(),
        "channel": rows["channel"].astype(str).to_numpy(), "estimate": rows[col].to_numpy(float),
        "nobs": rows["nobs"].to_numpy(), "method": ADMINISTRATIVE})) for col in columns]


def disbursement_table(rows: pd.DataFrame, language: str) -> pd.DataFrame:
    """Late and short payments and the median delay per kecamatan and channel (the channel by its
    reader's name; an unknown code as written); what "late" and "paid short" count, under the table."""
    names = regions.kec_names()
    channel = [t_or(f"tg_channel_{c}", language, c)
               for c in rows["channel"].astype(str)]
    out = pd.DataFrame({
        t("kecamatan", language): [names.get(k, k) for k in rows["kec_code"].astype(str)],
        t("channel", language): channel,
        t("late_30", language): [fmt_pct(v, language) for v in rows["late_rate"]],
        t("short_paid", language): [fmt_pct(v, language) for v in rows["short_rate"]],
        t("median_delay", language): [fmt_number(v, language) for v in rows["median_delay_days"]],
        t("n_households", language): [fmt_number(v, language) for v in rows["nobs"]]})
    out.attrs["note"] = t("tg_disbursement_note", language)
    return out
