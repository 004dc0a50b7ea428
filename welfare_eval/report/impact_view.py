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

from .. import plots, regions
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

#: The estimand an effect row is stored under, from its estimate's own ``estimand``. A difference in
#: means (:func:`impact.naive`) is the naive estimate of the ATT: the recipients' mean minus the
#: comparison mean is the ATT plus selection bias, E[Y(0)|D=1] - E[Y(0)|D=0] (Angrist and Pischke 2009,
#: section 2.1), and its comparison mean is the comparison households' observed one; so it is stored as
#: ``ATT naive``, whatever the adjusted estimators estimate. Other estimands keep their own name.
STORED_ESTIMAND = {"difference in means": "ATT"}


def stored_estimand(estimate, method: str) -> str:
    """``"<estimand> <method key>"``: ``ATT aipw``, ``ATE ipw``, ``ATT naive``."""
    return f"{STORED_ESTIMAND.get(str(estimate.estimand), str(estimate.estimand))} {method}"


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
        self._failures: list[str] = []
        self._adjusted: dict[str, pd.Series] = {}   # method key -> adjusted p-values by outcome

    @contextmanager
    def attempt(self, outcome: str, method: str) -> Iterator[None]:
        """Run an estimator; if the data cannot support it (:data:`EXPECTED_ERRORS`), say so in
        the notes and go on with the other rows."""
        try:
            yield
        except EXPECTED_ERRORS as exc:
            self._failures.append(str(exc))
            self._notes.append(self._prefix + t("not_computable", self.language,
                                                outcome=outcome_label(outcome, self.language),
                                                method=t(method, self.language), reason=exc))

    def add(self, method: str, estimate, data: pd.DataFrame) -> None:
        L = self.language
        outcome = str(estimate.outcome)
        f = estimate.to_frame()
        f["estimand"] = stored_estimand(estimate, method)
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
        # the bounds of the plausibility check are those of an ATT (the recipients' own mean and transfer)
        if min(groups.values()) < self.min_cell or not f["estimand"].iloc[0].startswith("ATT "):
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
        # an ATT's comparison mean is the recipients' mean without the programme: their observed mean
        # minus the effect; an ATE is about every household, so it has none here (relative: NaN)
        att = res["estimand"].str.startswith("ATT ").to_numpy()
        res["control_mean"] = np.where(att, [self._treated_mean[o] - est for o, est in
                                             zip(res["outcome"], res["estimate"])], np.nan)
        res["relative"] = res["estimate"] / res["control_mean"]
        # one row per household: recipients and comparison households each need min_cell
        res["n_control"] = res["nobs"] - res["n_treated"]
        return suppress(res, min_cell=self.min_cell)

    def pvalues(self, method: str = "aipw") -> pd.Series:
        """The p-values of one method's effects shown, by outcome: the family a multiple-testing
        adjustment takes (a suppressed effect is not shown, so not tested)."""
        res = self.frame()
        rows = res[(res["method_key"] == method) & ~res["suppressed"].astype(bool)] if len(res) else res
        rows = rows[rows["pvalue"].notna()] if "pvalue" in rows else rows.iloc[:0]
        return pd.Series(rows["pvalue"].to_numpy(float) if "pvalue" in rows else [], index=rows["outcome"].to_numpy(),
                         dtype=float, name="pvalue")

    def add_adjusted(self, method: str, adjusted, *, outcomes) -> None:
        """Adjusted p-values of one method's effects (``outcomes``: the outcome of each), shown in
        :meth:`adjusted_table` and stored as ``pvalue_bh <estimand of the effect>``."""
        self._adjusted[method] = pd.Series(np.asarray(adjusted, float), index=list(outcomes), dtype=float)

    def adjusted(self, method: str = "aipw") -> pd.DataFrame:
        """The rows of one method with their adjusted p-values (:meth:`add_adjusted`; NaN for an
        effect outside the family)."""
        res = self.frame()
        rows = res[res["method_key"] == method].copy()
        rows["pvalue_bh"] = rows["outcome"].map(self._adjusted.get(method, pd.Series(dtype=float))).astype(float)
        return rows

    def _adjusted_rows(self) -> list[tuple[str, str, pd.DataFrame]]:
        """``pvalue_bh <estimand>`` rows: each adjusted p-value on the households of its effect."""
        out = []
        for method in self._adjusted:
            rows = self.adjusted(method)
            out.append((self.program, "", pd.DataFrame({
                "estimand": "pvalue_bh " + rows["method_key"],
                "outcome": rows["outcome"], "estimate": rows["pvalue_bh"], "method": rows["method"],
                "nobs": rows["nobs"], "n_treated": rows["n_treated"], "n_control": rows["n_control"],
                "suppressed": rows["suppressed"]})))
        return out

    @property
    def rows(self) -> list[tuple[str, str, pd.DataFrame]]:
        res = self.frame()
        effects = [(self.program, "", res)] if self._frames else []
        # diagnostics and plausibility flags after the effects, for the briefing; the adjusted p-values last
        return effects + self._checks + (self._adjusted_rows() if self._frames else [])

    def _none(self) -> pd.DataFrame:
        """One line in place of a table when no effect could be estimated, saying why."""
        reason = self._failures[0] if self._failures else "–"
        return pd.DataFrame({t("effect", self.language): [t("ip_not_estimable", self.language, reason=reason)]})

    def table(self) -> pd.DataFrame:
        """The effects for readers: outcome, method, effect, interval, relative change (shares
        only) and the households compared; suppressed rows say why."""
        L = self.language
        if not self._frames:
            return self._none()
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
        if not self._frames:
            return self._none()
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
        if not self._frames:
            return self._none()
        rows = self.frame()
        rows = rows[rows["method_key"] == method]

        def local(outcome: str) -> float:
            v = rows.loc[rows["outcome"] == outcome, "relative"]
            return float(v.iloc[0]) if len(v) else float("nan")

        return pd.DataFrame({
            t("outcome", L): [t(b.outcome, L) for b in benchmarks],
            t("published", L): [f"{fmt_pct(b.relative_change, L, digits=0)} ({t(b.label, L)})" for b in benchmarks],
            t("ip_local_relative", L, method=t(method, L)): [fmt_pct(local(b.outcome), L) for b in benchmarks]})

    def figure(self, method: str = "aipw"):
        """The effects of one method on shares as bars with intervals in percentage points, or a
        panel saying why there is none."""
        L = self.language
        title = t(f"br_chart_{self.program.lower()}_effects", L)
        res = self.frame()
        # shares only: an effect in rupiah has no place on an axis of percentage points
        res = res[~res["outcome"].isin(AMOUNT_OUTCOMES)]
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
        self._failed: list[str] = []

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
            self._failed.append(self.label(by))
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
        # the test of equal effects compares every subgroup: not said when one of them is hidden
        if not hf["suppressed"].any():
            self._notes.append(f"{label}: {diagnostic_text(table.diagnostics[0], L)}")

    def table(self) -> pd.DataFrame:
        """The effects by subgroup; when none could be estimated, one line saying why in its place."""
        if not self._rows:
            L = self.language
            return pd.DataFrame({t("effect", L): [t("ip_het_none", L, groups=", ".join(self._failed) or "–")]})
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


