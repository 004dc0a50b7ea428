"""The briefing for the head of the office, built only from the run's results store.

Five to eight numbers, three charts, what they mean in plain words, what to do next and how sure
we are; Bahasa Indonesia first, English second. Written as ``briefing.html`` and ``briefing.pdf``
(xhtml2pdf, from that HTML) beside the store.
"""
from __future__ import annotations

import base64
import html
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import plots
from ..io import atomic_path, write_text_atomic
from .display import md
from .store import read
from .strings import fmt_number, fmt_pct, t


@dataclass
class Briefing:
    language: str
    region: str
    numbers: list = field(default_factory=list)       # (label, value text, interval text)
    paragraphs: list = field(default_factory=list)
    next_steps: list = field(default_factory=list)
    certainty: list = field(default_factory=list)
    figures: dict = field(default_factory=dict)

    def markdown(self) -> str:
        lines = [f"## {t('headline', self.language)}", "", "| | | |", "|---|---|---|"]
        # every text is escaped (report.display.md): region and kecamatan names come from data
        lines += [f"| {md(label)} | **{md(value)}** | {md(ci)} |" for label, value, ci in self.numbers]
        lines += ["", *(md(p) for p in self.paragraphs), "", f"### {t('br_next', self.language)}", ""]
        lines += [f"- {md(s)}" for s in self.next_steps]
        lines += ["", f"### {t('br_how_sure', self.language)}", ""] + [f"- {md(s)}" for s in self.certainty]
        return "\n".join(lines)


def _get(store: pd.DataFrame, notebook: str, estimand_start: str, *, group: str | None = None,
         outcome: str | None = None, program: str | None = None) -> pd.Series | None:
    f = store[(store["notebook"] == notebook) & store["estimand"].astype(str).str.startswith(estimand_start)]
    if group is not None:
        f = f[f["group"].fillna("").astype(str) == group]
    if outcome is not None:
        f = f[f["outcome"].astype(str) == outcome]
    if program is not None:
        f = f[f["program"].astype(str) == program]
    return None if f.empty else f.iloc[0]


def _ci(row, language, pct=True, digits: int = 2) -> str:
    if row is None or pd.isna(row["ci_lower"]):
        return ""
    fmt = (lambda v: fmt_pct(v, language)) if pct else (lambda v: fmt_number(v, language, digits=digits))
    return f"{fmt(row['ci_lower'])} – {fmt(row['ci_upper'])}"


