"""Write the report notebooks (run after changing a section's cells): python tools/build_notebooks.py

Notebooks stay thin: a parameters cell, then one package call per cell and prose in markdown.
"""
from pathlib import Path

import nbformat as nbf

HERE = Path(__file__).resolve().parent.parent / "notebooks"
md, code = nbf.v4.new_markdown_cell, nbf.v4.new_code_cell

COMMON = '''data_dir: str = ""      # folder of contract tables; empty means the synthetic province (or $WELFARE_EVAL_SOURCE)
kabupaten: str = "all"  # all for the province, or a BPS code: 7601 Majene ... 7606 Mamuju Tengah
language: str = "id"    # id for Bahasa Indonesia, en for English
min_cell: int = 10      # cells resting on fewer sampled observations than this are suppressed
results: str = ""       # results store of the run (set by welfare-eval run); empty means $WELFARE_EVAL_RESULTS or none'''


def params(extra: str = ""):
    c = code(COMMON + ("\n" + extra if extra else ""))
    c.metadata["tags"] = ["parameters"]
    return c


def write(name: str, cells: list, **welfare_eval) -> None:
    """``welfare_eval`` metadata tells the runner about a notebook: ``stage="summary"`` runs it after
    the others of its region; ``outputs`` are files it writes into the run folder itself."""
    nb = nbf.v4.new_notebook()
    nb.cells = cells
    for i, cell in enumerate(cells):  # stable ids: rebuilding an unchanged notebook leaves it unchanged
        cell["id"] = f"{name[:2]}-{i:02d}"
    if welfare_eval:
        nb.metadata["welfare_eval"] = welfare_eval
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbf.write(nb, str(HERE / f"{name}.ipynb"))


IMPORTS = code('''from IPython.display import Markdown

from welfare_eval.report import sections, show, store, t''')


def store_cell(name: str):
    return code(f'store.save_section(store.results_path(results), sec, notebook="{name}", region=kabupaten, '
                'min_cell=min_cell);')


write("00_data_quality", [
    md("""# Kualitas data / Data quality

Apa yang dicakup data, apa yang kosong, dan apa yang gagal diperiksa, sebelum angka apa pun dipakai.
Setiap tabel diperiksa terhadap kontrak data (`docs/data.md`); tabel yang gagal tidak dipakai oleh laporan lain.

*What the data cover, what is missing and what failed validation, before any number is used. Each table is
checked against the data contract (`docs/data.md`); a table that fails is not used by the other reports.*"""),
    params(),
    code('''from IPython.display import Markdown

from welfare_eval import quality
from welfare_eval.report import show'''),
    code('''report = quality.data_quality(data_dir, kabupaten=kabupaten, language=language, min_cell=min_cell)
Markdown(report.summary_markdown())'''),
    md("""## Tabel dan hasil pemeriksaan / Tables and validation

Satu baris per tabel: ada atau tidak, lolos atau gagal, jumlah baris, galat dan peringatan.
*One row per table: present or not, passed or failed, rows, errors and warnings.*"""),
    code('show(report.tables, language)'),
    code('Markdown(report.findings_text())'),
    code('show(report.findings, language)'),
    md("""## Cakupan wilayah / Coverage by kabupaten

Jumlah rumah tangga per kabupaten di setiap tabel; jumlah ini bukan perkiraan penduduk.
*Households per kabupaten in each table; these are counts of records, not population estimates.*"""),
    code('show(report.coverage, language)'),
    md("""## Sampel survei per strata / Survey sample by stratum

Variansi berbasis desain memerlukan sedikitnya dua PSU per strata; strata dengan sampel kecil ditandai.
*Design-based variances need at least two PSUs per stratum; strata with small samples are flagged.
The estimated households are the sum of the expansion weights.*"""),
    code('show(report.strata, language)'),
    md("""## Data kosong / Missing values

Kolom dengan nilai kosong, per tabel (kolom yang lengkap tidak ditampilkan).
*Columns with missing values, by table (complete columns are not listed).*"""),
    code('show(report.missingness, language, pct_columns=[report.missingness.columns[-1]])'),
])

