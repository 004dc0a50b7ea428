"""Run a report notebook's own code cells in this process, as Jupyter would, and keep what each cell shows.

Tests that check what a report computes, shows and stores run the notebook itself (its cells are the
analysis), with the parameters a job would inject, without starting a kernel: each code cell is
executed in one namespace, and the value of a cell's last expression (what Jupyter displays, unless
the line ends with ``;``) is kept by cell id. nbval and the runner tests run the same notebooks in
real kernels.
"""
from __future__ import annotations

import ast
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pandas as pd

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@dataclass
class NotebookRun:
    namespace: dict
    outputs: dict = field(default_factory=dict)   # cell id -> the value the cell displays

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables the notebook shows (``show(...)`` stylers and frames), by cell id."""
        out = {}
        for cid, value in self.outputs.items():
            frame = getattr(value, "data", value)   # a pandas Styler keeps its frame in .data
            if isinstance(frame, pd.DataFrame):
                out[cid] = frame
        return out

    def texts(self) -> dict[str, str]:
        """The Markdown the notebook shows, by cell id."""
        from IPython.display import Markdown

        return {cid: v.data for cid, v in self.outputs.items() if isinstance(v, Markdown)}


def run_notebook(name: str, *, notebook_dir: Path = NOTEBOOKS, **parameters) -> NotebookRun:
    """Execute ``<notebook_dir>/<name>.ipynb`` (default: the repository's notebooks) with
    ``parameters`` overriding its parameters cell.

    Without a ``results`` parameter the notebook stores into a temporary folder removed afterwards
    (never into ``$WELFARE_EVAL_RESULTS``, the store the nbval session's briefing reads)."""
    if "results" not in parameters:
        with tempfile.TemporaryDirectory(prefix="notebook-cells-") as tmp:
            return run_notebook(name, notebook_dir=notebook_dir, **parameters, results=str(Path(tmp) / "results"))
    nb = nbformat.read(Path(notebook_dir) / f"{name}.ipynb", as_version=4)
    ns: dict = {"__name__": "__main__"}
    run = NotebookRun(ns)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        where = f"{name}.ipynb:{cell.id}"
        tree = ast.parse(cell.source, filename=where)
        shown = (tree.body and isinstance(tree.body[-1], ast.Expr) and not cell.source.rstrip().endswith(";"))
        body = tree.body[:-1] if shown else tree.body
        exec(compile(ast.Module(body=body, type_ignores=[]), where, "exec"), ns)  # noqa: S102
        if "parameters" in cell.metadata.get("tags", []):
            unknown = set(parameters) - set(ns)
            assert not unknown, f"{name} has no parameters {sorted(unknown)}"
            ns.update(parameters)   # as papermill injects them, after the defaults
        if shown:
            run.outputs[cell.id] = eval(compile(ast.Expression(tree.body[-1].value), where, "eval"), ns)  # noqa: S307
    return run
