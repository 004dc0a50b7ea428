"""The report notebooks show their analysis (issue 13, item 1; docs: /work/shared/STYLE.md "Notebooks").

Every notebook (found by glob): one ``parameters`` cell; no ``def``, ``class``, ``sys.path`` edit,
global warning filter or ``except Exception`` in any code cell; saved without outputs, with the
kernel the project installs. Per notebook: the public calls that make its analysis are in its
cells, data are loaded with one call, and results are stored by one cell. And because the cells
are the analysis, editing a choice in a cell and running again changes what the report shows.
"""
from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest
from notebook_cells import run_notebook

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))

#: The public calls (substrings of the code cells) that make each notebook's analysis, its data load
#: and its display/store helpers.
REQUIRED_CALLS: dict[str, list[str]] = {
    "00_data_quality": ["quality.data_quality(", "show(report.findings_table()"],
    "10_poverty_profile": ["load_region(", "poverty.fgt(", "poverty.extreme_poverty(", "poverty.gini(",
                           "poverty.palma(", "poverty.s80s20(", "survey.mean(", "survey.regression(",
                           "survey.SurveyDesign(", "view.", "show(", "store.save_section("],
    "15_small_area": ["load_dataset(", "small_area.area_poverty(", "small_area.available_covariates(",
                      "view.", "show(", "store.append("],
    "20_targeting": ["load_region(", "targeting.pre_transfer_poor(", "targeting.coverage(",
                     "targeting.targeting_errors(", "targeting.cgh(", "targeting.poverty_reduction(",
                     "targeting.reconcile_disbursement(", "survey.total(", "view.", "show(", "store.save_section("],
    "50_policy_simulation": ["load_region(", "simulate(", "Reform(", "view.", "show(", "store.save_section("],
    "90_briefing": ["briefing.build(", "briefing.locate(", "briefing.render("],
}
#: Notebooks whose shape is checked in the test file of the helper that rewrote them (impact reports).
CHECKED_ELSEWHERE = {"30_impact_bansos", "40_tksk_empowerment"}
#: Cells that write to the results store. The data quality report stores nothing; the briefing
#: reads the store (briefing.locate) and writes its pages (briefing.render), it stores no rows.
STORE_CELLS = {"00_data_quality": 0, "90_briefing": 0}
#: The load calls, of which a notebook that reads contract tables has exactly one.
LOADS = ("load_region(", "load_dataset(", "quality.data_quality(")
#: What no code cell may hold (a function or class belongs in the package; a bug must fail the job).
FORBIDDEN = ("sys.path", "warnings.filterwarnings", "warnings.simplefilter", "except Exception", "except:",
             "except BaseException")


def _code_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def test_the_notebooks_are_all_covered():
    names = {p.stem for p in NOTEBOOKS}
    assert names, "no notebooks found"
    assert names == set(REQUIRED_CALLS) | CHECKED_ELSEWHERE, names ^ (set(REQUIRED_CALLS) | CHECKED_ELSEWHERE)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_has_the_shape_of_a_report(path):
    nb = _read(path)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and params[0].cell_type == "code", "exactly one code cell tagged parameters"
    assert nb.metadata["kernelspec"]["display_name"] == "Python 3 (ipykernel)"
    for cell in _code_cells(nb):
        tree = ast.parse(cell.source)
        defs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
        assert not defs, f"cell {cell.id} defines {type(defs[0]).__name__}: it belongs in the package"
        for bad in FORBIDDEN:
            assert bad not in cell.source, f"cell {cell.id} holds {bad!r}"
        assert cell.outputs == [] and cell.execution_count is None, f"cell {cell.id} is saved with outputs"
    for cell in nb.cells:
        assert cell.get("id"), "every cell keeps an id"


@pytest.mark.parametrize("name", sorted(REQUIRED_CALLS), ids=str)
def test_the_analysis_is_in_the_cells(name):
    nb = _read(NOTEBOOK_DIR / f"{name}.ipynb")
    code = "\n".join(c.source for c in _code_cells(nb))
    missing = [call for call in REQUIRED_CALLS[name] if call not in code]
    assert not missing, f"{name} does not show {missing}"
    assert "sections." not in code, f"{name} still hands its analysis to report.sections"
    loads = sum(code.count(call) for call in LOADS)
    assert loads == (0 if name == "90_briefing" else 1), f"{name} loads data {loads} times"
    stores = [c.id for c in _code_cells(nb) if "store." in c.source]
    assert len(stores) == STORE_CELLS.get(name, 1), f"{name} stores results in cells {stores}"


