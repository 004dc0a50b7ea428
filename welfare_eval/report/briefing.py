"""The briefing for the head of the office, built only from the run's results store.

A page read in two minutes: the headline numbers with their intervals, the six kabupaten's poverty
and extreme poverty, what the effects mean, what to do next and how sure we are. Every sentence is
made from the store by the rules of ``docs/methods.md`` ("Conclusions in the briefing"): an effect
is called shown only when its 95% interval excludes zero (and, for TKSK, the pre-trend test does not
reject, and no plausibility check failed); the caveats come from the run's own diagnostics, the next
steps from its findings. One language per page: ``briefing_<region>_<language>.html`` and ``.pdf``
(xhtml2pdf, A4) beside the store, so that the Indonesian and English briefings of a run sit side
by side and never overwrite each other.
"""
from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from .. import plots, regions
from ..io import atomic_path, write_text_atomic
from .display import md
from .store import RSE_CAUTION, RSE_RELIABLE, read, relative_se
from .strings import fmt_number, fmt_p, fmt_pct, fmt_rp, t, t_or

#: Readers of the briefing are in West Sulawesi: times in WITA.
WITA = ZoneInfo("Asia/Makassar")
#: The level of the pre-trend test below which a DiD effect is not called shown.
PRETREND_ALPHA = 0.05
#: How many kecamatan a next step names at most (the briefing is read in two minutes).
MAX_NAMED = 3
#: How many kecamatan the small-area step names (the office's list for its extreme-poverty meeting).
SAE_NAMED = 10
#: Width of the charts on the A4 page (cm): the page's 21 cm less two 1,6 cm margins.
PDF_IMAGE_CM = 17.5


@dataclass
class Briefing:
    language: str
    region: str
    title: str = ""
    subtitle: list = field(default_factory=list)
    numbers: list = field(default_factory=list)       # (label, value text, interval text)
    paragraphs: list = field(default_factory=list)
    next_steps: list = field(default_factory=list)
    certainty: list = field(default_factory=list)
    figures: dict = field(default_factory=dict)

    def markdown(self) -> str:
        L = self.language
        # every text is escaped (report.display.md): region and kecamatan names can come from the data
        lines = [f"# {md(self.title)}", "", *[f"*{md(s)}*  " for s in self.subtitle], "",
                 f"| {t('br_col_indicator', L)} | {t('br_col_estimate', L)} | {t('br_col_ci', L)} |", "|---|---|---|"]
        lines += [f"| {md(label)} | **{md(value)}** | {md(ci)} |" for label, value, ci in self.numbers]
        lines += ["", f"### {t('br_meaning', L)}", "", *[f"- {md(p)}" for p in self.paragraphs]]
        lines += ["", f"### {t('br_next', L)}", ""] + [f"- {md(s)}" for s in self.next_steps]
        lines += ["", f"### {t('br_how_sure', L)}", ""] + [f"- {md(s)}" for s in self.certainty]
        return "\n".join(lines)


# ------------------------------------------------------------------------------------------------
# reading the store

def _get(store: pd.DataFrame, notebook: str, estimand_start: str, *, group: str | None = None,
         outcome: str | None = None, program: str | None = None) -> pd.Series | None:
    f = store[(store["notebook"] == notebook) & store["estimand"].astype(str).str.startswith(estimand_start)]
    if group is not None:
        f = f[f["group"].fillna("").astype(str) == group]
    if outcome is not None:
        f = f[f["outcome"].astype(str) == outcome]
    if program is not None:
        f = f[f["program"].astype(str) == program]
    f = f[~f["suppressed"].fillna(False).astype(bool)] if "suppressed" in f else f
    return None if f.empty else f.iloc[0]


def _field(group: str, key: str) -> str | None:
    """``kec_code`` of ``"kec_code=7602060; channel=pos"``."""
    for part in str(group).split("; "):
        k, _, v = part.partition("=")
        if k == key:
            return v
    return None


def locate(results: str | os.PathLike | None = None) -> Path:
    """The results store the briefing reads: ``results``, else ``$WELFARE_EVAL_RESULTS``, else the
    store of the latest run under the nearest ``reports/`` (the briefing notebook run by hand)."""
    from .store import RESULTS_ENV, latest_store

    value = results or os.environ.get(RESULTS_ENV)
    return Path(value) if value else latest_store()


def _named(names: dict[str, str], group: str, key: str) -> str:
    """The name of the ``key`` code of ``group``, the code itself where ``names`` lacks it."""
    code = str(_field(group, key))
    return names.get(code, code)


