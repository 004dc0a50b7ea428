"""The report views of notebooks 10, 20 and 50: the region they pick, the rows they show and store."""
from __future__ import annotations

import pandas as pd
import pytest
from notebook_cells import run_notebook

from welfare_eval import poverty, survey
from welfare_eval.exceptions import ParameterError
from welfare_eval.quality import Region, load_region
from welfare_eval.report import poverty_view

KAB = "7602"


@pytest.fixture(scope="module")
def region(province):
    return load_region(str(province), KAB, tables=("survey", "disbursement"))


def test_pick_without_the_kabupaten_column_is_an_error(region):
    frame = pd.DataFrame({"kec_code": ["760201", "760101"], "estimate": [0.1, 0.2]})
    with pytest.raises(ParameterError, match=r"kabupaten 7602 in table 'payments'.*no column 'kab_code'.*kec_code"):
        region.pick(frame, what="table 'payments'")
    assert region.pick(frame.assign(kab_code=["7602", "7601"]))["kec_code"].tolist() == ["760201"]
    assert len(Region(region.data, None).pick(frame)) == 2   # the province keeps every row


def test_scope_rows_needs_one_row_per_measure(region):
    kw = dict(welfare="cons_pc", design=survey.SUSENAS, household_size="hh_size")
    by_area = poverty.fgt(region["survey"], poverty_line="poverty_line", by=["kab_code", "urban"], **kw)
    with pytest.raises(ParameterError, match=r"Measure 'P0' has 2 rows for .*Polewali Mandar"):
        poverty_view.scope_rows({"P0": by_area}, region)
    by_kab = poverty.fgt(region["survey"], poverty_line="poverty_line", by="kab_code", **kw)
    assert poverty_view.scope_rows({"P0": by_kab}, region)["P0"]["kab_code"].tolist() == [KAB]


def test_disbursement_rows_are_the_kabupaten_s(province):
    run = run_notebook("20_targeting", data_dir=str(province), kabupaten=KAB, language="en")
    records = run.namespace["records"]
    assert len(records) and (records["kab_code"] == KAB).all()
    assert records["kec_code"].astype(str).str.startswith(KAB).all()


def test_a_bpnt_report_stores_only_bpnt_s_missed_poor(province):
    run = run_notebook("20_targeting", data_dir=str(province), kabupaten=KAB, language="en", programs="BPNT")
    assert set(run.namespace["missed"]) == {"BPNT"}
    assert set(run.store["program"].dropna()) - {""} == {"BPNT"}, set(run.store["program"])
    # every kecamatan of the region is either ranked or counted as not rankable (too few, too uncertain)
    rows = run.namespace["missed"]["BPNT"]
    hh = run.namespace["missed_data"]
    assert len(rows) + rows.attrs["unranked"] == hh["kec_code"].nunique()
    poor_without_bpnt = hh[hh["pre_poor"] & ~hh["bpnt"].astype(bool)]
    assert set(rows["kec_code"].astype(str)) <= set(poor_without_bpnt["kec_code"].astype(str))


@pytest.mark.parametrize("measure", ["P0 by kabupaten", "extreme by kabupaten"], ids=["headcount", "extreme"])
def test_kabupaten_chart_follows_the_reliability_bands(province, measure):
    """As the tables: RSE 25-50% marked *, over 50% (or a zero rate) no bar, no whisker, labelled
    not published; the note under the chart says so."""
    from welfare_eval import regions, reliability
    from welfare_eval.report.strings import t

    run = run_notebook("10_poverty_profile", data_dir=str(province), language="en")
    rows = run.namespace["by_kabupaten"][measure]
    fig = poverty_view.headcount_figure(rows, "en")
    ax = fig.axes[0]
    rows = rows.assign(label=rows["kab_code"].astype(str).map(regions.kab_names())).sort_values("label")
    bands = reliability.band(reliability.relative_se(rows["estimate"], rows["std_error"]))
    assert {"caution", "unreliable"} <= set(bands), bands   # the test province has both
    texts = [x.get_text() for x in ax.texts if x.get_text() not in ("", " " + t("province", "en"))]
    for bar, text, b in zip(ax.patches, texts, bands):
        if b == "unreliable":
            assert bar.get_width() == 0 and text == t("rse_chart_np", "en")
        else:
            assert bar.get_width() > 0 and text.endswith(" *") == (b == "caution"), (text, b)
    assert t("rse_chart_note", "en") in " ".join(x.get_text().replace("\n", " ") for x in fig.texts)


INDICATOR_TABLE, DISBURSEMENT_TABLE = "20-07", "20-11"   # cells of notebook 20


@pytest.fixture(scope="module")
def targeting_run(province):
    return run_notebook("20_targeting", data_dir=str(province), language="en")


