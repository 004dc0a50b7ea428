"""What the impact views store and say (welfare_eval/report/impact_view.py), on the test province."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from welfare_eval import impact, programs
from welfare_eval.report import impact_view as view
from welfare_eval.report.strings import t


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
