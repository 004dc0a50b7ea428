"""One string table for every text a reader sees, in Bahasa Indonesia and English, and number formats.

Indonesian formatting uses a dot for thousands and a comma for decimals (Rp 1.234.567; 11,2%).
"""
from __future__ import annotations

import math

from ..exceptions import ParameterError

LANGUAGES = ("id", "en")

STRINGS: dict[str, dict[str, str]] = {
    # generic
    "province": {"id": "Provinsi Sulawesi Barat", "en": "West Sulawesi province"},
    "kabupaten": {"id": "Kabupaten", "en": "District (kabupaten)"},
    "kecamatan": {"id": "Kecamatan", "en": "Sub-district (kecamatan)"},
    "urban": {"id": "Perkotaan", "en": "Urban"},
    "rural": {"id": "Perdesaan", "en": "Rural"},
    "total": {"id": "Jumlah", "en": "Total"},
    "table": {"id": "Tabel", "en": "Table"},
    "file": {"id": "Berkas", "en": "File"},
    "errors": {"id": "Kesalahan", "en": "Errors"},
    "warnings": {"id": "Peringatan", "en": "Warnings"},
    "column": {"id": "Kolom", "en": "Column"},
    "rows": {"id": "Baris", "en": "Rows"},
    "status": {"id": "Status", "en": "Status"},
    "suppressed": {"id": "disamarkan (< {n} rumah tangga)", "en": "suppressed (< {n} households)"},
    # data quality
    "dq_title": {"id": "Kualitas data", "en": "Data quality"},
    "dq_source": {"id": "Sumber data", "en": "Data source"},
    "dq_scope": {"id": "Cakupan wilayah", "en": "Area covered"},
    "registry_households": {"id": "Rumah tangga di registri", "en": "Households in the registry"},
    "survey_households": {"id": "Rumah tangga sampel survei", "en": "Survey households"},
    "survey_psus": {"id": "Blok sensus (PSU) survei", "en": "Survey census blocks (PSUs)"},
    "panel_households": {"id": "Rumah tangga panel", "en": "Panel households"},
    "panel_waves": {"id": "Gelombang panel", "en": "Panel waves"},
    "disbursement_records": {"id": "Catatan penyaluran", "en": "Disbursement records"},
    "kecamatan_covered": {"id": "Kecamatan tercakup", "en": "Kecamatan covered"},
    "estimated_households": {"id": "Perkiraan rumah tangga (tertimbang)", "en": "Estimated households (weighted)"},
    # small-area estimation (notebook 15_small_area)
    "sa_direct": {"id": "Perkiraan langsung survei", "en": "Direct survey estimate"},
    "sa_model": {"id": "Perkiraan area kecil", "en": "Small-area estimate"},
    "sa_ci": {"id": "Selang kepercayaan {level}%", "en": "{level}% confidence interval"},
    "sa_rse": {"id": "Kesalahan baku relatif", "en": "Relative standard error"},
    "sa_quality": {"id": "Keandalan (BPS)", "en": "Reliability (BPS)"},
    "sa_n": {"id": "Rumah tangga sampel", "en": "Sampled households"},
    "rse_not_published": {"id": "tidak dipublikasikan (KBR > 50%)", "en": "not published (RSE > 50%)"},
    "rse_note": {"id": "KBR: kesalahan baku relatif (galat baku dibagi perkiraan). Seperti praktik BPS: sampai 25% andal; "
                       "25–50% ditandai * (gunakan dengan hati-hati); di atas 50% tidak dipublikasikan.",
                 "en": "RSE: relative standard error (standard error divided by the estimate). As BPS practice: up to 25% "
                       "reliable; 25–50% marked * (use with caution); over 50% not published."},
    "sa_reliable": {"id": "andal", "en": "reliable"},
    "sa_caution": {"id": "gunakan dengan hati-hati *", "en": "use with caution *"},
    "sa_unreliable": {"id": "tidak andal: tidak dipublikasikan", "en": "not reliable: not published"},
    "sa_no_sample": {"id": "tanpa sampel survei", "en": "no survey sample"},
    "sa_map_p0": {"id": "Persentase penduduk miskin per kecamatan", "en": "Share of people in poverty by kecamatan"},
    "sa_map_extreme": {"id": "Persentase penduduk miskin ekstrem per kecamatan",
                       "en": "Share of people in extreme poverty by kecamatan"},
    "sa_map_note": {"id": "Peta skematis: satu kotak per kecamatan, dikelompokkan menurut kabupaten (bukan batas "
                          "wilayah). Makin gelap makin tinggi. * gunakan dengan hati-hati (kesalahan baku relatif "
                          "25-50%); – tidak dipublikasikan (di atas 50%) atau sel terlalu kecil.",
                    "en": "Schematic map: one square per kecamatan, grouped by kabupaten (not boundaries). Darker is "
                          "higher. * use with caution (relative standard error 25-50%); – not published (over 50%) "
                          "or cell too small."},
    "br_next_sae_extreme": {"id": "Kunjungi lebih dulu kecamatan dengan kemiskinan ekstrem tertinggi menurut estimasi area "
                                  "kecil, di antara yang perkiraannya dapat dipublikasikan ({n} teratas): {names}.",
                            "en": "Visit first the kecamatan with the highest extreme poverty by small-area estimation, "
                                  "among those whose estimate can be published (top {n}): {names}."},
    "br_sae_caution": {"id": "(* gunakan dengan hati-hati: kesalahan baku relatif 25-50%; selangnya saling tumpang tindih, "
                             "jadi urutannya perkiraan kasar.)",
                       "en": "(* use with caution: relative standard error 25-50%; the intervals overlap, so the order is "
                             "rough.)"},
    "sa_choropleth_note": {"id": "Makin gelap makin tinggi. Arsiran: gunakan dengan hati-hati (kesalahan baku relatif "
                                 "25-50%); putih: tidak dipublikasikan (di atas 50%) atau sel terlalu kecil.",
                           "en": "Darker is higher. Hatched: use with caution (relative standard error 25-50%); white: "
                                 "not published (over 50%) or cell too small."},
    "sa_summary": {"id": "Dari {n} kecamatan, {reliable} memiliki perkiraan kemiskinan yang andal dan {caution} perlu "
                         "dibaca hati-hati; {unreliable} tidak dipublikasikan (kesalahan baku relatif di atas 50% atau "
                         "sampel terlalu kecil). Kovariat model dari registri: {covariates}. Kemiskinan ekstrem "
                         "tertinggi: {top}.",
                   "en": "Of {n} kecamatan, {reliable} have a reliable poverty estimate and {caution} are to be read "
                         "with caution; {unreliable} are not published (relative standard error over 50% or too few "
                         "sampled households). The model's registry covariates: {covariates}. Highest extreme poverty: "
                         "{top}."},
    "sa_cov_share_decile_1_4": {"id": "bagian rumah tangga di desil 1-4", "en": "share of households in deciles 1-4"},
    "sa_cov_mean_pmt_score": {"id": "rata-rata skor PMT", "en": "mean PMT score"},
    "sa_cov_mean_head_educ": {"id": "rata-rata lama sekolah kepala keluarga", "en": "mean schooling of household heads"},
    "sa_cov_mean_hh_size": {"id": "rata-rata ukuran keluarga", "en": "mean household size"},
    "sa_cov_share_decile_1_2": {"id": "bagian di desil 1-2", "en": "share in deciles 1-2"},
    "sa_cov_share_urban": {"id": "bagian perkotaan", "en": "urban share"},
    "sa_cov_share_floor_earth": {"id": "bagian berlantai tanah", "en": "share with earth floors"},
    "sa_cov_share_no_toilet": {"id": "bagian tanpa jamban", "en": "share without a toilet"},
    "sa_cov_share_owns_fridge": {"id": "bagian memiliki kulkas", "en": "share owning a fridge"},
    "stratum": {"id": "Strata", "en": "Stratum"},
    "psus": {"id": "PSU", "en": "PSUs"},
    "households": {"id": "Rumah tangga", "en": "Households"},
    "missing": {"id": "Kosong", "en": "Missing"},
    "missing_rate": {"id": "Persentase kosong", "en": "Share missing"},
    "check": {"id": "Pemeriksaan", "en": "Check"},
    "severity": {"id": "Tingkat", "en": "Severity"},
    "count": {"id": "Jumlah", "en": "Count"},
    "example_rows": {"id": "Contoh baris", "en": "Example rows"},
    "message": {"id": "Keterangan", "en": "Message"},
    "hint": {"id": "Cara memperbaiki", "en": "How to fix"},
    "no_findings": {"id": "Tidak ada masalah: semua tabel memenuhi kontrak data.",
                    "en": "No problems: every table meets the data contract."},
    "findings_count": {"id": "{n} masalah ditemukan; tabel yang gagal tidak dipakai dalam laporan lain.",
                       "en": "{n} problem(s) found; tables that fail are not used by the other reports."},
    "table_missing": {"id": "tidak ada", "en": "absent"},
    "table_ok": {"id": "lolos", "en": "passed"},
    "table_failed": {"id": "gagal", "en": "failed"},
    "small_stratum": {"id": "kurang dari 2 PSU atau sampel kecil", "en": "fewer than 2 PSUs or a small sample"},
    "ok": {"id": "baik", "en": "ok"},
    # runs and index
    "index_title": {"id": "Laporan evaluasi bansos dan pendampingan TKSK",
                    "en": "Evaluation reports: social assistance and TKSK accompaniment"},
    "report": {"id": "Laporan", "en": "Report"},
    "parameters": {"id": "Parameter", "en": "Parameters"},
    "duration": {"id": "Durasi", "en": "Duration"},
    "read": {"id": "Baca", "en": "Read"},
    "with_code": {"id": "dengan kode", "en": "with code"},
    "notebook": {"id": "notebook", "en": "notebook"},
    "run_ok": {"id": "selesai", "en": "done"},
    "run_failed": {"id": "gagal", "en": "failed"},
    "generated": {"id": "Dibuat", "en": "Generated"},
    "headline": {"id": "Angka utama", "en": "Headline"},
    "run_interrupted": {"id": "terhenti", "en": "interrupted"},
    "run_pending": {"id": "belum dijalankan", "en": "not run"},
    "previous_run": {"id": "Proses sebelumnya", "en": "Previous run"},
    "previous_value": {"id": "sebelumnya", "en": "before"},
    "no_previous": {"id": "Ini proses pertama di folder ini.", "en": "This is the first run in this folder."},
    "retried": {"id": "diulang {n}x", "en": "retried {n}x"},
    "reused": {"id": "dari proses sebelumnya (masukan tidak berubah)", "en": "kept from an earlier run (inputs unchanged)"},
    "where": {"id": "Dijalankan di", "en": "Ran on"},
    "err_error": {"id": "notebook berhenti karena galat", "en": "the notebook raised an error"},
    "err_kernel_died": {"id": "kernel mati", "en": "the kernel died"},
    "err_timeout": {"id": "melewati batas waktu", "en": "ran past its timeout"},
    "err_worker_lost": {"id": "worker hilang", "en": "the worker was lost"},
    "err_kernel_start": {"id": "kernel gagal dimulai", "en": "the kernel would not start"},
    # poverty profile
    "pp_title": {"id": "Profil kemiskinan", "en": "Poverty profile"},
    "headcount": {"id": "Persentase penduduk miskin (P0)", "en": "Poverty headcount (P0)"},
    "gap": {"id": "Indeks kedalaman kemiskinan (P1)", "en": "Poverty gap (P1)"},
    "poverty_severity": {"id": "Indeks keparahan kemiskinan (P2)", "en": "Poverty severity (P2)"},
    "extreme": {"id": "Kemiskinan ekstrem", "en": "Extreme poverty"},
    "gini": {"id": "Rasio Gini", "en": "Gini ratio"},
    "area": {"id": "Wilayah", "en": "Area"},
    "measure": {"id": "Ukuran", "en": "Measure"},
    "wave": {"id": "Tahun", "en": "Year"},
    "real_cons": {"id": "Pengeluaran per kapita riil (Rp 2018)", "en": "Real consumption per capita (2018 Rp)"},
    "poor_rate_panel": {"id": "Rumah tangga panel di bawah garis kemiskinan", "en": "Panel households below the poverty line"},
    "pp_text": {"id": "Pada {scope}, **{p0}** penduduk hidup di bawah garis kemiskinan (selang kepercayaan 95%: {lo} sampai {hi}), dan **{ext}** dalam kemiskinan ekstrem. Rasio Gini {gini}.",
                "en": "In {scope}, **{p0}** of people live below the poverty line (95% confidence interval {lo} to {hi}), and **{ext}** in extreme poverty. The Gini ratio is {gini}."},
    "poor": {"id": "Miskin", "en": "Poor"},
    "non_poor": {"id": "Tidak miskin", "en": "Not poor"},
    "female_head": {"id": "Kepala rumah tangga perempuan", "en": "Female household head"},
    "hh_size_label": {"id": "Jumlah anggota rumah tangga", "en": "Household size"},
    "head_educ_label": {"id": "Lama sekolah kepala rumah tangga (tahun)", "en": "Schooling of the head (years)"},
    # targeting
    "tg_title": {"id": "Ketepatan sasaran bansos", "en": "Targeting of social assistance"},
    "coverage_decile": {"id": "Cakupan menurut desil kesejahteraan", "en": "Coverage by welfare decile"},
    "decile": {"id": "Desil", "en": "Decile"},
    "program": {"id": "Program", "en": "Programme"},
    "indicator": {"id": "Indikator", "en": "Indicator"},
    "coverage_rate": {"id": "Cakupan", "en": "Coverage"},
    "exclusion_error_rate": {"id": "Kesalahan eksklusi (penduduk miskin tidak menerima)", "en": "Exclusion error (poor left out)"},
    "inclusion_error_rate": {"id": "Kesalahan inklusi (yang tidak miskin ikut menerima)", "en": "Inclusion error (non-poor included)"},
    "cgh": {"id": "Indikator CGH (>1 = progresif)", "en": "CGH indicator (>1 = progressive)"},
    "headcount_reduction_rate": {"id": "Penurunan angka kemiskinan", "en": "Reduction of the headcount"},
    "poverty_gap_reduction_rate": {"id": "Penurunan kedalaman kemiskinan", "en": "Reduction of the poverty gap"},
    "benefit_cost_ratio": {"id": "Rasio manfaat-biaya", "en": "Benefit-cost ratio"},
    "adequacy_rate": {"id": "Kecukupan manfaat", "en": "Adequacy"},
    "missed_poor": {"id": "Kecamatan dengan penduduk miskin tak terjangkau terbanyak", "en": "Kecamatan where the most poor are missed"},
    "disbursement": {"id": "Penyaluran: keterlambatan dan kekurangan", "en": "Disbursement: delays and shortfalls"},
    "tg_text": {"id": "PKH menjangkau **{pkh}** penduduk miskin dan BPNT **{bpnt}**. Di antara penduduk miskin, **{exc}** tidak menerima PKH (kesalahan eksklusi).",
                "en": "PKH reaches **{pkh}** of the poor and BPNT **{bpnt}**. Among the poor, **{exc}** receive no PKH (exclusion error)."},
    # impact
    "im_title": {"id": "Dampak PKH dan BPNT", "en": "Impact of PKH and BPNT"},
    "outcome": {"id": "Hasil", "en": "Outcome"},
    "method": {"id": "Metode", "en": "Method"},
    "effect": {"id": "Dampak", "en": "Effect"},
    "child_out_of_school": {"id": "Anak tidak sekolah", "en": "Child out of school"},
    "child_stunted": {"id": "Anak stunting", "en": "Child stunted"},
    "early_marriage": {"id": "Pernikahan dini", "en": "Early marriage"},
    "poor_outcome": {"id": "Miskin", "en": "Poor"},
    "cons_pc": {"id": "Konsumsi per kapita (Rp/bulan)", "en": "Consumption per capita (Rp/month)"},
    "extreme_poor": {"id": "Miskin ekstrem", "en": "Extremely poor"},
    "naive": {"id": "Perbandingan langsung (bias)", "en": "Naive comparison (biased)"},
    "aipw": {"id": "AIPW (kuat ganda / doubly robust)", "en": "AIPW (doubly robust)"},
    "ipw": {"id": "IPW (pembobotan skor propensitas)", "en": "IPW (inverse probability weighting)"},
    "published": {"id": "Bukti terpublikasi", "en": "Published evidence"},
    # tksk
    "tk_title": {"id": "Dampak pendampingan TKSK pada pemberdayaan", "en": "Effect of TKSK accompaniment on empowerment"},
    "kks_independent": {"id": "Memakai KKS/rekening tanpa bantuan", "en": "Uses the KKS card without help"},
    "knows_program": {"id": "Memahami tujuan program", "en": "Knows the programme's purpose"},
    "has_savings": {"id": "Memiliki tabungan", "en": "Has savings"},
    "kube_member": {"id": "Anggota KUBE", "en": "KUBE member"},
    "graduated": {"id": "Graduasi dari PKH", "en": "Graduated from PKH"},
    "summary_index": {"id": "Indeks pemberdayaan", "en": "Empowerment index"},
    "event_time": {"id": "Tahun sejak pendampingan dimulai", "en": "Years since accompaniment began"},
    "cs": {"id": "Callaway-Sant'Anna (selisih dalam selisih bertahap)", "en": "Callaway-Sant'Anna (staggered difference-in-differences)"},
    "twfe": {"id": "Regresi efek tetap dua arah (TWFE) biasa, bias", "en": "Naive two-way fixed effects (TWFE), biased"},
    # simulation
    "sim_title": {"id": "Simulasi kebijakan", "en": "Policy simulation"},
    "reform": {"id": "Skenario", "en": "Scenario"},
    "sim_cost_per_pp_note": {"id": "Biaya per poin persen hanya dihitung bila selang kepercayaan 95% perubahan angka kemiskinan seluruhnya di bawah nol (penurunannya terbukti); selain itu –.",
                             "en": "The cost per percentage point is computed only where the 95% confidence interval of the change in poverty lies wholly below zero (the fall is shown); otherwise –."},
    "cost_per_pp": {"id": "Biaya tambahan per poin persen penurunan kemiskinan (Rp miliar)", "en": "Extra cost per percentage point of poverty reduced (Rp billion)"},
    # briefing
    "br_title": {"id": "Ringkasan untuk pimpinan: bansos, TKSK dan kemiskinan", "en": "Briefing: social assistance, TKSK and poverty"},
    "br_how_sure": {"id": "Seberapa yakin kita", "en": "How sure we are"},
    "br_next": {"id": "Langkah berikutnya", "en": "What to do next"},
    "no_warnings": {"id": "Tidak ada peringatan: semua pemeriksaan lolos.", "en": "No warnings: every check passed."},
    # data quality page: an empty findings table (data-safety helper)
    "no_findings_row": {"id": "Tidak ada temuan", "en": "No findings"},
    # disclosure control (report/store.py)
    "suppressed_secondary": {"id": "disamarkan (agar sel yang disamarkan tidak dapat dihitung dari jumlahnya)",
                             "en": "suppressed (so that suppressed cells cannot be worked out from the totals)"},
    "n_households": {"id": "n (rumah tangga)", "en": "n (households)"},
    "n_groups": {"id": "n rumah tangga (penerima / pembanding)", "en": "n households (recipients / comparison)"},
    "n_sides": {"id": "n rumah tangga (di bawah / di atas titik potong)", "en": "n households (below / above the cut-off)"},
    "suppressed_text": {"id": "disamarkan karena sampel kurang dari {n} rumah tangga",
                        "en": "suppressed: fewer than {n} households in the sample"},
    # --- language helper (issue 11, items 5-6): units, precise headers, index --------------------
    "estimate": {"id": "Perkiraan", "en": "Estimate"},
    "ci95": {"id": "Selang kepercayaan 95%", "en": "95% confidence interval"},
    "std_error": {"id": "Galat baku", "en": "Standard error"},
    "std_error_pp": {"id": "Galat baku (poin persen)", "en": "Standard error (percentage points)"},
    "unit_pp": {"id": "poin persen", "en": "pp"},
    "unit_sd": {"id": "simpangan baku", "en": "SD"},
    "sd_axis": {"id": "Simpangan baku", "en": "Standard deviations"},
    "pp_axis": {"id": "Poin persen", "en": "Percentage points"},
    "relative": {"id": "Relatif terhadap tanpa program", "en": "Relative to no programme"},
    "effect_pp": {"id": "Dampak (poin persen)", "en": "Effect (percentage points)"},
    "yes": {"id": "ya", "en": "yes"},
    "no": {"id": "tidak", "en": "no"},
    "channel": {"id": "Jalur penyaluran", "en": "Payment channel"},
    "late_30": {"id": "Terlambat (lebih dari 30 hari)", "en": "Late (more than 30 days)"},
    "short_paid": {"id": "Kurang bayar", "en": "Paid short"},
    "median_delay": {"id": "Median keterlambatan (hari)", "en": "Median delay (days)"},
    "missed_poor_count": {"id": "Perkiraan penduduk miskin tanpa PKH", "en": "Estimated poor people without PKH"},
    "rp_pc_month": {"id": "Konsumsi per kapita (Rp per bulan)", "en": "Consumption per capita (Rp per month)"},
    "rp_billion_year": {"id": "Tambahan biaya (Rp miliar per tahun)", "en": "Extra cost (Rp billion per year)"},
    "headcount_change": {"id": "Perubahan persentase penduduk miskin (poin persen)",
                         "en": "Change in the poverty headcount (percentage points)"},
    "extreme_change": {"id": "Perubahan kemiskinan ekstrem (poin persen)",
                       "en": "Change in extreme poverty (percentage points)"},
    "sc_bpnt_25": {"id": "BPNT naik 25%", "en": "BPNT +25%"},
    "sc_pkh_decile_4": {"id": "PKH untuk desil 1-4", "en": "PKH for deciles 1-4"},
    "sc_bpnt_decile_2": {"id": "BPNT hanya desil 1-2, anggaran tetap", "en": "BPNT for deciles 1-2 only, same budget"},
    "published_ref": {"id": "Cahyadi dkk. 2020", "en": "Cahyadi et al. 2020"},
    "p_value": {"id": "Nilai p", "en": "p-value"},
    "p_value_bh": {"id": "Nilai p disesuaikan (Benjamini-Hochberg)", "en": "Adjusted p-value (Benjamini-Hochberg)"},
    "not_computable": {"id": "{outcome}: {method} tidak dapat dihitung ({reason}).",
                       "en": "{outcome}: {method} could not be computed ({reason})."},
    "note_no_comparison": {"id": "Tidak ada unit pembanding untuk {cells}; sel itu tidak dihitung.",
                           "en": "No comparison units for {cells}; those cells are skipped."},
    "note_cell": {"id": "angkatan {cohort} pada {period}", "en": "cohort {cohort} in {period}"},
    "note_cell_skipped": {"id": "Tidak ada unit pembanding untuk angkatan {cohort} pada {period}; sel itu tidak dihitung.",
                          "en": "No comparison units for cohort {cohort} in {period}; cell skipped."},
    "note_cohort_not_period": {"id": "Angkatan {cohort} bukan salah satu tahun panel, jadi tidak dihitung.",
                               "en": "Cohort {cohort} is not a period of the panel; skipped."},
    "note_cohort_first_period": {"id": "Angkatan {cohort} sudah didampingi sejak tahun pertama panel (tanpa tahun "
                                       "sebelum pendampingan), jadi tidak dihitung.",
                                 "en": "Cohort {cohort} is treated from the first period (no pre-period); skipped."},
    "region": {"id": "Wilayah", "en": "Region"},
    "language": {"id": "Bahasa", "en": "Language"},
    "lang_id": {"id": "Indonesia", "en": "Indonesian"},
    "lang_en": {"id": "Inggris", "en": "English"},
    "cell": {"id": "sel", "en": "cell"},
    "run_label": {"id": "Proses", "en": "Run"},
    "briefings": {"id": "Ringkasan untuk pimpinan", "en": "Briefings"},
    "html_page": {"id": "halaman web", "en": "web page"},
    "xlsx_tables": {"id": "tabel Excel", "en": "Excel tables"},
    "executor_local": {"id": "komputer ini", "en": "this computer"},
    "het_not_estimable": {"id": "efek per subkelompok tidak dapat diestimasi: di salah satu subkelompok keluarga penerima "
                                "atau pembanding terlalu sedikit untuk modelnya.",
                          "en": "the effect by subgroup could not be estimated: one subgroup has too few recipient or "
                                "comparison families for the model."},
    # ---- briefing (helper 'briefing'): conclusions, caveats and next steps drawn from the results store ----
    "br_title_region": {"id": "Ringkasan untuk pimpinan: {region}", "en": "Briefing: {region}"},
    "br_subject": {"id": "Bansos, pendampingan TKSK dan kemiskinan", "en": "Social assistance, TKSK accompaniment and poverty"},
    "br_period": {"id": "Periode data: {period}", "en": "Data period: {period}"},
    "br_period_panel": {"id": "panel {first}–{last}", "en": "panel {first}–{last}"},
    "br_period_pay": {"id": "penyaluran {first}–{last}", "en": "payments {first}–{last}"},
    "br_made": {"id": "Dibuat {when}", "en": "Made {when}"},
    "br_months": {"id": "Januari Februari Maret April Mei Juni Juli Agustus September Oktober November Desember",
                  "en": "January February March April May June July August September October November December"},
    "br_col_indicator": {"id": "Indikator", "en": "Indicator"},
    "br_col_estimate": {"id": "Perkiraan", "en": "Estimate"},
    "br_col_ci": {"id": "Selang kepercayaan 95%", "en": "95% confidence interval"},
    "br_meaning": {"id": "Apa artinya", "en": "What it means"},
    "br_charts": {"id": "Grafik", "en": "Charts"},
    "br_unit_pp": {"id": "poin persen", "en": "percentage points"},
    "br_unit_sd": {"id": "simpangan baku", "en": "standard deviations"},
    "br_unit_rp": {"id": "per orang per bulan", "en": "per person per month"},
    "br_more": {"id": "{n} lainnya", "en": "{n} others"},
    "br_kab_place": {"id": "Kabupaten {name}", "en": "{name} district"},
    "br_area_place": {"id": "wilayah {area} {name}", "en": "{area} areas of {name}"},
    "br_ev_points": {"id": "Perkiraan per tahun, selang kepercayaan 95%", "en": "Estimate per year, 95% confidence interval"},
    "br_ev_band": {"id": "Pita kepercayaan 95% untuk semua tahun sekaligus", "en": "95% band for all years at once"},
    "br_ev_before": {"id": "sebelum", "en": "before"},
    "br_chart_poverty": {"id": "Kemiskinan per kabupaten: P0 dan kemiskinan ekstrem (% penduduk)",
                         "en": "Poverty by district: headcount and extreme poverty (% of people)"},
    "br_chart_coverage": {"id": "Cakupan PKH dan BPNT menurut desil kesejahteraan (% penduduk)",
                          "en": "PKH and BPNT coverage by welfare decile (% of people)"},
    "br_chart_tksk": {"id": "Dampak pendampingan TKSK pada indeks pemberdayaan (simpangan baku)",
                      "en": "Effect of TKSK accompaniment on the empowerment index (standard deviations)"},
    "br_chart_pkh_effects": {"id": "Dampak PKH pada penerima (AIPW, ATT), poin persen",
                             "en": "Effect of PKH on recipients (AIPW, ATT), percentage points"},
    "br_label_pkh_cov": {"id": "PKH: cakupan penduduk miskin (sebelum bantuan)", "en": "PKH: coverage of the poor (before transfers)"},
    "br_label_bpnt_cov": {"id": "BPNT: cakupan penduduk miskin (sebelum bantuan)", "en": "BPNT: coverage of the poor (before transfers)"},
    "br_label_pkh_exc": {"id": "PKH: penduduk miskin (sebelum bantuan) yang tidak menerima", "en": "PKH: poor people (before transfers) not receiving it"},
    "br_label_pkh_ats": {"id": "PKH: dampak pada anak tidak sekolah", "en": "PKH: effect on children out of school"},
    "br_label_bpnt_cons": {"id": "BPNT: dampak pada konsumsi per orang per bulan", "en": "BPNT: effect on consumption per person per month"},
    "br_label_tksk": {"id": "TKSK: dampak pada indeks pemberdayaan", "en": "TKSK: effect on the empowerment index"},
    "br_o_child_out_of_school": {"id": "anak tidak sekolah", "en": "children out of school"},
    "br_o_child_stunted": {"id": "anak stunting", "en": "child stunting"},
    "br_o_cons_pc": {"id": "konsumsi per orang", "en": "consumption per person"},
    "br_o_summary_index": {"id": "indeks pemberdayaan keluarga", "en": "the empowerment index of families"},
    "br_p_PKH": {"id": "PKH", "en": "PKH"},
    "br_p_BPNT": {"id": "BPNT", "en": "BPNT"},
    "br_p_TKSK": {"id": "pendampingan TKSK", "en": "TKSK accompaniment"},
    "br_poverty": {"id": "{p0} penduduk hidup di bawah garis kemiskinan (selang kepercayaan 95%: {lo} sampai {hi}); {ext} dalam kemiskinan ekstrem.",
                   "en": "{p0} of people live below the poverty line (95% confidence interval {lo} to {hi}); {ext} in extreme poverty."},
    "br_targeting": {"id": "PKH menjangkau {cov} penduduk miskin; {exc} penduduk miskin tidak menerimanya.",
                     "en": "PKH reaches {cov} of the poor; {exc} of the poor do not receive it."},
    "br_effect_up": {"id": "{program} menaikkan {outcome} sebesar {abs} {unit} (selang kepercayaan 95%: {lo} sampai {hi}).",
                     "en": "{program} raises {outcome} by {abs} {unit} (95% confidence interval {lo} to {hi})."},
    "br_effect_down": {"id": "{program} menurunkan {outcome} sebesar {abs} {unit} (selang kepercayaan 95%: {lo} sampai {hi}).",
                       "en": "{program} lowers {outcome} by {abs} {unit} (95% confidence interval {lo} to {hi})."},
    "br_effect_unproven": {"id": "Dampak {program} pada {outcome} belum terbukti: perkiraan {est} {unit}, tetapi selang kepercayaan 95% ({lo} sampai {hi}) mencakup nol.",
                           "en": "The effect of {program} on {outcome} is not established: the estimate is {est} {unit}, but its 95% confidence interval ({lo} to {hi}) includes zero."},
    "br_effect_pretrend": {"id": "Dampak {program} pada {outcome} belum terbukti: perkiraan {est} {unit} (selang kepercayaan 95%: {lo} sampai {hi}), tetapi uji tren sebelum pendampingan menolak ({p}), jadi pembandingnya belum dapat dipercaya.",
                           "en": "The effect of {program} on {outcome} is not established: the estimate is {est} {unit} (95% confidence interval {lo} to {hi}), but the pre-trend test rejects ({p}), so the comparison cannot be trusted yet."},
    "br_effect_implausible": {"id": "Dampak {program} pada {outcome} belum terbukti: perkiraan {est} {unit} (selang kepercayaan 95%: {lo} sampai {hi}) lebih besar daripada yang dapat dijelaskan oleh ukuran program.",
                              "en": "The effect of {program} on {outcome} is not established: the estimate {est} {unit} (95% confidence interval {lo} to {hi}) is larger than the programme's size can explain."},
    "br_next_missed": {"id": "Prioritaskan verifikasi dan validasi DTSEN oleh TKSK di kecamatan dengan perkiraan penduduk miskin tanpa PKH terbanyak: {items}.",
                       "en": "Have TKSK verify and update DTSEN first in the kecamatan with the most poor people estimated to receive no PKH: {items}."},
    "br_missed_item": {"id": "{name} ({count} orang, selang {lo} sampai {hi})", "en": "{name} ({count} people, interval {lo} to {hi})"},
    "br_missed_overlap": {"id": "Selang kepercayaan 95%-nya tumpang tindih, jadi urutan kecamatan ini belum pasti; semuanya perlu diverifikasi.",
                          "en": "Their 95% confidence intervals overlap, so the order of these kecamatan is not certain; all of them need verifying."},
    "br_next_payment": {"id": "Tindak lanjuti penyaluran di Kecamatan {kec}: {rates} terlambat lebih dari 30 hari (median keterlambatan melalui {channel}: {days} hari).",
                        "en": "Follow up payments in kecamatan {kec}: {rates} were more than 30 days late (median delay through {channel}: {days} days)."},
    "br_late_item": {"id": "{late} pembayaran melalui {channel}", "en": "{late} of payments through {channel}"},
    "br_next_missed_unreliable": {"id": "Perkiraan penduduk miskin tanpa PKH per kecamatan ({n} kecamatan) terlalu tidak pasti untuk diurutkan (kesalahan baku relatif di atas 50%); gunakan estimasi area kecil kemiskinan per kecamatan untuk memilih lokasi verifikasi DTSEN.",
                                  "en": "The estimates of poor people without PKH by kecamatan ({n} kecamatan) are too uncertain to rank (relative standard error over 50%); use the small-area poverty estimates by kecamatan to choose where to verify DTSEN."},
    "br_next_extreme_tied": {"id": "Arahkan upaya penghapusan kemiskinan ekstrem terutama ke {places}: perkiraannya tertinggi ({rates}), tetapi selangnya tumpang tindih, jadi belum dapat diurutkan.",
                             "en": "Direct the effort against extreme poverty first to {places}: the highest estimates ({rates}), but their intervals overlap, so they cannot be ranked."},
    "br_kec_in_kab": {"id": "{kec} di {kab}", "en": "{kec} in {kab}"},
    "br_next_sae_few": {"id": "Hanya {n} dari {total} kecamatan yang perkiraan kemiskinan ekstremnya (estimasi area kecil) cukup pasti untuk dipublikasikan: {names}. Kecamatan lain belum dapat dinilai dari data ini.",
                        "en": "Only {n} of {total} kecamatan have a small-area estimate of extreme poverty precise enough to publish: {names}. The others cannot be judged from these data."},
    "br_next_sae_none": {"id": "Tidak satu pun dari {total} perkiraan kemiskinan ekstrem per kecamatan (estimasi area kecil) cukup pasti untuk dipublikasikan.",
                         "en": "None of the {total} small-area estimates of extreme poverty by kecamatan is precise enough to publish."},
    "br_next_tksk_extend": {"id": "Perluas pendampingan TKSK ke {n} kecamatan yang belum didampingi ({names}); pada data ini dampaknya terbukti ({effect}).",
                            "en": "Extend TKSK accompaniment to the {n} kecamatan without it ({names}); in these data its effect is shown ({effect})."},
    "br_next_tksk_unproven": {"id": "{n} kecamatan belum didampingi TKSK ({names}). Dampak pendampingan belum terbukti pada data ini: bila diperluas, lakukan bertahap agar dampaknya dapat diukur.",
                              "en": "{n} kecamatan have no TKSK ({names}). The effect of accompaniment is not established in these data: if it is extended, do it in stages so that its effect can be measured."},
    "br_next_tksk_all_unproven": {"id": "Semua kecamatan sudah didampingi TKSK, tetapi dampaknya belum terbukti pada data ini: tinjau isi dan mutu pendampingan.",
                                  "en": "Every kecamatan already has a TKSK, but the effect is not established in these data: review what accompaniment does and how well."},
    "br_next_tksk_all_shown": {"id": "Semua kecamatan sudah didampingi TKSK dan dampaknya terbukti ({effect}): pertahankan pendampingan.",
                               "en": "Every kecamatan already has a TKSK and its effect is shown ({effect}): keep the accompaniment."},
    "br_next_extreme": {"id": "Arahkan upaya penghapusan kemiskinan ekstrem terutama ke {place}: perkiraan tertinggi, {rate} (selang kepercayaan 95%: {lo} sampai {hi}).",
                        "en": "Direct the effort against extreme poverty first to {place}: the highest estimate, {rate} (95% confidence interval {lo} to {hi})."},
    "br_rse_caution": {"id": "(* gunakan dengan hati-hati: kesalahan baku relatif 25-50%.)",
                       "en": "(* use with caution: relative standard error 25-50%.)"},
    "br_next_none": {"id": "Laporan proses ini tidak memuat temuan untuk langkah berikutnya.", "en": "The reports of this run hold no findings for next steps."},
    "br_and": {"id": "dan", "en": "and"},
    "br_channel_pos": {"id": "Kantor Pos", "en": "the post office"},
    "br_channel_bank": {"id": "bank", "en": "banks"},
    "br_channel_e-warong": {"id": "e-warong", "en": "e-warong"},
    "br_sure_sample": {"id": "Angka kemiskinan dan cakupan berasal dari sampel survei: selang kepercayaan 95% ada di samping setiap angka.",
                       "en": "Poverty and coverage figures come from a survey sample: the 95% confidence interval stands beside each number."},
    "br_sure_rule": {"id": "Sebuah dampak disebut terbukti hanya bila selang kepercayaan 95%-nya tidak mencakup nol, besarnya masih dapat dihasilkan oleh nilai bantuan, dan (untuk TKSK) uji tren sebelum pendampingan tidak menolak.",
                     "en": "An effect is called shown only when its 95% confidence interval excludes zero, its size is one the transfer can produce, and (for TKSK) the pre-trend test does not reject."},
    "br_sure_pretrend_fail": {"id": "Sebelum pendampingan dimulai, kecamatan yang kemudian didampingi TKSK sudah bergerak berbeda dari pembandingnya (uji tren sebelum pendampingan: {p}); pembanding mungkin tidak menggambarkan keadaan tanpa TKSK.",
                              "en": "Before accompaniment began, the kecamatan later accompanied by TKSK already moved differently from the comparison kecamatan (pre-trend test, {p}); the comparison may not show what would have happened without TKSK."},
    "br_sure_pretrend_ok": {"id": "Sebelum pendampingan dimulai, kecamatan yang kemudian didampingi TKSK dan pembandingnya bergerak serupa (uji tren sebelum pendampingan: {p}), jadi perbandingannya layak.",
                            "en": "Before accompaniment began, the kecamatan later accompanied by TKSK and the comparison kecamatan moved alike (pre-trend test, {p}), so the comparison is fair."},
    "br_to": {"id": "sampai", "en": "to"},
    "br_unproven_mark": {"id": "belum terbukti", "en": "not established"},
    "br_sure_ess": {"id": "{program}: perbandingan bertumpu pada sekitar {ess} keluarga efektif; selangnya lebih lebar dan kurang pasti.",
                    "en": "{program}: the comparison rests on about {ess} effective families; its interval is wider and less certain."},
    "br_sure_overlap": {"id": "{program}: {share} keluarga berada di luar wilayah tumpang tindih penerima dan pembanding; hasil bertumpu pada sedikit keluarga berbobot besar.",
                        "en": "{program}: {share} of families lie outside the overlap of recipients and comparison families; results rest on a few heavily weighted families."},
    "br_sure_panel": {"id": "Dampak program dihitung pada rumah tangga panel yang diikuti setiap tahun (tanpa penimbang survei), jadi menggambarkan rumah tangga panel, bukan seluruh penduduk seperti angka kemiskinan dan cakupan.",
                      "en": "Programme effects are estimated on the panel households followed every year (without survey weights), so they describe the panel's households, not the whole population as the poverty and coverage figures do."},
    "br_sure_suppressed": {"id": "{n} angka dalam laporan proses ini tidak ditampilkan: {reasons}.",
                           "en": "{n} figures in this run's reports are not shown: {reasons}."},
    "br_suppressed_small": {"id": "{n} karena bertumpu pada terlalu sedikit rumah tangga sampel (atau agar angka seperti itu tidak dapat dihitung dari jumlahnya)",
                            "en": "{n} because they rest on too few sampled households (or so that such a figure cannot be worked out from the totals)"},
    "br_suppressed_uncertain": {"id": "{n} perkiraan kecamatan karena terlalu tidak pasti (kesalahan baku relatif di atas 50%)",
                                "en": "{n} kecamatan estimates because they are too uncertain (relative standard error over 50%)"},
    "br_sure_source_synth": {"id": "Sumber data: provinsi sintetis buatan welfare-eval (seed {seed}), bukan data sebenarnya; angka hanya untuk uji coba.",
                             "en": "Data source: the synthetic province made by welfare-eval (seed {seed}), not real data; the figures are for testing only."},
    "br_sure_source_folder": {"id": "Sumber data: folder «{folder}» (tabel {tables}).", "en": "Data source: folder «{folder}» (tables {tables})."},
    "plaus_estimate_beyond": {"id": "{program}, {outcome}: perkiraan dampak {est} melebihi nilai bantuan per orang per bulan ({bound}); selangnya ({lo} sampai {hi}) mencakup nilai di bawah dan di atas nilai bantuan, jadi dampak ini belum dinyatakan terbukti; baca angka ini dengan hati-hati.",
                              "en": "{program}, {outcome}: the estimated effect {est} exceeds the transfer per person per month ({bound}); its interval ({lo} to {hi}) holds values below and above the transfer, so the effect is not called established; read this number with care."},
    "plaus_lower_beyond": {"id": "{program}, {outcome}: bahkan batas bawah selang ({lo}) melebihi nilai bantuan per orang per bulan ({bound}); ukuran program tidak dapat menjelaskan dampak ini, jadi ada yang salah pada data atau model.",
                           "en": "{program}, {outcome}: even the interval's lower bound ({lo}) exceeds the transfer per person per month ({bound}); the programme's size cannot explain this effect, so something is wrong with the data or the model."},
    "plaus_rate_outside": {"id": "{program}, {outcome}: perkiraan dampak {est} poin persen berada di luar rentang yang dapat ditunjukkan sampel (batas {bound} poin persen).",
                           "en": "{program}, {outcome}: the estimated effect of {est} percentage points lies outside what the sample can show (limit {bound} percentage points)."},
    # ---- end of the briefing block ----
}

