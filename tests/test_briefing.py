"""The briefing: conclusions by the written rule, caveats and next steps from the store, the data
source named honestly, one file per language, and charts that say what they show."""
from __future__ import annotations

import datetime as dt
import shutil

import numpy as np
import pandas as pd
import pytest
from notebook_cells import run_notebook

from welfare_eval import plots, synth
from welfare_eval.report import briefing, impact_view
from welfare_eval.report.store import STORE_COLUMNS

#: When the briefing's run date is asked for, a fixed instant (16.53 WITA = 08.53 UTC).
WHEN = dt.datetime(2026, 11, 29, 8, 53, tzinfo=dt.timezone.utc)


def _row(notebook, estimand, *, estimate, lo=np.nan, hi=np.nan, group="", outcome="", program="", region="all",
         suppressed=False, nobs=500, se=np.nan):
    return {"notebook": notebook, "region": region, "program": program, "outcome": outcome, "estimand": estimand,
            "group": group, "method": "", "estimate": estimate, "std_error": se, "ci_lower": lo, "ci_upper": hi,
            "nobs": nobs, "suppressed": suppressed}


def _store(tmp_path, *, pkh=(-0.04, -0.07, -0.01), tksk=(0.20, 0.10, 0.30), pretrend_passed=True, pretrend_p=0.40,
           without_tksk=("7601030",), extra=(), missed_half_width=3900.0):
    rows = [
        _row("10_poverty_profile", "FGT(alpha=0)", estimate=0.112, lo=0.10, hi=0.124, outcome="P0"),
        _row("10_poverty_profile", "extreme_headcount", estimate=0.02, lo=0.015, hi=0.025, outcome="extreme"),
        _row("10_poverty_profile", "Gini", estimate=0.35, lo=0.34, hi=0.36, outcome="Gini"),
        *[
            _row(
                "10_poverty_profile",
                "FGT(alpha=0)",
                estimate=v,
                lo=v - 0.02,
                hi=v + 0.02,
                outcome="P0 by kabupaten",
                group=f"kab_code={k}",
            )
            for k, v in zip(("7601", "7602", "7603", "7604", "7605", "7606"), (0.15, 0.16, 0.14, 0.05, 0.06, 0.08))
        ],
        *[
            _row(
                "10_poverty_profile",
                "extreme_headcount",
                estimate=v,
                lo=v - 0.005,
                hi=v + 0.005,
                outcome="extreme by kabupaten",
                group=f"kab_code={k}",
            )
            for k, v in zip(("7601", "7602", "7603", "7604", "7605", "7606"), (0.02, 0.035, 0.017, 0.006, 0.01, 0.017))
        ],
        _row(
            "20_targeting",
            "coverage_rate",
            estimate=0.58,
            lo=0.55,
            hi=0.61,
            program="PKH",
            group="pre_poor=True",
            outcome="targeting",
        ),
        _row(
            "20_targeting", "exclusion_error_rate", estimate=0.42, lo=0.39, hi=0.45, program="PKH", outcome="targeting"
        ),
        *[
            _row(
                "20_targeting",
                "missed_poor_total",
                estimate=v,
                lo=v - missed_half_width,
                hi=v + missed_half_width,
                program="PKH",
                outcome="missed_poor",
                group=f"kec_code={k}",
            )
            for k, v in (("7602060", 7887.0), ("7602020", 6484.0), ("7602080", 6038.0), ("7601010", 10.0))
        ],
        _row("20_targeting", "late_rate", estimate=0.76, outcome="disbursement", group="kec_code=7601030; channel=pos"),
        _row(
            "20_targeting",
            "median_delay_days",
            estimate=49,
            outcome="disbursement",
            group="kec_code=7601030; channel=pos",
        ),
        _row(
            "20_targeting", "late_rate", estimate=0.10, outcome="disbursement", group="kec_code=7601010; channel=bank"
        ),
        _row(
            "20_targeting", "late_rate", estimate=0.66, outcome="disbursement", group="kec_code=7601030; channel=bank"
        ),
        _row(
            "30_impact_bansos",
            "ATT aipw",
            estimate=pkh[0],
            lo=pkh[1],
            hi=pkh[2],
            program="PKH",
            outcome="child_out_of_school",
        ),
        _row(
            "40_tksk_empowerment",
            "ATT (simple)",
            estimate=tksk[0],
            lo=tksk[1],
            hi=tksk[2],
            program="TKSK",
            outcome="summary_index",
        ),
        _row(
            "40_tksk_empowerment",
            "diagnostic pre_trends",
            estimate=pretrend_p,
            program="TKSK",
            outcome="summary_index",
            group=f"passed={pretrend_passed}",
        ),
        *[
            _row(
                "40_tksk_empowerment",
                "tksk_cohort",
                estimate=0 if k in without_tksk else 2022,
                program="TKSK",
                outcome="kecamatan cohort",
                group=f"kec_code={k}",
            )
            for k in ("7601010", "7601020", "7601030")
        ],
        *extra,
    ]
    path = tmp_path / "results.csv"
    pd.DataFrame(rows, columns=STORE_COLUMNS).to_csv(path, index=False)
    return path


