"""What each report notebook shows, computed by the package so that notebooks stay thin.

Each function takes the notebook's parameters, returns a small object with tables for readers
(already in the language, suppressed below ``min_cell``), tidy rows for the results store, figures
and a paragraph of text whose numbers come from the estimates.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import plots, poverty, regions, survey, targeting
from ..config import DEFAULT_MIN_CELL
from ..io import load_dataset
from ..quality import check_kabupaten, resolve_source
from ..simulate import Reform, simulate
from .display import md
from .store import display_table, markers, n_column, secondary_suppress, suppress
from .strings import (
    check_language,
    fmt_number,
    fmt_pct,
    fmt_pp,
    fmt_rp,
    fmt_year,
    t,
)


@dataclass
class Section:
    text: str = ""
    tables: dict = field(default_factory=dict)    # name -> DataFrame for readers
    figures: dict = field(default_factory=dict)   # name -> matplotlib Figure
    rows: list = field(default_factory=list)      # (program, outcome, tidy frame) for the store
    headline: dict = field(default_factory=dict)


def _scope(kab: str | None, language: str) -> str:
    return t("province", language) if kab is None else f"{t('kabupaten', language)} {regions.kab_names()[kab]}"


def _load(data_dir, kabupaten, language, tables):
    check_language(language)
    kab = check_kabupaten(kabupaten)
    ds = load_dataset(resolve_source(data_dir), tables=tables)
    return ds, kab


def _pick(frame: pd.DataFrame, kab: str | None, col: str = "kab_code") -> pd.DataFrame:
    return frame if kab is None or col not in frame.columns else frame[frame[col] == kab]


# ------------------------------------------------------------------------------------------------

def poverty_profile(data_dir: str = "", *, kabupaten: str = "all", language: str = "id",
                    min_cell: int = DEFAULT_MIN_CELL, extreme_line: str = "extreme_215_2017ppp") -> Section:
    """P0/P1/P2 and extreme poverty by kabupaten and area, Gini, change across waves, the poor's profile."""
    ds, kab = _load(data_dir, kabupaten, language, ("survey", "panel"))
    s = ds["survey"]
    kw: dict[str, Any] = dict(welfare="cons_pc", design=survey.SUSENAS, household_size="hh_size")
    sec = Section()
    # headline for the scope (a domain of the full design when one kabupaten is asked for)
    by = None if kab is None else "kab_code"
    # the text follows the store's rule: a scope with too few households gets no number
    p0 = suppress(_pick(poverty.fgt(s, poverty_line="poverty_line", by=by, **kw).to_frame(), kab),
                  min_cell=min_cell).iloc[0]
    ext = suppress(_pick(poverty.extreme_poverty(s, line=extreme_line, by=by, **kw).to_frame(), kab),
                   min_cell=min_cell).iloc[0]
    g = suppress(_pick(poverty.gini(s, by=by, **kw).to_frame(), kab), min_cell=min_cell).iloc[0]
    palma = suppress(_pick(poverty.palma(s, by=by, **kw).to_frame(), kab), min_cell=min_cell).iloc[0]
    s80s20 = suppress(_pick(poverty.s80s20(s, by=by, **kw).to_frame(), kab), min_cell=min_cell).iloc[0]
    sec.headline = {"P0": p0["estimate"], "P0_lo": p0["ci_lower"], "P0_hi": p0["ci_upper"],
                    "extreme": ext["estimate"], "gini": g["estimate"], "palma": palma["estimate"],
                    "s80s20": s80s20["estimate"]}
    if p0["suppressed"]:
        sec.text = f"{md(_scope(kab, language))}: {t('suppressed_text', language, n=min_cell)}."
    else:
        sec.text = t("pp_text", language, scope=md(_scope(kab, language)), p0=fmt_pct(p0["estimate"], language),
                     lo=fmt_pct(p0["ci_lower"], language), hi=fmt_pct(p0["ci_upper"], language),
                     ext=fmt_pct(ext["estimate"], language), gini=fmt_number(g["estimate"], language, digits=3))
        sec.text += " " + t("pp_text_inequality", language, palma=fmt_number(palma["estimate"], language, digits=2),
                            s80s20=fmt_number(s80s20["estimate"], language, digits=2))
    for name, tab in (("P0", p0), ("extreme", ext), ("Gini", g), ("Palma", palma), ("S80/S20", s80s20)):
        sec.rows.append(("", name, tab.to_frame().T))
    # by kabupaten x area
    s2 = s.assign(area=np.where(s["urban"], t("urban", language), t("rural", language)),
                  kab=s["kab_code"].map(lambda k: regions.kab_names()[k]))
    measures = [("headcount", poverty.fgt(s2, poverty_line="poverty_line", alpha=0, by=["kab", "area"], **kw)),
                ("gap", poverty.fgt(s2, poverty_line="poverty_line", alpha=1, by=["kab", "area"], **kw)),
                ("extreme", poverty.extreme_poverty(s2, line=extreme_line, by=["kab", "area"], **kw))]
    frames = []
    for key, table in measures:
        # kabupaten x area cells add up to the kabupaten (and the province's urban/rural) figures:
        # secondary suppression over the whole province, so every report hides the same cells
        f = secondary_suppress(table.to_frame(), margins=[["kab"], ["area"]], min_cell=min_cell)
        if kab is not None:
            f = f[f["kab"] == regions.kab_names()[kab]]
        f["measure"] = t(key, language)
        frames.append(f)
        sec.rows.append(("", key, f.rename(columns={"kab": "kab_name"})))
    allf = pd.concat(frames, ignore_index=True)
    sec.tables["by_area"] = display_table(allf, language, label_columns=("measure", "kab", "area"), digits=2,
                                          min_cell=min_cell).rename(
        columns={"measure": t("measure", language), "kab": t("kabupaten", language), "area": t("area", language),
                 "estimate": t("estimate", language)})
    by_kab = secondary_suppress(poverty.fgt(s2, poverty_line="poverty_line", by="kab", **kw).to_frame(),
                                margins=[()], min_cell=min_cell)  # the kabupaten make up the province
    fig, _ = plots.bar_with_intervals(by_kab.rename(columns={"kab": "label"}), label="label",
                                      title=t("headcount", language), language=language,
                                      reference=p0["estimate"] if kab is None else None,
                                      reference_label=t("province", language))
    sec.figures["headcount_by_kabupaten"] = fig
    # the six kabupaten's P0 and extreme poverty, whatever the scope (the briefing's first chart)
    for key, table in (("P0 by kabupaten", poverty.fgt(s, poverty_line="poverty_line", by="kab_code", **kw)),
                       ("extreme by kabupaten", poverty.extreme_poverty(s, line=extreme_line, by="kab_code", **kw))):
        # the kabupaten make up the province, whose figure is published: one hidden hides another
        sec.rows.append(("", key, secondary_suppress(table.to_frame(), margins=[()], min_cell=min_cell)))
    # change across waves in real terms (panel households; clustered by kecamatan)
    pn = _pick(ds["panel"], kab)
    pn = pn.assign(real_cons=pn["cons_pc"] / (pn["cpi"] / 100), poor_f=pn["poor"].astype(float))
    design = survey.SurveyDesign(psu="kec_code")
    trend = pd.concat([survey.mean(pn, "real_cons", design=design, by="wave").to_frame().assign(measure="real_cons"),
                       survey.mean(pn, "poor_f", design=design, by="wave").to_frame().assign(measure="poor")])
    # panel households per wave (one row per household and wave)
    trend["nobs"] = trend["wave"].map(pn.groupby("wave")["hh_id"].nunique())
    trend = suppress(trend, min_cell=min_cell)
    cons, poor = trend[trend["measure"] == "real_cons"], trend[trend["measure"] == "poor"]
    sec.tables["trend"] = pd.DataFrame({
        t("wave", language): [fmt_year(w) for w in cons["wave"]],
        t("real_cons", language): [m or fmt_rp(v, language) for v, m in
                                   zip(cons["estimate"], markers(cons, language, min_cell=min_cell))],
        t("poor_rate_panel", language): [m or fmt_pct(v, language) for v, m in
                                         zip(poor["estimate"], markers(poor, language, min_cell=min_cell))],
        n_column(cons, language)[0]: n_column(cons, language)[1],
    })
    # the poor's profile
    s3 = s2.assign(poor=np.where(s2["cons_pc"] < s2["poverty_line"], t("poor", language), t("non_poor", language)),
                   female=s2["head_female"].astype(float))
    prof = []
    for col, key, pct in (("female", "female_head", True), ("hh_size", "hh_size_label", False),
                          ("head_educ", "head_educ_label", False)):
        # the poor and the others make up all households: one small group hides the other too
        f = secondary_suppress(survey.mean(_pick(s3, kab), col, design=survey.SUSENAS, by="poor").to_frame(),
                               margins=[()], min_cell=min_cell)
        row = {t("indicator", language): t(key, language)}
        for (_, r), m in zip(f.iterrows(), markers(f, language, min_cell=min_cell)):
            row[r["poor"]] = m or (fmt_pct(r["estimate"], language) if pct
                                   else fmt_number(r["estimate"], language, digits=1))
            row[f"n ({r['poor']})"] = "" if m else fmt_number(r["nobs"], language)
        prof.append(row)
    sec.tables["profile"] = pd.DataFrame(prof)
    return sec