write("10_poverty_profile", [
    md("""# Profil kemiskinan / Poverty profile

Berapa banyak penduduk miskin, di mana, dan siapa mereka. Angka dari survei (SUSENAS atau data sintetis) dengan
galat baku berbasis desain sampel; selang kepercayaan 95% ditampilkan di samping setiap angka.

*How many people are poor, where, and who they are: survey estimates with design-based standard errors and 95%
confidence intervals.*"""),
    params('extreme_line: str = "extreme_215_2017ppp"  # extreme_190_2011ppp, extreme_215_2017ppp or extreme_300_2021ppp'),
    IMPORTS,
    code('sec = sections.poverty_profile(data_dir, kabupaten=kabupaten, language=language, min_cell=min_cell, '
         'extreme_line=extreme_line)'),
    code('Markdown(sec.text)'),
    md("""## Menurut kabupaten dan wilayah / By kabupaten and area

P0 adalah persentase penduduk di bawah garis kemiskinan; P1 mengukur seberapa jauh rata-rata di bawah garis.
Sel dengan sampel terlalu kecil disamarkan.
*P0 is the share of people below the line; P1 how far below it they are on average. Cells with too few sampled
households are suppressed.*"""),
    code('sec.figures["headcount_by_kabupaten"]'),
    code('show(sec.tables["by_area"], language)'),
    md("""## Perubahan antar tahun (harga konstan) / Change across years (constant prices)

Rumah tangga panel yang sama diikuti setiap tahun; pengeluaran dideflasi dengan IHK.
*The same panel households each year; consumption deflated by the CPI.*"""),
    code('show(sec.tables["trend"], language)'),
    md("""## Siapa penduduk miskin / Who the poor are"""),
    code('show(sec.tables["profile"], language)'),
    store_cell("10_poverty_profile"),
])

write("20_targeting", [
    md("""# Ketepatan sasaran PKH dan BPNT / Targeting of PKH and BPNT

Apakah bansos sampai ke penduduk miskin? Siapa yang terlewat, siapa yang tidak seharusnya menerima, dan di
kecamatan mana TKSK perlu memverifikasi data. Kesejahteraan sebelum bantuan = pengeluaran dikurangi bantuan.

*Does assistance reach the poor? Who is missed, who should not receive it, and where TKSK should verify the
registry. Pre-transfer welfare is consumption minus the transfer.*"""),
    params('programs: str = "PKH,BPNT"  # PKH, BPNT or PKH,BPNT: the programmes the report covers'), IMPORTS,
    code('sec = sections.targeting_section(data_dir, kabupaten=kabupaten, language=language, min_cell=min_cell, '
         'programs=programs)'),
    code('Markdown(sec.text)'),
    code('sec.figures["coverage_by_decile"]'),
    md("""## Indikator / Indicators

Galat eksklusi: penduduk miskin yang tidak menerima, dari semua penduduk miskin. Galat inklusi: penerima yang
tidak miskin, dari semua yang tidak miskin. CGH di atas 1 berarti manfaat lebih banyak ke 40% termiskin.
*Exclusion error: poor people not receiving, of all the poor; inclusion error: non-poor recipients, of all the
non-poor. A CGH above 1 means benefits favour the poorest 40%.*"""),
    code('show(sec.tables["indicators"], language)'),
    md("""## Kecamatan prioritas verifikasi / Kecamatan to verify first

Perkiraan jumlah penduduk miskin yang belum menerima PKH, menurut kecamatan (agregat, tanpa data rumah tangga).
*Estimated poor people without PKH, by kecamatan (aggregates only, never households).*"""),
    code('show(sec.tables["missed"], language)'),
    md("""## Penyaluran / Disbursement"""),
    code('show(sec.tables["disbursement"], language)'),
    store_cell("20_targeting"),
])