# --- fix-impact: the impact views and the briefing's word on multiple testing ----------------------
STRINGS.update({
    "br_chart_bpnt_effects": {"id": "Dampak BPNT pada kemiskinan penerima (AIPW, ATT), poin persen",
                              "en": "Effect of BPNT on recipients' poverty (AIPW, ATT), percentage points"},
    "ip_local_relative": {"id": "Di sini: {method}", "en": "Here: {method}"},
    "ip_het_none": {"id": "Tidak ada efek per subkelompok yang dapat diestimasi ({groups}): di salah satu subkelompok "
                          "setiap pembagian, keluarga penerima atau pembanding terlalu sedikit untuk modelnya.",
                    "en": "No effect by subgroup could be estimated ({groups}): in one subgroup of each division, "
                          "there are too few recipient or comparison families for the model."},
    "tk_few_clusters": {"id": "Tidak ada kelompok pembanding yang sahih di wilayah ini: pembandingnya hanya {n} kecamatan, "
                              "padahal galat baku dan uji tren sebelum pendampingan dihitung berklaster per kecamatan "
                              "dan memerlukan paling sedikit {minimum} kecamatan pembanding. Dampak TKSK tidak "
                              "diestimasi di sini; lihat estimasi provinsi.",
                        "en": "There is no valid comparison group in this region: it has only {n} comparison "
                              "kecamatan, while the standard errors and the pre-trend test are clustered by "
                              "kecamatan and need at least {minimum}. TKSK's effect is not estimated here; see the "
                              "provincial estimate."},
    "tk_few_clusters_short": {"id": "Tidak ada kelompok pembanding yang sahih ({n} kecamatan); lihat estimasi provinsi.",
                              "en": "No valid comparison group ({n} kecamatan); see the provincial estimate."},
    "br_suppressed_clusters": {"id": "{n} dampak TKSK karena wilayah ini tidak punya kelompok pembanding yang sahih "
                                     "(kurang dari {minimum} kecamatan pembanding)",
                               "en": "{n} TKSK effects because the region has no valid comparison group (fewer than "
                                     "{minimum} comparison kecamatan)"},
    "br_sure_bh_item": {"id": "{program} pada {outcome}", "en": "{program} on {outcome}"},
    "br_sure_bh": {"id": "Dampak {items} disebut terbukti di atas, tetapi setelah penyesuaian karena beberapa hasil "
                         "diuji bersamaan (Benjamini-Hochberg), {ps}: buktinya lebih lemah.",
                   "en": "The effect of {items} is stated as shown above, but after adjusting because several "
                         "outcomes are tested together (Benjamini-Hochberg), {ps}: the evidence is weaker."},
})
# --- end fix-impact --------------------------------------------------------------------------------

