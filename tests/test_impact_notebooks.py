"""What the impact notebooks (30_impact_bansos, 40_tksk_empowerment) estimate on variants of the
test province: run in the test process (tests/notebook_cells.py), their store read back."""
from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from notebook_cells import NOTEBOOKS, run_notebook

from welfare_eval import programs
from welfare_eval.exceptions import ParameterError
from welfare_eval.report import impact_view as view
from welfare_eval.report.strings import t

#: Two runs on the same households and outcome values give the same estimate up to float rounding.
SAME_RTOL = 1e-10


def _variant(province: Path, target: Path, change) -> Path:
    """A copy of the province whose panel is changed by ``change(panel) -> panel``."""
    shutil.copytree(province, target, ignore=shutil.ignore_patterns("raw"))
    panel = pd.read_parquet(province / "panel.parquet")
    change(panel).to_parquet(target / "panel.parquet", index=False)
    return target


def _leave_on_graduation(panel: pd.DataFrame) -> pd.DataFrame:
    """As a real panel records it: a family that graduates leaves PKH in the waves after."""
    ordered = panel.sort_values(["hh_id", "wave"])
    before = ordered.groupby("hh_id")["graduated"].shift(1, fill_value=False).astype(bool).reindex(panel.index)
    return panel.assign(pkh=panel["pkh"] & ~before)


def _graduation(run) -> pd.Series:
    s = run.store
    return s[(s["outcome"] == "graduated") & (s["estimand"] == "ATT (simple)")].iloc[0]


def test_graduation_is_measured_among_families_in_pkh_at_the_start(province, tmp_path):
    variant = _variant(province, tmp_path / "graduates-leave", _leave_on_graduation)
    assert (pd.read_parquet(variant / "panel.parquet").groupby("wave")["pkh"].mean().diff().dropna() < 0).all()
    as_given = _graduation(run_notebook("40_tksk_empowerment", province, kabupaten="all", language="en", bootstrap=0))
    leaving = _graduation(run_notebook("40_tksk_empowerment", variant, kabupaten="all", language="en", bootstrap=0))
    # the same families (receiving PKH in the first wave) and the same graduations: the same effect
    assert not leaving["suppressed"] and leaving["nobs"] == as_given["nobs"]
    np.testing.assert_allclose(leaving[["estimate", "ci_lower", "ci_upper"]].to_numpy(float),
                               as_given[["estimate", "ci_lower", "ci_upper"]].to_numpy(float), rtol=SAME_RTOL)


def test_the_rd_cut_off_is_the_provinces(province, tables):
    panel = tables["panel"]
    last = panel[panel["wave"] == panel["wave"].max()]
    kab = "7601"
    expected = programs.PKH.pmt_cutoff(last)
    # the region's own families would give another cut-off: the test can tell them apart
    assert programs.PKH.pmt_cutoff(programs.PKH.receipt_data(last[last["kab_code"] == kab])) != expected
    run = run_notebook("30_impact_bansos", province, kabupaten=kab, language="en")
    assert run.namespace["cutoff"] == expected


def _no_pkh_in(kab: str):
    def change(panel: pd.DataFrame) -> pd.DataFrame:
        return panel.assign(pkh=panel["pkh"] & (panel["kab_code"].astype(str) != kab))
    return change


@pytest.fixture(scope="module")
def no_pkh(province, tmp_path_factory) -> Path:
    """The province with no PKH recipient in Mamuju Tengah (7606)."""
    return _variant(province, tmp_path_factory.mktemp("no-pkh") / "data", _no_pkh_in("7606"))


def test_a_region_without_pkh_recipients_says_so(no_pkh):
    run = run_notebook("30_impact_bansos", no_pkh, kabupaten="7606", language="en")
    effects = run.tables["30-05"]  # one line in place of the table, saying why
    assert len(effects) == 1 and effects.iloc[0, 0].startswith(t("ip_not_estimable", "en", reason="")) \
        and "'pkh' does not vary" in effects.iloc[0, 0]
    assert "Naive comparison (biased) could not be computed" in run.texts["30-17"]
    assert not (run.store["program"] == "PKH").any()
    assert (run.store["program"] == "BPNT").any()  # the rest of the report goes on


def test_no_estimable_subgroup_is_one_line_saying_why(province):
    run = run_notebook("30_impact_bansos", province, kabupaten="7602", language="en")
    het = run.tables["30-11"]
    labels = ", ".join(run.namespace["het"].label(by) for by in ("head_female", "urban", "decile"))
    assert het.shape == (1, 1) and het.iloc[0, 0] == t("ip_het_none", "en", groups=labels)


@pytest.mark.parametrize(("kab", "clusters", "shown"), [("7602", 1, False), ("7604", 7, True)],
                         ids=["polewali-mandar-one-comparison", "mamuju-seven-never-accompanied"])
