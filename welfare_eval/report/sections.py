"""What each report notebook shows, computed by the package so that notebooks stay thin.

Each function takes the notebook's parameters, returns a small object with tables for readers
(already in the language, suppressed below ``min_cell``), tidy rows for the results store, figures
and a paragraph of text whose numbers come from the estimates.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import impact, plots, regions
from ..config import DEFAULT_MIN_CELL, data_dir
from ..exceptions import DataValidationError
from ..impact.common import bpnt_receipt_covariates, pkh_receipt_covariates
from ..io import load_dataset
from ..quality import check_kabupaten, resolve_source
from .display import md_lines
from .store import markers, n_column, secondary_suppress, suppress
from .strings import (
    check_language,
    diagnostic_text,
    diagnostic_warnings,
    fmt_number,
    fmt_pct,
    fmt_pp,
    fmt_pvalue,
    fmt_rp,
    fmt_sd,
    notes_text,
    t,
)


@dataclass
class Section:
    text: str = ""
    tables: dict = field(default_factory=dict)    # name -> DataFrame for readers
    figures: dict = field(default_factory=dict)   # name -> matplotlib Figure
    rows: list = field(default_factory=list)      # (program, outcome, tidy frame) for the store
    headline: dict = field(default_factory=dict)


def _load(data_dir, kabupaten, language, tables):
    check_language(language)
    kab = check_kabupaten(kabupaten)
    ds = load_dataset(resolve_source(data_dir), tables=tables)
    return ds, kab


def _pick(frame: pd.DataFrame, kab: str | None, col: str = "kab_code") -> pd.DataFrame:
    return frame if kab is None or col not in frame.columns else frame[frame[col] == kab]


# ------------------------------------------------------------------------------------------------

PKH_OUTCOMES = ("child_out_of_school", "child_stunted", "early_marriage", "poor", "extreme_poor")


def _by_outcome(found: list[tuple[str, str, str]]) -> list[str]:
    """Warnings ``(outcome label, method label, text)`` with the same method and text said once,
    naming every outcome they concern (the propensity score, and so its overlap and effective
    sample, is the same for all outcomes)."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for outcome, method, text in found:
        grouped.setdefault((method, text), []).append(outcome)
    return [f"{', '.join(outcomes)} ({method}): {text}" for (method, text), outcomes in grouped.items()]


def _het_note(h, label: str, language: str) -> str:
    """The equality test of a heterogeneity table in one sentence of the language."""
    return f"{label}: {diagnostic_text(h.diagnostics[0], language)}"


BPNT_OUTCOMES = ("cons_pc", "poor", "extreme_poor")
def bpnt_monthly() -> float:
    """BPNT's transfer per family per month (Rp), from the programme rules (``program_rules.yaml``)."""
    import yaml

    return float(
        yaml.safe_load((data_dir() / "program_rules.yaml").read_text(encoding="utf-8"))["bpnt"]["monthly_amount"]
    )


