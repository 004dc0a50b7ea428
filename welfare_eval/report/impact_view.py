"""Programme effects (PKH, BPNT, TKSK) for readers and for the results store.

The analysis is in the notebooks ``30_impact_bansos`` and ``40_tksk_empowerment``: the estimator
calls of :mod:`welfare_eval.impact` with their outcomes, covariates, subgroups, cut-off and
comparison group in view. This module only collects their results, applies the publication rules,
translates, formats and shapes the rows of the results store (the briefing reads them):

- an effect is shown only when every group it compares (recipients and comparison households, a
  cohort and its comparison, the two sides of a cut-off) has at least ``min_cell`` households;
  subgroups that make up a whole are suppressed so that none can be worked out from the others;
- a diagnostic or a plausibility check that quotes the households behind a hidden effect is not said;
- only errors the data can legitimately cause (:data:`EXPECTED_ERRORS`: too few households for an
  estimator, a treatment that does not vary in a region) become a line of the report, through the
  ``attempt`` context managers; any other exception (a bug, a misspelt column, a value not allowed)
  stops the notebook, and so fails the job.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import impact, plots, regions
from ..config import DEFAULT_MIN_CELL
from ..exceptions import DataValidationError
from .display import md_lines
from .store import check_min_cell, markers, n_column, secondary_suppress, suppress
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

#: Errors that data can legitimately cause and that a report states instead of failing: too few
#: households for an estimator, a treatment or covariate without variation in the region, no
#: comparison cohort. A ParameterError is not among them: it means a choice in the notebook is wrong
#: (a column that does not exist, a value not allowed), which the analyst must see fail.
EXPECTED_ERRORS: tuple[type[Exception], ...] = (DataValidationError,)

#: Outcomes measured in rupiah (effects shown as amounts, not percentage points).
AMOUNT_OUTCOMES = ("cons_pc", "business_income")
#: Outcomes in standard deviations (the summary index).
SD_OUTCOMES = ("summary_index",)


def outcome_label(outcome: str, language: str) -> str:
    """An outcome's name in a table ("poor" as an outcome, not the adjective)."""
    return t("poor_outcome" if outcome == "poor" else outcome, language)


def fmt_effect(value: float, outcome: str, language: str, *, unit: bool = True) -> str:
    """An effect in the unit of its outcome: rupiah, standard deviations or percentage points."""
    if outcome in AMOUNT_OUTCOMES:
        return fmt_rp(value, language)
    if outcome in SD_OUTCOMES:
        return fmt_sd(value, language, unit=unit)
    return fmt_pp(value, language, unit=unit)


def note_figure(title: str, note: str):
    """A small chart panel that says why there is no chart (the notebook shows every figure)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 1.6))
    ax.set_axis_off()
    ax.set_title(title)
    ax.text(0.5, 0.4, note, ha="center", va="center", transform=ax.transAxes)
    plt.close(fig)
    return fig


def groups_of(estimate) -> dict:
    """The households an effect compares (one row per household): for rows resting on it."""
    n_t = int(estimate.n_treated) if estimate.n_treated is not None else 0
    return {"nobs": int(estimate.nobs), "n_treated": n_t, "n_control": int(estimate.nobs) - n_t}


def cs_groups(cells: pd.DataFrame) -> dict:
    """Households behind Callaway-Sant'Anna cells: the accompanied households of their cohorts
    (each cohort counted once) and the fewest comparison households of any cell."""
    if cells.empty:
        return {"n_treated": 0, "n_control": 0}
    return {"n_treated": int(cells.groupby("cohort")["n_treated"].first().sum()),
            "n_control": int(cells["n_control"].min())}


def by_outcome(found: list[tuple[str, str, str]]) -> list[str]:
    """Warnings ``(outcome label, method label, text)`` with the same method and text said once,
    naming every outcome they concern (the propensity score, and so its overlap and effective
    sample, is the same for all outcomes)."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for outcome, method, text in found:
        grouped.setdefault((method, text), []).append(outcome)
    return [f"{', '.join(outcomes)} ({method}): {text}" for (method, text), outcomes in grouped.items()]