def _text(b: briefing.Briefing) -> str:
    return "\n".join([*b.paragraphs, *b.next_steps, *b.certainty])


# ------------------------------------------------------------------------------------------------
# the rule

@pytest.mark.parametrize("lo,hi,pretrend,implausible,shown", [
    (0.1, 0.3, None, False, True), (-0.3, -0.1, True, False, True), (-0.1, 0.2, None, False, False),
    (0.0, 0.2, None, False, False), (0.1, 0.3, False, False, False), (0.1, 0.3, None, True, False),
    (np.nan, np.nan, None, False, False)],
    ids=["above-zero", "below-zero", "spans-zero", "touches-zero", "pretrend-rejects", "implausible", "no-interval"])
def test_an_effect_is_shown_only_by_the_written_rule(lo, hi, pretrend, implausible, shown):
    e = briefing.Effect(
        "TKSK",
        "summary_index",
        0.2 if lo > 0 or np.isnan(lo) else -0.2,
        lo,
        hi,
        "sd",
        pretrend_p=0.01 if pretrend is False else 0.5,
        pretrend_passed=pretrend,
        implausible=implausible,
    )
    assert e.shown is shown
    for language, unproven in (("id", "belum terbukti"), ("en", "not established")):
        text = briefing.effect_sentence(e, language)
        assert (unproven not in text) is shown, text


@pytest.mark.parametrize("language", ["id", "en"])
def test_no_claim_when_the_interval_includes_zero(tmp_path, language):
    path = _store(tmp_path, pkh=(-0.007, -0.024, 0.009), tksk=(0.01, -0.05, 0.07))
    b = briefing.build(path, language=language, data_dir=tmp_path, when=WHEN)
    said = " ".join(b.paragraphs)
    for claim in ("menurunkan", "menaikkan", "lowers", "raises", "terbukti (", "is shown"):
        assert claim not in said
    assert said.count("belum terbukti" if language == "id" else "not established") == 2
    marked = [ci for label, _, ci in b.numbers if "PKH:" in label and ("tidak sekolah" in label or "school" in label)]
    assert marked[0].endswith("(belum terbukti)" if language == "id" else "(not established)")
    # with no effect shown, accompaniment is not recommended on the strength of its effect
    assert not any("terbukti (" in s or "effect is shown" in s for s in b.next_steps)


def test_shown_effects_are_stated_with_their_interval(tmp_path):
    b = briefing.build(_store(tmp_path), language="id", data_dir=tmp_path, when=WHEN)
    said = " ".join(b.paragraphs)
    assert "PKH menurunkan anak tidak sekolah sebesar 4,0 poin persen (selang kepercayaan 95%: 1,0 sampai 7,0)" in said
    assert "Pendampingan TKSK menaikkan indeks pemberdayaan keluarga sebesar 0,20 simpangan baku" in said
    assert any(s.startswith("Perluas pendampingan TKSK ke 1 kecamatan") for s in b.next_steps)


def test_a_failed_pretrend_test_withholds_the_tksk_claim_and_is_said(tmp_path):
    b = briefing.build(_store(tmp_path, pretrend_passed=False, pretrend_p=0.03), language="id", data_dir=tmp_path,
                       when=WHEN)
    assert any("uji tren sebelum pendampingan menolak (p = 0,030)" in p for p in b.paragraphs)
    assert any("sudah bergerak berbeda dari pembandingnya (uji tren sebelum pendampingan: p = 0,030)" in c
               for c in b.certainty)
    assert not any("Perluas" in s for s in b.next_steps)


