"""Run a report notebook's code in the test process, as Jupyter runs it, to read what it made.

The committed notebook is the source: its code cells run in order in one namespace; the values
given replace the parameters cell's defaults right after it (as papermill injects them); the value
of a cell's last expression is kept as Jupyter would display it (not when the cell ends with
``;``). A test then reads the tables and text the notebook showed, the objects its analysis cells
made and the rows it stored (into a store of the test's own, never ``$WELFARE_EVAL_RESULTS``, the
store the nbval session's briefing reads). No kernel is started: nbval and the runner tests run
the notebooks through kernels; this is for tests that compare what a notebook computes.
"""
from __future__ import annotations

import ast
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pandas as pd

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


@dataclass
class Executed:
    """What a notebook run in the test process made."""

    namespace: dict
    shown: list = field(default_factory=list)              # (cell id, value of its last expression)
    tables: dict = field(default_factory=dict)             # cell id -> DataFrame of a table it showed
    texts: dict = field(default_factory=dict)              # cell id -> Markdown text it showed
    rows: list = field(default_factory=list)               # (program, outcome, rows) as the store holds them
    store: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def outputs(self) -> dict:
        """Cell id -> what the cell displays (its last expression's value)."""
        return dict(self.shown)


def run_notebook(notebook: str | Path, data_dir: str | Path = "", *, notebook_dir: Path = NOTEBOOKS,
                 **parameters) -> Executed:
    """Execute ``<notebook_dir>/<notebook>.ipynb`` (or a path to a notebook) with ``parameters``
    overriding its parameters cell; ``results`` defaults to a fresh CSV store, read back into
    ``rows`` and ``store``."""
    import matplotlib.pyplot as plt
    from IPython.display import Markdown

    path = Path(notebook) if str(notebook).endswith(".ipynb") else Path(notebook_dir) / f"{notebook}.ipynb"
    nb = nbformat.read(path, as_version=4)
    if "results" not in parameters:
        parameters["results"] = str(Path(tempfile.mkdtemp(prefix="nb-store-")) / "results.csv")
    parameters["data_dir"] = str(data_dir)
    ns: dict = {"__name__": "__main__"}
    out = Executed(ns)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        where = f"{path.name}:{cell.id}"
        tree = ast.parse(cell.source, filename=where)
        last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        body = tree.body[:-1] if last is not None else tree.body
        exec(compile(ast.Module(body=body, type_ignores=[]), where, "exec"), ns)  # noqa: S102
        if last is not None:
            value = eval(compile(ast.Expression(last.value), where, "eval"), ns)  # noqa: S307
            if not cell.source.rstrip().endswith(";"):
                out.shown.append((cell.id, value))
                data = getattr(value, "data", value)  # a table shown through report.show (a pandas Styler)
                if isinstance(data, pd.DataFrame):
                    out.tables[cell.id] = data
                elif isinstance(value, Markdown):
                    out.texts[cell.id] = value.data
        if "parameters" in cell.metadata.get("tags", []):
            unknown = set(parameters) - set(ns)
            assert not unknown, f"{path.name} has no parameters {sorted(unknown)}"
            ns.update(parameters)   # as papermill injects them, after the defaults
    plt.close("all")
    store = Path(parameters["results"])
    if store.exists():  # a CSV store, or a folder store (one file per notebook and region)
        from welfare_eval.report.store import read

        out.store = read(store)
        keys = out.store[["program", "outcome"]].astype(object).fillna("")
        out.rows = [(p, o, g.reset_index(drop=True))
                    for (p, o), g in out.store.groupby([keys["program"], keys["outcome"]], sort=False)]
    return out