def _bpnt_effects(last: pd.DataFrame, sec: Section, warnings: list, language: str,
                  min_cell: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
    """The BPNT effect (ATT) on consumption (Rp per capita per month) and on poverty (pp)."""
    data, cov = bpnt_receipt_covariates(last)
    rows, frames, found, checks = [], [], [], []
    for outcome in BPNT_OUTCOMES:
        d = data.assign(y=data[outcome].astype(float))
        estimators: tuple[tuple[str, Callable[..., Any]], ...] = (("naive", impact.naive), ("aipw", impact.aipw))
        for key, fn in estimators:
            try:
                e = fn(d, outcome="y", treatment="d") if key == "naive" else fn(
                    d, outcome="y", treatment="d", covariates=cov, estimand="ATT")
            except Exception as exc:  # noqa: BLE001 - reported, the other rows shown
                warnings.append(f"BPNT, {t(outcome, language)}: {exc}")
                continue
            f = e.to_frame().assign(outcome=outcome, method_key=key, nobs=e.nobs)
            f = suppress(f.assign(n_control=f["nobs"] - f["n_treated"]), min_cell=min_cell)
            frames.append(f)
            if key == "aipw":
                # the checks rest on the effect's households: stored under its rule, said only when it is shown
                checks.append(("BPNT", outcome, diagnostic_rows(e, outcome).assign(**_groups_of(e))))
                flag = (None if f["suppressed"].iloc[0] else
                        plausibility(e, d, outcome=outcome, transfer=bpnt_monthly() / d["hh_size"]))
                if flag is not None:
                    warnings.append(plausibility_text(flag, "BPNT", t(outcome, language), language))
                    checks.append(("BPNT", outcome, flag.assign(**_groups_of(e))))
            found += [(t(outcome, language), t(key, language), w) for w in diagnostic_warnings(e, language)]
            lo, hi = e.conf_int()
            fmt = ((lambda v, unit=True: fmt_rp(v, language)) if outcome == "cons_pc"
                   else (lambda v, unit=True: fmt_pp(v, language, unit=unit)))
            m = markers(f, language, min_cell=min_cell)[0]
            n_head, n_values = n_column(f, language)
            rows.append({t("outcome", language): t(outcome if outcome != "poor" else "poor_outcome", language),
                         t("method", language): t(key, language), t("effect", language): m or fmt(e.estimate),
                         t("ci95", language): "" if m else f"{fmt(lo, unit=False)} – {fmt(hi)}",
                         n_head: n_values[0]})
    warnings += ["BPNT, " + w for w in _by_outcome(found)]
    if frames:
        res = pd.concat(frames, ignore_index=True)
        sec.rows.append(("BPNT", "", res.assign(estimand="ATT " + res["method_key"])))
    sec.rows += checks  # diagnostics and plausibility flags after the effects, for the briefing
    return pd.DataFrame(rows)


def impact_section(data_dir: str = "", *, kabupaten: str = "all", language: str = "id",
                   min_cell: int = DEFAULT_MIN_CELL) -> Section:
    """PKH effects by several methods beside the naive comparison, with diagnostics and the
    published evidence; BH-adjusted p-values across outcomes."""
    ds, kab = _load(data_dir, kabupaten, language, ("panel",))
    p = _pick(ds["panel"], kab)
    last, cov = pkh_receipt_covariates(p[p["wave"] == p["wave"].max()])
    sec = Section()
    rows, warnings, found, checks = [], [], [], []
    for outcome in PKH_OUTCOMES:
        d = last.assign(y=last[outcome].astype(float))
        ests = [impact.naive(d, outcome="y", treatment="d")]
        for fn in (impact.ipw, impact.aipw):
            try:
                ests.append(fn(d, outcome="y", treatment="d", covariates=cov, estimand="ATT"))
            except Exception as exc:  # noqa: BLE001 - a failed estimator is reported, the others shown
                warnings.append(
                    t(
                        "not_computable",
                        language,
                        outcome=t(outcome if outcome != "poor" else "poor_outcome", language),
                        method=t(fn.__name__, language),
                        reason=exc,
                    )
                )
        for e in ests:
            f = e.to_frame()
            f["outcome"] = outcome
            f["method_key"] = ("naive" if e.method.startswith("naive") else "aipw" if "AIPW" in e.method else "ipw")
            f["nobs"] = e.nobs
            rows.append(f)
            found += [(t(outcome, language), t(f["method_key"].iloc[0], language), w)
                      for w in diagnostic_warnings(e, language)]
            if f["method_key"].iloc[0] == "aipw":  # stored after the effects, for the briefing
                # the checks rest on the effect's households: stored under its rule, said only when it is shown
                checks.append(("PKH", outcome, diagnostic_rows(e, outcome).assign(**_groups_of(e))))
                shown = min(_groups_of(e)["n_treated"], _groups_of(e)["n_control"]) >= min_cell
                flag = plausibility(e, d, outcome=outcome) if shown else None
                if flag is not None:
                    warnings.append(plausibility_text(flag, "PKH", t(outcome, language), language))
                    checks.append(("PKH", outcome, flag.assign(**_groups_of(e))))
    warnings += _by_outcome(found)
    res = pd.concat(rows, ignore_index=True)
    res["control_mean"] = [last.loc[last["d"] == 1, o].astype(float).mean() - est
                           for o, est in zip(res["outcome"], res["estimate"])]
    res["relative"] = res["estimate"] / res["control_mean"]
    # one row per household in the last wave: recipients and comparison households each need min_cell
    res["n_control"] = res["nobs"] - res["n_treated"]
    res = suppress(res, min_cell=min_cell)
    mark = markers(res, language, min_cell=min_cell)
    aipw_rows = res[res["method_key"] == "aipw"].copy()
    shown = aipw_rows["pvalue"].notna().to_numpy()  # suppressed rows take no part in the adjustment
    aipw_rows["pvalue_bh"] = np.nan
    if shown.any():
        aipw_rows.loc[shown, "pvalue_bh"] = impact.inference.benjamini_hochberg(
            aipw_rows.loc[shown, "pvalue"].to_numpy()
        )
    sec.rows.append(("PKH", "", res.assign(estimand="ATT " + res["method_key"])))
    sec.rows += checks
    disp = pd.DataFrame({
        t("outcome", language): [t(o if o != "poor" else "poor_outcome", language) for o in res["outcome"]],
        t("method", language): [t(m, language) for m in res["method_key"]],
        t("effect_pp", language): [m or fmt_pp(v, language, unit=False) for v, m in zip(res["estimate"], mark)],
        t("ci95", language): ["" if m else f"{fmt_pp(lo, language, unit=False)} – {fmt_pp(hi, language, unit=False)}"
                              for lo, hi, m in zip(res["ci_lower"], res["ci_upper"], mark)],
        t("relative", language): ["" if m else fmt_pct(v, language) for v, m in zip(res["relative"], mark)],
        n_column(res, language)[0]: n_column(res, language)[1],
    })
    sec.tables["effects"] = disp
    def aipw_value(outcome: str, col: str) -> float:
        v = aipw_rows.loc[aipw_rows["outcome"] == outcome, col]
        return float(v.iloc[0]) if len(v) else float("nan")

    sec.tables["published"] = pd.DataFrame({
        t("outcome", language): [t("child_stunted", language), t("child_out_of_school", language)],
        t("published", language): [f"-23% ({t('published_ref', language)})", f"-50% ({t('published_ref', language)})"],
        "AIPW": [fmt_pct(aipw_value(o, "relative"), language) for o in ("child_stunted", "child_out_of_school")]})
    sec.tables["adjusted"] = pd.DataFrame({
        t("outcome", language): [t(o if o != "poor" else "poor_outcome", language) for o in aipw_rows["outcome"]],
        t("p_value", language): ["–" if sup else fmt_pvalue(v, language)
                                 for v, sup in zip(aipw_rows["pvalue"], aipw_rows["suppressed"])],
        t("p_value_bh", language): ["–" if sup else fmt_pvalue(v, language)
                                    for v, sup in zip(aipw_rows["pvalue_bh"], aipw_rows["suppressed"])]})
    sec.headline = {o: aipw_value(o, "estimate") for o in PKH_OUTCOMES}
    # heterogeneity: the AIPW effect on children out of school by subgroup, with a test of equality
    het = []
    groups = [("head_female", t("female_head", language)), ("urban", t("urban", language)),
              ("decile", t("decile", language))]
    if kab is None:
        groups.insert(0, ("kab_code", t("kabupaten", language)))
    for col, label in groups:
        d = last.assign(y=last["child_out_of_school"].astype(float))
        if col == "decile":  # PKH is for the eligible deciles: compare within them
            d = d[d["decile"] <= 3]
        try:
            # within a subgroup, the terms of the propensity that are constant there are left out
            drop = {"head_female": {"female_elig"}, "decile": {"elig", "decile_nonelig"}}.get(col, set())
            cov_h = [c for c in cov if c not in drop]
            h = impact.inference.heterogeneity(impact.aipw, d, by=col, outcome="y", treatment="d", covariates=cov_h,
                                               estimand="ATT")
        except Exception as exc:  # noqa: BLE001 - a subgroup too small to estimate is reported, not fatal
            warnings.append(f"{label}: " + (t("het_not_estimable", language) if isinstance(exc, DataValidationError)
                                            else str(exc)))
            continue
        # subgroups make up the whole (whose effect is shown): one hidden hides another
        hf = h.to_frame()
        hf = secondary_suppress(hf.assign(n_control=hf["nobs"] - hf["n_treated"]), margins=[()], min_cell=min_cell)
        n_head, n_values = n_column(hf, language)
        for (_, r), m, n_text in zip(hf.iterrows(), markers(hf, language, min_cell=min_cell), n_values):
            value = (regions.kab_names().get(str(r[col]), r[col]) if col == "kab_code" else r[col] if col == "decile"
                     else t("yes" if r[col] else "no", language))
            het.append(
                {
                    t("indicator", language): f"{label} = {value}",
                    t("effect_pp", language): m or fmt_pp(r["estimate"], language, unit=False),
                    t("ci95", language): ""
                    if m
                    else f"{fmt_pp(r['ci_lower'], language, unit=False)} – "
                    f"{fmt_pp(r['ci_upper'], language, unit=False)}",
                    n_head: n_text,
                }
            )
        warnings.append(_het_note(h, label, language))
    sec.tables["heterogeneity"] = pd.DataFrame(het)
    # BPNT: its effect on consumption and poverty, by AIPW beside the naive comparison
    sec.tables["bpnt"] = _bpnt_effects(p[p["wave"] == p["wave"].max()], sec, warnings, language, min_cell)
    # the fuzzy discontinuity at the PMT cut-off of PKH eligibility, on consumption
    try:
        cutoff = float(np.mean([last.loc[last["decile"] == 3, "pmt_score"].max(),
                                last.loc[last["decile"] == 4, "pmt_score"].min()]))
        rd = impact.rd(p[p["wave"] == p["wave"].max()], outcome="cons_pc", running="pmt_score", cutoff=cutoff,
                       treatment="pkh")
        lo, hi = rd.conf_int()
        # each side of the cut-off inside the bandwidth needs min_cell households
        bw = next(d for d in rd.diagnostics if d.name == "bandwidth")
        rdf = suppress(rd.to_frame().assign(n_left=bw.get("left"), n_right=bw.get("right")), min_cell=min_cell)
        m = markers(rdf, language, min_cell=min_cell)[0]
        sec.tables["rd"] = pd.DataFrame({t("outcome", language): [t("rp_pc_month", language)],
                                         t("effect", language): [m or fmt_rp(rd.estimate, language)],
                                         t("ci95", language):
                                             ["" if m else f"{fmt_rp(lo, language)} – {fmt_rp(hi, language)}"],
                                         n_column(rdf, language)[0]: n_column(rdf, language)[1]})
        if not m:  # the diagnostics quote the households on each side: none for a suppressed estimate
            warnings += [diagnostic_text(d, language) for d in rd.diagnostics]
    except Exception as exc:  # noqa: BLE001
        sec.tables["rd"] = pd.DataFrame({"RD": [str(exc)]})
    sec.text = md_lines(dict.fromkeys(warnings)) if warnings else ""  # messages may quote the data
    title = t("br_chart_pkh_effects", language)
    if len(aipw_rows) and not aipw_rows["suppressed"].all():
        fig, _ = plots.bar_with_intervals(  # suppressed rows are drawn empty and marked
            aipw_rows.assign(label=[t(o if o != "poor" else "poor_outcome", language) for o in aipw_rows["outcome"]]),
            label="label", title=title, language=language, reference=0.0, pct=False,
            scale=100, xlabel=t("br_unit_pp", language))
    else:  # nothing to draw: say why instead of an empty frame
        fig = _note_figure(title, t("suppressed", language, n=min_cell) if res["suppressed"].all() else "–")
    sec.figures["pkh_effects"] = fig
    return sec


TKSK_OUTCOMES = ("kks_independent", "knows_program", "has_savings", "kube_member")


def _note_figure(title: str, note: str):
    """A small chart panel that says why there is no chart (the notebook shows every figure)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 1.6))
    ax.set_axis_off()
    ax.set_title(title)
    ax.text(0.5, 0.4, note, ha="center", va="center", transform=ax.transAxes)
    plt.close(fig)
    return fig


def _groups_of(e) -> dict:
    """The households an effect compares (one row per household): for rows resting on it."""
    n_t = int(e.n_treated) if e.n_treated is not None else 0
    return {"nobs": int(e.nobs), "n_treated": n_t, "n_control": int(e.nobs) - n_t}


def _cs_groups(cells: pd.DataFrame) -> dict:
    """Households behind Callaway-Sant'Anna cells: the accompanied households of their cohorts
    (each cohort counted once) and the fewest comparison households of any cell."""
    if cells.empty:
        return {"n_treated": 0, "n_control": 0}
    return {"n_treated": int(cells.groupby("cohort")["n_treated"].first().sum()),
            "n_control": int(cells["n_control"].min())}


def tksk_section(data_dir: str = "", *, kabupaten: str = "all", language: str = "id",
                 min_cell: int = DEFAULT_MIN_CELL, bootstrap: int = 999) -> Section:
    """Callaway-Sant'Anna event studies of empowerment outcomes against naive TWFE; the summary index;
    graduation among PKH families."""
    ds, kab = _load(data_dir, kabupaten, language, ("panel",))
    p = _pick(ds["panel"], kab).copy()
    sec = Section()
    never = p["tksk_cohort"] == 0
    # standardize by the never-accompanied households at baseline; where a kabupaten has too few of
    # them, by all its households at baseline
    reference = never & (p["wave"] == p["wave"].min())
    if reference.sum() < 30 or (p.loc[reference, list(TKSK_OUTCOMES)].astype(float).std() == 0).any():
        reference = p["wave"] == p["wave"].min()
    p["summary_index"] = impact.inference.summary_index(p, list(TKSK_OUTCOMES), reference=reference)
    control = "never_treated" if never.any() else "not_yet_treated"
    rows, notes = [], []
    for outcome in (*TKSK_OUTCOMES, "summary_index", "graduated"):
        data = p[p["pkh"]] if outcome == "graduated" else p
        d = data.assign(y=data[outcome].astype(float))
        kw: dict[str, Any] = dict(outcome="y", unit="hh_id", time="wave", cohort="tksk_cohort", cluster="kec_code",
                  control_group=control)
        # the households behind the comparisons decide first: too few, and nothing is estimated
        try:
            cells = impact.att_gt(d, **kw).cells
        except DataValidationError as exc:
            notes.append(f"{t(outcome, language)}: {exc}")
            cells = None
        groups = _cs_groups(cells[cells["post"]]) if cells is not None else {"n_treated": 0, "n_control": 0}
        simple = pd.DataFrame([{"estimand": "ATT (simple)", "estimate": np.nan, "std_error": np.nan,
                                "ci_lower": np.nan, "ci_upper": np.nan, "nobs": d["hh_id"].nunique(), **groups}])
        shown = cells is not None and min(groups.values()) >= min_cell
        if shown:
            simple = impact.staggered_did(d, aggregate="simple", bootstrap=bootstrap, **kw).to_frame().assign(**groups)
        simple = suppress(simple, min_cell=min_cell)
        twfe = (impact.goodman_bacon(d, outcome="y", unit="hh_id", time="wave", cohort="tksk_cohort").attrs["twfe"]
                if shown else float("nan"))  # the naive comparison rests on the same households
        rows.append({"outcome": outcome, "cs": simple["estimate"].iloc[0], "cs_lo": simple["ci_lower"].iloc[0],
                     "cs_hi": simple["ci_upper"].iloc[0], "se": simple["std_error"].iloc[0], "twfe": twfe,
                     "nobs": simple["nobs"].iloc[0], "n_treated": simple["n_treated"].iloc[0],
                     "n_control": simple["n_control"].iloc[0], "suppressed": simple["suppressed"].iloc[0]})
        sec.rows.append(("TKSK", outcome, simple.assign(outcome=outcome)))
        if outcome == "summary_index":
            dyn_f = pd.DataFrame()
            if shown:
                dyn = impact.staggered_did(d, aggregate="dynamic", bootstrap=bootstrap, **kw)
                worded = {d.message for d in dyn.diagnostics}
                notes += notes_text([n for n in dyn.notes if n not in worded], language) + [
                    diagnostic_text(d, language) for d in dyn.diagnostics]
                dyn_f = dyn.to_frame()
                if "event_time" in dyn_f.columns:  # each event time rests on the cohorts observed then
                    # the overall row ("all") rests on every post-treatment cell
                    counts = pd.DataFrame([_cs_groups(cells[cells["post"]] if e == "all" else
                                                      cells[cells["event_time"] == e]) for e in dyn_f["event_time"]],
                                          index=dyn_f.index)
                    dyn_f = dyn_f.assign(n_treated=counts["n_treated"], n_control=counts["n_control"])
                dyn_f = suppress(dyn_f, min_cell=min_cell)
                sec.rows.append(("TKSK", "summary_index dynamic", dyn_f.assign(outcome=outcome)))
                sec.rows.append(("TKSK", outcome, diagnostic_rows(dyn, outcome).assign(
                    nobs=d["hh_id"].nunique(), **groups)))  # the test rests on the estimate's households
            title = t("tk_title", language) + f": {t(outcome, language)}"
            if len(dyn_f) and not dyn_f["suppressed"].all():
                fig, _ = plots.event_plot(dyn_f[~dyn_f["suppressed"]], title=title, xlabel=t("event_time", language),
                                          ylabel=t("sd_axis", language), language=language, pct=False,
                                          point_label=t("br_ev_points", language),
                                          band_label=t("br_ev_band", language),
                                          before_label=t("br_ev_before", language))
            else:
                fig = _note_figure(title, t("suppressed", language, n=min_cell) if cells is not None else "–")
            sec.figures["event_study"] = fig
    # each kecamatan's first accompanied wave (0 = never): where TKSK is missing, for the briefing
    kec = p.groupby("kec_code", observed=True)["tksk_cohort"].max()
    sec.rows.append(
        (
            "TKSK",
            "kecamatan cohort",
            pd.DataFrame(
                {"estimand": "tksk_cohort", "kec_code": kec.index.astype(str), "estimate": kec.to_numpy(float)}
            ),
        )
    )
    res = pd.DataFrame(rows)
    def pctfmt(v, o, unit=True):
        return fmt_sd(v, language, unit=unit) if o == "summary_index" else fmt_pp(v, language, unit=unit)

    mark = markers(res, language, min_cell=min_cell)
    sec.tables["effects"] = pd.DataFrame({
        t("outcome", language): [t(o, language) for o in res["outcome"]],
        t("cs", language): [m or pctfmt(v, o) for v, o, m in zip(res["cs"], res["outcome"], mark)],
        t("ci95", language): ["" if m else f"{pctfmt(lo, o, unit=False)} – {pctfmt(hi, o)}"
                              for lo, hi, o, m in zip(res["cs_lo"], res["cs_hi"], res["outcome"], mark)],
        t("twfe", language): ["" if m else pctfmt(v, o) for v, o, m in zip(res["twfe"], res["outcome"], mark)],
        n_column(res, language)[0]: n_column(res, language)[1]})
    sec.headline = {o: float(res.loc[res["outcome"] == o, "cs"].iloc[0]) for o in res["outcome"]}
    sec.text = md_lines(notes)  # notes may quote the data (cohorts, periods)
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