def test_next_steps_name_the_findings(tmp_path):
    b = briefing.build(_store(tmp_path, without_tksk=()), language="id", data_dir=tmp_path, when=WHEN)
    steps = "\n".join(b.next_steps)
    assert "Campalagian (7.887 orang, selang 3.987 sampai 11.787), Balanipa (" in steps and "dan Wonomulyo (" in steps
    assert "urutan kecamatan ini belum pasti" in steps    # the intervals overlap
    # the kecamatan is late through every channel, and the sentence says so, worst first
    assert "Kecamatan Pamboang; pembayaran yang terlambat lebih dari 30 hari: 76% melalui Kantor Pos dan 66% " \
           "melalui bank (median keterlambatan melalui Kantor Pos: 49 hari)" in steps
    assert "Semua kecamatan sudah didampingi TKSK" in steps
    assert "Kabupaten Polewali Mandar" in steps          # highest extreme poverty of the six
    assert "efeknya tumbuh" not in steps                  # the old fixed claim is gone


def test_missed_poor_order_is_called_certain_only_when_the_intervals_separate(tmp_path):
    b = briefing.build(_store(tmp_path, without_tksk=(), missed_half_width=100.0), language="en", data_dir=tmp_path,
                       when=WHEN)
    steps = "\n".join(b.next_steps)
    assert "Campalagian (7,887 people, interval 7,787 to 7,987)" in steps
    assert "order of these kecamatan is not certain" not in steps


@pytest.mark.parametrize("polman_se, named, caution", [
    (0.0050, "Kabupaten Polewali Mandar", False),   # RSE 14%: reliable
    (0.0140, "Kabupaten Polewali Mandar", True),    # RSE 40%: named, marked *
    (0.0200, "Kabupaten Majene", False),            # RSE 57%: not published; the next highest is named
], ids=["reliable", "caution", "not-published"])
def test_extreme_poverty_step_follows_the_bps_rse_bands(tmp_path, polman_se, named, caution):
    """BPS practice: relative standard error up to 25% reliable, 25-50% with a caution mark, over
    50% not published (Polewali Mandar's extreme poverty is 3.5%, Majene's 2.0% with RSE 10%)."""
    ses = {"7601": 0.002, "7602": polman_se}
    extra = [_row("10_poverty_profile", "extreme_headcount", estimate=v, lo=v - 0.005, hi=v + 0.005,
                  se=ses.get(k, 0.002), outcome="extreme by kabupaten", group=f"kab_code={k}")
             for k, v in zip(("7601", "7602", "7603"), (0.02, 0.035, 0.017))]
    path = _store(tmp_path, without_tksk=())
    store = pd.read_csv(path)
    store = store[store["outcome"] != "extreme by kabupaten"]
    pd.concat([store, pd.DataFrame(extra)]).to_csv(path, index=False)
    steps = "\n".join(briefing.build(path, language="id", data_dir=tmp_path, when=WHEN).next_steps)
    line = next(x for x in steps.splitlines() if x.startswith("Arahkan upaya"))
    assert named in line
    assert ("gunakan dengan hati-hati" in line) is caution and ("3,5%*" in line) is caution


def test_caveats_come_from_the_diagnostics(tmp_path):
    extra = [_row("30_impact_bansos", "diagnostic effective_sample", estimate=85.0, program="PKH",
                  outcome="child_out_of_school", group="passed=False"),
             _row("30_impact_bansos", "diagnostic overlap", estimate=0.076, program="BPNT", outcome="cons_pc",
                  group="passed=False"),
             _row("30_impact_bansos", "plausibility estimate_beyond", estimate=68643.0, lo=41234.0, hi=96051.0,
                  program="BPNT", outcome="cons_pc", group="bound=56137.9"),
             _row("10_poverty_profile", "FGT(alpha=0)", estimate=np.nan, outcome="headcount",
                  group="kab_name=Majene; area=Perkotaan", suppressed=True)]
    clean = briefing.build(_store(tmp_path), language="id", data_dir=tmp_path, when=WHEN).certainty
    assert not any("efektif" in c or "tumpang tindih" in c or "disamarkan" in c for c in clean)
    sure = "\n".join(briefing.build(_store(tmp_path, extra=extra), language="id", data_dir=tmp_path,
                                    when=WHEN).certainty)
    assert "PKH: perbandingan bertumpu pada sekitar 85 keluarga efektif" in sure
    assert "BPNT: 7,6% keluarga berada di luar wilayah tumpang tindih" in sure
    assert "Rp 68.643 melebihi nilai bantuan per orang per bulan (Rp 56.138)" in sure
    assert "1 angka dalam laporan proses ini disamarkan" in sure