write("30_impact_bansos", [
    md("""# Dampak PKH / Impact of PKH

Apa yang dicapai PKH pada anak tidak sekolah, stunting, pernikahan dini dan kemiskinan? Penerima PKH lebih
miskin dari bukan penerima, jadi perbandingan langsung menyesatkan; IPW dan AIPW membandingkan keluarga yang
sebanding menurut aturan penetapan penerima (desil, komponen, kepala keluarga perempuan).

*What did PKH achieve for children out of school, stunting, early marriage and poverty? Recipients are poorer
than others, so a naive comparison misleads; IPW and AIPW compare families alike under the rules that decide
receipt.*"""),
    params(), IMPORTS,
    code('sec = sections.impact_section(data_dir, kabupaten=kabupaten, language=language, min_cell=min_cell)'),
    code('sec.figures["pkh_effects"]'),
    code('show(sec.tables["effects"], language)'),
    md("""## Dibandingkan bukti terpublikasi / Against the published evidence

Evaluasi acak PKH setelah enam tahun (Cahyadi et al. 2020): stunting turun 23%, anak tidak sekolah turun separuh.
*The randomized evaluation after six years: stunting fell by 23%, children out of school by half.*"""),
    code('show(sec.tables["published"], language)'),
    md("""## Banyak hasil sekaligus / Many outcomes at once

Nilai p disesuaikan (Benjamini-Hochberg) karena beberapa hasil diuji bersamaan.
*p-values adjusted (Benjamini-Hochberg) because several outcomes are tested together.*"""),
    code('show(sec.tables["adjusted"], language)'),
    md("""## Untuk siapa dampaknya lebih besar / For whom the effect is larger

Dampak pada anak tidak sekolah menurut kelompok, dengan uji apakah dampaknya sama.
*The effect on children out of school by subgroup, with a test that it is the same.*"""),
    code('show(sec.tables["heterogeneity"], language)'),
    md("""## Di sekitar batas desil / At the decile cut-off

Keluarga tepat di bawah dan di atas batas kelayakan PKH (skor PMT) hampir sama; bedanya hanya peluang menerima
PKH. Regresi diskontinu (fuzzy RD) membandingkan mereka.
*Families just below and above the PKH eligibility threshold are alike except for their chance of receiving PKH;
a fuzzy regression discontinuity compares them.*"""),
    code('show(sec.tables["rd"], language)'),
    md("""## Dampak BPNT / Impact of BPNT

BPNT (sembako) menambah konsumsi keluarga penerima; keluarga PKH lebih sering menerima BPNT, jadi penerimaan PKH
ikut diperhitungkan agar dampak PKH tidak dihitung sebagai dampak BPNT.
*BPNT adds to recipients' consumption; PKH families receive BPNT more often, so PKH receipt is accounted for,
lest PKH's effect be credited to BPNT.*"""),
    code('show(sec.tables["bpnt"], language)'),
    md("""## Diagnostik / Diagnostics"""),
    code('Markdown(sec.text or t("no_warnings", language))'),
    store_cell("30_impact_bansos"),
])

write("40_tksk_empowerment", [
    md("""# Dampak pendampingan TKSK / Effect of TKSK accompaniment

Pendampingan TKSK dimulai bertahap di kecamatan (2022, 2023, 2024). Estimator Callaway-Sant'Anna membandingkan
setiap angkatan dengan kecamatan yang belum didampingi; regresi TWFE biasa bias bila dampak tumbuh dari waktu ke
waktu dan ditampilkan hanya sebagai pembanding.

*TKSK accompaniment started in stages across kecamatan. Callaway-Sant'Anna compares each cohort with kecamatan not
accompanied; naive two-way fixed effects is biased when effects grow over time and is shown only for contrast.*"""),
    params('bootstrap: int = 999  # multiplier bootstrap draws for intervals and bands'),
    IMPORTS,
    code('sec = sections.tksk_section(data_dir, kabupaten=kabupaten, language=language, min_cell=min_cell, '
         'bootstrap=bootstrap)'),
    code('sec.figures["event_study"]'),
    code('show(sec.tables["effects"], language)'),
    md("""## Uji tren sebelum pendampingan / Pre-trend check"""),
    code('Markdown(sec.text or t("no_warnings", language))'),
    store_cell("40_tksk_empowerment"),
])

write("50_policy_simulation", [
    md("""# Simulasi kebijakan / Policy simulation

Apa yang terjadi pada kemiskinan dan kemiskinan ekstrem bila manfaat, batas desil atau cakupan diubah, dan berapa
biayanya per poin persen? Simulasi statis: perilaku rumah tangga dianggap tidak berubah.

*What would a change of benefit, cut-off or coverage do to poverty and extreme poverty, and at what cost per
percentage point? A static simulation: household behaviour is held fixed.*"""),
    params(), IMPORTS,
    code('sec = sections.simulation_section(data_dir, kabupaten=kabupaten, language=language, min_cell=min_cell)'),
    code('show(sec.tables["scenarios"], language)'),
    store_cell("50_policy_simulation"),
])

write("90_briefing", [
    md("""# Ringkasan untuk pimpinan / Briefing

Dibaca dari hasil laporan lain pada run yang sama; tidak menghitung ulang.
*Read from what the other reports of the same run stored; nothing is recomputed.*"""),
    params(),
    code('''from IPython.display import Markdown, display

from welfare_eval.report import briefing, store'''),
    code('brief = briefing.build(store.results_path(results), language=language, region=kabupaten)'),
    code('Markdown(brief.markdown())'),
    code('display(*brief.figures.values())'),
    code('briefing.render([brief, briefing.build(store.results_path(results), language="en" if language == "id" '
         'else "id", region=kabupaten)], store.results_path(results).parent);'),
], stage="summary", outputs=["briefing_{region}.html", "briefing_{region}.pdf"])
print("notebooks written to", HERE)