# --- survey-ci (issue 11, items 2-3): the definition of "poor" under the targeting table -----------
STRINGS.update({
    "poor_coverage_rate": {"id": "Cakupan penduduk miskin", "en": "Coverage of the poor"},
    "tg_poor_definition": {
        "id": "Penduduk miskin dalam tabel ini: penduduk yang pengeluaran per kapitanya sebelum semua bantuan "
              "({programs}) berada di bawah garis kemiskinan (konvensi ASPIRE/CEQ). Cakupan penduduk miskin dan "
              "kesalahan eksklusi memakai definisi yang sama, sehingga keduanya berjumlah 100%.",
        "en": "Poor, in this table: people whose consumption per capita before all transfers ({programs}) is "
              "below the poverty line (the ASPIRE/CEQ convention). Coverage of the poor and the exclusion error "
              "use this same definition, so they add up to 100%."},
})
# --- end survey-ci ---------------------------------------------------------------------------------

# --- survey-measures (issue 15, item 5): Palma and S80/S20 beside the Gini in the poverty profile ---
STRINGS.update({
    "palma": {"id": "Rasio Palma", "en": "Palma ratio"},
    "s80s20": {"id": "Rasio S80/S20", "en": "S80/S20 ratio"},
    "pp_text_inequality": {
        "id": "Rasio Palma {palma}: total pengeluaran 10% penduduk teratas adalah {palma} kali total pengeluaran "
              "40% penduduk terbawah; total pengeluaran 20% teratas adalah {s80s20} kali total 20% terbawah (S80/S20).",
        "en": "The Palma ratio is {palma}: the top 10% of people by consumption together spend {palma} times what "
              "the bottom 40% spend; the top 20% spend {s80s20} times what the bottom 20% spend (S80/S20)."},
})
# --- end survey-measures ---------------------------------------------------------------------------