def test_title_names_region_period_and_run_date(tmp_path, province):
    b = briefing.build(_store(tmp_path), language="id", data_dir=province, when=WHEN)
    assert b.title == "Ringkasan untuk pimpinan: Provinsi Sulawesi Barat"
    assert "Periode data: panel 2020–2024; penyaluran 2024Q1–2024Q4" in b.subtitle
    assert "Dibuat 29 November 2026, 16.53 WITA" in b.subtitle
    en = briefing.build(_store(tmp_path, extra=[]), language="en", data_dir=province, when=WHEN)
    assert "Made 29 November 2026, 16:53 WITA" in en.subtitle
    rows = pd.read_csv(_store(tmp_path)).assign(region="7602")
    rows.to_csv(tmp_path / "kab.csv", index=False)
    kab = briefing.build(tmp_path / "kab.csv", language="id", region="7602", data_dir=province, when=WHEN)
    assert kab.title == "Ringkasan untuk pimpinan: Kabupaten Polewali Mandar"


# ------------------------------------------------------------------------------------------------
# the data source

def test_data_source_is_synthetic_only_while_the_marker_vouches_for_every_table(province, tmp_path):
    assert "provinsi sintetis" in briefing.data_source(province, "id")
    copy = tmp_path / "kantor-data"
    shutil.copytree(province, copy)
    assert "provinsi sintetis" in briefing.data_source(copy, "id")            # an exact copy is still the synthetic one
    panel = pd.read_parquet(copy / "panel.parquet")
    panel.assign(pkh=panel["pkh"].sample(frac=1, random_state=1).to_numpy()).to_parquet(copy / "panel.parquet")
    for language in ("id", "en"):
        said = briefing.data_source(copy, language)
        assert "sintetis" not in said and "synthetic" not in said and "kantor-data" in said   # changed: not ours
    fresh = tmp_path / "fresh"
    shutil.copytree(province, fresh)
    (fresh / "synthetic.json").unlink()
    (fresh / "truth.json").unlink()
    assert "sintetis" not in briefing.data_source(fresh, "id")


# ------------------------------------------------------------------------------------------------
# files and pages

def test_each_language_has_its_own_files(tmp_path):
    path = _store(tmp_path)
    made = {}
    for language in ("id", "en"):
        b = briefing.build(path, language=language, data_dir=tmp_path, when=WHEN)
        made[language] = briefing.render(b, tmp_path)
    assert [p.name for p in made["id"]] == ["briefing_provinsi_id.html", "briefing_provinsi_id.pdf"]
    assert [p.name for p in made["en"]] == ["briefing_provinsi_en.html", "briefing_provinsi_en.pdf"]
    assert "Ringkasan untuk pimpinan" in made["id"][0].read_text() and "Briefing:" in made["en"][0].read_text()
    assert briefing.output_stem("7602", "en") == "briefing_7602_en"
    page = made["id"][0].read_text()
    # every column headed
    assert "<th class='c1'>Indikator</th><th class='c2'>Perkiraan</th><th>Selang kepercayaan 95%</th>" in page
    pypdf = pytest.importorskip("pypdf")
    first = pypdf.PdfReader(made["id"][1]).pages[0]
    assert (round(float(first.mediabox.width)), round(float(first.mediabox.height))) == (595, 842)   # A4 in points


# ------------------------------------------------------------------------------------------------
# charts

@pytest.mark.parametrize("language,labels", [("id", ["0,0%", "2,5%", "5,0%", "7,5%", "10,0%"]),
                                             ("en", ["0.0%", "2.5%", "5.0%", "7.5%", "10.0%"])], ids=["id", "en"])
def test_percent_ticks_carry_the_decimals_they_need(language, labels):
    f = plots.LanguageFormatter(language, pct=True)
    locs = [0.0, 0.025, 0.05, 0.075, 0.10]
    f.set_locs(locs)
    assert [f(v) for v in locs] == labels


def test_value_labels_stand_clear_of_the_whiskers():
    frame = pd.DataFrame({"label": ["a", "b", "c"], "estimate": [0.10, -0.04, 0.02], "ci_lower": [0.05, -0.08, -0.01],
                          "ci_upper": [0.16, -0.01, 0.05]})
    fig, ax = plots.bar_with_intervals(frame, label="label", title="t", pct=False, scale=100, xlabel="poin persen",
                                       language="id")
    texts = {tx.get_text(): tx for tx in ax.texts}
    assert set(texts) == {"10,0", "-4,0", "2,0"}                     # poin persen, not percent
    assert texts["10,0"].get_position()[0] > 0.16 and texts["10,0"].get_ha() == "left"
    assert texts["-4,0"].get_position()[0] < -0.08 and texts["-4,0"].get_ha() == "right"
    assert texts["2,0"].get_position()[0] > 0.05
    assert ax.get_xlabel() == "poin persen"


