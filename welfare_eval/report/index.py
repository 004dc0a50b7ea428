"""The run's index page (``index.html``) and screenshots of what people look at.

One row per report with its status (and for a failure the failing cell and its error), how long
it took, where it ran and whether it was retried; the headline numbers by region beside those of
the previous run, with a link to it, so a reader sees what changed.
"""
from __future__ import annotations

import html
import subprocess
from pathlib import Path

from ..io import atomic_path, write_text_atomic
from .strings import t

INDEX_CSS = """
body{font-family:"DejaVu Sans",Arial,sans-serif;margin:2rem auto;max-width:60rem;color:#111;line-height:1.45}
h1{font-size:1.5rem;margin-bottom:.2rem} p.sub{color:#444;margin-top:0}
table{border-collapse:collapse;width:100%;margin-top:1rem} th,td{border-bottom:1px solid #999;padding:.45rem;text-align:left;vertical-align:top}
th{border-bottom:2px solid #111} .ok{font-weight:bold} .failed,.interrupted{font-weight:bold;text-decoration:underline}
td small{font-weight:normal;color:#333}
code{font-size:.85em} .err{font-size:.85em;white-space:pre-wrap}
"""

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



def _headlines(store: Path):
    """Rows of the headline numbers (P0 and extreme poverty, each region's own domain) of a store."""
    import pandas as pd

    if not store.exists():
        return None
    f = pd.read_csv(store, dtype={"region": str})
    own = f["group"].isna() | (f["group"].astype(str) == "kab_code=" + f["region"].astype(str))
    return f[(f["notebook"] == "10_poverty_profile") & own & f["outcome"].isin(["P0", "extreme"])]


def _headline_rows(run_dir: Path, language: str, previous: Path | None = None) -> str:
    """Headline numbers per region from the run's results store, beside the previous run's."""
    from .strings import fmt_pct

    pick = _headlines(run_dir / "results.csv")
    if pick is None or pick.empty:
        return ""
    before = _headlines(previous / "results.csv") if previous else None
    old = {} if before is None else {(str(r.region), r.outcome): r.estimate for r in before.itertuples()}
    rows = []
    for region, g in pick.groupby("region", sort=False):
        vals = {o: r for o, r in zip(g["outcome"], g.itertuples())}
        cells = []
        for o in ("P0", "extreme"):
            r = vals.get(o)
            prior = old.get((str(region), o))
            was = "" if prior is None or r is None else (
                f"<br><small>{t('previous_value', language)}: {fmt_pct(prior, language)}</small>")
            cells.append("–" if r is None else f"{fmt_pct(r.estimate, language)} "
                         f"<small>({fmt_pct(r.ci_lower, language)} – {fmt_pct(r.ci_upper, language)})</small>{was}")
        from ..regions import kab_names

        name = t("province", language) if region == "all" else f"{kab_names().get(str(region), region)} ({region})"
        rows.append(f"<tr><td>{html.escape(str(name))}</td><td class='num'>{cells[0]}</td><td class='num'>{cells[1]}</td></tr>")
    return (f"<h2>{t('headline', language)}</h2><table class='headline'><thead><tr><th>{t('kabupaten', language)}</th>"
            f"<th>{t('headcount', language)}</th><th>{t('extreme', language)}</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def _region_name(region: str, language: str) -> str:
    """'all' or 'provinsi' -> the province; a BPS code -> 'Majene (7601)'."""
    from ..regions import kab_names

    if region in ("all", "provinsi", ""):
        return t("province", language)
    name = kab_names().get(str(region))
    return f"{name} ({region})" if name else str(region)


_ERR_KEYS = {"err_error", "err_kernel_died", "err_timeout", "err_worker_lost", "err_kernel_start"}
_STATUS = {"ok": "run_ok", "failed": "run_failed", "interrupted": "run_interrupted"}


def write_index(run_dir: Path, manifest: dict, *, language: str = "id", previous: dict | None = None) -> Path:
    """``index.html`` of a run: one row per report with its status, duration and links, and a link
    to the previous run (``previous``: its ``run_id`` and manifest) with its headline numbers."""
    other = "en" if language == "id" else "id"
    rows = []
    for j in manifest["jobs"]:
        status = t(_STATUS.get(j["status"], "run_pending"), language)
        notes = []
        if j.get("retries"):
            notes.append(t("retried", language, n=j["retries"]))
        if j.get("resumed"):
            notes.append(t("reused", language))
        where = j.get("where") or {}
        if where.get("host") or where.get("worker"):
            notes.append(f"{t('where', language)}: {where.get('executor', '')} {where.get('worker') or ''} "
                         f"{where.get('host') or ''}".strip())
        status += "".join(f"<br><small>{html.escape(n)}</small>" for n in notes)
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
            kind = t("err_" + e["kind"], language) + ". " if e.get("kind") and "err_" + e["kind"] in _ERR_KEYS else ""
            detail = kind + f"{e.get('ename') or e.get('type', '')}: {e.get('evalue') or e.get('message', '')[:300]}"
            if cell:
                detail = f"cell {cell['cell']}: " + detail
            err = f'<div class="err">{html.escape(detail)}</div>'
        region = j["parameters"].get("kabupaten", "all")
        rows.append(
            f"<tr><td>{html.escape(j['title'])}<br><code>{html.escape(j['notebook'])}</code></td>"
            f"<td>{html.escape(_region_name(region, language))}</td>"
            f'<td class="{j["status"]}">{status}{err}</td><td>{j.get("duration_s") or 0:.1f} s</td>'
            f"<td>{' · '.join(links)}</td></tr>")
    briefs = sorted(p.name for p in run_dir.glob("briefing_*.html"))
    brief_links = " · ".join(
        f'<a href="{html.escape(b)}">{html.escape(_briefing_label(b, language))}</a> '
        f'(<a href="{html.escape(b[:-5])}.pdf">PDF</a>)' for b in briefs)
    prev_dir = (run_dir.parent / previous["run_id"]) if previous else None
    headline = _headline_rows(run_dir, language, prev_dir)
    if previous:
        pm = previous["manifest"]
        n_ok = sum(j.get("status") == "ok" for j in pm.get("jobs", []))
        prev_line = (f'<p>{t("previous_run", language)}: <a href="../{html.escape(previous["run_id"])}/index.html">'
                     f'{html.escape(previous["run_id"])}</a> ({html.escape(str(pm.get("finished") or pm.get("started")))},'
                     f' {n_ok}/{len(pm.get("jobs", []))} {t("run_ok", language)})</p>')
    else:
        prev_line = f"<p>{t('no_previous', language)}</p>"
    body = f"""<!DOCTYPE html>
<html lang="{language}"><head><meta charset="utf-8"><title>{html.escape(t('index_title', language))}</title>
<style>{INDEX_CSS}</style></head><body>
<h1>{html.escape(t('index_title', language))}</h1>
<p class="sub">{html.escape(t('index_title', other))}</p>
<p>{t('generated', language)}: {html.escape(str(manifest.get('finished') or manifest['started']))} ·
run <code>{html.escape(manifest['run_id'])}</code> · welfare-eval {html.escape(manifest['package_version'])}
· <a href="manifest.json">manifest.json</a></p>
{prev_line}
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


def _briefing_label(name: str, language: str) -> str:
    """``briefing_7602_en.html`` -> 'Polewali Mandar (7602) · EN' (the briefing's language marked)."""
    stem = name[len("briefing_"):-len(".html")]
    region, _, lang = stem.rpartition("_")
    if lang not in ("id", "en"):
        region, lang = stem, ""
    return _region_name(region, language) + (f" · {lang.upper()}" if lang else "")