def check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise ParameterError(f"The 'language' parameter must be one of {LANGUAGES}. Got {language!r} instead.")
    return language


def t(key: str, language: str = "id", **fmt) -> str:
    """The text of ``key`` in ``language`` (``"id"`` or ``"en"``)."""
    check_language(language)
    text = STRINGS[key][language]
    return text.format(**fmt) if fmt else text


def t_or(key: str, language: str, default: str) -> str:
    """The text of ``key``, or ``default`` where the table has no such key (a name that came with the
    data, such as a channel or a covariate the table does not know)."""
    return t(key, language) if key in STRINGS else default


def both(key: str, **fmt) -> str:
    """Indonesian first, English second: "Kualitas data / Data quality"."""
    return f"{t(key, 'id', **fmt)} / {t(key, 'en', **fmt)}"


def _group(int_text: str, sep: str) -> str:
    out: list[str] = []
    while len(int_text) > 3:
        out.insert(0, int_text[-3:])
        int_text = int_text[:-3]
    out.insert(0, int_text)
    return sep.join(out)


def fmt_number(x: float | int | None, language: str = "id", *, digits: int = 0) -> str:
    """1234567.8 -> '1.234.568' (id) or '1,234,568' (en); never a negative zero ('-0,0' is '0,0')."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    text = f"{abs(x):.{digits}f}"
    neg = x < 0 and text.strip("0.") != ""  # -0.04 at one digit is 0.0, not -0.0
    whole, _, frac = text.partition(".")
    thousands, decimal = (".", ",") if language == "id" else (",", ".")
    out = _group(whole, thousands) + (decimal + frac if frac else "")
    return ("-" if neg else "") + out


def fmt_year(year) -> str:
    """A year as people write it, without a thousands separator in any language: 2020 -> '2020'."""
    if year is None or (isinstance(year, float) and math.isnan(year)):
        return "–"
    return str(int(year))


def fmt_pvalue(p: float | None, language: str = "id") -> str:
    """A p-value with three decimals in the language's format ('0,004'); below 0.001 '< 0,001'."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    if p < 0.001:
        return "< " + fmt_number(0.001, language, digits=3)
    return fmt_number(p, language, digits=3)