class _Collector:
    """What the collectors share: the language, the disclosure threshold, notes and store rows."""

    def __init__(self, language: str, *, min_cell: int = DEFAULT_MIN_CELL):
        self.language = check_language(language)
        self.min_cell = check_min_cell(min_cell)
        self._notes: list[str] = []

    @property
    def notes(self) -> list[str]:
        """The lines this part adds to the diagnostics, in the report's language."""
        return list(self._notes)

    @property
    def rows(self) -> list[tuple[str, str, pd.DataFrame]]:
        """``(program, outcome, tidy frame)`` for the results store."""
        return []


class Effects(_Collector):
    """One programme's effects on several outcomes by several methods, with their checks.

    ``add(method, estimate, data)`` takes an estimate of :func:`impact.naive`, :func:`impact.ipw`
    or :func:`impact.aipw` (``method`` is the key of its label: ``"naive"``, ``"ipw"``,
    ``"aipw"``) and the data it was estimated on. ``transfer``: each household's transfer per person
    per month (Rp), for the plausibility check of an effect on consumption. ``name_in_notes``: begin
    the notes with the programme's name (where another programme's notes come first).
    """

    def __init__(self, program: str, language: str, *, min_cell: int = DEFAULT_MIN_CELL,
                 transfer: pd.Series | None = None, name_in_notes: bool = False):
        super().__init__(language, min_cell=min_cell)
        self.program = program
        self.transfer = transfer
        self._prefix = f"{program}, " if name_in_notes else ""
        self._frames: list[pd.DataFrame] = []
        self._treated_mean: dict[str, float] = {}
        self._checks: list[tuple[str, str, pd.DataFrame]] = []
        self._found: list[tuple[str, str, str]] = []

    @contextmanager
    def attempt(self, outcome: str, method: str) -> Iterator[None]:
        """Run an estimator; if the data cannot support it (:data:`EXPECTED_ERRORS`), say so in
        the notes and go on with the other rows."""
        try:
            yield
        except EXPECTED_ERRORS as exc:
            self._notes.append(self._prefix + t("not_computable", self.language,
                                                outcome=outcome_label(outcome, self.language),
                                                method=t(method, self.language), reason=exc))

    def add(self, method: str, estimate, data: pd.DataFrame) -> None:
        L = self.language
        outcome = str(estimate.outcome)
        f = estimate.to_frame()
        f["outcome"] = outcome
        f["method_key"] = method
        f["nobs"] = estimate.nobs
        self._frames.append(f)
        treated = data[estimate.treatment].astype(float) == 1
        self._treated_mean[outcome] = float(data.loc[treated, outcome].astype(float).mean())
        self._found += [(t(outcome, L), t(method, L), w) for w in diagnostic_warnings(estimate, L)]
        if method != "aipw":
            return
        # the checks rest on the effect's households: stored under its rule, said only when it is shown
        groups = groups_of(estimate)
        self._checks.append((self.program, outcome, diagnostic_rows(estimate, outcome).assign(**groups)))
        if min(groups.values()) < self.min_cell:
            return
        checked = data.assign(y=data[outcome].astype(float), d=treated.astype(float))
        flag = plausibility(estimate, checked, outcome=outcome,
                            transfer=self.transfer if outcome in AMOUNT_OUTCOMES else None)
        if flag is not None:
            self._notes.append(plausibility_text(flag, self.program, t(outcome, L), L))
            self._checks.append((self.program, outcome, flag.assign(**groups)))

    @property
    def notes(self) -> list[str]:
        return self._notes + [self._prefix + w for w in by_outcome(self._found)]

    def frame(self) -> pd.DataFrame:
        """Every effect as a tidy row, suppressed below ``min_cell`` (recipients and comparison
        households each), with the comparison mean and the effect relative to it."""
        if not self._frames:
            return pd.DataFrame(columns=["outcome", "method_key", "estimate", "suppressed"])
        res = pd.concat(self._frames, ignore_index=True)
        # the recipients' mean without the programme: their observed mean minus the effect
        res["control_mean"] = [self._treated_mean[o] - est for o, est in zip(res["outcome"], res["estimate"])]
        res["relative"] = res["estimate"] / res["control_mean"]
        # one row per household: recipients and comparison households each need min_cell
        res["n_control"] = res["nobs"] - res["n_treated"]
        return suppress(res, min_cell=self.min_cell)

    def adjusted(self, method: str = "aipw") -> pd.DataFrame:
        """The rows of one method with Benjamini-Hochberg p-values across the outcomes shown
        (suppressed rows take no part in the adjustment)."""
        res = self.frame()
        rows = res[res["method_key"] == method].copy()
        shown = rows["pvalue"].notna().to_numpy() if "pvalue" in rows else np.zeros(len(rows), bool)
        rows["pvalue_bh"] = np.nan
        if shown.any():
            rows.loc[shown, "pvalue_bh"] = impact.inference.benjamini_hochberg(rows.loc[shown, "pvalue"].to_numpy())
        return rows

    @property
    def rows(self) -> list[tuple[str, str, pd.DataFrame]]:
        res = self.frame()
        effects = [(self.program, "", res.assign(estimand="ATT " + res["method_key"]))] if self._frames else []
        return effects + self._checks  # diagnostics and plausibility flags after the effects, for the briefing

    def table(self) -> pd.DataFrame:
        """The effects for readers: outcome, method, effect, interval, relative change (shares
        only) and the households compared; suppressed rows say why."""
        L = self.language
        res = self.frame()
        mark = markers(res, L, min_cell=self.min_cell)
        n_head, n_values = n_column(res, L)
        amounts = res["outcome"].isin(AMOUNT_OUTCOMES).any()
        effect = [m or fmt_effect(v, o, L, unit=bool(amounts))
                  for v, o, m in zip(res["estimate"], res["outcome"], mark)]
        ci = ["" if m else f"{fmt_effect(lo, o, L, unit=False)} – {fmt_effect(hi, o, L, unit=bool(amounts))}"
              for lo, hi, o, m in zip(res["ci_lower"], res["ci_upper"], res["outcome"], mark)]
        out = {t("outcome", L): [outcome_label(o, L) for o in res["outcome"]],
               t("method", L): [t(m, L) for m in res["method_key"]],
               # shares only: effects in percentage points, said once in the header
               t("effect" if amounts else "effect_pp", L): effect, t("ci95", L): ci}
        if not amounts:
            out[t("relative", L)] = ["" if m else fmt_pct(v, L) for v, m in zip(res["relative"], mark)]
        out[n_head] = n_values
        return pd.DataFrame(out)

    def adjusted_table(self, method: str = "aipw") -> pd.DataFrame:
        """p-values of one method across outcomes, raw and Benjamini-Hochberg adjusted."""
        L = self.language
        rows = self.adjusted(method)
        return pd.DataFrame({
            t("outcome", L): [outcome_label(o, L) for o in rows["outcome"]],
            t("p_value", L): ["–" if sup else fmt_pvalue(v, L) for v, sup in zip(rows["pvalue"], rows["suppressed"])],
            t("p_value_bh", L): ["–" if sup else fmt_pvalue(v, L)
                                 for v, sup in zip(rows["pvalue_bh"], rows["suppressed"])]})

    def published_table(self, benchmarks, method: str = "aipw") -> pd.DataFrame:
        """Each published effect (``programs.Benchmark``) beside the local one, both relative to
        the comparison mean."""
        L = self.language
        rows = self.frame()
        rows = rows[rows["method_key"] == method]

        def local(outcome: str) -> float:
            v = rows.loc[rows["outcome"] == outcome, "relative"]
            return float(v.iloc[0]) if len(v) else float("nan")

        return pd.DataFrame({
            t("outcome", L): [t(b.outcome, L) for b in benchmarks],
            t("published", L): [f"{fmt_pct(b.relative_change, L, digits=0)} ({t(b.label, L)})" for b in benchmarks],
            method.upper(): [fmt_pct(local(b.outcome), L) for b in benchmarks]})

    def figure(self, method: str = "aipw"):
        """The effects of one method on shares as bars with intervals in percentage points, or a
        panel saying why there is none."""
        L = self.language
        title = t(f"br_chart_{self.program.lower()}_effects", L)
        res = self.frame()
        rows = res[res["method_key"] == method]
        if len(rows) and not rows["suppressed"].all():
            fig, _ = plots.bar_with_intervals(  # suppressed rows are drawn empty and marked
                rows.assign(label=[outcome_label(o, L) for o in rows["outcome"]]), label="label", title=title,
                language=L, reference=0.0, pct=False, scale=100, xlabel=t("br_unit_pp", L))
            return fig
        # nothing to draw: say why instead of an empty frame
        return note_figure(title, t("suppressed", L, n=self.min_cell) if len(res) and res["suppressed"].all() else "–")


