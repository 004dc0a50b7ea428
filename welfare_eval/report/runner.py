"""Run the report notebooks with papermill into ``reports/<run-id>/``.

For each notebook: the executed notebook, an HTML export without code for readers, one with code
for analysts, and a row in ``manifest.json`` (parameters, input fingerprints, notebook hash,
package version, git commit, timings, status). ``index.html`` links them. Every file is written to a
temporary name and moved into place when complete. Parameters are checked against each notebook's
``parameters`` cell before anything runs: an unknown name or a value of the wrong type is an error.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import os
import platform
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .. import __version__
from ..config import REPO_DIR, notebooks_dir, reports_dir
from ..exceptions import ParameterError, RunError
from ..io import atomic_path, write_text_atomic
from .strings import check_language, t

#: Parameters every report notebook declares; the runner passes them to each.
COMMON_PARAMETERS = ("data_dir", "kabupaten", "language", "results")

_TYPES = {"str": str, "int": int, "float": (int, float), "bool": bool}


@dataclass(frozen=True)
class Job:
    notebook: Path
    parameters: dict
    job_id: str


@dataclass
class RunResult:
    run_id: str
    run_dir: Path
    jobs: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(j["status"] == "ok" for j in self.jobs)

    @property
    def index(self) -> Path:
        return self.run_dir / "index.html"


def discover_notebooks(folder: str | os.PathLike | None = None) -> list[Path]:
    """Report notebooks ``NN_topic.ipynb`` in ``folder`` (default ``notebooks/``), in order."""
    folder = Path(folder) if folder else notebooks_dir()
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))


def declared_parameters(notebook: str | os.PathLike) -> dict[str, dict]:
    """The parameters a notebook declares in its ``parameters`` cell: name -> type, default, help."""
    import papermill as pm

    params = pm.inspect_notebook(str(notebook))
    if not params:
        raise ParameterError(f"Notebook {Path(notebook).name} has no cell tagged 'parameters'; tag one.")
    return params


def check_parameters(notebook: str | os.PathLike, parameters: dict) -> None:
    """Stop on a name the notebook does not declare or a value of another type than its default."""
    declared = declared_parameters(notebook)
    name = Path(notebook).name
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise ParameterError(
            f"Notebook {name} has no parameter {', '.join(map(repr, unknown))}; "
            f"its parameters are {', '.join(sorted(declared))}.")
    for key, value in parameters.items():
        typ = declared[key].get("inferred_type_name")
        want = _TYPES.get(typ)
        if want is None:
            continue
        wrong = not isinstance(value, want) or (typ in ("int", "float") and isinstance(value, bool))
        if wrong:
            raise ParameterError(
                f"The {key!r} parameter of notebook {name} must be of type {typ} "
                f"(default {declared[key].get('default')}). Got {value!r} instead.")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fingerprints(data_dir: str | os.PathLike) -> dict[str, dict]:
    """SHA-256 and size of each input table in ``data_dir``."""
    folder = Path(data_dir)
    out = {}
    for p in sorted([*folder.glob("*.parquet"), *folder.glob("*.json")]):
        out[p.name] = {"sha256": _sha256(p), "bytes": p.stat().st_size}
    return out


def git_commit() -> str | None:
    try:
        res = subprocess.run(["git", "-C", str(REPO_DIR), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=10)
        return res.stdout.strip() or None if res.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def notebook_title(notebook: str | os.PathLike) -> str:
    nb = nbformat.read(str(notebook), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return Path(notebook).stem


def export_html(notebook_path: Path, out: Path, *, with_code: bool) -> None:
    """HTML of an executed notebook; without code cells (and prompts) for readers."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input = not with_code
    exporter.exclude_input_prompt = not with_code
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nbformat.read(str(notebook_path), as_version=4))
    write_text_atomic(out, body)


def _job_id(notebook: Path, params: dict) -> str:
    region = params.get("kabupaten", "all")
    return f"{notebook.stem}_{'provinsi' if region == 'all' else region}_{params.get('language', 'id')}"