def test_event_plot_legend_names_the_band():
    frame = pd.DataFrame({"event_time": [-1, 0, 1], "estimate": [0.0, 0.1, 0.2], "ci_lower": [-0.1, 0.0, 0.1],
                          "ci_upper": [0.1, 0.2, 0.3], "band_lower": [-0.15, -0.05, 0.05],
                          "band_upper": [0.15, 0.25, 0.35]})
    fig, ax = plots.event_plot(frame, title="t", xlabel="x", ylabel="y", pct=False, point_label="titik",
                               band_label="pita")
    assert [tx.get_text() for tx in ax.get_legend().get_texts()] == ["pita", "titik"]


# ------------------------------------------------------------------------------------------------
# plausibility

def test_plausibility_flags_what_the_programme_cannot_explain():
    from welfare_eval.results import Estimate

    data = pd.DataFrame({"d": [1, 1, 0, 0], "hh_size": [4, 4, 4, 4], "y": [0.2, 0.2, 0.5, 0.5]})
    transfer = 200_000 / data["hh_size"]                          # Rp 50.000 per person per month

    def est(v, se):
        return Estimate("ATT", v, se, 4, "AIPW")

    assert impact_view.plausibility(est(40_000, 5_000), data, outcome="cons_pc", transfer=transfer) is None
    beyond = impact_view.plausibility(est(68_643, 14_000), data, outcome="cons_pc", transfer=transfer)
    assert beyond["estimand"].iloc[0] == "plausibility estimate_beyond" and beyond["bound"].iloc[0] == 50_000
    assert impact_view.plausibility(est(90_000, 5_000), data, outcome="cons_pc",
                                 transfer=transfer)["estimand"].iloc[0] == "plausibility lower_beyond"
    # a share: the recipients' mean is 0.2, so the ATT lies in [-0.8, 0.2]
    assert impact_view.plausibility(est(-0.1, 0.01), data, outcome="poor") is None
    flagged = impact_view.plausibility(est(0.3, 0.01), data, outcome="poor")
    assert flagged["estimand"].iloc[0] == "plausibility rate_outside"
    text = impact_view.plausibility_text(beyond, "BPNT", "konsumsi", "id")
    assert "Rp 68.643 melebihi nilai bantuan per orang per bulan (Rp 50.000)" in text


def test_the_generators_bpnt_effect_on_consumption_is_the_transfer(truth, tables):
    """The synthetic truth never makes BPNT raise consumption by more than it pays: its ATT is the
    recipients' mean transfer per person (no behavioural response)."""
    panel = tables["panel"]
    last = panel[(panel["wave"] == panel["wave"].max()) & panel["bpnt"]]
    transfer = float((synth._rules()["bpnt"]["monthly_amount"] / last["hh_size"]).mean())
    att = truth["panel"]["bpnt"]["cons_pc"]["ATT"]
    assert att == pytest.approx(transfer, rel=1e-12)


def test_whole_percent_ticks_stay_whole():
    f = plots.LanguageFormatter("id", pct=True)
    f.set_locs([0.0, 0.05, 0.10, 0.15])
    assert [f(v) for v in (0.0, 0.05, 0.10, 0.15)] == ["0%", "5%", "10%", "15%"]


# ------------------------------------------------------------------------------------------------
# end to end: a province the run did not generate, with no true effects