def fmt_p(p: float | None, language: str = "id") -> str:
    """'p = 0,004', or 'p < 0,001' below 0.001 (never 'p = < 0,001' nor 'p = 0,000')."""
    text = fmt_pvalue(p, language)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def fmt_pp(share_change: float | None, language: str = "id", *, digits: int = 1, unit: bool = True) -> str:
    """A change of a share in percentage points: -0.054 -> '-5,4 poin persen' (id) or '-5.4 pp' (en)."""
    if share_change is None or (isinstance(share_change, float) and math.isnan(share_change)):
        return "–"
    text = fmt_number(100 * share_change, language, digits=digits)
    return f"{text} {t('unit_pp', language)}" if unit else text


def fmt_sd(value: float | None, language: str = "id", *, digits: int = 2, unit: bool = True) -> str:
    """An effect in standard deviations: 0.18 -> '0,18 simpangan baku' (id) or '0.18 SD' (en)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = fmt_number(value, language, digits=digits)
    return f"{text} {t('unit_sd', language)}" if unit else text


#: Readers in West Sulawesi read times in WITA (UTC+8); see docs and DOMAIN.md "Reporting conventions".
READER_TIME_ZONE = "Asia/Makassar"
READER_TIME_ZONE_NAME = "WITA"
#: CLDR patterns for a date and time as people write them: "29 November 2026, 16.53" in Indonesian
#: (the hour and minutes separated by a dot, as the Indonesian style guides write time), "16:53" in English.
_DATETIME_PATTERNS = {"id": "d MMMM y, HH.mm", "en": "d MMMM y, HH:mm"}


def fmt_datetime(when, language: str = "id") -> str:
    """A moment (ISO text or datetime; naive means UTC) in WITA: '29 November 2026, 16.53 WITA'."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from babel.dates import format_datetime

    check_language(language)
    if when is None or when == "":
        return "–"
    if isinstance(when, str):
        when = dt.datetime.fromisoformat(when)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    text = format_datetime(when, _DATETIME_PATTERNS[language], tzinfo=ZoneInfo(READER_TIME_ZONE), locale=language)
    return f"{text} {READER_TIME_ZONE_NAME}"