def _passed(row) -> bool | None:
    v = _field(row["group"], "passed")
    return None if v is None else v == "True"


def _join(items: list[str], language: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {t('br_and', language)} " + items[-1]


# ------------------------------------------------------------------------------------------------
# the rule for effects

@dataclass(frozen=True)
class Effect:
    program: str        # PKH, BPNT, TKSK
    outcome: str        # key of the outcome (child_out_of_school, cons_pc, summary_index, ...)
    estimate: float
    ci_lower: float
    ci_upper: float
    unit: str           # "pp", "sd" or "rp"
    pretrend_p: float | None = None
    pretrend_passed: bool | None = None
    implausible: bool = False
    pvalue_bh: float | None = None   # adjusted for the outcomes tested together (Benjamini-Hochberg), where stored

    @property
    def shown(self) -> bool:
        """The written rule: the interval excludes zero, the pre-trend test (where there is one)
        does not reject, and no plausibility check says the programme's size cannot explain it."""
        return excludes_zero(self.ci_lower, self.ci_upper) and self.pretrend_passed is not False \
            and not self.implausible


def excludes_zero(lo: float, hi: float) -> bool:
    """Whether a 95% interval lies wholly on one side of zero (a missing bound never does)."""
    return bool(pd.notna(lo) and pd.notna(hi) and (lo > 0 or hi < 0))


def _value(v: float, unit: str, language: str) -> str:
    if unit == "pp":
        return fmt_number(100 * v, language, digits=1)
    if unit == "rp":
        return fmt_rp(v, language)
    return fmt_number(v, language, digits=2)


def _unit(unit: str, language: str) -> str:
    return {"pp": t("br_unit_pp", language), "sd": t("br_unit_sd", language), "rp": t("br_unit_rp", language)}[unit]


def effect_sentence(e: Effect, language: str) -> str:
    """One sentence for an effect, by the rule of ``Effect.shown``."""
    L = language
    kw = {
        "program": t(f"br_p_{e.program}", L),
        "outcome": t(f"br_o_{e.outcome}", L),
        "est": _value(e.estimate, e.unit, L),
        "lo": _value(e.ci_lower, e.unit, L),
        "hi": _value(e.ci_upper, e.unit, L),
        "unit": _unit(e.unit, L),
    }
    if e.shown:
        kw["abs"] = _value(abs(e.estimate), e.unit, L)
        if e.estimate < 0:  # "lowers by 5,4 (2,2 to 8,9)": the interval in the sentence's own direction
            kw["lo"], kw["hi"] = _value(-e.ci_upper, e.unit, L), _value(-e.ci_lower, e.unit, L)
        text = t("br_effect_up" if e.estimate > 0 else "br_effect_down", L, **kw)
    elif e.pretrend_passed is False and excludes_zero(e.ci_lower, e.ci_upper):
        text = t("br_effect_pretrend", L, p=fmt_p(e.pretrend_p, L), **kw)
    elif e.implausible and excludes_zero(e.ci_lower, e.ci_upper):
        text = t("br_effect_implausible", L, **kw)
    else:
        text = t("br_effect_unproven", L, **kw)
    text = " ".join(text.split())
    return text[:1].upper() + text[1:]


def _effects(store: pd.DataFrame) -> dict[str, Effect]:
    """The briefing's effects, each with what the rule needs."""
    out = {}
    flags = store[store["estimand"].astype(str).str.startswith("plausibility")]

    def implausible(program: str, outcome: str) -> bool:
        f = flags[(flags["program"].astype(str) == program) & (flags["outcome"].astype(str) == outcome)]
        return bool(len(f))  # any flag: a magnitude the programme cannot produce is not stated as shown

    for key, program, outcome, unit in (("pkh_ats", "PKH", "child_out_of_school", "pp"),
                                        ("pkh_stunted", "PKH", "child_stunted", "pp"),
                                        ("bpnt_cons", "BPNT", "cons_pc", "rp")):
        r = _get(store, "30_impact_bansos", "ATT aipw", outcome=outcome, program=program)
        if r is not None:
            bh = _get(store, "30_impact_bansos", "pvalue_bh aipw", outcome=outcome, program=program)
            out[key] = Effect(program, outcome, float(r["estimate"]), float(r["ci_lower"]), float(r["ci_upper"]), unit,
                              implausible=implausible(program, outcome),
                              pvalue_bh=None if bh is None or pd.isna(bh["estimate"]) else float(bh["estimate"]))
    r = _get(store, "40_tksk_empowerment", "ATT (simple)", outcome="summary_index")
    if r is not None:
        pre = _get(store, "40_tksk_empowerment", "diagnostic pre_trends", outcome="summary_index")
        out["tksk"] = Effect("TKSK", "summary_index", float(r["estimate"]), float(r["ci_lower"]), float(r["ci_upper"]),
                             "sd", pretrend_p=None if pre is None else float(pre["estimate"]),
                             pretrend_passed=None if pre is None else _passed(pre))
    return out


# ------------------------------------------------------------------------------------------------
# the data source and period

def data_source(data_dir: str | os.PathLike | None, language: str) -> str:
    """The sentence naming what was run: the synthetic province only when the generator's marker
    vouches for every table of the folder, otherwise the folder and its tables."""
    from ..quality import resolve_source
    from ..synth import synthetic_marker

    folder = resolve_source(data_dir)
    marker = synthetic_marker(folder)
    if marker is not None:
        return t("br_sure_source_synth", language, seed=marker.get("seed", "?"))
    tables = sorted(p.stem for p in folder.glob("*.parquet") if not p.stem.startswith("truth"))
    return t("br_sure_source_folder", language, folder=folder.name, tables=", ".join(tables) or "–")


def data_period(data_dir: str | os.PathLike | None, language: str) -> str:
    """The period the data cover: the panel's waves and the payments' quarters, read from the tables."""
    from ..quality import resolve_source

    folder = resolve_source(data_dir)
    parts = []
    try:
        waves = pd.read_parquet(folder / "panel.parquet", columns=["wave"])["wave"]
        parts.append(t("br_period_panel", language, first=int(waves.min()), last=int(waves.max())))
    except (OSError, KeyError, ValueError):
        pass
    try:
        periods = pd.read_parquet(folder / "disbursement.parquet", columns=["period"])["period"].astype(str)
        parts.append(t("br_period_pay", language, first=periods.min(), last=periods.max()))
    except (OSError, KeyError, ValueError):
        pass
    return t("br_period", language, period="; ".join(parts) if parts else "–")


def format_when(when: _dt.datetime, language: str) -> str:
    """``29 November 2026, 16.53 WITA`` (id) or ``29 November 2026, 16:53 WITA`` (en)."""
    w = when.astimezone(WITA)
    month = t("br_months", language).split()[w.month - 1]
    sep = "." if language == "id" else ":"
    return f"{w.day} {month} {w.year}, {w.hour:02d}{sep}{w.minute:02d} WITA"


def region_name(region: str, language: str) -> str:
    return t("province", language) if str(region) in ("all", "") else \
        t("br_kab_place", language, name=regions.kab_names()[str(region)])


# ------------------------------------------------------------------------------------------------

def build(results: str | os.PathLike | None, *, language: str = "id", region: str = "all",
          data_dir: str | os.PathLike | None = None, when: _dt.datetime | None = None) -> Briefing:
    """Read the store and assemble the briefing (raises if the reports did not run)."""
    store = read(locate(results))
    store = store[store["region"].astype(str) == str(region)]
    L = language
    b = Briefing(L, str(region))
    b.title = t("br_title_region", L, region=region_name(region, L))
    b.subtitle = [t("br_subject", L), data_period(data_dir, L),
                  t("br_made", L, when=format_when(when or _dt.datetime.now(_dt.timezone.utc), L))]
    own = "" if str(region) in ("all", "") else f"kab_code={region}"  # the scope's own domain
    sep = "; " if own else ""
    p0 = _get(store, "10_poverty_profile", "FGT(alpha=0)", group=own, outcome="P0")
    ext = _get(store, "10_poverty_profile", "extreme", group=own, outcome="extreme")
    gini = _get(store, "10_poverty_profile", "Gini", group=own, outcome="Gini")
    cov = {p: _get(store, "20_targeting", "coverage_rate", program=p, group=own + sep + "pre_poor=True")
           for p in ("PKH", "BPNT")}
    exc = _get(store, "20_targeting", "exclusion_error_rate", program="PKH", group=own)
    effects = _effects(store)
    to = t("br_to", L)

    def pct_row(label, row, digits=1):
        if row is not None:
            b.numbers.append(
                (
                    label,
                    fmt_pct(row["estimate"], L, digits=digits),
                    f"{fmt_pct(row['ci_lower'], L, digits=digits)} {to} {fmt_pct(row['ci_upper'], L, digits=digits)}"
                    if pd.notna(row["ci_lower"])
                    else "",
                )
            )

    pct_row(t("headcount", L), p0)
    pct_row(t("extreme", L), ext)
    if gini is not None:
        b.numbers.append(
            (
                t("gini", L),
                fmt_number(gini["estimate"], L, digits=3),
                f"{fmt_number(gini['ci_lower'], L, digits=3)} {to} {fmt_number(gini['ci_upper'], L, digits=3)}"
                if pd.notna(gini["ci_lower"])
                else "",
            )
        )
    pct_row(t("br_label_pkh_cov", L), cov["PKH"])
    pct_row(t("br_label_bpnt_cov", L), cov["BPNT"])
    pct_row(t("br_label_pkh_exc", L), exc)
    for key, label in (("pkh_ats", "br_label_pkh_ats"), ("bpnt_cons", "br_label_bpnt_cons"), ("tksk", "br_label_tksk")):
        e = effects.get(key)
        if e is not None:
            unit = "" if e.unit == "rp" else " " + _unit(e.unit, L)
            mark = "" if e.shown else f" ({t('br_unproven_mark', L)})"  # the rule, also in the table
            b.numbers.append((t(label, L), _value(e.estimate, e.unit, L) + unit,
                              f"{_value(e.ci_lower, e.unit, L)} {to} {_value(e.ci_upper, e.unit, L)}{unit}{mark}"))
    # what it means: each sentence from stored numbers by the written rules
    if p0 is not None and ext is not None:
        b.paragraphs.append(t("br_poverty", L, p0=fmt_pct(p0["estimate"], L), lo=fmt_pct(p0["ci_lower"], L),
                              hi=fmt_pct(p0["ci_upper"], L), ext=fmt_pct(ext["estimate"], L)))
    if cov["PKH"] is not None and exc is not None:
        b.paragraphs.append(t("br_targeting", L, cov=fmt_pct(cov["PKH"]["estimate"], L),
                              exc=fmt_pct(exc["estimate"], L)))
    for key in ("pkh_ats", "pkh_stunted", "bpnt_cons", "tksk"):
        if key in effects:
            b.paragraphs.append(effect_sentence(effects[key], L))
    b.next_steps = _next_steps(store, L, region, effects)
    b.certainty = _certainty(store, L, effects, data_dir)
    b.figures = _figures(store, L, region)
    return b


def _next_steps(store: pd.DataFrame, L: str, region: str, effects: dict) -> list[str]:
    steps = []
    kec_names = regions.kec_names()
    missed = store[(store["notebook"] == "20_targeting") & (store["estimand"] == "missed_poor_total")
                   & (store["program"].astype(str) == "PKH")   # the step is about PKH (the report may cover BPNT too)
                   & ~store["suppressed"].fillna(False).astype(bool)]
    rse = relative_se(missed)
    published = missed[~(rse > RSE_CAUTION)].assign(rse=rse[~(rse > RSE_CAUTION)])  # over 50%: not published
    published = published[published["estimate"] > 0].sort_values("estimate", ascending=False).head(MAX_NAMED)
    if len(published):
        items = [t("br_missed_item", L, name=_kec_place(g, region, L), count=fmt_number(v, L) + ("*" if r > RSE_RELIABLE
                   else ""), lo=fmt_number(max(lo, 0.0), L), hi=fmt_number(hi, L))
                 for g, v, lo, hi, r in zip(published["group"], published["estimate"], published["ci_lower"],
                                            published["ci_upper"], published["rse"])]
        step = t("br_next_missed", L, items=_join(items, L))
        # the ranking is a ranking of estimates: say so when the intervals do not separate them
        if _overlap(published):
            step += " " + t("br_missed_overlap", L)
        if (published["rse"] > RSE_RELIABLE).any():
            step += " " + t("br_rse_caution", L)
        steps.append(step)
    elif len(missed):
        steps.append(t("br_next_missed_unreliable", L, n=len(missed)))
    pay = store[(store["notebook"] == "20_targeting") & (store["outcome"] == "disbursement")]
    late = pay[pay["estimand"] == "late_rate"].sort_values("estimate", ascending=False)
    if len(late) and late["estimate"].iloc[0] > 0:
        top = late.iloc[0]
        kec = _field(top["group"], "kec_code")
        delay = pay[(pay["estimand"] == "median_delay_days") & (pay["group"] == top["group"])]["estimate"]
        # every channel of that kecamatan, worst first: a kecamatan late through all of them is named as such
        same = late[late["group"].map(lambda g: _field(g, "kec_code") == kec).astype(bool) & (late["estimate"] > 0)]
        rates = [t("br_late_item", L, late=fmt_pct(v, L, digits=0), channel=_channel(_field(g, "channel"), L))
                 for g, v in zip(same["group"], same["estimate"])]
        steps.append(t("br_next_payment", L, kec=_kec_place(top["group"], region, L), rates=_join(rates, L),
                       channel=_channel(_field(top["group"], "channel"), L),
                       days=fmt_number(delay.iloc[0], L) if len(delay) else "–"))
    cohorts = store[(store["notebook"] == "40_tksk_empowerment") & (store["estimand"] == "tksk_cohort")]
    tk = effects.get("tksk")
    if len(cohorts) and tk is not None:
        without = [_named(kec_names, g, "kec_code")
                   for g, v in zip(cohorts["group"], cohorts["estimate"]) if v == 0]
        shown_text = f"{_value(tk.estimate, 'sd', L)} {_unit('sd', L)}"
        more = len(without) > MAX_NAMED + 1  # "and 1 other" would be longer than the name
        named = _join(without[:MAX_NAMED] + [t("br_more", L, n=len(without) - MAX_NAMED)] if more else without, L)
        if without:
            steps.append(t("br_next_tksk_extend", L, n=len(without), names=named, effect=shown_text) if tk.shown else
                         t("br_next_tksk_unproven", L, n=len(without), names=named))
        else:
            steps.append(t("br_next_tksk_all_shown", L, effect=shown_text) if tk.shown else
                         t("br_next_tksk_all_unproven", L))
    pov = store[store["notebook"] == "10_poverty_profile"]
    if str(region) in ("all", ""):
        ext = pov[(pov["outcome"] == "extreme by kabupaten")]
        place_of = lambda g: t("br_kab_place", L, name=regions.kab_names().get(_field(g, "kab_code") or "", ""))  # noqa: E731
    else:
        ext = pov[(pov["outcome"] == "extreme") & pov["group"].astype(str).str.contains("area=")]
        place_of = lambda g: t("br_area_place", L, area=_area(_field(g, "area"), L).lower(),  # noqa: E731
                               name=_field(g, "kab_name") or "")
    ext = ext[~ext["suppressed"].fillna(False).astype(bool)]
    rse = relative_se(ext)
    ext = ext[~(rse > RSE_CAUTION)].assign(rse=rse[~(rse > RSE_CAUTION)])  # over 50%: not published, as BPS
    ext = ext.sort_values("estimate", ascending=False)
    if len(ext) and ext["estimate"].iloc[0] > 0:
        top = ext.iloc[0]
        # the places whose interval reaches the highest one's: the estimates cannot rank them
        tied = ext[(ext["ci_upper"] >= top["ci_lower"]) & (ext["estimate"] > 0)].head(MAX_NAMED)
        caution = bool((tied["rse"] > RSE_RELIABLE).any())
        rates = [fmt_pct(v, L) + ("*" if r > RSE_RELIABLE else "") for v, r in zip(tied["estimate"], tied["rse"])]
        if len(tied) == 1:
            step = t("br_next_extreme", L, place=place_of(top["group"]), rate=rates[0],
                     lo=fmt_pct(top["ci_lower"], L), hi=fmt_pct(top["ci_upper"], L))
        else:
            step = t("br_next_extreme_tied", L, places=_join([place_of(g) for g in tied["group"]], L),
                     rates=_join([f"{r} ({fmt_pct(lo, L)} {t('br_to', L)} {fmt_pct(hi, L)})" for r, lo, hi in
                                  zip(rates, tied["ci_lower"], tied["ci_upper"])], L))
        steps.append(step + (" " + t("br_rse_caution", L) if caution else ""))
    # the kecamatan with the highest extreme poverty, by small-area estimation (published ones only)
    sae = store[(store["notebook"] == "15_small_area") & store["estimand"].astype(str).str.startswith("extreme")
                & ~store["suppressed"].fillna(False).astype(bool)]
    if str(region) not in ("all", ""):
        sae = sae[sae["group"].map(lambda g: _field(g, "kab_code") == str(region)).astype(bool)]
    sae_all = store[(store["notebook"] == "15_small_area") & store["estimand"].astype(str).str.startswith("extreme")]
    if str(region) not in ("all", ""):
        sae_all = sae_all[sae_all["group"].map(lambda g: _field(g, "kab_code") == str(region)).astype(bool)]
    sae = sae[sae["estimate"].notna()]   # not published: too uncertain, or hidden by secondary suppression
    n_published = len(sae)
    sae = sae.sort_values("estimate", ascending=False).head(SAE_NAMED)
    if len(sae):
        marked = [_field(g, "quality") == "caution" for g in sae["group"]]
        names = _join([f"{_kec_place(g, region, L)} ({fmt_pct(v, L)}{'*' if m else ''})"
                       for g, v, m in zip(sae["group"], sae["estimate"], marked)], L)
        if n_published <= SAE_NAMED:  # not a ranking: every publishable kecamatan is named
            step = t("br_next_sae_few", L, n=n_published, total=len(sae_all), names=names)
        else:
            step = t("br_next_sae_extreme", L, n=len(sae), names=names)
        steps.append(step + (" " + t("br_sae_caution", L) if any(marked) else ""))
    elif len(sae_all):
        steps.append(t("br_next_sae_none", L, total=len(sae_all)))
    return steps or [t("br_next_none", L)]


def _kec_place(group: str, region: str, language: str) -> str:
    """A kecamatan's name; in the province's briefing with its kabupaten ("Sendana di Majene")."""
    name = _named(regions.kec_names(), group, "kec_code")
    if str(region) not in ("all", ""):
        return name
    kab = regions.kab_names().get(str(_field(group, "kec_code"))[:4])
    return t("br_kec_in_kab", language, kec=name, kab=kab) if kab else name


def _overlap(rows: pd.DataFrame) -> bool:
    """True when some lower-ranked row's interval reaches a higher-ranked row's (rows sorted by estimate)."""
    lo, hi = rows["ci_lower"].to_numpy(), rows["ci_upper"].to_numpy()
    return any(lo[i] <= hi[j] for i in range(len(lo)) for j in range(i + 1, len(hi)))


def _channel(channel: str | None, language: str) -> str:
    key = f"br_channel_{channel}"
    return t_or(key, language, str(channel))


def _area(label: str | None, language: str) -> str:
    """An area label as stored (in the language of whichever job wrote the rows) in ``language``."""
    for key in ("urban", "rural"):
        if label in (t(key, "id"), t(key, "en")):
            return t(key, language)
    return label or ""


#: An effect stated as shown whose p-value, adjusted for the outcomes tested together, is at least this
#: is named as weaker evidence: the two-sided 5% that matches the rule's 95% intervals.
BH_LEVEL = 0.05


def _certainty(store: pd.DataFrame, L: str, effects: dict, data_dir) -> list[str]:
    out = [t("br_sure_sample", L), t("br_sure_rule", L)]
    # an effect the rule states as shown whose Benjamini-Hochberg adjusted p-value is not below 5%
    weak = [e for e in effects.values() if e.shown and e.pvalue_bh is not None and e.pvalue_bh >= BH_LEVEL]
    if weak:
        out.append(t("br_sure_bh", L, items=_join([t("br_sure_bh_item", L, program=t(f"br_p_{e.program}", L),
                                                     outcome=t(f"br_o_{e.outcome}", L)) for e in weak], L),
                     ps=_join([fmt_p(e.pvalue_bh, L) for e in weak], L)))
    if effects:  # the effects are estimated on the household panel, which carries no sampling weights
        out.append(t("br_sure_panel", L))
    tk = effects.get("tksk")
    if tk is not None and tk.pretrend_passed is not None:
        key = "br_sure_pretrend_ok" if tk.pretrend_passed else "br_sure_pretrend_fail"
        out.append(t(key, L, p=fmt_p(tk.pretrend_p, L)))
    diag = store[(store["notebook"] == "30_impact_bansos") & store["estimand"].astype(str).str.startswith("diagnostic")]
    for program in ("PKH", "BPNT"):
        d = diag[diag["program"].astype(str) == program]
        ess = d[(d["estimand"] == "diagnostic effective_sample")]
        weak = ess[[_passed(r) is not True for _, r in ess.iterrows()]]
        if len(weak):
            out.append(t("br_sure_ess", L, program=program, ess=fmt_number(weak["estimate"].min(), L)))
        ov = d[(d["estimand"] == "diagnostic overlap")]
        bad = ov[[_passed(r) is False for _, r in ov.iterrows()]]
        if len(bad):
            out.append(t("br_sure_overlap", L, program=program, share=fmt_pct(bad["estimate"].max(), L)))
    from .impact_view import plausibility_text

    flags = store[store["estimand"].astype(str).str.startswith("plausibility")]
    for _, r in flags.iterrows():
        frame = pd.DataFrame([{"estimand": r["estimand"], "estimate": r["estimate"], "ci_lower": r["ci_lower"],
                               "ci_upper": r["ci_upper"], "bound": _field(r["group"], "bound")}])
        out.append(plausibility_text(frame, str(r["program"]), t(f"br_o_{r['outcome']}", L), L))
    supp = store[store["suppressed"].fillna(False).astype(bool)]
    if len(supp):
        # two reasons: too few sampled households (or hidden so such a cell cannot be worked out), and
        # too uncertain to publish (small-area estimates with a relative standard error over 50%)
        uncertain = int(supp["group"].astype(str).str.contains("quality=unreliable").sum())
        # and a third: effects not estimable for want of a valid comparison group (too few comparison clusters)
        from .impact_view import MIN_COMPARISON_CLUSTERS

        clusters = int(supp["group"].astype(str).str.contains("not_estimable=few_comparison_clusters").sum())
        small = len(supp) - uncertain - clusters
        parts = ([t("br_suppressed_small", L, n=fmt_number(small, L))] if small else []) + \
            ([t("br_suppressed_uncertain", L, n=fmt_number(uncertain, L))] if uncertain else []) + \
            ([t("br_suppressed_clusters", L, n=fmt_number(clusters, L), minimum=MIN_COMPARISON_CLUSTERS)]
             if clusters else [])
        out.append(t("br_sure_suppressed", L, n=fmt_number(len(supp), L), reasons=_join(parts, L)))
    out.append(data_source(data_dir, L))
    return out


def _figures(store: pd.DataFrame, L: str, region: str) -> dict:
    figs = {}
    pov = store[(store["notebook"] == "10_poverty_profile")
                & store["outcome"].isin(["P0 by kabupaten", "extreme by kabupaten"])].copy()
    if not pov.empty:
        names = regions.kab_names()
        pov["label"] = [_named(names, g, "kab_code") for g in pov["group"]]
        pov["measure"] = pov["outcome"].map(
            {"P0 by kabupaten": t("headcount", L), "extreme by kabupaten": t("extreme", L)}
        )
        fig, _ = plots.bar_with_intervals(pov, label="label", series="measure", title=t("br_chart_poverty", L),
                                          language=L, digits=1,
                                          rse_labels=(t("rse_chart_np", L), t("rse_chart_note", L)),  # fix-disclosure
                                          highlight=None if str(region) in ("all", "") else names.get(str(region)))
        figs["poverty"] = fig
    cov_dec = store[(store["notebook"] == "20_targeting") & (store["outcome"] == "coverage by decile")]
    if not cov_dec.empty:
        c = cov_dec.assign(decile=cov_dec["group"].str.extract(r"decile=(\d+)")[0].astype(float))
        fig, _ = plots.line_by_group(c.dropna(subset=["decile"]).sort_values("decile"), x="decile", group="program",
                                     title=t("br_chart_coverage", L), language=L, xlabel=t("decile", L),
                                     ylabel=t("coverage_rate", L))
        figs["coverage"] = fig
    dyn = store[(store["notebook"] == "40_tksk_empowerment") & (store["outcome"] == "summary_index")
                & store["estimand"].astype(str).str.startswith("ATT (dynamic)")]
    if not dyn.empty:
        d = dyn.assign(event_time=dyn["group"].str.extract(r"event_time=(-?\d+)")[0])
        fig, _ = plots.event_plot(d.dropna(subset=["event_time"]), title=t("br_chart_tksk", L),
                                  xlabel=t("event_time", L), ylabel=t("br_unit_sd", L), language=L, pct=False,
                                  band=False, point_label=t("br_ev_points", L), before_label=t("br_ev_before", L))
        figs["tksk"] = fig
    return figs


# ------------------------------------------------------------------------------------------------
# rendering

def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode()


#: One style for screen and paper; only properties xhtml2pdf knows, so that it warns about none.
CSS = """@page { size: a4 portrait; margin: 1.4cm 1.6cm 1.4cm 1.6cm; }
body { font-family: Helvetica, Arial, sans-serif; color: #111111; font-size: 10.5pt; line-height: 1.35; }
h1 { font-size: 17pt; margin: 0 0 2pt 0; }
h2 { font-size: 12.5pt; margin: 9pt 0 3pt 0; border-bottom: 1px solid #111111; }
p.sub { color: #333333; margin: 0 0 1pt 0; font-size: 10.5pt; }
table { width: 100%; }
th.c1 { width: 42%; } th.c2 { width: 25%; }
th { text-align: left; font-size: 10pt; border-bottom: 1px solid #111111; padding: 3pt; }
td { border-bottom: 1px solid #999999; padding: 3pt; font-size: 10.5pt; vertical-align: top; }
td.v { font-weight: bold; font-size: 11.5pt; }
li { margin-bottom: 2pt; }
"""
SCREEN_CSS = "body { max-width: 46rem; margin: 1.5rem auto; } img { max-width: 100%; }"


def output_stem(region: str, language: str) -> str:
    """``briefing_provinsi_id``, ``briefing_7602_en``: the region and the language in every name."""
    return f"briefing_{'provinsi' if str(region) in ('all', '') else region}_{language}"


def to_html(b: Briefing, *, for_pdf: bool = False) -> str:
    L = b.language
    esc = html.escape
    parts = [
        (
            f"<html lang='{L}'><head><meta charset='utf-8'><title>{esc(b.title)}</title>"
            f"<style>{CSS}{'' if for_pdf else SCREEN_CSS}</style></head><body>"
        ),
        f"<h1>{esc(b.title)}</h1>",
        *[f"<p class='sub'>{esc(s)}</p>" for s in b.subtitle],
        f"<h2>{esc(t('headline', L))}</h2>",
        (
            f"<table><thead><tr><th class='c1'>{esc(t('br_col_indicator', L))}</th>"
            f"<th class='c2'>{esc(t('br_col_estimate', L))}</th><th>{esc(t('br_col_ci', L))}</th></tr></thead><tbody>"
        ),
    ]
    parts += [f"<tr><td>{esc(label)}</td><td class='v'>{esc(value)}</td><td>{esc(ci)}</td></tr>"
              for label, value, ci in b.numbers]
    parts.append("</tbody></table>")
    width = f" width='{int(PDF_IMAGE_CM / 2.54 * 96)}'" if for_pdf else ""  # CSS pixels, 96 to the inch
    figs = list(b.figures.items())
    if figs:  # the meeting's subject first, on page 1
        name, fig = figs[0]
        parts.append(f"<p><img src='data:image/png;base64,{_png(fig)}'{width} alt='{esc(name)}'/></p>")
    parts.append(f"<h2>{esc(t('br_meaning', L))}</h2><ul>" + "".join(f"<li>{esc(p)}</li>" for p in b.paragraphs)
                 + "</ul>")
    parts.append(f"<h2>{esc(t('br_next', L))}</h2><ul>" + "".join(f"<li>{esc(s)}</li>" for s in b.next_steps)
                 + "</ul>")
    parts.append(f"<h2>{esc(t('br_how_sure', L))}</h2><ul>" + "".join(f"<li>{esc(s)}</li>" for s in b.certainty)
                 + "</ul>")
    if len(figs) > 1:
        parts.append(f"<h2>{esc(t('br_charts', L))}</h2>")
        parts += [f"<p><img src='data:image/png;base64,{_png(fig)}'{width} alt='{esc(name)}'/></p>"
                  for name, fig in figs[1:]]
    parts.append("</body></html>")
    return "\n".join(parts)


def render(b: Briefing, out_dir: str | os.PathLike) -> tuple[Path, Path]:
    """Write ``briefing_<region>_<language>.html`` and the A4 PDF made from it (xhtml2pdf); a PNG
    of the PDF's first page goes to ``screenshots/`` when ``pdftoppm`` is present."""
    from xhtml2pdf import pisa

    out_dir = Path(out_dir)
    stem = output_stem(b.region, b.language)
    html_path, pdf_path = out_dir / f"{stem}.html", out_dir / f"{stem}.pdf"
    write_text_atomic(html_path, to_html(b))
    with atomic_path(pdf_path) as tmp:
        with open(tmp, "wb") as fh:
            status = pisa.CreatePDF(to_html(b, for_pdf=True), dest=fh)
        if status.err:
            raise RuntimeError(f"PDF rendering of the briefing {pdf_path.name} failed with {status.err} error(s).")
    pdf_page_png(pdf_path, out_dir / "screenshots" / f"{stem}_pdf_p1.png")
    return html_path, pdf_path


def pdf_page_png(pdf: Path, target: Path) -> Path | None:
    """The first page of ``pdf`` as a PNG (``pdftoppm``), or None without it."""
    exe = shutil.which("pdftoppm")
    if not exe:
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        try:
            subprocess.run([exe, "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                            str(tmp.with_suffix(""))], capture_output=True, timeout=120, check=True)
        except (OSError, subprocess.SubprocessError):
            return None
    return target if target.exists() else None