class Subgroups(_Collector):
    """Effects by subgroup (:func:`impact.inference.heterogeneity`) with the test of equal effects."""

    def __init__(self, language: str, *, min_cell: int = DEFAULT_MIN_CELL):
        super().__init__(language, min_cell=min_cell)
        self._rows: list[dict] = []

    def label(self, by: str) -> str:
        """The subgroup column's name for readers (the column itself when the table has no name for it)."""
        key = {"kab_code": "kabupaten", "head_female": "female_head", "urban": "urban", "decile": "decile"}.get(by)
        return t(key, self.language) if key else by

    @contextmanager
    def attempt(self, by: str) -> Iterator[None]:
        """Estimate by subgroup; a subgroup too small for the model is said in the notes."""
        try:
            yield
        except EXPECTED_ERRORS:
            self._notes.append(f"{self.label(by)}: {t('het_not_estimable', self.language)}")

    def add(self, by: str, table, outcome: str) -> None:
        L = self.language
        label = self.label(by)
        hf = table.to_frame()
        # subgroups make up the whole (whose effect is shown): one hidden hides another
        hf = secondary_suppress(hf.assign(n_control=hf["nobs"] - hf["n_treated"]), margins=[()], min_cell=self.min_cell)
        n_head, n_values = n_column(hf, L)
        names = regions.kab_names()
        for (_, r), m, n_text in zip(hf.iterrows(), markers(hf, L, min_cell=self.min_cell), n_values):
            v = r[by]
            value = (names.get(str(v), v) if by == "kab_code" else
                     t("yes" if v else "no", L) if isinstance(v, (bool, np.bool_)) else v)
            self._rows.append({
                t("indicator", L): f"{label} = {value}",
                t("effect" if outcome in AMOUNT_OUTCOMES else "effect_pp", L):
                    m or fmt_effect(r["estimate"], outcome, L, unit=False),
                t("ci95", L): "" if m else (f"{fmt_effect(r['ci_lower'], outcome, L, unit=False)} – "
                                            f"{fmt_effect(r['ci_upper'], outcome, L, unit=False)}"),
                n_head: n_text})
        self._notes.append(f"{label}: {diagnostic_text(table.diagnostics[0], L)}")

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self._rows)