PROGRAMS = {"PKH": targeting.PKH, "BPNT": targeting.BPNT}


def check_programs(programs: str) -> list:
    """``"PKH,BPNT"`` (the default), ``"PKH"`` or ``"BPNT"``: the programmes a report covers."""
    from ..exceptions import parameter_error

    names = [p.strip().upper() for p in str(programs).split(",") if p.strip()]
    if not names or any(n not in PROGRAMS for n in names):
        raise parameter_error("programs", "the report", "PKH, BPNT or PKH,BPNT", programs)
    return [PROGRAMS[n] for n in dict.fromkeys(names)]


def targeting_section(data_dir: str = "", *, kabupaten: str = "all", language: str = "id",
                      min_cell: int = DEFAULT_MIN_CELL, programs: str = "PKH,BPNT") -> Section:
    """Coverage by decile, errors, CGH, overlap, where the poor are missed, disbursement."""
    progs = check_programs(programs)
    ds, kab = _load(data_dir, kabupaten, language, ("survey", "disbursement"))
    s = ds["survey"]
    # one "poor" for coverage of the poor, the errors and the missed poor: before all transfers (ASPIRE/CEQ)
    s = s.assign(pre_poor=targeting.pre_transfer_poor(s, poverty_line="poverty_line"))
    sec = Section()
    kw: dict[str, Any] = dict(design=survey.SUSENAS, household_size="hh_size")
    cov = []
    for prog in progs:
        # deciles make up the programme's coverage; kabupaten x decile cells also the province's deciles
        f = secondary_suppress(targeting.coverage(s, prog, by=["decile"] if kab is None else ["kab_code", "decile"],
                                                  **kw).to_frame(),
                               margins=[()] if kab is None else [["kab_code"], ["decile"]], min_cell=min_cell)
        cov.append(_pick(f, kab))
    cov = pd.concat(cov, ignore_index=True)
    fig, _ = plots.line_by_group(cov, x="decile", group="program", title=t("coverage_decile", language),
                                 language=language, ylabel=t("coverage_rate", language), xlabel=t("decile", language))
    sec.figures["coverage_by_decile"] = fig
    sec.rows.append(("", "coverage by decile", cov))
    rows = []
    by = "pre_poor" if kab is None else ["kab_code", "pre_poor"]
    for prog in progs:
        c = _pick(targeting.coverage(s, prog, by=by, **kw).to_frame(), kab)
        c = c[c["pre_poor"]].assign(estimand="coverage_rate")
        e = _pick(targeting.targeting_errors(s, prog, poverty_line="poverty_line", poor_before="all_transfers",
                                             by=None if kab is None else "kab_code", **kw).to_frame(), kab)
        g = _pick(targeting.cgh(s, prog, by=None if kab is None else "kab_code", **kw).to_frame(), kab)
        r = _pick(targeting.poverty_reduction(s, prog, poverty_line="poverty_line",
                                              by=None if kab is None else "kab_code", **kw).to_frame(), kab)
        r = r[r["estimand"].isin(["headcount_reduction_rate", "poverty_gap_reduction_rate", "benefit_cost_ratio"])]
        for f in (c, e, g, r):
            f = suppress(f.assign(program=prog.name), min_cell=min_cell)
            rows.append(f)
    ind = pd.concat(rows, ignore_index=True)
    # coverage of the poor and the exclusion error add up to 100%: one hidden hides the other
    pair = ind["estimand"].isin(["coverage_rate", "exclusion_error_rate"])
    ind = secondary_suppress(ind.assign(_line=np.where(pair, "poor", ind["estimand"].astype(str))),
                             margins=[["program", "_line"]], min_cell=min_cell).drop(columns="_line")
    sec.rows.append(("", "targeting", ind))
    disp = display_table(ind, language, label_columns=("program", "estimand"), min_cell=min_cell)
    ratio = ind["estimand"].isin(["cgh", "benefit_cost_ratio"]).to_numpy()  # ratios, not shares
    as_num = display_table(ind, language, label_columns=("program", "estimand"), min_cell=min_cell, pct=False,
                           digits=2)
    disp.loc[ratio] = as_num.loc[ratio]
    disp["estimand"] = [t("poor_coverage_rate" if e == "coverage_rate" else e, language) for e in ind["estimand"]]
    sec.tables["indicators"] = disp.rename(columns={"program": t("program", language),
                                                    "estimand": t("indicator", language),
                                                    "estimate": t("estimate", language)})
    # the definition of "poor" behind the table, printed under it (show() renders attrs["note"])
    sec.tables["indicators"].attrs["note"] = t("tg_poor_definition", language, programs=" + ".join(
        p.name for p in targeting.transfer_programs(s)))
    def pick(prog: str, estimand: str) -> float:
        v = ind[(ind["program"] == prog) & (ind["estimand"] == estimand)]["estimate"]
        return float(v.iloc[0]) if len(v) else float("nan")  # a programme the report leaves out

    sec.headline = {
        "pkh_coverage_poor": pick("PKH", "coverage_rate"),
        "bpnt_coverage_poor": pick("BPNT", "coverage_rate"),
        "pkh_exclusion": pick("PKH", "exclusion_error_rate"),
        "pkh_cgh": pick("PKH", "cgh"),
    }
    # the text follows the table: a suppressed figure is said to be suppressed, not printed
    def say(prog: str, estimand: str) -> str:
        row = ind[(ind["program"] == prog) & (ind["estimand"] == estimand)]
        return (t("suppressed", language, n=min_cell) if len(row) and bool(row["suppressed"].iloc[0])
                else fmt_pct(pick(prog, estimand), language))

    said = {"pkh_coverage_poor": say("PKH", "coverage_rate"), "bpnt_coverage_poor": say("BPNT", "coverage_rate"),
            "pkh_exclusion": say("PKH", "exclusion_error_rate")}
    sec.text = t("tg_text", language, pkh=said["pkh_coverage_poor"], bpnt=said["bpnt_coverage_poor"],
                 exc=said["pkh_exclusion"])
    # where the poor are missed: kecamatan with the most pre-transfer poor people without PKH (aggregated)
    sp = _pick(s, kab).assign(missed=lambda d: (d["pre_poor"] & ~d["pkh"]).astype(float) * d["hh_size"])
    kec = survey.total(sp, "missed", design=survey.SUSENAS, by="kec_code").to_frame()
    # disclosure rests on the sampled households that are missed, not on all households of the kecamatan
    kec["nobs"] = kec["kec_code"].map((sp["missed"] > 0).groupby(sp["kec_code"]).sum()).fillna(0).astype(int)
    kec = suppress(kec, min_cell=min_cell).sort_values("estimate", ascending=False).head(10)
    names = regions.kec_names()
    sec.rows.append(("PKH", "missed_poor", kec.assign(estimand="missed_poor_total")))
    sec.tables["missed"] = pd.DataFrame({
        t("kecamatan", language): [f"{names.get(k, k)}" for k in kec["kec_code"]],
        t("missed_poor_count", language): [m or fmt_number(v, language)
                                           for v, m in zip(kec["estimate"], markers(kec, language, min_cell=min_cell))],
        n_column(kec, language)[0]: n_column(kec, language)[1]})
    # disbursement
    d = ds["disbursement"]
    d = d[d["program"].astype(str).isin([prog.name for prog in progs])]
    if kab is not None:
        d = d[d["kec_code"].astype(str).str.startswith(kab)]
    rec = targeting.reconcile_disbursement(d, by=("kec_code", "channel"))
    # records are household-quarters: the rule counts the households behind them
    hh = d.groupby(["kec_code", "channel"], observed=True)["hh_id"].nunique().rename("nobs").reset_index()
    rec = rec.merge(hh.astype({"kec_code": rec["kec_code"].dtype, "channel": rec["channel"].dtype}),
                    on=["kec_code", "channel"], how="left")
    rec = rec[rec["nobs"].fillna(0) >= min_cell].sort_values("late_rate", ascending=False).head(10)
    for col in ("late_rate", "median_delay_days"):  # the findings, for the briefing's next steps
        sec.rows.append(("", "disbursement", pd.DataFrame({
            "estimand": col, "kec_code": rec["kec_code"].astype(str).to_numpy(),
            "channel": rec["channel"].astype(str).to_numpy(), "estimate": rec[col].to_numpy(float),
            "nobs": rec["nobs"].to_numpy(), "method": ADMINISTRATIVE})))
    sec.tables["disbursement"] = pd.DataFrame({
        t("kecamatan", language): [names.get(k, k) for k in rec["kec_code"].astype(str)],
        t("channel", language): rec["channel"].astype(str),
        t("late_30", language): [fmt_pct(v, language) for v in rec["late_rate"]],
        t("short_paid", language): [fmt_pct(v, language) for v in rec["short_rate"]],
        t("median_delay", language): [fmt_number(v, language) for v in rec["median_delay_days"]],
        t("n_households", language): [fmt_number(v, language) for v in rec["nobs"]]})
    return sec