def build(results: str | os.PathLike, *, language: str = "id", region: str = "all") -> Briefing:
    """Read the store and assemble the briefing (raises if the reports did not run)."""
    store = read(results)
    store = store[store["region"].astype(str) == str(region)]
    b = Briefing(language, region)
    L = language
    own = "" if str(region) in ("all", "") else f"kab_code={region}"  # the scope's own domain
    sep = "; " if own else ""
    p0 = _get(store, "10_poverty_profile", "FGT(alpha=0)", group=own, outcome="P0")
    ext = _get(store, "10_poverty_profile", "extreme", group=own, outcome="extreme")
    gini = _get(store, "10_poverty_profile", "Gini", group=own, outcome="Gini")
    cov = {p: _get(store, "20_targeting", "coverage_rate", program=p, group=own + sep + "pre_poor=True")
           for p in ("PKH", "BPNT")}
    exc = _get(store, "20_targeting", "exclusion_error_rate", program="PKH", group=own)
    cgh = _get(store, "20_targeting", "cgh", program="PKH", group=own)
    ats = _get(store, "30_impact_bansos", "ATT aipw", outcome="child_out_of_school")
    idx = _get(store, "40_tksk_empowerment", "ATT (simple)", outcome="summary_index")
    rows = [(t("headcount", L), p0, True), (t("extreme", L), ext, True), (t("gini", L), gini, False),
            ("PKH: " + t("coverage_rate", L).lower() + (" penduduk miskin" if L == "id" else " of the poor"),
             cov["PKH"], True),
            ("BPNT: " + t("coverage_rate", L).lower() + (" penduduk miskin" if L == "id" else " of the poor"),
             cov["BPNT"], True),
            ("PKH: " + t("exclusion_error_rate", L).lower(), exc, True)]
    for label, row, pct in rows:
        if row is not None and not bool(row.get("suppressed", False)):
            value = fmt_pct(row["estimate"], L) if pct else fmt_number(row["estimate"], L, digits=3)
            b.numbers.append((label, value, _ci(row, L, pct, 3)))
    if ats is not None:
        b.numbers.append(((("PKH: anak tidak sekolah") if L == "id" else "PKH: children out of school"),
                          fmt_number(100 * ats["estimate"], L, digits=1) + " pp",
                          f"{fmt_number(100 * ats['ci_lower'], L, digits=1)} – {fmt_number(100 * ats['ci_upper'], L, digits=1)} pp"))
    if idx is not None:
        b.numbers.append((("TKSK: indeks pemberdayaan" if L == "id" else "TKSK: empowerment index"),
                          fmt_number(idx["estimate"], L, digits=2) + " SD", _ci(idx, L, pct=False, digits=2)))
    # plain words
    if p0 is not None:
        b.paragraphs.append(
            (f"Sekitar {fmt_pct(p0['estimate'], L, digits=0)} penduduk masih miskin; "
             f"{fmt_pct(ext['estimate'], L)} sangat miskin (ekstrem)." if L == "id" else
             f"About {fmt_pct(p0['estimate'], L, digits=0)} of people are poor; "
             f"{fmt_pct(ext['estimate'], L)} are extremely poor.") if ext is not None else "")
    if cov["PKH"] is not None and exc is not None:
        b.paragraphs.append(
            f"Bansos belum tepat sasaran sepenuhnya: {fmt_pct(exc['estimate'], L, digits=0)} penduduk miskin tidak "
            f"menerima PKH, walau manfaat tetap lebih banyak ke kelompok termiskin (CGH "
            f"{fmt_number(cgh['estimate'], L, digits=2) if cgh is not None else '–'})." if L == "id" else
            f"Targeting is imperfect: {fmt_pct(exc['estimate'], L, digits=0)} of the poor receive no PKH, though "
            f"benefits still favour the poorest (CGH {fmt_number(cgh['estimate'], L, digits=2) if cgh is not None else '–'}).")
    if ats is not None:
        sig = ats["ci_upper"] < 0
        b.paragraphs.append(
            ("PKH menurunkan anak tidak sekolah" if sig else "Dampak PKH pada anak tidak sekolah belum pasti")
            + f" ({fmt_number(100 * ats['estimate'], L, digits=1)} poin persen)." if L == "id" else
            ("PKH reduces children out of school" if sig else "PKH's effect on children out of school is uncertain")
            + f" ({fmt_number(100 * ats['estimate'], L, digits=1)} percentage points).")
    if idx is not None:
        sig = idx["ci_lower"] > 0
        b.paragraphs.append(
            ("Pendampingan TKSK meningkatkan pemberdayaan keluarga penerima" if sig else
             "Dampak pendampingan TKSK belum terbukti") + f" ({fmt_number(idx['estimate'], L, digits=2)} SD)."
            if L == "id" else
            ("TKSK accompaniment raises the empowerment of beneficiary families" if sig else
             "TKSK accompaniment shows no clear effect") + f" ({fmt_number(idx['estimate'], L, digits=2)} SD).")
    b.next_steps = ([
        "Prioritaskan verifikasi dan validasi DTSEN oleh TKSK di kecamatan dengan penduduk miskin tak terjangkau "
        "terbanyak (daftar di laporan ketepatan sasaran).",
        "Perluas pendampingan TKSK ke kecamatan yang belum didampingi; efeknya tumbuh setiap tahun pendampingan.",
        "Tindak lanjuti kecamatan dan kanal dengan keterlambatan penyaluran tertinggi.",
    ] if L == "id" else [
        "Have TKSK verify and update DTSEN first in the kecamatan where the most poor are missed (list in the "
        "targeting report).",
        "Extend TKSK accompaniment to kecamatan without it; its effect grows with each year of accompaniment.",
        "Follow up the kecamatan and channels with the longest payment delays.",
    ])
    b.certainty = ([
        "Angka kemiskinan berasal dari sampel survei: selang kepercayaan 95% ditampilkan di samping setiap angka.",
        "Dampak diperkirakan dengan metode yang mengoreksi perbedaan antara penerima dan bukan penerima; "
        "perbandingan langsung menyesatkan dan tidak dipakai.",
        "Data saat ini adalah data sintetis untuk uji coba; ganti sumber data untuk angka sebenarnya.",
    ] if L == "id" else [
        "Poverty figures come from a survey sample: the 95% confidence interval stands beside each number.",
        "Effects are estimated with methods that correct for differences between recipients and others; naive "
        "comparisons mislead and are not used.",
        "The data are the synthetic test province; point the reports at real data for real figures.",
    ])
    # charts, from stored rows only
    kab = store[(store["notebook"] == "10_poverty_profile") & (store["outcome"] == "headcount")
                & store["group"].astype(str).str.contains("area=")]
    if not kab.empty:
        k = kab.assign(label=kab["group"].str.replace(r"kab(_name)?=", "", regex=True).str.replace("; area=", " – "))
        fig, _ = plots.bar_with_intervals(k, label="label", title=t("headcount", L), language=L)
        b.figures["headcount"] = fig
    cov_dec = store[(store["notebook"] == "20_targeting") & (store["outcome"] == "coverage by decile")]
    if not cov_dec.empty:
        c = cov_dec.assign(decile=cov_dec["group"].str.extract(r"decile=(\d+)")[0].astype(float))
        fig, _ = plots.line_by_group(c.dropna(subset=["decile"]).sort_values("decile"), x="decile", group="program",
                                     title=t("coverage_decile", L), language=L, xlabel=t("decile", L))
        b.figures["coverage"] = fig
    dyn = store[(store["notebook"] == "40_tksk_empowerment") & (store["outcome"] == "summary_index")
                & store["estimand"].astype(str).str.startswith("ATT (dynamic)")]
    if not dyn.empty:
        d = dyn.assign(event_time=dyn["group"].str.extract(r"event_time=(-?\d+)")[0])
        fig, _ = plots.event_plot(d.dropna(subset=["event_time"]), title=t("tk_title", L),
                                  xlabel=t("event_time", L), ylabel="SD", language=L, pct=False, band=False)
        b.figures["tksk"] = fig
    return b


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode()