class Discontinuity(_Collector):
    """A regression discontinuity estimate (:func:`impact.rd`) at a cut-off."""

    def __init__(self, language: str, *, min_cell: int = DEFAULT_MIN_CELL):
        super().__init__(language, min_cell=min_cell)
        self._estimate: Any = None   # an Estimate of impact.rd
        self._failure: str | None = None

    @contextmanager
    def attempt(self) -> Iterator[None]:
        """Estimate; too few households near the cut-off is said in the table."""
        try:
            yield
        except EXPECTED_ERRORS as exc:
            self._failure = str(exc)

    def add(self, estimate) -> None:
        self._estimate = estimate

    def frame(self) -> pd.DataFrame:
        """The estimate as a tidy row; each side of the cut-off inside the bandwidth needs min_cell."""
        e = self._estimate
        bw = next(d for d in e.diagnostics if d.name == "bandwidth")
        return suppress(e.to_frame().assign(n_left=bw.get("left"), n_right=bw.get("right")), min_cell=self.min_cell)

    @property
    def notes(self) -> list[str]:
        if self._estimate is None or self.frame()["suppressed"].iloc[0]:
            return []  # the diagnostics quote the households on each side: none for a suppressed estimate
        return [diagnostic_text(d, self.language) for d in self._estimate.diagnostics]

    def table(self) -> pd.DataFrame:
        L = self.language
        if self._estimate is None:
            return pd.DataFrame({t("effect", L): [t("ip_not_estimable", L, reason=self._failure or "–")]})
        e = self._estimate
        rdf = self.frame()
        m = markers(rdf, L, min_cell=self.min_cell)[0]
        lo, hi = e.conf_int()
        outcome = str(e.outcome)
        return pd.DataFrame({t("outcome", L): [outcome_label(outcome, L)],
                             t("effect", L): [m or fmt_effect(e.estimate, outcome, L)],
                             t("ci95", L): ["" if m else f"{fmt_effect(lo, outcome, L, unit=False)} – "
                                                         f"{fmt_effect(hi, outcome, L)}"],
                             n_column(rdf, L)[0]: n_column(rdf, L)[1]})