def _failure(exc: Exception) -> dict:
    """What failed: the exception, and for a cell error its index and source."""
    out = {"type": type(exc).__name__, "message": str(exc).strip()[-2000:]}
    for attr in ("ename", "evalue", "exec_count"):
        if hasattr(exc, attr):
            out[attr] = str(getattr(exc, attr))
    return out


def _error_cell(nb_path: Path) -> dict | None:
    if not nb_path.exists():
        return None
    nb = nbformat.read(str(nb_path), as_version=4)
    for i, cell in enumerate(nb.cells):
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                return {"cell": i, "source": cell.source[:500], "ename": o.get("ename"), "evalue": o.get("evalue")}
    return None


def run(*, data_dir: str | os.PathLike, notebooks: list | None = None, kabupaten: str = "all",
        language: str = "id", parameters: dict | None = None, output_root: str | os.PathLike | None = None,
        run_id: str | None = None, timeout: int = 1800, progress=print) -> RunResult:
    """Execute the report notebooks and write the run folder.

    Parameters
    ----------
    data_dir : path
        Folder of contract tables (the synthetic province by default in ``make report``).
    notebooks : list of paths, optional
        Default: every ``NN_*.ipynb`` in ``notebooks/``.
    kabupaten : str or list
        ``"all"`` (the province), a BPS code, a comma-separated list of them, or ``"every"`` (the
        province and each kabupaten); every notebook runs for each.
    language : str
        Passed to every notebook.
    parameters : dict, optional
        Further parameters, each of which every selected notebook must declare.
    output_root : path, optional
        Default ``reports/``; the run goes to ``<output_root>/<run_id>/``.
    timeout : int
        Seconds a single cell may run.
    """
    import papermill as pm

    check_language(language)
    data_dir = Path(data_dir).resolve()
    if not data_dir.is_dir():
        raise RunError(f"Data folder {data_dir} does not exist; run `welfare-eval synth` first or pass --data.")
    nbs = [Path(n) for n in notebooks] if notebooks else discover_notebooks()
    if not nbs:
        raise RunError("No report notebooks found (expected notebooks/NN_topic.ipynb).")
    run_id = run_id or dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    root = Path(output_root) if output_root else reports_dir()
    run_dir = (root / run_id).resolve()
    regions = [k.strip() for k in kabupaten.split(",")] if isinstance(kabupaten, str) else list(kabupaten)
    if regions == ["every"]:
        from ..regions import kab_names

        regions = ["all", *kab_names()]
    jobs = []
    for region in regions:  # each region's notebooks in order: its briefing reads what the others stored
        params = {"data_dir": str(data_dir), "kabupaten": region, "language": language,
                  "results": str(run_dir / "results.csv"), **(parameters or {})}
        for nb in nbs:
            check_parameters(nb, params)  # all checked before anything runs
            jobs.append(Job(nb.resolve(), dict(params), _job_id(nb, params)))
    if run_dir.exists():
        raise RunError(f"Run folder {run_dir} exists already; choose another --run-id or remove it.")
    run_dir.mkdir(parents=True)
    result = RunResult(run_id, run_dir)
    manifest = {
        "run_id": run_id, "started": _now(), "finished": None, "package_version": __version__,
        "git_commit": git_commit(), "python": platform.python_version(), "host": platform.node(),
        "parameters": {"data_dir": str(data_dir), "regions": regions, "language": language, **(parameters or {})},
        "inputs": fingerprints(data_dir), "jobs": result.jobs,
    }
    _write_manifest(run_dir, manifest)
    for job in jobs:
        rec = {"job_id": job.job_id, "notebook": job.notebook.name, "notebook_sha256": _sha256(job.notebook),
               "title": notebook_title(job.notebook), "parameters": job.parameters, "status": "running",
               "started": _now(), "finished": None, "duration_s": None, "error": None, "outputs": {}}
        result.jobs.append(rec)
        t0 = time.perf_counter()
        out_nb = run_dir / f"{job.job_id}.ipynb"
        with atomic_path(out_nb) as tmp:
            try:
                pm.execute_notebook(str(job.notebook), str(tmp), parameters=job.parameters, kernel_name="python3",
                                    cwd=str(job.notebook.parent), progress_bar=False, log_output=False,
                                    execution_timeout=timeout, report_mode=False)
                rec["status"] = "ok"
            except Exception as exc:  # noqa: BLE001 - any failure of one notebook is recorded, not raised
                rec["status"] = "failed"
                rec["error"] = _failure(exc)
                cell = _error_cell(tmp)
                if cell:
                    rec["error"]["failing_cell"] = cell
        for kind, with_code in (("html", False), ("html_code", True)):
            target = run_dir / f"{job.job_id}{'' if kind == 'html' else '.code'}.html"
            try:
                export_html(out_nb, target, with_code=with_code)
                rec["outputs"][kind] = target.name
            except Exception as exc:  # noqa: BLE001
                rec.setdefault("export_errors", []).append(_failure(exc))
        rec["outputs"]["notebook"] = out_nb.name
        rec["finished"] = _now()
        rec["duration_s"] = round(time.perf_counter() - t0, 3)
        progress(f"[{rec['status']}] {job.job_id} ({rec['duration_s']:.1f} s)")
        _write_manifest(run_dir, manifest)
    manifest["finished"] = _now()
    _write_manifest(run_dir, manifest)
    write_index(run_dir, manifest, language=language)
    shots = screenshots(run_dir)
    if shots:
        progress(f"screenshots: {', '.join(p.name for p in shots)}")
    return result


CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")


def screenshots(run_dir: Path) -> list[Path]:
    """PNG screenshots of the index and the briefings, kept with the run when a Chromium is present."""
    import shutil
    import tempfile

    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not exe:
        return []
    out = []
    pages = [run_dir / "index.html", *sorted(run_dir.glob("briefing_*.html"))]
    with tempfile.TemporaryDirectory() as profile:
        for page in pages:
            target = run_dir / "screenshots" / f"{page.stem}.png"
            target.parent.mkdir(exist_ok=True)
            with atomic_path(target) as tmp:
                try:
                    subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1100,1800",
                                    f"--screenshot={tmp}", page.as_uri()], capture_output=True, timeout=120)
                except (OSError, subprocess.SubprocessError):
                    continue
                if not tmp.exists() or tmp.stat().st_size == 0:
                    continue
            out.append(target)
    return out


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _write_manifest(run_dir: Path, manifest: dict) -> None:
    write_text_atomic(run_dir / "manifest.json", json.dumps(manifest, indent=2, default=str) + "\n")


INDEX_CSS = """
body{font-family:"DejaVu Sans",Arial,sans-serif;margin:2rem auto;max-width:60rem;color:#111;line-height:1.45}
h1{font-size:1.5rem;margin-bottom:.2rem} p.sub{color:#444;margin-top:0}
table{border-collapse:collapse;width:100%;margin-top:1rem} th,td{border-bottom:1px solid #999;padding:.45rem;text-align:left;vertical-align:top}
th{border-bottom:2px solid #111} .ok{font-weight:bold} .failed{font-weight:bold;text-decoration:underline}
code{font-size:.85em} .err{font-size:.85em;white-space:pre-wrap}
"""