CSS = """body{font-family:Helvetica,Arial,sans-serif;color:#111;max-width:46rem;margin:1.5rem auto;line-height:1.4}
h1{font-size:20pt;margin-bottom:2pt} h2{font-size:14pt;border-bottom:1px solid #111} .sub{color:#444}
table{border-collapse:collapse;width:100%} td{border-bottom:1px solid #999;padding:4pt} td.v{font-weight:bold;font-size:13pt}
.en{color:#333;font-style:italic} img{max-width:100%}"""


def render(briefings: list[Briefing], out_dir: str | os.PathLike) -> tuple[Path, Path]:
    """Write ``briefing_<region>.html`` (Indonesian first, then English) and the PDF from it."""
    from xhtml2pdf import pisa

    out_dir = Path(out_dir)
    parts = [f"<html><head><meta charset='utf-8'><title>{html.escape(t('br_title', briefings[0].language))}</title>"
             f"<style>{CSS}</style></head><body>"]
    for i, b in enumerate(briefings):
        cls = "" if i == 0 else " class='en'"
        parts.append(f"<h1>{html.escape(t('br_title', b.language))}</h1>")
        if i == 0 and len(briefings) > 1:
            parts.append(f"<p class='sub'>{html.escape(t('br_title', briefings[1].language))}</p>")
        parts.append(f"<h2>{html.escape(t('headline', b.language))}</h2><table>")
        for label, value, ci in b.numbers:
            parts.append(f"<tr><td>{html.escape(label)}</td><td class='v'>{html.escape(value)}</td>"
                         f"<td>{html.escape(ci)}</td></tr>")
        parts.append("</table>")
        parts += [f"<p{cls}>{html.escape(p)}</p>" for p in b.paragraphs if p]
        if i == 0:
            for name, fig in b.figures.items():
                parts.append(f"<p><img src='data:image/png;base64,{_png(fig)}' width='600' alt='{name}'/></p>")
        parts.append(f"<h2>{html.escape(t('br_next', b.language))}</h2><ul>"
                     + "".join(f"<li>{html.escape(s)}</li>" for s in b.next_steps) + "</ul>")
        parts.append(f"<h2>{html.escape(t('br_how_sure', b.language))}</h2><ul>"
                     + "".join(f"<li>{html.escape(s)}</li>" for s in b.certainty) + "</ul>")
    parts.append("</body></html>")
    page = "\n".join(parts)
    stem = "briefing_" + ("provinsi" if briefings[0].region in ("all", "") else str(briefings[0].region))
    html_path, pdf_path = out_dir / f"{stem}.html", out_dir / f"{stem}.pdf"
    write_text_atomic(html_path, page)
    with atomic_path(pdf_path) as tmp:
        with open(tmp, "wb") as fh:
            status = pisa.CreatePDF(page, dest=fh)
        if status.err:
            raise RuntimeError(f"PDF rendering of the briefing failed with {status.err} error(s).")
    return html_path, pdf_path
