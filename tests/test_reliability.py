"""BPS's reading of the relative standard error on the kabupaten x area tables: up to 25% shown,
25-50% shown with a caution mark, over 50% not published."""
from __future__ import annotations

import numpy as np
import pandas as pd

from welfare_eval.report.store import display_table, relative_se


def _frame():
    return pd.DataFrame({"kab": ["A", "B", "C", "D", "E"],
                         "estimate": [0.20, 0.10, 0.04, 0.0, 0.05],
                         "std_error": [0.02, 0.04, 0.03, 0.0, 0.01],
                         "ci_lower": [0.16, 0.02, 0.0, 0.0, 0.03], "ci_upper": [0.24, 0.18, 0.10, 0.3, 0.07],
                         "nobs": [200, 150, 90, 25, 5], "suppressed": [False, False, False, False, True]})


def test_relative_se_is_undefined_for_a_zero_rate():
    r = relative_se(_frame())
    assert np.allclose(r[:3], [0.10, 0.40, 0.75]) and np.isnan(r[3])


def test_bands_mark_hide_and_explain():
    out = display_table(_frame(), "id", label_columns=("kab",), reliability=True)
    est, rse = out["estimate"].tolist(), out["Kesalahan baku relatif"].tolist()
    assert est[0] == "20,0%" and rse[0] == "10%"                   # reliable
    assert est[1] == "10,0% *" and rse[1] == "40%"                 # caution
    assert est[2] == "tidak dipublikasikan (KBR > 50%)" and out["Selang kepercayaan 95%"][2] == ""
    assert est[3] == "0,0%" and rse[3] == ""                       # a zero rate: no relative error
    assert est[4] == "disamarkan (< 10 rumah tangga)" and rse[4] == ""  # a small cell: suppressed, no RSE
    assert "di atas 50% tidak dipublikasikan" in out.attrs["note"]


def test_without_bands_nothing_changes():
    out = display_table(_frame(), "en", label_columns=("kab",))
    assert out["estimate"].tolist()[:3] == ["20.0%", "10.0%", "4.0%"] and "note" not in out.attrs
