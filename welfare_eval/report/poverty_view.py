"""The poverty profile for readers and for the results store.

The analysis (which lines, which domains, the deflation of the panel, the correlates of poverty) is
called in ``notebooks/10_poverty_profile.ipynb`` with its choices in view; this module only
translates, formats, applies the disclosure rules (``store.suppress``, ``store.secondary_suppress``)
and shapes the rows the notebook stores. Nothing here estimates.
"""
from __future__ import annotations

import matplotlib.figure
import numpy as np
import pandas as pd

from .. import plots, regions
from ..config import DEFAULT_MIN_CELL
from ..exceptions import ParameterError
from ..quality import Region
from ..results import EstimateTable
from .display import md
from .store import display_table, markers, n_column, secondary_suppress, smallest_group, suppress, suppress_by_kabupaten
from .strings import fmt_number, fmt_pct, fmt_rp, fmt_year, t, t_or

#: Reader's name (string key) of each scope measure the notebook computes; an unknown name is shown as written.
MEASURE_KEYS = {"P0": "headcount", "extreme": "extreme", "Gini": "gini", "Palma": "palma", "S80/S20": "s80s20",
                "headcount": "headcount", "gap": "gap"}
#: Decimals of the inequality ratios (the Gini in three, as BPS publishes it).
RATIO_DIGITS = {"Gini": 3, "Palma": 2, "S80/S20": 2}


def _label(key: str, language: str) -> str:
    return t_or(key, language, key)


def scope_rows(measures: dict[str, EstimateTable], region: Region, *,
               min_cell: int = DEFAULT_MIN_CELL) -> dict[str, pd.DataFrame]:
    """The region's row of each measure (computed for the province, or by kabupaten as domains of the
    province's design), numbers blanked below ``min_cell`` households: what the text, the table and
    the store show. A measure by kabupaten is suppressed over all six first (``store.suppress_by_kabupaten``,
    as :func:`kabupaten_rows`), so that a kabupaten hidden in the province's table is hidden in its own
    report too."""
    out = {}
    for name, table in measures.items():
        f = region.pick(suppress_by_kabupaten(table.to_frame(), min_cell=min_cell), what=f"measure {name!r}")
        if len(f) != 1:
            raise ParameterError(
                f"Measure {name!r} has {len(f)} rows for {region.scope('en')} "
                f"(columns: {', '.join(map(str, f.columns))}); "
                "scope_rows needs exactly one per measure: compute it for the province (by=None) or by 'kab_code' "
                "alone.")
        out[name] = f
    return out


def summary(rows: dict[str, pd.DataFrame], region: Region, language: str, *,
            min_cell: int = DEFAULT_MIN_CELL) -> str:
    """The paragraph under the title: the headcount with its interval, extreme poverty and the
    inequality ratios, every number from the rows (a suppressed headcount gives no number)."""
    p0, ext, g = (rows[k].iloc[0] for k in ("P0", "extreme", "Gini"))
    scope = md(region.scope(language))
    if p0["suppressed"]:   # too few households, or hidden so that another kabupaten cannot be worked out
        key = "suppressed_text" if smallest_group(rows["P0"])[0] < min_cell else "pp_suppressed_secondary_text"
        return f"{scope}: {t(key, language, n=min_cell)}."
    text = t("pp_text", language, scope=scope, p0=fmt_pct(p0["estimate"], language),
             lo=fmt_pct(p0["ci_lower"], language), hi=fmt_pct(p0["ci_upper"], language),
             ext=fmt_pct(ext["estimate"], language), gini=fmt_number(g["estimate"], language, digits=3))
    if "Palma" in rows and "S80/S20" in rows:
        text += " " + t("pp_text_inequality", language,
                        palma=fmt_number(rows["Palma"]["estimate"].iloc[0], language, digits=2),
                        s80s20=fmt_number(rows["S80/S20"]["estimate"].iloc[0], language, digits=2))
    return text


