"""The run's index page (``index.html``) and screenshots of what people look at.

One row per report with its status (and for a failure the failing cell and its error), how long
it took, where it ran and whether it was retried; the headline numbers by region beside those of
the previous run, with a link to it, so a reader sees what changed.
"""
from __future__ import annotations

import html
import re
import subprocess
from pathlib import Path

from ..io import atomic_path, write_text_atomic
from .strings import t

INDEX_CSS = """
body{font-family:"DejaVu Sans",Arial,sans-serif;margin:2rem auto;max-width:60rem;color:#111;line-height:1.45}
h1{font-size:1.5rem;margin-bottom:.2rem} p.sub{color:#444;margin-top:0}
table{border-collapse:collapse;width:100%;margin-top:1rem}
th,td{border-bottom:1px solid #999;padding:.45rem;text-align:left;vertical-align:top}
th{border-bottom:2px solid #111} .ok{font-weight:bold} .failed,.interrupted{font-weight:bold;text-decoration:underline}
td small{font-weight:normal;color:#333}
code{font-size:.85em} .err{font-size:.85em;white-space:pre-wrap} td.dur{white-space:nowrap}
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
    pick = pick.assign(_order=(pick["region"].astype(str) != "all")).sort_values(["_order", "region"], kind="stable")
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
        rows.append(
            f"<tr><td>{html.escape(str(name))}</td><td class='num'>{cells[0]}</td><td class='num'>{cells[1]}</td></tr>"
        )
    return (f"<h2>{t('headline', language)}</h2><table class='headline'><thead><tr><th>{t('region', language)}</th>"
            f"<th>{t('headcount', language)}</th><th>{t('extreme', language)}</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def _small_area_lines(run_dir: Path, language: str) -> str:
    """One line per region: its kecamatan with the highest published extreme poverty by small-area
    estimation (``15_small_area`` rows of the store; suppressed rows never), caution-marked where
    BPS's relative-standard-error band says so."""
    import pandas as pd

    from ..regions import kec_names
    from .strings import fmt_pct

    path = run_dir / "results.csv"
    if not path.exists():
        return ""
    f = pd.read_csv(path, dtype={"region": str})
    f = f[(f["notebook"] == "15_small_area") & f["estimand"].astype(str).str.startswith("extreme")]
    if f.empty:
        return ""
    fields = f["group"].astype(str).map(lambda g: dict(p.split("=", 1) for p in g.split("; ") if "=" in p))
    f = f.assign(kec=fields.map(lambda d: d.get("kec_code", "")), quality=fields.map(lambda d: d.get("quality", "")))
    names = kec_names()
    lines, caution = [], False
    regions = sorted(f["region"].astype(str).unique(), key=lambda r: (r != "all", r))
    for region in regions:
        g = f[(f["region"].astype(str) == region) & ~f["suppressed"].fillna(False).astype(bool)
              & f["estimate"].notna()]
        if g.empty:
            text = t("sa_index_none", language)
        else:
            top = g.sort_values("estimate", ascending=False, kind="stable").iloc[0]
            marked = top["quality"] == "caution"
            caution |= marked
            text = t("sa_index_line", language, name=names.get(str(top["kec"]), str(top["kec"])),
                     rate=fmt_pct(top["estimate"], language) + ("*" if marked else ""),
                     lo=fmt_pct(top["ci_lower"], language), hi=fmt_pct(top["ci_upper"], language))
        lines.append(f"<li><b>{html.escape(_region_name(region, language))}</b>: {html.escape(text)}</li>")
    note = f"<p class='note'><small>{html.escape(t('sa_index_caution', language))}</small></p>" if caution else ""
    return (f"<h2>{html.escape(t('sa_index_heading', language))}</h2><ul class='small-area'>"
            + "".join(lines) + "</ul>" + note)


def _region_name(region: str, language: str) -> str:
    """'all' or 'provinsi' -> the province; a BPS code -> 'Majene (7601)'."""
    from ..regions import kab_names

    if region in ("all", "provinsi", ""):
        return t("province", language)
    name = kab_names().get(str(region))
    return f"{name} ({region})" if name else str(region)


_ERR_KEYS = {"err_error", "err_kernel_died", "err_timeout", "err_worker_lost", "err_kernel_start"}
_STATUS = {"ok": "run_ok", "failed": "run_failed", "interrupted": "run_interrupted"}
#: A briefing file: briefing_<region>_<language>.html (and .pdf); briefing_<region>.html before issue 11.
_BRIEFING = re.compile(r"^briefing_(?P<region>[A-Za-z0-9]+?)(?:_(?P<lang>[a-z]{2}))?\.html$")


def _job_language(job: dict) -> str:
    return str((job.get("parameters") or {}).get("language", "id"))