#: The fewest comparison clusters (kecamatan) a staggered effect is shown with. Its standard errors,
#: intervals and pre-trend test are clustered by kecamatan, so the comparison side's variance rests on
#: the G0 comparison kecamatan alone: with G0 = 1 it is not estimated at all, and with a handful the
#: cluster-robust and wild-bootstrap tests over- or under-reject badly (MacKinnon and Webb 2017,
#: J. Applied Econometrics 32(2); 2018, Econometrics Journal 21(2); Conley and Taber 2011). Even a
#: t reference with G0 - 1 degrees of freedom would need 2.78 instead of 1.96 at G0 = 5 and 3.18 at 4:
#: below 5 the intervals shown (normal or multiplier bootstrap) would be far too narrow to trust.
MIN_COMPARISON_CLUSTERS = 5


def comparison_clusters(data: pd.DataFrame, *, time: str, cohort: str, cluster: str,
                        control_group: str) -> int:
    """The fewest comparison clusters of any post-roll-out cell (cohort g, time t >= g) of
    :func:`impact.att_gt`: clusters never treated (``control_group="never_treated"``), or never
    treated or first treated after t (``"not_yet_treated"``); cells without any are not formed."""
    first = data.groupby(cluster, observed=True)[cohort].max()
    times = sorted(data[time].unique())
    counts = []
    for g in sorted(c for c in first.unique() if c > times[0]):
        for period in (p for p in times if p >= g):
            later = (first > period) & (first != g)
            ctrl = (first == 0) if control_group == "never_treated" else (first == 0) | later
            if ctrl.any():
                counts.append(int(ctrl.sum()))
    return min(counts) if counts else 0