def fmt_duration(seconds: float | None, language: str = "id") -> str:
    """A duration as people say it, rounded to its largest unit: '16 detik', '2 menit' ('16 seconds')."""
    import datetime as dt

    from babel.dates import format_timedelta

    check_language(language)
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "–"
    # threshold 1: 59 s stays "59 detik" rather than babel's default rounding up to "1 menit"
    return format_timedelta(dt.timedelta(seconds=float(seconds)), threshold=1, locale=language)


def note_text(note, language: str = "id") -> str:
    """An estimator's note in the language: a note that carries a string key (``results.Note``) is
    worded from the table; any other note is returned as written."""
    check_language(language)
    key = getattr(note, "key", None)
    if key is None or key not in STRINGS:
        return str(note)
    return t(key, language, **dict(getattr(note, "params", {})))


def notes_text(notes, language: str = "id") -> list[str]:
    """Notes in the language, the cells skipped for want of comparison units said in one sentence."""
    cells = [n for n in notes if getattr(n, "key", None) == "note_cell_skipped"]
    out = [note_text(n, language) for n in notes if getattr(n, "key", None) != "note_cell_skipped"]
    if cells:
        listed = ", ".join(dict.fromkeys(t("note_cell", language, **dict(n.params)) for n in cells))
        out.append(t("note_no_comparison", language, cells=listed))
    return list(dict.fromkeys(out))


