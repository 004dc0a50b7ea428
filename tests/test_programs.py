"""welfare_eval.programs: programme knowledge read from the shipped rules, receipt terms, the RD cut-off."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from welfare_eval import programs
from welfare_eval.config import data_dir
from welfare_eval.exceptions import DataValidationError, ParameterError


def test_cut_offs_and_amounts_come_from_the_shipped_rules():
    rules = yaml.safe_load((data_dir() / "program_rules.yaml").read_text(encoding="utf-8"))
    assert programs.PKH.eligible_max_decile == rules["pkh"]["eligible_max_decile"]
    assert programs.PKH.max_components == rules["pkh"]["max_components"]
    assert programs.BPNT.eligible_max_decile == rules["bpnt"]["eligible_max_decile"]
    assert programs.BPNT.monthly_amount == rules["bpnt"]["monthly_amount"]
    with pytest.raises(AttributeError):  # frozen: a notebook changes a choice in its cell, not the programme
        programs.PKH.eligible_max_decile = 4  # type: ignore[misc]


def _toy() -> pd.DataFrame:
    """Six households by hand: deciles 2-5, with and without PKH components."""
    return pd.DataFrame({"decile": [2, 3, 3, 4, 5, 2], "n_components": [1, 6, 0, 2, 1, 3],
                         "head_female": [True, False, True, True, False, False],
                         "pkh": [True, True, False, False, False, True], "bpnt": [True, False, True, True, False, True],
                         "pmt_score": [1.0, 2.0, 2.5, 3.5, 4.0, 0.5]})


def test_pkh_receipt_terms_by_hand():
    out = programs.PKH.receipt_data(_toy())
    assert list(out.index) == [0, 1, 3, 4, 5]   # households with a component only
    np.testing.assert_array_equal(out["elig"], [1, 1, 0, 0, 1])
    np.testing.assert_array_equal(out["female_elig"], [1, 0, 0, 0, 0])
    np.testing.assert_array_equal(out["comp_elig"], [1, 4, 0, 0, 3])   # capped at four components
    np.testing.assert_array_equal(out["decile_nonelig"], [0, 0, 4, 5, 0])
    assert set(programs.PKH.receipt_covariates) <= set(out.columns)
    wider = programs.PKH.receipt_data(_toy(), max_decile=4)
    np.testing.assert_array_equal(wider["elig"], [1, 1, 1, 0, 1])


def test_bpnt_receipt_terms_by_hand():
    out = programs.BPNT.receipt_data(_toy())
    assert len(out) == 6
    np.testing.assert_array_equal(out["elig_bpnt"], [1, 1, 1, 1, 0, 1])
    np.testing.assert_array_equal(out["poorest_elig_bpnt"], [1, 0, 0, 0, 0, 1])
    np.testing.assert_array_equal(out["decile_nonelig_bpnt"], [0, 0, 0, 0, 5, 0])
    np.testing.assert_array_equal(out["pkh_receipt"], [1, 1, 0, 0, 0, 1])
    assert set(programs.BPNT.receipt_covariates) <= set(out.columns)


def test_pmt_cutoff_is_half_way_between_the_deciles():
    assert programs.PKH.pmt_cutoff(_toy()) == pytest.approx((2.5 + 3.5) / 2, abs=1e-12)
    with pytest.raises(DataValidationError, match="1 households in decile 3 and 0 in decile 4"):
        programs.PKH.pmt_cutoff(_toy().drop(index=[1, 3]))


def test_missing_columns_and_bad_cut_offs_are_named():
    with pytest.raises(ParameterError, match="pmt_score"):
        programs.PKH.receipt_data(_toy().drop(columns="pmt_score"))
    with pytest.raises(ParameterError, match="'max_decile' parameter of programs.BPNT.receipt_data"):
        programs.BPNT.receipt_data(_toy(), max_decile=0)