def test_error_rates_show_the_households_of_their_denominator(targeting_run):
    from welfare_eval.report.strings import t

    table = targeting_run.tables[INDICATOR_TABLE]
    n = table.set_index([t("program", "en"), t("indicator", "en")])[t("tg_n_denominator", "en")]
    n = n.str.replace(",", "").astype(int)
    for program in ("PKH", "BPNT"):
        poor, exclusion = n[program, t("poor_coverage_rate", "en")], n[program, t("exclusion_error_rate", "en")]
        inclusion, everyone = n[program, t("inclusion_error_rate", "en")], n[program, t("cgh", "en")]
        assert exclusion == poor and inclusion + exclusion == everyone and inclusion != exclusion, n
    assert t("tg_n_note", "en") in table.attrs["note"]


def test_disbursement_table_names_channels_and_explains_paid_short(targeting_run):
    from welfare_eval.report.strings import t

    table = targeting_run.tables[DISBURSEMENT_TABLE]
    channels = set(table[t("channel", "en")])
    assert channels and channels <= {t(f"tg_channel_{c}", "en") for c in ("pos", "bank", "e-warong")}, channels
    assert "pos" not in channels and t("short_paid", "en") in table.attrs["note"]


AREA_TABLE, TREND_TABLE = "10-07", "10-09"   # cells of notebook 10


@pytest.fixture(scope="module")
def poverty_run(province):
    return run_notebook("10_poverty_profile", data_dir=str(province), language="id")


def test_trend_table_shows_each_wave_s_interval(poverty_run):
    import re

    from welfare_eval.report.strings import t

    table = poverty_run.tables[TREND_TABLE]
    trend = poverty_run.namespace["trend"]
    for key, column, scale in (("real_cons", "pp_real_cons_ci", 1), ("poor", "pp_poor_rate_ci", 100)):
        shown = table[t(column, "id")].tolist()
        assert all(re.fullmatch(r".+ – .+", s) for s in shown), shown
        frame = trend[key].to_frame()
        lows = [float(re.sub(r"[^\d,]", "", s.split(" – ")[0]).replace(",", ".")) for s in shown]
        assert lows == pytest.approx((frame["ci_lower"] * scale).to_list(), abs=0.051 if scale == 100 else 0.51)


def test_area_table_rates_have_one_decimal(poverty_run):
    import re

    from welfare_eval.report.strings import t

    values = [v for v in poverty_run.tables[AREA_TABLE][t("estimate", "id")] if re.match(r"\d", v)]
    assert values and all(re.fullmatch(r"\d+,\d% ?\*?", v) for v in values), values


def test_missed_poor_ranking_holds_only_publishable_kecamatan():
    """Ranked: enough sampled missed households and RSE <= 50%; a larger but too uncertain estimate
    (RSE 60%) or a small cell is not ranked, and counted; a lower bound below 0 is cut at 0."""
    from welfare_eval.report import targeting_view

    class Totals:
        def to_frame(self):
            return pd.DataFrame({"kec_code": ["7601010", "7601020", "7601030", "7601040"],
                                 "estimate": [900.0, 5000.0, 700.0, 800.0], "std_error": [180.0, 3000.0, 300.0, 100.0],
                                 "ci_lower": [540.0, -900.0, -10.0, 600.0],
                                 "ci_upper": [1260.0, 10900.0, 1290.0, 1000.0]})

    households = pd.DataFrame({"kec_code": ["7601010"] * 12 + ["7601020"] * 12 + ["7601030"] * 12 + ["7601040"] * 3,
                               "missed": 1.0})
    rows = targeting_view.missed_rows(Totals(), households, min_cell=10)
    assert rows["kec_code"].tolist() == ["7601010", "7601030"]          # 7601020: RSE 60%; 7601040: 3 households
    assert rows.attrs["unranked"] == 2 and rows["ci_lower"].min() == 0.0
    table = targeting_view.missed_table({"PKH": rows}, "id")
    assert table.iloc[1, 2] == "700 *"                                  # RSE 43%: caution
    assert "PKH: 2 kecamatan tidak diurutkan" in table.attrs["note"]


@pytest.mark.parametrize("ci_upper, shown", [(-0.0001, True), (0.0005, False)], ids=["fall-shown", "not-shown"])
def test_cost_per_point_only_for_a_fall_its_interval_shows(ci_upper, shown):
    """The 7602 review case: a fall of 0.47 pp with SE 0.33 gave '14.4 Rp billion per point'."""
    from welfare_eval.report import simulation_view

    f = pd.DataFrame({"estimate": [-0.0047, 1.44e10, -0.003], "std_error": [0.0033, 1e9, 0.002],
                      "ci_lower": [-0.0115, 1.2e10, -0.007], "ci_upper": [ci_upper, 1.6e10, 0.001],
                      "nobs": [1392, 1392, 1392], "suppressed": [False] * 3},
                     index=pd.Index(["headcount: change", "yearly cost (Rp): change", "extreme_headcount: change"],
                                    name="estimand"))
    table = simulation_view.scenario_table({"BPNT +25%": f}, {"BPNT +25%": "sc_bpnt_25"}, "en")
    cost = table.iloc[0, 5]
    assert (cost == "30.6") is shown and (cost == "–") is (not shown)
    assert "lies wholly below zero" in table.attrs["note"]