def fmt_pct(share: float | None, language: str = "id", *, digits: int = 1) -> str:
    """0.1121 -> '11,2%' (id) or '11.2%' (en)."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "–"
    return fmt_number(100 * share, language, digits=digits) + "%"


def fmt_rp(amount: float | None, language: str = "id") -> str:
    """1234567 -> 'Rp 1.234.567' (id) or 'Rp 1,234,567' (en)."""
    if amount is None or (isinstance(amount, float) and math.isnan(amount)):
        return "–"
    return "Rp " + fmt_number(amount, language)


def diagnostic_text(d, language: str = "id") -> str:
    """An estimator's diagnostic (``welfare_eval.results.Diagnostic``) in one sentence of the language.

    English is the estimator's own sentence; Indonesian is built here from the same numbers.
    """
    check_language(language)
    if language == "en" or not d.params and d.name != "balance":
        return d.message
    p = dict(d.params)

    def n(v, digits=2):
        return fmt_number(v, language, digits=digits)

    ok = d.passed
    name = d.name
    if name == "balance":
        if "after" not in p:
            return "Tanpa kovariat: keseimbangan tidak diperiksa."
        head = (f"Setelah pembobotan, selisih terstandar terbesar antara kedua kelompok {n(p['after'])} "
                f"({p['covariate']}; {n(p['before'])} sebelumnya): ")
        return head + ("kedua kelompok sebanding pada kovariat." if ok else
                       f"di atas {n(p['threshold'], 1)}, jadi kelompok masih berbeda; tambahkan bentuk kovariat itu ke model.")
    if name == "overlap":
        lo, hi = p["bounds"]
        head = (f"Skor propensitas berkisar {n(p['lo_t'])} sampai {n(p['hi_t'])} pada penerima dan {n(p['lo_c'])} "
                f"sampai {n(p['hi_c'])} pada kelompok pembanding; {fmt_pct(p['share'], language)} unit berada di luar "
                f"[{n(lo)}; {n(hi)}]")
        return head + ("." if ok else ": kedua kelompok hampir tidak tumpang tindih di sana, sehingga hasil bertumpu pada "
                                      "sedikit unit berbobot besar; pertimbangkan membuang unit dengan skor propensitas ekstrem "
                                      "(aturan pemangkasan Crump dkk.).")
    if name == "e_value":
        tail = (f"{n(p['e_value_ci'])} agar selang kepercayaan mencakup nol" if p.get("e_value_ci")
                else "selang kepercayaan sudah mencakup nol")
        return (f"Sensitivitas: faktor yang tidak teramati harus menaikkan peluang menerima bantuan dan hasilnya dengan "
                f"rasio risiko {n(p['e_value'])} untuk menghapus hasil ini ({tail}).")
    if name == "pre_trends":
        return (f"Tren sebelum perlakuan: {p['k']} efek plasebo sebelum pendampingan secara bersama "
                + ("konsisten dengan nol" if ok else "berbeda dari nol")
                + f" (uji Wald, khi-kuadrat = {n(p['stat'])}, {fmt_p(p['p'], language)})"
                + ("." if ok else "; kelompok pembanding mungkin tidak menggambarkan apa yang terjadi tanpa TKSK."))
    if name == "oster_delta":
        return (f"Kestabilan koefisien: menambah kovariat menggeser estimasi dari {n(p['b0'], 4)} ke {n(p['b1'], 4)}; "
                f"faktor yang tidak teramati harus {n(abs(p['delta']))} kali sepenting faktor yang teramati untuk "
                "menghapusnya (delta Oster; 1 atau lebih menenangkan).")
    if name == "few_clusters":
        return (f"Hanya {p['G']} klaster: galat baku klaster terlalu kecil bila klaster kurang dari {p['threshold']}; "
                + ("nilai p dan selang berasal dari wild cluster bootstrap." if p.get("bootstrap")
                   else "baca selang sebagai batas bawah ketidakpastian."))
    if name == "effective_sample":
        text = f"Perbandingan bertumpu pada sekitar {n(p['ess'], 0)} unit efektif (Kish)"
        if ok:
            return text + "."
        if p.get("bootstrap"):
            return (text + f", kurang dari {p['threshold']}: selang estimasi ± 1,96 galat baku akan terlalu sempit, "
                    "sehingga selang dan nilai p berasal dari bootstrap terstudentisasi.")
        return (text + f", kurang dari {p['threshold']}: selang {p['method']} mungkin terlalu sempit (pada ukuran ini "
                "selang normal mencakup sekitar 90%, bukan 95%, dalam simulasi kami); AIPW dengan selang bootstrap-t "
                "lebih aman.")
    if name == "density_at_cutoff":
        return (f"Uji kepadatan di titik potong: {fmt_p(p['p'], language)}; "
                + ("tidak ada tanda rumah tangga dipilah melintasi ambang." if ok else
                   "rumah tangga menumpuk di satu sisi: ambang mungkin dimanipulasi, sehingga perbandingan di titik potong "
                   "diragukan."))
    if name == "bandwidth":
        return (f"Lebar pita {n(p['h'], 4)} di tiap sisi titik potong, dengan {n(p['left'], 0)} dan {n(p['right'], 0)} pengamatan "
                "di dalamnya" + ("." if ok else ": terlalu sedikit untuk mempercayai estimasi."))
    if name == "match_concentration":
        return (f"5% unit pembanding yang paling sering dipakai menanggung {fmt_pct(p['share'], language, digits=0)} "
                "pasangan" + ("." if ok else "; beberapa unit pembanding mewakili banyak penerima, sehingga estimasi "
                                            "bergantung pada mereka."))
    if name == "equal_effects":
        return (f"uji kesamaan efek antarkelompok, khi-kuadrat({p['df']}) = {n(p['stat'])}, "
                f"{fmt_p(p['p'], language)}: "
                + ("tidak ada bukti efeknya berbeda." if ok else "efeknya berbeda antarkelompok."))
    if name == "randomization_p":
        return (f"Uji randomisasi: {fmt_pct(p['p'], language)} dari pengacakan ulang {p['treatment']} menghasilkan "
                "estimasi setidaknya sejauh ini dari nol.")
    return d.message


def diagnostic_warnings(estimate, language: str = "id") -> list[str]:
    """The failed diagnostics of an estimate, each in one sentence of the language."""
    return [diagnostic_text(d, language) for d in estimate.diagnostics if d.passed is False]


# Excel workbooks of a run (report/excel.py), in a block of their own.
STRINGS.update({
    "xl_about_sheet": {"id": "Keterangan", "en": "About"},
    "xl_title": {"id": "Tabel laporan evaluasi bansos dan pendampingan TKSK",
                 "en": "Report tables: social assistance and TKSK accompaniment"},
    "xl_run": {"id": "Run", "en": "Run"},
    "xl_version": {"id": "Versi perangkat lunak", "en": "Software version"},
    "xl_data": {"id": "Folder data", "en": "Data folder"},
    "xl_files": {"id": "Berkas data yang dibaca", "en": "Data files read"},
    "xl_definitions": {"id": "Definisi kolom", "en": "What the columns mean"},
    "xl_estimand": {"id": "Besaran", "en": "Estimand"},
    "xl_estimate": {"id": "Estimasi", "en": "Estimate"},
    "xl_ci_lower": {"id": "Batas bawah SK", "en": "CI lower"},
    "xl_ci_upper": {"id": "Batas atas SK", "en": "CI upper"},
    "xl_std_error": {"id": "Galat baku", "en": "Standard error"},
    "xl_n": {"id": "n (observasi)", "en": "n (observations)"},
    "xl_note": {"id": "Catatan", "en": "Note"},
    "xl_not_computable": {"id": "tidak dapat dihitung", "en": "not computable"},
    "xl_sheet_note": {"id": "Estimasi dengan selang kepercayaan {level}; angka adalah nilai, format hanya tampilan.",
                      "en": "Estimates with {level} confidence intervals; cells hold numbers, the format is display only."},
    "xl_suppressed_note": {"id": "{k} baris disamarkan: sel kosong karena kurang dari {n} observasi sampel.",
                           "en": "{k} row(s) suppressed: cells left empty because they rest on fewer than {n} sampled observations."},
    "xl_def_estimate": {"id": "Nilai estimasi: persentase (bagian penduduk atau rumah tangga; dampak dalam poin persen), rupiah, atau rasio/indeks.",
                        "en": "The estimate: a percentage (share of people or households; effects in percentage points), rupiah, or a ratio/index."},
    "xl_def_ci": {"id": "Selang kepercayaan {level} (berbasis desain sampel; bootstrap bila disebut pada metode).",
                  "en": "{level} confidence interval (design-based; bootstrap where the method says so)."},
    "xl_def_se": {"id": "Galat baku estimasi, dalam satuan yang sama.", "en": "Standard error of the estimate, in the same unit."},
    "xl_def_n": {"id": "Jumlah observasi sampel (tidak tertimbang) di balik sel.",
                 "en": "Number of sampled (unweighted) observations behind the cell."},
    "xl_def_suppressed": {"id": "Sel dengan kurang dari {n} observasi sampel dikosongkan (kontrol keterbukaan); catatan menyebutkannya.",
                          "en": "Cells resting on fewer than {n} sampled observations are left empty (disclosure control); the note says so."},
    "xl_formats": {"id": "Format angka", "en": "Number formats"},
    "xl_def_formats": {"id": "Sel berisi angka; format Excel menampilkan persen (0,0%), rupiah (Rp 1.234.567) dan angka lain (0,000).",
                       "en": "Cells hold numbers; Excel formats show percentages (0.0%), rupiah (Rp 1,234,567) and other numbers (0.000)."},
    "xl_sources": {"id": "Sumber", "en": "Sources"},
    "xl_def_sources": {"id": "Survei (SUSENAS atau data sintetis), registri DTKS, panel rumah tangga dan data penyaluran dalam folder data; garis kemiskinan BPS, IHK dan aturan program dari data rujukan paket (welfare_eval/data, asal-usulnya dalam README di sana).",
                       "en": "The survey (SUSENAS or synthetic data), the DTKS registry, the household panel and disbursement records in the data folder; BPS poverty lines, CPI and programme rules from the package's reference data (welfare_eval/data, provenance in its README)."},
    "xl_contents": {"id": "Daftar tabel", "en": "Tables"},
})
# wb-profile (issue 13 item 1, issue 15 item 5): the poverty profile's inequality table and correlates
STRINGS.update({
    "pp_inequality_note": {
        "id": "Ketiga ukuran dihitung per orang dari pengeluaran per kapita, dengan bobot survei; selang "
              "kepercayaan 95% berbasis desain sampel (linearisasi). Gini 0 = merata, 1 = timpang sepenuhnya.",
        "en": "All three per person from consumption per capita, with the survey weights; 95% confidence "
              "intervals from the sample design (linearization). A Gini of 0 is equality, 1 complete inequality."},
    "pp_n_child_0_6": {"id": "Jumlah anak usia 0-6 tahun", "en": "Children aged 0-6"},
    "pp_urban_household": {"id": "Tinggal di perkotaan", "en": "Lives in an urban area"},
    "pp_effect_pp": {"id": "Beda peluang miskin (poin persen)", "en": "Difference in the chance of being poor (pp)"},
    "pp_correlates_failed": {"id": "Regresi tidak dapat dihitung pada data ini",
                             "en": "The regression cannot be fitted on these data"},
})
# --- end wb-profile ---------------------------------------------------------------------------------

# wb-impact: the impact notebooks (report/impact_view.py), in a block of their own.
STRINGS.update({
    "ip_not_estimable": {"id": "tidak dapat diestimasi: {reason}", "en": "not estimable: {reason}"},
})
# --- fix-disclosure: one suppression per kabupaten, the reliability bands in charts and workbooks ---
STRINGS.update({
    "pp_suppressed_secondary_text": {
        "id": "disamarkan agar angka kabupaten yang sampelnya terlalu kecil tidak dapat dihitung dari angka provinsi",
        "en": "suppressed so that a kabupaten with too small a sample cannot be worked out from the province's figure"},
    "tg_missed_unranked": {"id": "{program}: {n} kecamatan tidak diurutkan karena sampel rumah tangganya terlalu sedikit atau perkiraannya terlalu tidak pasti (KBR di atas 50%).",
                           "en": "{program}: {n} kecamatan are not ranked because their estimate rests on too few sampled households or is too uncertain (RSE over 50%)."},
    "tg_missed_none": {"id": "tidak ada kecamatan dengan perkiraan yang cukup pasti untuk diurutkan",
                       "en": "no kecamatan with an estimate precise enough to rank"},
    "tg_missed_poor_count": {"id": "Perkiraan penduduk miskin yang tidak menerima program",
                             "en": "Estimated poor people not receiving the programme"},
    "rse_zero_note": {"id": "Perkiraan nol tidak dipublikasikan: sampel tidak menemukan kasus, sehingga angkanya kecil "
                             "tetapi tidak dapat diukur (kesalahan baku relatifnya tidak terdefinisi).",
                      "en": "A zero estimate is not published: the sample found no case, so the rate is small but cannot "
                            "be measured (its relative standard error is undefined)."},
    "rse_chart_note": {"id": "* KBR 25–50%: gunakan dengan hati-hati. \"t.d.\" (tanpa batang): tidak dipublikasikan "
                              "(KBR > 50% atau perkiraan nol), seperti praktik BPS.",
                       "en": "* RSE 25–50%: use with caution. \"n.p.\" (no bar): not published (RSE > 50% or a "
                             "zero estimate), as BPS practice."},
    "rse_chart_np": {"id": "t.d.", "en": "n.p."},
    "xl_rse_caution": {"id": "* gunakan dengan hati-hati (KBR 25–50%)", "en": "* use with caution (RSE 25–50%)"},
    "tg_n_denominator": {"id": "n (rumah tangga penyebut)", "en": "n (households in the denominator)"},
    "tg_n_note": {"id": "n: rumah tangga sampel yang menjadi dasar setiap angka (penyebutnya): penduduk miskin untuk "
                        "cakupan penduduk miskin dan kesalahan eksklusi, penduduk tidak miskin untuk kesalahan inklusi, "
                        "semua rumah tangga untuk indikator lainnya.",
                  "en": "n: the sampled households each figure rests on (its denominator): the poor for coverage of the "
                        "poor and the exclusion error, the non-poor for the inclusion error, all households for the "
                        "other indicators."},
    "tg_channel_pos": {"id": "Kantor Pos", "en": "Post office"},
    "tg_channel_bank": {"id": "Bank", "en": "Bank"},
    "tg_channel_e-warong": {"id": "e-warong", "en": "e-warong"},
    "tg_disbursement_note": {"id": "Terlambat: dari pembayaran yang diterima, bagian yang diterima lebih dari 30 hari "
                                   "setelah jadwalnya. Kurang bayar: dari pembayaran yang diterima, bagian yang jumlahnya "
                                   "kurang dari yang dialokasikan. n: rumah tangga penerima dalam catatan (satu catatan "
                                   "adalah satu pembayaran triwulanan).",
                             "en": "Late: of the payments received, the share received more than 30 days after the "
                                   "scheduled date. Paid short: of the payments received, the share whose amount was below "
                                   "the amount allocated. n: recipient households in the records (one record is one "
                                   "quarterly payment)."},
    "pp_real_cons_ci": {"id": "Selang kepercayaan 95% (pengeluaran riil)", "en": "95% confidence interval (real consumption)"},
    "pp_poor_rate_ci": {"id": "Selang kepercayaan 95% (persentase miskin)", "en": "95% confidence interval (poverty rate)"},
})
# --- end fix-disclosure ----------------------------------------------------------------------------
# the table renderer lives with the other escaping helpers; kept importable from here
from .display import show  # noqa: E402,F401  (re-export: notebooks use report.show)

# small-area2 (issue 16): the EBP cross-check in 15_small_area and the small-area line of the index
STRINGS.update({
    "sa_ebp_fh_p0": {"id": "Kemiskinan, Fay-Herriot (selang)", "en": "Poverty, Fay-Herriot (interval)"},
    "sa_ebp_p0": {"id": "Kemiskinan, EBP", "en": "Poverty, EBP"},
    "sa_ebp_fh_extreme": {"id": "Kemiskinan ekstrem, Fay-Herriot (selang)",
                          "en": "Extreme poverty, Fay-Herriot (interval)"},
    "sa_ebp_extreme": {"id": "Kemiskinan ekstrem, EBP", "en": "Extreme poverty, EBP"},
    "sa_ebp_check": {"id": "Pemeriksaan", "en": "Check"},
    "sa_ebp_agree": {"id": "sesuai", "en": "agree"},
    "sa_ebp_outside_p0": {"id": "EBP kemiskinan di luar selang Fay-Herriot",
                          "en": "EBP poverty outside the Fay-Herriot interval"},
    "sa_ebp_outside_extreme": {"id": "EBP kemiskinan ekstrem di luar selang Fay-Herriot",
                               "en": "EBP extreme poverty outside the Fay-Herriot interval"},
    "sa_ebp_summary": {
        "id": "Model tingkat rumah tangga (EBP, Molina-Rao; {covariates}) memberi angka kemiskinan yang berada di "
              "dalam selang kepercayaan Fay-Herriot di {agree_p0} dari {n} kecamatan yang dipublikasikan, dan angka "
              "kemiskinan ekstrem di {agree_extreme} dari {n}. Rata-rata selisih mutlak: {diff_p0} (kemiskinan) dan "
              "{diff_extreme} (kemiskinan ekstrem). {where}",
        "en": "The household-level model (EBP, Molina-Rao; {covariates}) gives a poverty rate inside the "
              "Fay-Herriot confidence interval in {agree_p0} of the {n} published kecamatan, and an extreme poverty "
              "rate inside it in {agree_extreme} of {n}. Mean absolute difference: {diff_p0} (poverty) and "
              "{diff_extreme} (extreme poverty). {where}"},
    "sa_ebp_where": {"id": "Keduanya berbeda di: {names}. Di sana model tingkat rumah tangga dan model tingkat "
                           "kecamatan membaca data secara berbeda; periksa kecamatan ini di lapangan sebelum "
                           "mengandalkan salah satu angka.",
                     "en": "They disagree in: {names}. There the household-level and the kecamatan-level models read "
                           "the data differently; check these kecamatan on the ground before relying on either "
                           "number."},
    "sa_ebp_where_none": {"id": "Tidak ada kecamatan yang angkanya berbeda di luar selang.",
                          "en": "No kecamatan's figures disagree beyond the interval."},
    "sa_ebp_cov_decile": {"id": "desil PMT", "en": "PMT decile"},
    "sa_ebp_cov_urban": {"id": "perkotaan", "en": "urban"},
    "sa_ebp_cov_hh_size": {"id": "ukuran keluarga", "en": "household size"},
    "sa_ebp_cov_head_educ": {"id": "lama sekolah kepala keluarga", "en": "head's schooling"},
    "sa_ebp_cov_head_female": {"id": "kepala keluarga perempuan", "en": "female head"},
    "sa_ebp_cov_n_child_0_6": {"id": "anak usia 0-6", "en": "children aged 0-6"},
    "sa_index_heading": {"id": "Kemiskinan ekstrem per kecamatan (estimasi area kecil)",
                         "en": "Extreme poverty by kecamatan (small-area estimation)"},
    "sa_index_line": {"id": "Kecamatan dengan kemiskinan ekstrem tertinggi: {name} ({rate}, selang {lo} – {hi})",
                      "en": "Kecamatan with the highest extreme poverty: {name} ({rate}, interval {lo} – {hi})"},
    "sa_index_none": {"id": "tidak ada kecamatan yang cukup andal untuk dipublikasikan",
                      "en": "no kecamatan reliable enough to publish"},
    "sa_index_caution": {"id": "* gunakan dengan hati-hati: kesalahan baku relatif 25-50% (BPS)",
                         "en": "* use with caution: relative standard error 25-50% (BPS)"},
})
# --- end small-area2 --------------------------------------------------------------------------------