def _headline_rows(run_dir: Path, language: str) -> str:
    """Headline numbers per region from the run's results store (empty when there is none)."""
    import pandas as pd

    from .strings import fmt_pct

    store = run_dir / "results.csv"
    if not store.exists():
        return ""
    f = pd.read_csv(store, dtype={"region": str})
    own = f["group"].isna() | (f["group"].astype(str) == "kab_code=" + f["region"].astype(str))
    pick = f[(f["notebook"] == "10_poverty_profile") & own & f["outcome"].isin(["P0", "extreme"])]
    if pick.empty:
        return ""
    rows = []
    for region, g in pick.groupby("region", sort=False):
        vals = {o: r for o, r in zip(g["outcome"], g.itertuples())}
        cells = []
        for o in ("P0", "extreme"):
            r = vals.get(o)
            cells.append("–" if r is None else f"{fmt_pct(r.estimate, language)} "
                         f"<small>({fmt_pct(r.ci_lower, language)} – {fmt_pct(r.ci_upper, language)})</small>")
        from ..regions import kab_names

        name = t("province", language) if region == "all" else f"{kab_names().get(str(region), region)} ({region})"
        rows.append(f"<tr><td>{html.escape(str(name))}</td><td class='num'>{cells[0]}</td><td class='num'>{cells[1]}</td></tr>")
    return (f"<h2>{t('headline', language)}</h2><table class='headline'><thead><tr><th>{t('kabupaten', language)}</th>"
            f"<th>{t('headcount', language)}</th><th>{t('extreme', language)}</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def write_index(run_dir: Path, manifest: dict, *, language: str = "id") -> Path:
    """``index.html`` of a run: one row per report with its status, duration and links."""
    other = "en" if language == "id" else "id"
    rows = []
    for j in manifest["jobs"]:
        status = t("run_ok" if j["status"] == "ok" else "run_failed", language)
        links = []
        if "html" in j["outputs"]:
            links.append(f'<a href="{html.escape(j["outputs"]["html"])}">{t("read", language)}</a>')
        if "html_code" in j["outputs"]:
            links.append(f'<a href="{html.escape(j["outputs"]["html_code"])}">{t("with_code", language)}</a>')
        if "notebook" in j["outputs"]:
            links.append(f'<a href="{html.escape(j["outputs"]["notebook"])}">{t("notebook", language)}</a>')
        err = ""
        if j.get("error"):
            e = j["error"]
            cell = e.get("failing_cell") or {}
            detail = f"{e.get('ename') or e['type']}: {e.get('evalue') or e['message'][:300]}"
            if cell:
                detail = f"cell {cell['cell']}: " + detail
            err = f'<div class="err">{html.escape(detail)}</div>'
        region = j["parameters"].get("kabupaten", "all")
        rows.append(
            f"<tr><td>{html.escape(j['title'])}<br><code>{html.escape(j['notebook'])}</code></td>"
            f"<td>{html.escape(t('province', language) if region == 'all' else region)}</td>"
            f'<td class="{j["status"]}">{status}{err}</td><td>{j["duration_s"] or 0:.1f} s</td>'
            f"<td>{' · '.join(links)}</td></tr>")
    briefs = sorted(p.name for p in run_dir.glob("briefing_*.html"))
    brief_links = " · ".join(
        f'<a href="{html.escape(b)}">{html.escape(b[len("briefing_"):-5])}</a> '
        f'(<a href="{html.escape(b[:-5])}.pdf">PDF</a>)' for b in briefs)
    headline = _headline_rows(run_dir, language)
    body = f"""<!DOCTYPE html>
<html lang="{language}"><head><meta charset="utf-8"><title>{html.escape(t('index_title', language))}</title>
<style>{INDEX_CSS}</style></head><body>
<h1>{html.escape(t('index_title', language))}</h1>
<p class="sub">{html.escape(t('index_title', other))}</p>
<p>{t('generated', language)}: {html.escape(str(manifest.get('finished') or manifest['started']))} ·
run <code>{html.escape(manifest['run_id'])}</code> · welfare-eval {html.escape(manifest['package_version'])}
· <a href="manifest.json">manifest.json</a></p>
{f"<h2>{t('br_title', language)}</h2><p>{brief_links}</p>" if briefs else ""}
{headline}
<h2>{t('report', language)}</h2>
<table><thead><tr><th>{t('report', language)}</th><th>{t('kabupaten', language)}</th><th>{t('status', language)}</th>
<th>{t('duration', language)}</th><th></th></tr></thead><tbody>
{''.join(rows)}
</tbody></table></body></html>
"""
    path = run_dir / "index.html"
    write_text_atomic(path, body)
    return path