@dataclass
class _Outcome:
    nobs: int
    cells: pd.DataFrame | None = None
    simple: pd.DataFrame = field(default_factory=pd.DataFrame)
    twfe: float = float("nan")
    dynamic: Any = None   # an EstimateTable of impact.staggered_did(aggregate="dynamic")
    failure: str | None = None


class Staggered(_Collector):
    """Callaway-Sant'Anna effects of a staggered roll-out per outcome, against naive TWFE.

    ``publishable(cells)`` says whether the cohorts and comparison households of the ATT(g,t)
    cells (:func:`impact.att_gt`) are large enough to estimate and show anything; ``add`` takes the
    simple aggregate (:func:`impact.staggered_did`) and the naive TWFE
    (:func:`impact.goodman_bacon`); ``add_dynamic`` the event study of one outcome.
    """

    def __init__(self, language: str, *, min_cell: int = DEFAULT_MIN_CELL, unit: str = "hh_id",
                 program: str = "TKSK"):
        super().__init__(language, min_cell=min_cell)
        self.unit = unit
        self.program = program
        self._outcomes: dict[str, _Outcome] = {}
        self._failures: dict[str, str] = {}

    @contextmanager
    def attempt(self, outcome: str) -> Iterator[None]:
        """Count the comparisons; a roll-out the data cannot support is said in the notes."""
        try:
            yield
        except EXPECTED_ERRORS as exc:
            self._failures[outcome] = f"{t(outcome, self.language)}: {exc}"

    def _groups(self, cells) -> dict:
        return cs_groups(cells[cells["post"]]) if cells is not None else {"n_treated": 0, "n_control": 0}

    def publishable(self, cells) -> bool:
        """Whether every cohort and comparison group behind the post-treatment cells holds at least
        ``min_cell`` households (``cells``: the ``.cells`` of :func:`impact.att_gt`, or None)."""
        return cells is not None and min(self._groups(cells).values()) >= self.min_cell

    def cells(self, outcome: str):
        """The ATT(g,t) cells an outcome was added with (None when they could not be formed)."""
        return self._outcomes[outcome].cells if outcome in self._outcomes else None

    def add(self, outcome: str, data: pd.DataFrame, *, cells=None, simple=None, naive=None) -> None:
        """One outcome: its households, cells, simple aggregate and naive TWFE (None where not estimated)."""
        o = _Outcome(nobs=int(data[self.unit].nunique()), cells=cells, failure=self._failures.pop(outcome, None))
        groups = self._groups(cells)
        row = pd.DataFrame([{"estimand": "ATT (simple)", "estimate": np.nan, "std_error": np.nan, "ci_lower": np.nan,
                             "ci_upper": np.nan, "nobs": o.nobs, **groups}])
        if simple is not None and self.publishable(cells):
            row = simple.to_frame().assign(**groups)
            o.twfe = float(naive.attrs["twfe"]) if naive is not None else float("nan")
        o.simple = suppress(row, min_cell=self.min_cell)
        self._outcomes[outcome] = o

    def add_dynamic(self, outcome: str, dynamic) -> None:
        """The event study (``aggregate="dynamic"``) of an outcome already added (None: not estimated)."""
        self._outcomes[outcome].dynamic = dynamic

    def _dynamic_frame(self, outcome: str) -> pd.DataFrame:
        o = self._outcomes[outcome]
        if o.dynamic is None:
            return pd.DataFrame()
        f = o.dynamic.to_frame()
        if "event_time" in f.columns and o.cells is not None:  # each event time rests on the cohorts observed then
            cells = o.cells
            # the overall row ("all") rests on every post-treatment cell
            counts = pd.DataFrame([cs_groups(cells[cells["post"]] if e == "all" else cells[cells["event_time"] == e])
                                   for e in f["event_time"]], index=f.index)
            f = f.assign(n_treated=counts["n_treated"], n_control=counts["n_control"])
        return suppress(f, min_cell=self.min_cell)

    @property
    def notes(self) -> list[str]:
        out: list[str] = []
        for o in self._outcomes.values():
            if o.failure:
                out.append(o.failure)
            if o.dynamic is not None:
                worded = {d.message for d in o.dynamic.diagnostics}
                out += notes_text([n for n in o.dynamic.notes if n not in worded], self.language) + [
                    diagnostic_text(d, self.language) for d in o.dynamic.diagnostics]
        return out + list(self._failures.values())

    @property
    def rows(self) -> list[tuple[str, str, pd.DataFrame]]:
        out = []
        for name, o in self._outcomes.items():
            out.append((self.program, name, o.simple.assign(outcome=name)))
            if o.dynamic is not None:
                out.append((self.program, f"{name} dynamic", self._dynamic_frame(name).assign(outcome=name)))
                # the pre-trend test rests on the estimate's households
                out.append((self.program, name, diagnostic_rows(o.dynamic, name).assign(
                    nobs=o.nobs, **self._groups(o.cells))))
        return out

    def table(self) -> pd.DataFrame:
        """Per outcome: the Callaway-Sant'Anna effect with its interval, the naive TWFE beside it,
        the households compared."""
        L = self.language
        res = pd.DataFrame([{"outcome": name, "cs": o.simple["estimate"].iloc[0],
                             "cs_lo": o.simple["ci_lower"].iloc[0], "cs_hi": o.simple["ci_upper"].iloc[0],
                             "twfe": o.twfe, "nobs": o.simple["nobs"].iloc[0],
                             "n_treated": o.simple["n_treated"].iloc[0], "n_control": o.simple["n_control"].iloc[0],
                             "suppressed": o.simple["suppressed"].iloc[0]} for name, o in self._outcomes.items()])
        mark = markers(res, L, min_cell=self.min_cell)
        return pd.DataFrame({
            t("outcome", L): [t(o, L) for o in res["outcome"]],
            t("cs", L): [m or fmt_effect(v, o, L) for v, o, m in zip(res["cs"], res["outcome"], mark)],
            t("ci95", L): ["" if m else f"{fmt_effect(lo, o, L, unit=False)} – {fmt_effect(hi, o, L)}"
                           for lo, hi, o, m in zip(res["cs_lo"], res["cs_hi"], res["outcome"], mark)],
            t("twfe", L): ["" if m else fmt_effect(v, o, L) for v, o, m in zip(res["twfe"], res["outcome"], mark)],
            n_column(res, L)[0]: n_column(res, L)[1]})

    def event_figure(self, outcome: str):
        """The event study of an outcome (effects by time since the roll-out began, with the
        uniform band), or a panel saying why there is none."""
        L = self.language
        title = f"{t('tk_title', L)}: {t(outcome, L)}"
        ylabel = t("sd_axis" if outcome in SD_OUTCOMES else "br_unit_pp", L)
        f = self._dynamic_frame(outcome) if outcome in self._outcomes else pd.DataFrame()
        if len(f) and not f["suppressed"].all():
            fig, _ = plots.event_plot(f[~f["suppressed"]], title=title, xlabel=t("event_time", L), ylabel=ylabel,
                                      language=L, pct=False, point_label=t("br_ev_points", L),
                                      band_label=t("br_ev_band", L), before_label=t("br_ev_before", L))
            return fig
        return note_figure(title, t("suppressed", L, n=self.min_cell) if self.cells(outcome) is not None else "–")