@pytest.mark.slow
def test_briefing_on_a_province_the_run_did_not_generate(province, tmp_path):
    """Tables copied without the generator's marker and truth, programme receipt shuffled across
    households and TKSK cohorts across kecamatan (so no true effect is left): the briefing states
    no effect whose interval includes zero, does not call the data synthetic, names its region and
    period, and keeps both languages."""
    data = tmp_path / "dinsos-sulbar"
    data.mkdir()
    for name in ("registry", "survey", "panel", "disbursement"):
        shutil.copy(province / f"{name}.parquet", data)
    rng = np.random.default_rng(11)
    panel = pd.read_parquet(data / "panel.parquet")
    hh = panel["hh_id"].drop_duplicates().to_numpy()
    for col in ("pkh", "bpnt"):
        flag = panel.drop_duplicates("hh_id").set_index("hh_id")[col]
        panel[col] = panel["hh_id"].map(dict(zip(hh, flag.loc[hh].to_numpy()[rng.permutation(len(hh))])))
    kec = panel.drop_duplicates("kec_code").set_index("kec_code")["tksk_cohort"]
    panel["tksk_cohort"] = panel["kec_code"].map(dict(zip(kec.index, kec.to_numpy()[rng.permutation(len(kec))])))
    panel["tksk"] = (panel["tksk_cohort"] > 0) & (panel["wave"] >= panel["tksk_cohort"])
    panel.to_parquet(data / "panel.parquet", index=False)
    results = tmp_path / "run" / "results.csv"
    # the notebooks' own cells are the analysis; each stores its rows into the same store
    for notebook, kw in (("10_poverty_profile", {}), ("20_targeting", {}), ("30_impact_bansos", {}),
                         ("40_tksk_empowerment", {"bootstrap": 199})):
        run_notebook(notebook, data, language="id", results=str(results), **kw)
    effects = briefing._effects(pd.read_csv(results, dtype={"region": str}))
    assert {"pkh_ats", "bpnt_cons", "tksk"} <= set(effects)
    pages = {}
    for language in ("id", "en"):
        b = briefing.build(results, language=language, data_dir=data, when=WHEN)
        text = _text(b)
        for e in effects.values():
            sentence = briefing.effect_sentence(e, language)
            assert sentence in b.paragraphs
            if not briefing.excludes_zero(e.ci_lower, e.ci_upper):
                assert ("belum terbukti" if language == "id" else "not established") in sentence
        assert "sintetis" not in text.lower() and "synthetic" not in text.lower() and "dinsos-sulbar" in text
        assert b.title.endswith("Provinsi Sulawesi Barat" if language == "id" else "West Sulawesi province")
        assert any("2020–2024" in s for s in b.subtitle)
        pages[language] = briefing.render(b, results.parent)
    assert all(p.exists() for ps in pages.values() for p in ps)
    assert len({p for ps in pages.values() for p in ps}) == 4


def test_an_effect_beyond_the_transfer_is_not_stated_as_shown(tmp_path):
    """Polewali Mandar on the shuffled copy: BPNT's interval excludes zero but the estimate exceeds the
    transfer; the briefing names the magnitude as unexplained instead of claiming it."""
    extra = [_row("30_impact_bansos", "ATT aipw", estimate=69620.0, lo=393.0, hi=138848.0, program="BPNT",
                  outcome="cons_pc"),
             _row("30_impact_bansos", "plausibility estimate_beyond", estimate=69620.0, lo=393.0, hi=138848.0,
                  program="BPNT", outcome="cons_pc", group="bound=65485.0")]
    b = briefing.build(_store(tmp_path, extra=extra), language="id", data_dir=tmp_path, when=WHEN)
    said = " ".join(b.paragraphs)
    assert "BPNT menaikkan" not in said
    assert "Dampak BPNT pada konsumsi per orang belum terbukti: perkiraan Rp 69.620 per orang per bulan" in said
    assert "lebih besar daripada yang dapat dijelaskan oleh ukuran program" in said


def test_next_steps_name_the_kecamatan_with_most_extreme_poverty_by_small_area(tmp_path):
    """The small-area report's published kecamatan, highest extreme poverty first; a suppressed
    one is never named; a kabupaten's briefing names its own kecamatan only."""
    extra = [_row("15_small_area", "extreme_poverty(extreme_215_2017ppp)", estimate=v, lo=v - 0.01, hi=v + 0.01,
                  group=f"kab_code={k[:4]}; kec_code={k}", suppressed=s)
             for k, v, s in (("7602060", 0.075, False), ("7602020", 0.056, False), ("7601010", 0.09, True),
                             ("7603010", 0.051, False))]
    steps = "\n".join(briefing.build(_store(tmp_path, extra=extra), language="id", data_dir=tmp_path,
                                     when=WHEN).next_steps)
    assert "(3 teratas): Campalagian (7,5%), Banggae Timur" not in steps
    assert "Campalagian (7,5%)" in steps and "Sumarorong (5,1%)" in steps and "Banggae (" not in steps
    kab_rows = [{**r, "region": "7603"} for r in extra]
    kab = "\n".join(briefing.build(_store(tmp_path, extra=kab_rows), language="id", region="7603", data_dir=tmp_path,
                                   when=WHEN).next_steps)
    assert "Sumarorong (5,1%)" in kab and "Campalagian" not in kab