class Staggered(_Collector):
    """Callaway-Sant'Anna effects of a staggered roll-out per outcome, against naive TWFE.

    ``publishable(cells)`` says whether the cohorts and comparison households of the ATT(g,t)
    cells (:func:`impact.att_gt`) are large enough to estimate and show anything; ``add`` takes the
    simple aggregate (:func:`impact.staggered_did`) and the naive TWFE
    (:func:`impact.goodman_bacon`); ``add_dynamic`` the event study of one outcome.
    """

    def __init__(self, language: str, *, min_cell: int = DEFAULT_MIN_CELL, unit: str = "hh_id",
                 program: str = "TKSK", comparison_clusters: int | None = None):
        super().__init__(language, min_cell=min_cell)
        self.unit = unit
        self.program = program
        self.comparison_clusters = comparison_clusters
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

    @property
    def few_clusters(self) -> bool:
        """Whether the comparison group has fewer than :data:`MIN_COMPARISON_CLUSTERS` clusters: no
        valid comparison group in the region (its clustered standard errors cannot be trusted)."""
        return self.comparison_clusters is not None and self.comparison_clusters < MIN_COMPARISON_CLUSTERS

    def _few_clusters_text(self) -> str:
        return t("tk_few_clusters", self.language, n=self.comparison_clusters, minimum=MIN_COMPARISON_CLUSTERS)

    def publishable(self, cells) -> bool:
        """Whether every cohort and comparison group behind the post-treatment cells holds at least
        ``min_cell`` households (``cells``: the ``.cells`` of :func:`impact.att_gt`, or None) and the
        comparison group has at least :data:`MIN_COMPARISON_CLUSTERS` clusters."""
        return cells is not None and min(self._groups(cells).values()) >= self.min_cell and not self.few_clusters

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
        if self.few_clusters:  # not estimable: no valid comparison group (the reason goes with the stored row)
            row = row.assign(suppressed=True, not_estimable="few_comparison_clusters")
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

    def _dynamic_shown(self, outcome: str) -> bool:
        """Whether the event study's rows its diagnostics rest on are shown: the overall effect and
        every time before the roll-out (the pre-trend test's)."""
        f = self._dynamic_frame(outcome)
        if f.empty:
            return False
        if "event_time" not in f.columns:
            return not f["suppressed"].any()
        e = f["event_time"].astype(str)
        rests_on = (e == "all") | (pd.to_numeric(e, errors="coerce") < 0)
        return not f.loc[rests_on.to_numpy(), "suppressed"].any()

    @property
    def notes(self) -> list[str]:
        out: list[str] = [self._few_clusters_text()] if self.few_clusters else []
        for name, o in self._outcomes.items():
            if o.failure:
                out.append(o.failure)
            # diagnostics of a hidden event study are not said
            if o.dynamic is not None and self._dynamic_shown(name):
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
                # the pre-trend test rests on the estimate's households and on the event study's rows
                out.append((self.program, name, diagnostic_rows(o.dynamic, name).assign(
                    nobs=o.nobs, **self._groups(o.cells), suppressed=not self._dynamic_shown(name))))
        return out

    def table(self) -> pd.DataFrame:
        """Per outcome: the Callaway-Sant'Anna effect with its interval, the naive TWFE beside it,
        the households compared."""
        L = self.language
        if self.few_clusters:  # one line in place of the table, saying why and where to look
            return pd.DataFrame({t("cs", L): [self._few_clusters_text()]})
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
        if self.few_clusters:
            return note_figure(title, t("tk_few_clusters_short", L, n=self.comparison_clusters))
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


def for_store(*parts) -> list:
    """The store rows of collectors (their ``rows``) and of ``(program, outcome, frame)`` tuples, in
    order: the list ``store.save_section`` takes."""
    rows: list = []
    for p in parts:
        rows += [p] if isinstance(p, tuple) else p.rows
    return rows


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
