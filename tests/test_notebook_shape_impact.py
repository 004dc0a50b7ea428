"""The impact notebooks show their analysis (issue 13): one parameters cell, data loaded with one
public call, the estimator calls with their choices in the notebook, no functions or classes
defined there, one cell that stores, saved without outputs, bilingual text.

The required calls are read from each notebook's code with ``ast`` (dotted names of the calls and
attributes it uses), so a call in a comment or a string does not count.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"

#: Per notebook: the public calls and programme objects its code must use, and its parameters.
REQUIRED = {
    "30_impact_bansos": {
        "calls": {"load_region", "programs.PKH.receipt_data", "impact.naive", "impact.ipw", "impact.aipw",
                  "impact.inference.heterogeneity", "programs.PKH.pmt_cutoff", "impact.rd",
                  "programs.BPNT.receipt_data", "show", "store.save_section"},
        "names": {"programs.PKH.receipt_covariates", "programs.PKH_OUTCOMES", "programs.PKH.benchmarks",
                  "programs.PKH.eligible_max_decile", "programs.BPNT.receipt_covariates", "programs.BPNT_OUTCOMES",
                  "programs.BPNT.monthly_amount"},
        "parameters": ["data_dir", "kabupaten", "language", "min_cell", "results"],
    },
    "40_tksk_empowerment": {
        "calls": {"load_region", "impact.inference.summary_index", "impact.att_gt", "impact.staggered_did",
                  "impact.goodman_bacon", "show", "store.save_section"},
        "names": {"programs.TKSK.outcomes"},
        "parameters": ["data_dir", "kabupaten", "language", "min_cell", "results", "bootstrap"],
    },
}


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


def _code(nb) -> list[tuple[str, ast.Module]]:
    return [(c.id, ast.parse(c.source)) for c in nb.cells if c.cell_type == "code"]


@pytest.fixture(params=sorted(REQUIRED), ids=sorted(REQUIRED))
def notebook(request):
    return request.param, nbformat.read(NOTEBOOKS / f"{request.param}.ipynb", as_version=4)


def test_one_parameters_cell_with_the_runners_names(notebook):
    name, nb = notebook
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and tagged[0].cell_type == "code"
    assigned = [n.target.id for n in ast.parse(tagged[0].source).body if isinstance(n, ast.AnnAssign)]
    assert assigned == REQUIRED[name]["parameters"]
    # literals only, one per line with a comment (the runner reads the comments and [allowed: ...])
    for node in ast.parse(tagged[0].source).body:
        assert isinstance(node, ast.AnnAssign) and isinstance(node.value, ast.Constant)
    assert all("#" in line for line in tagged[0].source.splitlines() if line.strip())


def test_no_function_class_or_environment_edit_in_any_cell(notebook):
    _, nb = notebook
    for cell_id, tree in _code(nb):
        defined = [type(n).__name__ for n in ast.walk(tree)
                   if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
        assert not defined, f"cell {cell_id} defines {defined}: it belongs in the package"
        used = {_dotted(n) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        assert not used & {"sys.path", "warnings.filterwarnings", "warnings.simplefilter"}, cell_id


def test_the_analysis_calls_are_in_the_notebook(notebook):
    name, nb = notebook
    calls, names = set(), set()
    for _, tree in _code(nb):
        calls |= {_dotted(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
        names |= {_dotted(n) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    assert REQUIRED[name]["calls"] <= calls, REQUIRED[name]["calls"] - calls
    assert REQUIRED[name]["names"] <= names, REQUIRED[name]["names"] - names


def test_data_loaded_by_one_call_and_stored_by_one_cell(notebook):
    _, nb = notebook
    loads = [(cid, n) for cid, tree in _code(nb) for n in ast.walk(tree)
             if isinstance(n, ast.Call) and _dotted(n.func) == "load_region"]
    assert len(loads) == 1
    call = loads[0][1]
    assert [ast.unparse(a) for a in call.args] == ["data_dir", "kabupaten"]
    assert {k.arg: ast.unparse(k.value) for k in call.keywords} == {"tables": "('panel',)", "language": "language"}
    # the store is written by one cell (and read by none other): a single place where rows leave
    storing = [cid for cid, tree in _code(nb)
               if any(isinstance(n, ast.Call) and (_dotted(n.func) or "").startswith("store.") for n in ast.walk(tree))]
    assert len(storing) == 1


def test_saved_as_source(notebook):
    """No outputs, the installed kernelspec, the tables the runner loads, and text in both languages."""
    _, nb = notebook
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")
    assert nb.metadata["kernelspec"]["display_name"] == "Python 3 (ipykernel)"
    assert nb.metadata["welfare_eval"] == {"tables": ["panel"]}
    assert len({c.id for c in nb.cells}) == len(nb.cells)
    for c in nb.cells:
        if c.cell_type == "markdown":
            assert re.search(r'<span lang="en">', c.source), f"markdown cell {c.id} has no English"