def _load_region_calls(path: Path) -> list[ast.Call]:
    return [n for c in _code_cells(_read(path)) for n in ast.walk(ast.parse(c.source))
            if isinstance(n, ast.Call) and getattr(n.func, "id", getattr(n.func, "attr", "")) == "load_region"]


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if _load_region_calls(p)], ids=lambda p: p.stem)
def test_load_region_asks_for_the_tables_the_runner_checks(path):
    """The ``tables`` of the load call are the notebook metadata's, which the runner checks are in
    the data folder before it starts the job."""
    nb = _read(path)
    calls = _load_region_calls(path)
    assert len(calls) == 1
    tables = next(ast.literal_eval(k.value) for k in calls[0].keywords if k.arg == "tables")
    assert list(tables) == list(nb.metadata["welfare_eval"]["tables"])


# -- an analyst's edit in a cell changes the report ---------------------------------------------------

#: (notebook, cell text an analyst edits, the edit, the cell id of the table that must change)
EDITS = [
    ("10_poverty_profile", '"poor ~ female_head + head_educ + hh_size + n_child_0_6 + urban"',
     '"poor ~ female_head + head_educ + hh_size"', "10-11b"),
    ("10_poverty_profile", 'poverty.fgt(households, poverty_line="poverty_line", alpha=1, by=["kab_code", "urban"]',
     'poverty.fgt(households, poverty_line="poverty_line", alpha=2, by=["kab_code", "urban"]', "10-07"),
    ("20_targeting", "late_after_days=30", "late_after_days=90", "20-11"),
    ("20_targeting", 'estimands=["coverage_rate", ', 'estimands=[', "20-07"),
    ("50_policy_simulation", "Reform(amount_factor=1.25)", "Reform(amount_factor=2.0)", "50-04"),
]


@pytest.mark.parametrize("name,old,new,cell", EDITS, ids=[f"{e[0][:2]}-{e[3]}-{i}" for i, e in enumerate(EDITS)])
def test_an_edit_in_a_cell_changes_what_the_report_shows(province, tmp_path, name, old, new, cell):
    src = NOTEBOOK_DIR / f"{name}.ipynb"
    nb = _read(src)
    hits = [c for c in _code_cells(nb) if old in c.source]
    assert len(hits) == 1, f"{old!r} is not in exactly one cell of {name}"
    params = dict(data_dir=str(province), kabupaten="7602", language="en")
    before = run_notebook(name, **params).tables[cell]
    hits[0].source = hits[0].source.replace(old, new)
    edited = tmp_path / src.name
    nbformat.write(nb, edited)
    after = run_notebook(name, notebook_dir=tmp_path, **params).tables[cell]
    assert not before.equals(after), f"editing {old!r} left table {cell} of {name} unchanged"


# -- expected data errors become report text; anything else fails the job ------------------------------

def test_a_trait_that_does_not_vary_is_said_not_raised(province, tmp_path):
    """A kabupaten where no sampled household has a female head: the correlates cannot be fitted
    (a DataValidationError, collinear terms), and the report says so in its table; the rest stands."""
    import shutil

    import pandas as pd

    from welfare_eval.report.strings import t

    data = tmp_path / "province"
    data.mkdir()
    for name in ("survey", "panel"):
        shutil.copy(province / f"{name}.parquet", data)
    sv = pd.read_parquet(data / "survey.parquet")
    sv.loc[sv["kab_code"] == "7606", "head_female"] = False
    sv.to_parquet(data / "survey.parquet", index=False)
    run = run_notebook("10_poverty_profile", data_dir=str(data), kabupaten="7606", language="en")
    said = run.tables["10-11b"]
    assert said.iloc[0, 0] == t("pp_correlates_failed", "en") and "collinear" in said.iloc[0, 1]
    assert not run.namespace["scope"]["P0"]["suppressed"].iloc[0]   # the other tables are there


def test_a_mistake_in_a_cell_fails_the_notebook(province, tmp_path):
    """A column name mistyped in the formula is the analyst's error, not the data's: the notebook stops."""
    from welfare_eval.exceptions import ParameterError

    nb = _read(NOTEBOOK_DIR / "10_poverty_profile.ipynb")
    cell = next(c for c in _code_cells(nb) if "survey.regression(" in c.source)
    cell.source = cell.source.replace("+ hh_size +", "+ hh_sise +")
    nbformat.write(nb, tmp_path / "10_poverty_profile.ipynb")
    with pytest.raises(ParameterError, match="hh_sise"):
        run_notebook("10_poverty_profile", notebook_dir=tmp_path, data_dir=str(province), kabupaten="7602")