def _configured_languages(manifest: dict) -> list:
    """The language list of the run configuration file the run was started from (none for a command line)."""
    config = manifest.get("config") or ""
    if not config or config.startswith("(") or not Path(config).is_file():
        return []
    import yaml

    try:  # a configuration edited or removed since the run only loses the hint, never the index
        raw = yaml.safe_load(Path(config).read_text(encoding="utf-8")) or {}
        langs = (raw.get("grid") or {}).get("language") or []
    except (OSError, yaml.YAMLError, AttributeError):
        return []
    return [langs] if isinstance(langs, str) else [str(x) for x in langs]


def primary_language(manifest: dict) -> str:
    """The language the index of a run is written in: the first language of the run's configuration.

    Candidates in order: the configuration file's grid (what ``make report`` runs), the language the
    first invocation into the run folder recorded (``primary_language``), the manifest's grid, the
    languages of the jobs. The first candidate that has jobs in the run wins, so that running
    ``--language en`` into a folder of Indonesian reports adds English reports without switching the
    index to English; a folder with English reports only gets an English index.
    """
    from .strings import LANGUAGES

    have = list(dict.fromkeys(_job_language(j) for j in manifest.get("jobs", [])))
    candidates = [*_configured_languages(manifest), manifest.get("primary_language"),
                  *((manifest.get("grid") or {}).get("language") or []), *have]
    for lang in candidates:
        if lang in LANGUAGES and (lang in have or not have):
            return lang
    return "id"


def _title(job: dict, language: str) -> str:
    """The notebook's bilingual title ("Profil kemiskinan / Poverty profile") in one language."""
    text = re.sub(r"<[^>]+>", "", str(job.get("title") or job.get("notebook", ""))).strip()
    parts = [x.strip() for x in text.split(" / ")]
    if len(parts) == 2:
        return parts[0] if language == "id" else parts[1]
    return text


