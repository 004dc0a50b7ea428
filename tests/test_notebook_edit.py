"""An analyst edits a report notebook and reruns it: the change reaches the tables (issue 13).

A copy of ``30_impact_bansos.ipynb`` with one covariate dropped from the propensity model (edited
with nbformat, as JupyterLab saves it) and an untouched copy are executed by papermill in real
kernels on the small province. The untouched copy stores the numbers the repository's notebook
gives; the edited one changes every IPW and AIPW effect and leaves the naive comparison alone.
"""
from __future__ import annotations

import shutil

import nbformat
import numpy as np
import pandas as pd
import pytest
from notebook_cells import NOTEBOOKS, run_notebook

#: Both runs compute the same floating-point operations in the same order: equal to the last bit,
#: up to the 17 significant digits the CSV store keeps.
SAME_RTOL = 1e-12
#: An effect that moves by less than this (in percentage points / 100) did not change.
CHANGED_ATOL = 1e-9

COVARIATE_LINE = "covariates = list(programs.PKH.receipt_covariates)"
EDITED_LINE = 'covariates = [c for c in programs.PKH.receipt_covariates if c != "pmt_score"]  # edited'


def _execute(notebook, out, province, store):
    import papermill as pm

    pm.execute_notebook(str(notebook), str(out), parameters={"data_dir": str(province), "kabupaten": "all",
                                                              "language": "id", "results": str(store)},
                        kernel_name="python3", cwd=str(out.parent), progress_bar=False)
    return nbformat.read(str(out), as_version=4), pd.read_csv(store, dtype={"region": str})


def _effects_html(nb) -> str:
    cell = next(c for c in nb.cells if c.get("id") == "30-05")  # show(pkh.table(), language)
    return "".join(o["data"]["text/html"] for o in cell.outputs if "text/html" in o.get("data", {}))


@pytest.fixture(scope="module")
def runs(province, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("notebook-edit")
    untouched = tmp / "30_untouched.ipynb"
    shutil.copy(NOTEBOOKS / "30_impact_bansos.ipynb", untouched)
    edited = tmp / "30_edited.ipynb"
    nb = nbformat.read(str(untouched), as_version=4)
    cell = next(c for c in nb.cells if COVARIATE_LINE in c.source)
    cell.source = cell.source.replace(COVARIATE_LINE, EDITED_LINE)
    nbformat.write(nb, str(edited))
    return {"untouched": _execute(untouched, tmp / "out_untouched.ipynb", province, tmp / "untouched.csv"),
            "edited": _execute(edited, tmp / "out_edited.ipynb", province, tmp / "edited.csv"),
            "repository": run_notebook("30_impact_bansos", province, kabupaten="all", language="id",
                                       results=str(tmp / "repository.csv")).store}


def _pkh_effects(store: pd.DataFrame) -> pd.DataFrame:
    rows = store[(store["program"] == "PKH") & store["estimand"].str.startswith("ATT ")]
    return rows.set_index(["outcome", "estimand"])


def test_the_untouched_copy_stores_the_notebooks_numbers(runs):
    ran, ours = runs["untouched"][1], runs["repository"]
    keys = ["program", "outcome", "estimand", "group"]
    assert ran[keys].fillna("").equals(ours[keys].fillna(""))
    for col in ("estimate", "std_error", "ci_lower", "ci_upper", "nobs"):
        np.testing.assert_allclose(ran[col].to_numpy(float), ours[col].to_numpy(float), rtol=SAME_RTOL,
                                   err_msg=col)
    assert (ran["suppressed"] == ours["suppressed"]).all()


def test_dropping_a_covariate_changes_the_effects_table(runs):
    before, after = _pkh_effects(runs["untouched"][1]), _pkh_effects(runs["edited"][1])
    assert before.index.equals(after.index) and len(before) == 15
    naive = before.index.get_level_values("estimand") == "ATT naive"
    # the naive comparison uses no covariates: unchanged
    np.testing.assert_allclose(after.loc[naive, "estimate"], before.loc[naive, "estimate"], rtol=SAME_RTOL)
    # every weighted and doubly robust effect moves
    moved = np.abs(after.loc[~naive, "estimate"].to_numpy() - before.loc[~naive, "estimate"].to_numpy())
    assert (moved > CHANGED_ATOL).all(), moved
    # and the reader's table shows it
    assert _effects_html(runs["untouched"][0]) != _effects_html(runs["edited"][0])
    assert _effects_html(runs["edited"][0]).count("<tr") == 16  # header and 15 effects, still shown
