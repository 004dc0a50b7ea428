"""The EBP cross-check of 15_small_area: shown only where Fay-Herriot is published, disagreement named."""
from __future__ import annotations

import pandas as pd
import pytest

from welfare_eval.report import small_area_view as view

MIN_CELL = 10


def _fh(estimates, quality=None, nobs=None):
    n = len(estimates)
    return pd.DataFrame({"kab_code": "7602", "kec_code": [f"76020{i + 1}0" for i in range(n)],
                         "estimate": estimates, "ci_lower": [e * 0.7 for e in estimates],
                         "ci_upper": [e * 1.3 for e in estimates], "nobs": nobs or [40] * n,
                         "quality": quality or ["reliable"] * n, "level": 0.95})


def _ebp(estimates):
    n = len(estimates)
    return pd.DataFrame({"estimand": "FGT0", "kec_code": [f"76020{i + 1}0" for i in range(n)],
                         "estimate": estimates})


@pytest.fixture
def comparison():
    # kecamatan 4 is unreliable for extreme poverty: it is left out whole, though its EBP disagrees
    p0 = _fh([0.20, 0.10, 0.30, 0.15])
    extreme = _fh([0.05, 0.02, 0.08, 0.04], quality=["reliable", "caution", "reliable", "unreliable"])
    ebp_p0 = _ebp([0.21, 0.18, 0.29, 0.90])       # 7602020 outside its P0 interval (0.07-0.13)
    ebp_extreme = _ebp([0.09, 0.021, 0.081, 0.5])   # 7602010 outside (0.035-0.065)
    return view.ebp_comparison(p0, extreme, ebp_p0, ebp_extreme, min_cell=MIN_CELL), ebp_p0


def test_ebp_shown_only_where_fay_herriot_is_published(comparison):
    c, _ = comparison
    # 7602040 is unreliable for extreme poverty; secondary suppression then hides one more of the
    # kabupaten so that it cannot be worked out from the total
    assert "7602040" not in set(c["kec_code"])
    assert len(c) < 4


@pytest.mark.parametrize("language, agree, disagree", [
    ("id", "sesuai", "EBP kemiskinan di luar selang Fay-Herriot"),
    ("en", "agree", "EBP poverty outside the Fay-Herriot interval"),
], ids=["id", "en"])
def test_disagreement_named_in_table_and_text(comparison, language, agree, disagree):
    c, ebp_p0 = comparison
    table = view.ebp_table(c, language)
    check = dict(zip(table.iloc[:, 1], table.iloc[:, -1]))
    inside = dict(zip(c["kec_code"], c["inside_p0"] & c["inside_extreme"]))
    names = dict(zip(c["kec_code"], table.iloc[:, 1]))
    for code, ok in inside.items():
        assert (check[names[code]] == agree) == ok, (code, check[names[code]])
    assert inside == {"7602020": False, "7602030": True}
    assert disagree in check[names["7602020"]]
    text = view.ebp_summary(c, ebp_p0, language)
    assert f"{int(c['inside_p0'].sum())} " in text
    for code, ok in inside.items():
        assert (names[code] in text) != ok