def _briefing_table(run_dir: Path, language: str, order: list) -> str:
    """The briefings by region (rows) and language (columns), each as a web page and a PDF, with
    the region's tables for Excel beside them."""
    found: dict = {}
    for page in run_dir.glob("briefing_*.html"):
        m = _BRIEFING.match(page.name)
        if not m:
            continue
        found.setdefault(m["region"], {})[m["lang"] or ""] = page.name
    if not found:
        return ""
    langs = [x for x in (language, *order) if any(x in v for v in found.values())]
    langs = list(dict.fromkeys(langs)) + ([""] if any("" in v for v in found.values()) else [])
    regions = sorted(found, key=lambda r: (r != "provinsi", r))
    head = "".join(f"<th>{html.escape(t('lang_' + x, language)) if x else ''}</th>" for x in langs)
    rows = []
    for region in regions:
        cells = []
        for x in langs:
            name = found[region].get(x)
            if name is None:
                cells.append("<td>–</td>")
                continue
            pdf = name[:-5] + ".pdf"
            link = f'<a href="{html.escape(name)}"{f" hreflang={x!r}" if x else ""}>{t("html_page", language)}</a>'
            if (run_dir / pdf).exists():
                link += f' · <a href="{html.escape(pdf)}">PDF</a>'
            xlsx = f"tabel_{region}_{x}.xlsx"   # the run's tables for Excel (report/excel.py)
            if x and (run_dir / xlsx).exists():
                link += f' · <a href="{html.escape(xlsx)}">{t("xlsx_tables", language)}</a>'
            cells.append(f"<td>{link}</td>")
        rows.append(f"<tr><td>{html.escape(_region_name(region, language))}</td>{''.join(cells)}</tr>")
    return (f"<h2>{t('briefings', language)}</h2><table class='briefings'><thead><tr><th>{t('region', language)}</th>"
            f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def _where(where: dict, language: str) -> str:
    worker = where.get("worker") or ""
    host = where.get("host") or ""
    executor = t("executor_local", language) if where.get("executor") == "local" else where.get("executor", "")
    return " ".join(x for x in (executor, f"({worker}, {host})" if worker and host else worker or host) if x)


def write_index(run_dir: Path, manifest: dict, *, language: str | None = None, previous: dict | None = None) -> Path:
    """``index.html`` of a run: one row per report with its language, status, duration and links, the
    briefings by region and language, and a link to the previous run (``previous``: its ``run_id``
    and manifest) with its headline numbers.

    The page is in ``language`` when given, else in the run's primary language (:func:`primary_language`);
    jobs of every language are listed, each marked, a report's languages side by side. Times are in
    WITA, durations as people say them.
    """
    from .strings import LANGUAGES, fmt_datetime, fmt_duration

    language = language or primary_language(manifest)
    others = [x for x in LANGUAGES if x != language]
    jobs = list(manifest["jobs"])
    regions = list(dict.fromkeys((j.get("parameters") or {}).get("kabupaten", "all") for j in jobs))
    lang_rank = {x: i for i, x in enumerate([language, *others])}
    jobs.sort(key=lambda j: (regions.index((j.get("parameters") or {}).get("kabupaten", "all")), j.get("notebook", ""),
                             lang_rank.get(_job_language(j), 99)))
    rows = []
    for j in jobs:
        status = t(_STATUS.get(j.get("status"), "run_pending"), language)
        notes = []
        if j.get("retries"):
            notes.append(t("retried", language, n=j["retries"]))
        if j.get("resumed"):
            notes.append(t("reused", language))
        where = j.get("where") or {}
        if where.get("host") or where.get("worker"):
            notes.append(f"{t('where', language)}: {_where(where, language)}")
        status = html.escape(status) + "".join(f"<br><small>{html.escape(n)}</small>" for n in notes)
        outputs = j.get("outputs") or {}
        links = []
        if "html" in outputs:
            links.append(f'<a href="{html.escape(outputs["html"])}">{t("read", language)}</a>')
        if "html_code" in outputs:
            links.append(f'<a href="{html.escape(outputs["html_code"])}">{t("with_code", language)}</a>')
        if "notebook" in outputs:
            links.append(f'<a href="{html.escape(outputs["notebook"])}">{t("notebook", language)}</a>')
        err = ""
        if j.get("error"):
            e = j["error"]
            cell = e.get("failing_cell") or {}
            kind = t("err_" + e["kind"], language) + ". " if e.get("kind") and "err_" + e["kind"] in _ERR_KEYS else ""
            detail = kind + f"{e.get('ename') or e.get('type', '')}: {e.get('evalue') or e.get('message', '')[:300]}"
            if cell:
                detail = f"{t('cell', language)} {cell['cell']}: " + detail
            err = f'<div class="err">{html.escape(detail)}</div>'
        region = (j.get("parameters") or {}).get("kabupaten", "all")
        lang = _job_language(j)
        lang_name = t("lang_" + lang, language) if lang in LANGUAGES else lang
        duration = fmt_duration(j["duration_s"], language) if j.get("duration_s") is not None else "–"
        rows.append(
            f"<tr><td>{html.escape(_title(j, language))}<br><code>{html.escape(j.get('notebook', ''))}</code></td>"
            f"<td>{html.escape(_region_name(region, language))}</td>"
            f'<td class="lang" lang="{html.escape(lang)}">{html.escape(lang_name)}</td>'
            f'<td class="{html.escape(str(j.get("status")))}">{status}{err}</td>'
            f'<td class="dur">{html.escape(duration)}</td>'
            f"<td>{' · '.join(links)}</td></tr>"
        )
    briefs = _briefing_table(run_dir, language, others)
    prev_dir = (run_dir.parent / previous["run_id"]) if previous else None
    headline = _headline_rows(run_dir, language, prev_dir) + _small_area_lines(run_dir, language)
    if previous:
        pm = previous["manifest"]
        n_ok = sum(j.get("status") == "ok" for j in pm.get("jobs", []))
        prev_line = (
            f'<p>{t("previous_run", language)}: <a href="../{html.escape(previous["run_id"])}/index.html">'
            f"{html.escape(previous['run_id'])}</a> "
            f"({html.escape(fmt_datetime(pm.get('finished') or pm.get('started'), language))},"
            f" {n_ok}/{len(pm.get('jobs', []))} {t('run_ok', language)})</p>"
        )
    else:
        prev_line = f"<p>{t('no_previous', language)}</p>"
    subtitles = "".join(f'<p class="sub" lang="{x}">{html.escape(t("index_title", x))}</p>' for x in others)
    when = fmt_datetime(manifest.get("finished") or manifest["started"], language)
    body = f"""<!DOCTYPE html>
<html lang="{language}"><head><meta charset="utf-8"><title>{html.escape(t("index_title", language))}</title>
<style>{INDEX_CSS}</style></head><body>
<h1>{html.escape(t("index_title", language))}</h1>
{subtitles}
<p>{t("generated", language)}: {html.escape(when)} ·
{t("run_label", language)} <code>{html.escape(manifest["run_id"])}</code>
· welfare-eval {html.escape(manifest["package_version"])}
· <a href="manifest.json">manifest.json</a></p>
{prev_line}
{briefs}
{headline}
<h2>{t("report", language)}</h2>
<table><thead><tr><th>{t("report", language)}</th><th>{t("region", language)}</th><th>{t("language", language)}</th>
<th>{t("status", language)}</th><th>{t("duration", language)}</th><th></th></tr></thead><tbody>
{"".join(rows)}
</tbody></table></body></html>
"""
    path = run_dir / "index.html"
    write_text_atomic(path, body)
    return path