def cohort_rows(panel: pd.DataFrame, *, cohort: str = "tksk_cohort",
                program: str = "TKSK") -> tuple[str, str, pd.DataFrame]:
    """Each kecamatan's first accompanied wave (0 = never), for the briefing (where TKSK is missing)."""
    kec = panel.groupby("kec_code", observed=True)[cohort].max()
    return (program, "kecamatan cohort",
            pd.DataFrame({"estimand": cohort, "kec_code": kec.index.astype(str), "estimate": kec.to_numpy(float)}))


def diagnostics(*parts: _Collector, language: str) -> str:
    """The notes of every part, in order and each once, as Markdown bullets (escaped: messages may
    quote the data); the no-warnings sentence when there are none."""
    lines = [line for p in parts for line in p.notes]
    return md_lines(dict.fromkeys(lines)) if lines else t("no_warnings", language)


@dataclass(frozen=True)
class StoreRows:
    """The rows a notebook stores, as ``store.save_section`` takes them."""

    rows: list = field(default_factory=list)


def for_store(*parts) -> StoreRows:
    """The store rows of collectors (their ``rows``) and of ``(program, outcome, frame)`` tuples, in order."""
    rows: list = []
    for p in parts:
        rows += [p] if isinstance(p, tuple) else p.rows
    return StoreRows(rows)


# ------------------------------------------------------------------------------------------------
# diagnostics and plausibility, stored for the briefing

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