def inequality_table(rows: dict[str, pd.DataFrame], language: str, *, names=("Gini", "Palma", "S80/S20"),
                     min_cell: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
    """Gini, Palma and S80/S20 of the region side by side, each with its design-based interval."""
    frames = []
    for name in names:
        f = display_table(rows[name], language, pct=False, digits=RATIO_DIGITS.get(name, 2), min_cell=min_cell)
        f.insert(0, t("measure", language), _label(MEASURE_KEYS.get(name, name), language))
        frames.append(f.rename(columns={"estimate": t("estimate", language)}))
    out = pd.concat(frames, ignore_index=True)
    out.attrs["note"] = t("pp_inequality_note", language)
    return out


def _area_labels(frame: pd.DataFrame, language: str) -> pd.DataFrame:
    """kab_code and urban as the readers' names (kabupaten name; urban or rural in the language),
    in the order of those names."""
    names = regions.kab_names()
    f = frame.copy()
    at = list(f.columns).index("kab_code")
    kab = f.pop("kab_code").astype(str).map(names)
    area = np.where(f.pop("urban").astype(bool), t("urban", language), t("rural", language))
    f.insert(at, "kab", kab)
    f.insert(at + 1, "area", area)
    return f.sort_values(["kab", "area"], kind="stable").reset_index(drop=True)


def area_rows(tables: dict[str, EstimateTable], region: Region, language: str, *,
              min_cell: int = DEFAULT_MIN_CELL) -> dict[str, pd.DataFrame]:
    """Per measure, the kabupaten x area cells of the region. The cells add up to the kabupaten and
    to the province's urban and rural figures: secondary suppression over the whole province, so
    that every report hides the same cells; then the region's cells."""
    out = {}
    for key, table in tables.items():
        f = secondary_suppress(_area_labels(table.to_frame(), language), margins=[["kab"], ["area"]],
                               min_cell=min_cell)
        if region.kab is not None:
            f = f[f["kab"] == regions.kab_names()[region.kab]]
        out[key] = f
    return out


def store_area_rows(rows: dict[str, pd.DataFrame]) -> list[tuple[str, str, pd.DataFrame]]:
    """The kabupaten x area cells as (programme, outcome, rows) for the store (group ``kab_name=..; area=..``)."""
    return [("", key, f.rename(columns={"kab": "kab_name"})) for key, f in rows.items()]


def area_table(rows: dict[str, pd.DataFrame], language: str, *, min_cell: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
    """The kabupaten x area cells of every measure, as text, suppressed cells marked."""
    allf = pd.concat([f.assign(measure=_label(MEASURE_KEYS.get(k, k), language)) for k, f in rows.items()],
                     ignore_index=True)
    out = display_table(allf, language, label_columns=("measure", "kab", "area"), digits=1, min_cell=min_cell,
                        reliability=True)
    return out.rename(
        columns={"measure": t("measure", language), "kab": t("kabupaten", language), "area": t("area", language),
                 "estimate": t("estimate", language)})


def kabupaten_rows(tables: dict[str, EstimateTable], *, min_cell: int = DEFAULT_MIN_CELL) -> dict[str, pd.DataFrame]:
    """The six kabupaten of each measure (whatever the report's region: the briefing's first chart).
    The kabupaten make up the province, whose figure is published: one hidden hides another."""
    return {key: suppress_by_kabupaten(table.to_frame(), min_cell=min_cell) for key, table in tables.items()}


def rse_labels(language: str) -> tuple[str, str]:
    """The label of a not-published bar and the note under a chart with BPS's reliability bands."""
    return t("rse_chart_np", language), t("rse_chart_note", language)


def headcount_figure(by_kabupaten: pd.DataFrame, language: str, *, reference: float | None = None,
                     title_key: str = "headcount") -> matplotlib.figure.Figure:
    """Bars of the kabupaten's headcount with their intervals, suppressed ones drawn empty; BPS's
    reliability bands as in the tables (25-50% RSE marked *, over 50% not drawn and labelled, with a
    note); the province's figure as a reference line when given."""
    f = by_kabupaten.assign(label=by_kabupaten["kab_code"].astype(str).map(regions.kab_names()))
    fig, _ = plots.bar_with_intervals(f.sort_values("label", kind="stable"), label="label",
                                      title=t(title_key, language), language=language, reference=reference,
                                      reference_label=t("province", language), rse_labels=rse_labels(language))
    return fig


def trend_table(trend: dict[str, EstimateTable], panel: pd.DataFrame, language: str, *,
                min_cell: int = DEFAULT_MIN_CELL, time: str = "wave", unit: str = "hh_id") -> pd.DataFrame:
    """Real consumption and the poverty rate of the panel households per wave, each with its 95%
    interval (standard errors clustered as the design says); each wave's cell rests on its panel
    households (one row per household and wave)."""
    frames = []
    for key in ("real_cons", "poor"):
        f = trend[key].to_frame()
        f["nobs"] = f[time].map(panel.groupby(time)[unit].nunique())
        frames.append(suppress(f, min_cell=min_cell))
    cons, poor = frames
    head, counts = n_column(cons, language)

    def interval(f: pd.DataFrame, fmt) -> list[str]:
        return ["" if s or pd.isna(lo) else f"{fmt(lo, language)} – {fmt(hi, language)}"
                for lo, hi, s in zip(f["ci_lower"], f["ci_upper"], f["suppressed"])]

    return pd.DataFrame({
        t("wave", language): [fmt_year(w) for w in cons[time]],
        t("real_cons", language): [m or fmt_rp(v, language) for v, m in
                                   zip(cons["estimate"], markers(cons, language, min_cell=min_cell))],
        t("pp_real_cons_ci", language): interval(cons, fmt_rp),
        t("poor_rate_panel", language): [m or fmt_pct(v, language) for v, m in
                                         zip(poor["estimate"], markers(poor, language, min_cell=min_cell))],
        t("pp_poor_rate_ci", language): interval(poor, fmt_pct),
        head: counts,
    })


#: Reader's name (string key) of each column of the profile and each term of the regression.
PROFILE_KEYS = {"female_head": "female_head", "hh_size": "hh_size_label", "head_educ": "head_educ_label",
                "n_child_0_6": "pp_n_child_0_6", "urban[T.True]": "pp_urban_household", "urban": "pp_urban_household"}
#: Columns of the profile shown as shares (the others as means with one decimal).
SHARE_COLUMNS = ("female_head", "urban")


def profile_table(means: dict[str, EstimateTable], language: str, *, by: str = "poor",
                  min_cell: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
    """The weighted mean of each trait among poor and non-poor households, with the households
    behind each. The poor and the others make up all households: one small group hides the other."""
    out = []
    for col, table in means.items():
        f = secondary_suppress(table.to_frame(), margins=[()], min_cell=min_cell)
        f = f.sort_values(by, ascending=False, kind="stable")   # the poor first
        row = {t("indicator", language): _label(PROFILE_KEYS.get(col, col), language)}
        for (_, r), m in zip(f.iterrows(), markers(f, language, min_cell=min_cell)):
            group = t("poor" if r[by] else "non_poor", language)
            row[group] = m or (fmt_pct(r["estimate"], language) if col in SHARE_COLUMNS
                               else fmt_number(r["estimate"], language, digits=1))
            row[f"n ({group})"] = "" if m else fmt_number(r["nobs"], language)
        out.append(row)
    return pd.DataFrame(out)


def correlates_table(fit: EstimateTable | Exception, language: str, *,
                     min_cell: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
    """The design-based regression of being poor (a linear probability model): per trait the
    difference in the chance of being poor in percentage points, other traits equal, with its
    interval. A fit that could not be made (an expected data error) is said in one row."""
    if isinstance(fit, Exception):
        return pd.DataFrame({t("indicator", language): [t("pp_correlates_failed", language)],
                             t("message", language): [str(fit)]})
    f = suppress(fit.to_frame(), min_cell=min_cell)
    f = f[f["term"] != "Intercept"].reset_index(drop=True)
    mark = markers(f, language, min_cell=min_cell)
    pp = lambda v: fmt_number(100 * v, language, digits=1)  # noqa: E731  (a 0/1 outcome: points = 100 x)
    head, counts = n_column(f, language)
    return pd.DataFrame({
        t("indicator", language): [_label(PROFILE_KEYS.get(x, x), language) for x in f["term"]],
        t("pp_effect_pp", language): [m or pp(v) for v, m in zip(f["estimate"], mark)],
        t("ci95", language): ["" if m else f"{pp(lo)} – {pp(hi)}" for lo, hi, m in zip(f["ci_lower"], f["ci_upper"],
                                                                                    mark)],
        head: counts,
    })