#: The method of rows counted over every record of an administrative file (the disbursement list):
#: a census of payments, with no sampling error and so no interval.
ADMINISTRATIVE = "administrative records (every payment; no sampling error)"


def simulation_section(data_dir: str = "", *, kabupaten: str = "all", language: str = "id",
                       min_cell: int = DEFAULT_MIN_CELL) -> Section:
    """What changes in benefit, cut-off or coverage would do to poverty and at what cost."""
    ds, kab = _load(data_dir, kabupaten, language, ("survey",))
    s = _pick(ds["survey"], kab) if kab is not None else ds["survey"]
    if kab is not None and s["strata"].nunique() < 2:
        s = ds["survey"]
    # store names (outcome in the results store) stay the same in every language; readers see the key's text
    scenarios = {
        "BPNT +25%": ("sc_bpnt_25", targeting.BPNT, Reform(amount_factor=1.25)),
        "PKH decile 1-4": ("sc_pkh_decile_4", targeting.PKH, Reform(max_decile=4)),
        "BPNT decile 1-2, same budget": ("sc_bpnt_decile_2", targeting.BPNT, Reform(max_decile=2, budget_neutral=True)),
    }
    sec = Section()
    rows = []
    for name, (label, prog, reform) in scenarios.items():
        f = suppress(simulate(s, prog, reform, design=survey.SUSENAS).to_frame(),
                     min_cell=min_cell).set_index("estimand")
        mark = markers(f.loc[["headcount: change"]], language, min_cell=min_cell)[0]
        if mark:  # every number of the scenario rests on the same few households
            rows.append({t("reform", language): t(label, language), t("headcount_change", language): mark,
                         t("n_households", language): ""})
            sec.rows.append((prog.name, name, f.reset_index()))
            continue
        dp0 = f.loc["headcount: change", "estimate"]
        dcost = f.loc["yearly cost (Rp): change", "estimate"]
        rows.append({t("reform", language): t(label, language),
                     t("headcount_change", language): fmt_pp(dp0, language, digits=2, unit=False),
                     t("std_error_pp", language): fmt_pp(f.loc["headcount: change", "std_error"], language, digits=2,
                                                         unit=False),
                     t("extreme_change", language): fmt_pp(f.loc["extreme_headcount: change", "estimate"], language,
                                                           digits=2, unit=False),
                     t("rp_billion_year", language): fmt_number(dcost / 1e9, language, digits=1),
                     t("cost_per_pp", language): fmt_number(dcost / 1e9 / (-100 * dp0), language, digits=1)
                     if dp0 < 0 and dcost > 1e6 else "–",
                     t("n_households", language): fmt_number(f.loc["headcount: change", "nobs"], language)})
        sec.rows.append((prog.name, name, f.reset_index()))
    sec.tables["scenarios"] = pd.DataFrame(rows).fillna("")
    return sec


