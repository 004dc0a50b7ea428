"""What the impact views store and say (welfare_eval/report/impact_view.py), on the test province."""
from __future__ import annotations

import pandas as pd
import pytest

from welfare_eval import impact, programs
from welfare_eval.report import impact_view as view
from welfare_eval.report.strings import diagnostic_text, t


@pytest.fixture(scope="module")
def pkh_families(tables) -> pd.DataFrame:
    panel = tables["panel"]
    return programs.PKH.receipt_data(panel[panel["wave"] == panel["wave"].max()])


def _effects(data: pd.DataFrame, estimand: str) -> view.Effects:
    effects = view.Effects("PKH", "en")
    cov = list(programs.PKH.receipt_covariates)
    for outcome in ("child_out_of_school", "poor"):
        effects.add("naive", impact.naive(data, outcome=outcome, treatment="pkh"), data)
        effects.add("aipw", impact.aipw(data, outcome=outcome, treatment="pkh", covariates=cov, estimand=estimand),
                    data)
    return effects


def _stored(effects: view.Effects) -> pd.DataFrame:
    return effects.rows[0][2]


def test_att_rows_keep_their_stored_names_and_comparison_mean(pkh_families):
    rows = _stored(_effects(pkh_families, "ATT"))
    assert list(rows["estimand"]) == ["ATT naive", "ATT aipw"] * 2
    assert rows["control_mean"].notna().all() and rows["relative"].notna().all()


def test_an_ate_is_stored_as_an_ate_without_a_comparison_mean(pkh_families):
    effects = _effects(pkh_families, "ATE")
    rows = _stored(effects)
    # the naive difference in means stays the naive ATT (the ATT plus selection bias)
    assert list(rows["estimand"]) == ["ATT naive", "ATE aipw"] * 2
    ate = rows[rows["method_key"] == "aipw"]
    assert ate["estimate"].notna().all()
    assert ate["control_mean"].isna().all() and ate["relative"].isna().all()
    # no plausibility check with an ATT's bounds, and the reader's table shows no relative change
    assert not any(str(e).startswith("plausibility") for _, _, f in effects.rows for e in f["estimand"])
    table = effects.table()
    assert (table.loc[table[t("method", "en")] == t("aipw", "en"), t("relative", "en")] == "–").all()


def test_bpnt_effects_have_a_chart_of_their_shares(tables):
    panel = tables["panel"]
    data = programs.BPNT.receipt_data(panel[panel["wave"] == panel["wave"].max()])
    bpnt = view.Effects("BPNT", "id")
    for outcome in programs.BPNT_OUTCOMES:
        bpnt.add("aipw", impact.aipw(data, outcome=outcome, treatment="bpnt",
                                     covariates=list(programs.BPNT.receipt_covariates), estimand="ATT"), data)
    fig = bpnt.figure()
    ax = fig.axes[0]
    assert ax.get_title(loc="left") == t("br_chart_bpnt_effects", "id")
    # the two shares (poor, extremely poor), not consumption in rupiah on a percentage-point axis
    labels = [x.get_text() for x in ax.get_yticklabels()]
    assert view.outcome_label("cons_pc", "id") not in labels and view.outcome_label("poor", "id") in labels


@pytest.mark.parametrize("language", ["id", "en"], ids=["id", "en"])
def test_the_published_comparison_has_translated_headers(pkh_families, language):
    effects = _effects(pkh_families, "ATT")
    effects.language = language
    table = effects.published_table(programs.PKH.benchmarks)
    assert list(table.columns) == [t("outcome", language), t("published", language),
                                   t("ip_local_relative", language, method=t("aipw", language))]


#: A disclosure threshold no group of the test province reaches: every effect hidden.
HIDE_ALL = 100_000


@pytest.mark.parametrize("min_cell", [10, HIDE_ALL], ids=["shown", "hidden"])
def test_the_equal_effects_test_is_said_only_for_subgroups_shown(pkh_families, min_cell):
    het = view.Subgroups("en", min_cell=min_cell)
    table = impact.inference.heterogeneity(impact.naive, pkh_families, by="urban", outcome="child_out_of_school",
                                           treatment="pkh")
    het.add("urban", table, outcome="child_out_of_school")
    said = f"{het.label('urban')}: {diagnostic_text(table.diagnostics[0], 'en')}"
    assert (said in het.notes) == (min_cell != HIDE_ALL)


@pytest.mark.parametrize("min_cell", [10, HIDE_ALL], ids=["shown", "hidden"])
def test_pre_trends_are_said_only_for_an_event_study_shown(tables, min_cell):
    panel = tables["panel"]
    kw = dict(outcome="knows_program", unit="hh_id", time="wave", cohort="tksk_cohort", cluster="kec_code",
              control_group="never_treated")
    tksk = view.Staggered("en", min_cell=min_cell)
    tksk.add("knows_program", panel, cells=impact.att_gt(panel, **kw).cells)
    dynamic = impact.staggered_did(panel, aggregate="dynamic", bootstrap=0, **kw)
    tksk.add_dynamic("knows_program", dynamic)
    pre = next(d for d in dynamic.diagnostics if d.name == "pre_trends")
    assert (diagnostic_text(pre, "en") in tksk.notes) == (min_cell != HIDE_ALL)
    stored = pd.concat([f for _, _, f in tksk.rows])
    row = stored[stored["estimand"] == "diagnostic pre_trends"]
    assert len(row) == 1 and bool(row["suppressed"].iloc[0]) == (min_cell == HIDE_ALL)