def test_tksk_needs_several_comparison_kecamatan(province, kab, clusters, shown):
    run = run_notebook("40_tksk_empowerment", province, kabupaten=kab, language="en", bootstrap=0)
    assert run.namespace["comparison_kecamatan"] == clusters
    simple = run.store[run.store["estimand"] == "ATT (simple)"]
    table = run.tables["40-05"]
    no_comparison = t("tk_few_clusters", "en", n=clusters, minimum=view.MIN_COMPARISON_CLUSTERS)
    if shown:
        assert simple["estimate"].notna().all() and len(table) == len(simple)
    else:
        assert simple["suppressed"].all() and simple["estimate"].isna().all()
        assert simple["group"].str.contains("not_estimable=few_comparison_clusters").all()
        assert table.shape == (1, 1) and table.iloc[0, 0] == no_comparison
        assert no_comparison in run.texts["40-07"]
        assert not run.store["estimand"].str.startswith(("ATT (dynamic)", "diagnostic")).any()


def test_comparison_clusters_counts_the_fewest_of_any_cell():
    # kecamatan a, b first accompanied in 2022; c in 2023; d in 2024; e never
    data = pd.DataFrame({"kec": list("abcde"), "cohort": [2022, 2022, 2023, 2024, 0]}).merge(
        pd.DataFrame({"wave": [2021, 2022, 2023, 2024]}), how="cross")
    kw = dict(time="wave", cohort="cohort", cluster="kec")
    assert view.comparison_clusters(data, control_group="never_treated", **kw) == 1
    # not yet accompanied: (2022, 2022) has c, d, e; (2022, 2023) and (2023, 2023) have d, e; in 2024 only e
    assert view.comparison_clusters(data, control_group="not_yet_treated", **kw) == 1
    assert view.comparison_clusters(data[data["kec"] != "e"], control_group="not_yet_treated", **kw) == 1
    assert view.comparison_clusters(data[data["wave"] < 2024], control_group="not_yet_treated", **kw) == 2


def test_the_adjusted_p_values_are_stored_per_outcome(province):
    from statsmodels.stats.multitest import multipletests

    run = run_notebook("30_impact_bansos", province, kabupaten="all", language="en")
    effects = run.namespace["pkh"].frame()
    aipw = effects[(effects["method_key"] == "aipw") & ~effects["suppressed"]]
    expected = multipletests(aipw["pvalue"].to_numpy(float), method="fdr_bh")[1]
    stored = run.store[run.store["estimand"] == "pvalue_bh aipw"].set_index("outcome")["estimate"]
    assert list(stored.index) == list(programs.PKH_OUTCOMES)
    # the same algorithm in statsmodels
    np.testing.assert_allclose(stored.loc[aipw["outcome"]].to_numpy(float), expected, rtol=1e-12)
    # the effects' own rows are stored as before
    assert run.store["estimand"].isin(["ATT naive", "ATT ipw", "ATT aipw"]).sum() == 15 + 6


def _one_cohort_in(kab: str):
    def change(panel: pd.DataFrame) -> pd.DataFrame:
        inside = panel["kab_code"].astype(str) == kab
        return panel.assign(tksk_cohort=panel["tksk_cohort"].where(~inside, 2022),
                            tksk=panel["tksk"].where(~inside, panel["wave"] >= 2022))
    return change


@pytest.mark.parametrize(("notebook", "change", "said"), [
    ("30_impact_bansos", _no_pkh_in("7606"), "Treatment 'pkh' does not vary"),
    ("40_tksk_empowerment", _one_cohort_in("7606"), "No cohort has both a pre-period and comparison units"),
], ids=["30-no-pkh-recipient", "40-every-kecamatan-in-one-cohort"])
def test_a_data_error_becomes_a_note(province, tmp_path, notebook, change, said):
    data = _variant(province, tmp_path / "data", change)
    run = run_notebook(notebook, data, kabupaten="7606", language="en",
                       **({"bootstrap": 0} if "40" in notebook else {}))
    notes = run.texts["30-17" if notebook.startswith("30") else "40-07"]
    assert said in notes


@pytest.mark.parametrize(("notebook", "line", "edited"), [
    ("30_impact_bansos", "covariates = list(programs.PKH.receipt_covariates)",
     'covariates = list(programs.PKH.receipt_covariates) + ["pmt_scroe"]'),
    ("40_tksk_empowerment", 'cluster="kec_code", control_group=control_group).cells',
     'cluster="kec_cod", control_group=control_group).cells'),
], ids=["30-misspelt-covariate", "40-misspelt-cluster"])
def test_a_misspelt_choice_fails_the_notebook(province, tmp_path, notebook, line, edited):
    nb = nbformat.read(NOTEBOOKS / f"{notebook}.ipynb", as_version=4)
    cell = next(c for c in nb.cells if line in c.source)
    cell.source = cell.source.replace(line, edited)
    path = tmp_path / f"{notebook}.ipynb"
    nbformat.write(nb, str(path))
    with pytest.raises(ParameterError, match="pmt_scroe|kec_cod"):
        run_notebook(path, province, kabupaten="7604", language="en",
                     **({"bootstrap": 0} if "40" in notebook else {}))