# ------------------------------------------------------------------------------------------------
# diagnostics and plausibility, stored for the briefing (helper 'briefing')

#: Diagnostics the briefing's "how sure we are" reads from the store.
STORED_DIAGNOSTICS = ("pre_trends", "effective_sample", "overlap")


def diagnostic_rows(estimate, outcome: str) -> pd.DataFrame:
    """Store rows of an estimate's diagnostics: estimand ``diagnostic <name>``, its value, and
    whether it passed (group ``passed=True``/``False``; informational ones carry no ``passed``)."""
    rows = [{"estimand": f"diagnostic {d.name}", "estimate": float(d.value) if d.value is not None else np.nan,
             "outcome": outcome, "method": getattr(estimate, "method", ""), "passed": d.passed}
            for d in estimate.diagnostics if d.name in STORED_DIAGNOSTICS]
    return pd.DataFrame(rows, columns=["estimand", "estimate", "outcome", "method", "passed"])


def plausibility(estimate, data: pd.DataFrame, *, outcome: str, transfer: pd.Series | None = None,
                 treatment: str = "d") -> pd.DataFrame | None:
    """A store row ``plausibility <kind>`` when the programme's size cannot explain the estimate, else None.

    * consumption (``cons_pc``, Rp per person per month), given ``transfer`` (each household's transfer
      per person per month): a transfer of T rupiah per person cannot raise consumption by more than
      T without a multiplier no evaluation of these programmes has found; flagged
      (``estimate_beyond``) when the ATT exceeds the recipients' mean transfer, ``lower_beyond`` when
      even the interval's lower bound does.
    * a share (binary outcome ``y``): the ATT is E[Y(1)|D=1] - E[Y(0)|D=1] and the second term is a
      share, so the ATT lies in [m - 1, m], m the recipients' observed mean (``rate_outside``).
    """
    lo, hi = estimate.conf_int()
    treated = data[data[treatment] == 1]
    if outcome == "cons_pc":
        if transfer is None or not len(treated):
            return None
        bound = float(transfer[data[treatment] == 1].mean())
        if not np.isfinite(bound) or estimate.estimate <= bound:
            return None
        kind = "lower_beyond" if lo > bound else "estimate_beyond"
    else:
        m = float(treated["y"].mean()) if "y" in treated.columns and len(treated) else np.nan
        if not np.isfinite(m) or m - 1.0 <= estimate.estimate <= m:
            return None
        kind, bound = "rate_outside", (m - 1.0 if estimate.estimate < m - 1.0 else m)
    return pd.DataFrame([{"estimand": f"plausibility {kind}", "outcome": outcome, "estimate": estimate.estimate,
                          "ci_lower": lo, "ci_upper": hi, "bound": float(bound), "method": estimate.method}])


def plausibility_text(flag: pd.DataFrame, program: str, label: str, language: str) -> str:
    """The plausibility flag in one sentence of the language."""
    r = flag.iloc[0]
    kind = str(r["estimand"]).split(" ", 1)[1]
    if kind == "rate_outside":
        fmt = lambda v: fmt_number(100 * v, language, digits=1)  # noqa: E731
    else:
        fmt = lambda v: fmt_rp(v, language)  # noqa: E731
    return t(f"plaus_{kind}", language, program=program, outcome=label, est=fmt(r["estimate"]),
             lo=fmt(r["ci_lower"]), hi=fmt(r["ci_upper"]), bound=fmt(float(r["bound"])))
