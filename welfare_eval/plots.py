"""Charts in one house style, readable in black and white: functions take results, return (fig, ax).

They never load data. Titles and labels come from the caller (the string table of
``welfare_eval.report.strings``), numbers formatted in the report's language. Figures are closed
once drawn, so a notebook shows each one where it is displayed, not where it was made.
"""
from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import Formatter, FuncFormatter  # noqa: E402

from . import reliability  # noqa: E402
from .report.strings import fmt_number, fmt_pct  # noqa: E402

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

STYLE: dict[RcKeyType, Any] = {
    "figure.figsize": (7.5, 4.2), "figure.dpi": 110, "font.size": 11, "axes.titlesize": 12,
    "axes.titleweight": "bold", "axes.spines.top": False, "axes.spines.right": False,
    "axes.grid": True, "grid.color": "#cccccc", "grid.linewidth": 0.6, "axes.axisbelow": True,
    "font.family": "DejaVu Sans",
}
INK, GREY, LIGHT = "#111111", "#777777", "#bbbbbb"
HATCHES = ("", "///", "...", "xxx")


#: Largest number of decimals a tick label gets; ticks finer than this are labelled rounded.
MAX_TICK_DIGITS = 3
#: Two tick values closer than this (in displayed units) count as equal: floating-point noise of the locator.
TICK_EQUAL = 1e-9


class LanguageFormatter(Formatter):
    """Tick labels in the report's language with as many decimals as the ticks need and no more:
    ticks at 2.5% steps read 0,0%, 2,5%, 5,0%, 7,5% (not 0%, 2%, 5%, 8%), one number of decimals per axis;
    ``scale`` multiplies the value (100 for shares shown as percent or as poin persen)."""

    def __init__(self, language: str, *, pct: bool, scale: float = 1.0, digits: int | None = None):
        super().__init__()
        self.language, self.pct, self.scale, self.fixed = language, pct, scale, digits
        self.digits = 0 if digits is None else digits

    def set_locs(self, locs):
        super().set_locs(locs)
        if self.fixed is not None:
            return
        values = np.asarray(locs, float) * (100 if self.pct else self.scale)
        for d in range(MAX_TICK_DIGITS + 1):
            if np.all(np.abs(np.round(values, d) - values) < TICK_EQUAL * max(1.0, np.abs(values).max())):
                self.digits = d
                return
        self.digits = MAX_TICK_DIGITS

    def __call__(self, v, pos=None):
        if self.pct:
            return fmt_pct(v, self.language, digits=self.digits)
        return fmt_number(v * self.scale, self.language, digits=self.digits)


def _formatter(language: str, pct: bool, digits: int | None = None, scale: float = 1.0):
    return LanguageFormatter(language, pct=pct, scale=scale, digits=digits)


def _value_text(v: float, language: str, pct: bool, scale: float, digits: int) -> str:
    return fmt_pct(v, language, digits=digits) if pct else fmt_number(v * scale, language, digits=digits)


def bar_with_intervals(frame: pd.DataFrame, *, label: str, title: str, language: str = "id", pct: bool = True,
                       reference: float | None = None, reference_label: str = "", series: str | None = None,
                       series_labels: dict | None = None, scale: float = 1.0, digits: int = 1, xlabel: str = "",
                       highlight: str | None = None, rse_labels: tuple[str, str] | None = None):
    """Horizontal bars with 95% interval whiskers (suppressed rows drawn empty and marked).

    One unit per chart: shares as percent (``pct``), or numbers times ``scale`` (100 for effects in
    poin persen) with the unit in ``xlabel``. Value labels stand beyond the whisker's end, so that
    they never sit on it; ``series`` draws grouped bars with a legend; ``highlight`` makes one
    label bold (a kabupaten among the six).

    ``rse_labels``: (label of a not-published bar, note under the chart) to apply BPS's reliability
    bands (``welfare_eval.reliability``) to rows with a ``std_error``, as the tables do: a bar with a
    relative standard error of 25-50% gets ``*`` after its value; one over 50% (or a zero estimate)
    is not drawn, no whisker and no value, only the label; the note explains both when any is present.
    """
    with plt.rc_context(STYLE):
        n_keys = 1 if series is None else frame[series].nunique()
        fig, ax = plt.subplots(
            figsize=(7.5, 0.4 * frame[label].nunique() * (1 if series is None else 0.6 * n_keys + 0.2) + 1.6)
        )
        groups = list(dict.fromkeys(frame[label]))
        keys = [None] if series is None else list(dict.fromkeys(frame[series]))
        height = 0.8 / len(keys)
        ends = [0.0]
        texts = []
        marked = False
        for k, key in enumerate(keys):
            sub = frame if key is None else frame[frame[series] == key]
            sub = sub.set_index(label).reindex(groups)
            y = np.arange(len(groups)) + (k - (len(keys) - 1) / 2) * height
            est = sub["estimate"].to_numpy(float)
            supp = sub["suppressed"].fillna(False).to_numpy(bool) if "suppressed" in sub else np.zeros(len(y), bool)
            bands = (reliability.band(reliability.relative_se(sub["estimate"], sub["std_error"]))
                     if rse_labels is not None and "std_error" in sub else np.full(len(y), "none"))
            bands = np.where(supp, "none", bands)
            unpublished, caution = bands == "unreliable", bands == "caution"
            marked |= unpublished.any() or caution.any()
            ax.barh(
                y,
                np.where(unpublished, 0.0, np.nan_to_num(est)),
                height=height * 0.9,
                color=LIGHT if k == 0 else "white",
                edgecolor=INK,
                hatch=HATCHES[k % len(HATCHES)],
                label=(series_labels or {}).get(key, key) if key is not None else None,
            )
            lo, hi = sub["ci_lower"].to_numpy(float), sub["ci_upper"].to_numpy(float)
            ok = ~np.isnan(lo) & ~supp & ~unpublished
            ax.errorbar(est[ok], y[ok], xerr=[np.maximum(est[ok] - lo[ok], 0), np.maximum(hi[ok] - est[ok], 0)],
                        fmt="none", ecolor=INK, capsize=3, linewidth=1)
            for yy, e, lo_e, hi_e, s, u, c in zip(y, est, lo, hi, supp, unpublished, caution):
                if s:
                    texts.append((0.0, yy, "*", "left"))
                elif u:   # not published: no bar, no whisker, no value
                    texts.append((0.0, yy, rse_labels[0] if rse_labels else "", "left"))
                elif not np.isnan(e):
                    right = e >= 0
                    end = (np.nanmax([e, hi_e]) if right else np.nanmin([e, lo_e])) if not np.isnan(hi_e) else e
                    ends.append(end)
                    texts.append((end, yy, _value_text(e, language, pct, scale, digits) + (" *" if c else ""),
                                  "left" if right else "right"))
        span = (max(ends) - min(ends)) or 1.0
        pad = 0.015 * span
        for x, yy, text, ha in texts:
            ax.text(x + (pad if ha == "left" else -pad), yy, text, va="center", ha=ha, fontsize=10, color=INK)
        # room for the labels beyond the longest whisker on either side
        ax.set_xlim(min(min(ends), 0) - (0.22 * span if min(ends) < 0 else 0), max(max(ends), 0) + 0.22 * span)
        if reference is not None:
            ax.axvline(reference, color=INK, linestyle="--", linewidth=1)
            if reference_label:
                ax.text(reference, -0.6, " " + reference_label, fontsize=9, color=INK, va="bottom")
        ax.set_yticks(np.arange(len(groups)), [str(g) for g in groups])
        if highlight is not None:
            for tick in ax.get_yticklabels():
                if tick.get_text() == highlight:
                    tick.set_fontweight("bold")
        ax.invert_yaxis()
        ax.xaxis.set_major_formatter(_formatter(language, pct, scale=scale))
        if xlabel:
            ax.set_xlabel(xlabel)
        ax.set_title(title, loc="left")
        if series is not None:
            ax.legend(frameon=False, loc="lower right", fontsize=9)
        if marked and rse_labels is not None:   # the bands' note under the chart
            note = textwrap.fill(rse_labels[1], 110)
            lines = note.count("\n") + 1
            fig.set_figheight(fig.get_figheight() + 0.17 * lines)
            fig.text(0.01, 0.01, note, fontsize=8, color=INK, va="bottom", ha="left")
            fig.tight_layout(rect=(0, 0.17 * lines / fig.get_figheight() + 0.01, 1, 1))
        else:
            fig.tight_layout()
    plt.close(fig)
    return fig, ax


def event_plot(frame: pd.DataFrame, *, title: str, xlabel: str, ylabel: str, language: str = "id",
               pct: bool = True, band: bool = True, point_label: str = "", band_label: str = "",
               before_label: str = ""):
    """Effects by event time with pointwise intervals (and a uniform band when present).

    With ``point_label``/``band_label`` a legend says what the points with whiskers and the shaded
    band are; ``before_label`` names the periods left of the dashed line (before accompaniment).
    """
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots()
        f = frame[pd.to_numeric(frame["event_time"], errors="coerce").notna()].copy()
        e = f["event_time"].astype(int).to_numpy()
        est = f["estimate"].to_numpy(float)
        if band and "band_lower" in f and f["band_lower"].notna().any():
            ax.fill_between(e, f["band_lower"].astype(float), f["band_upper"].astype(float), color=LIGHT, alpha=0.6,
                            linewidth=0, label=band_label or None)
        ax.errorbar(e, est, yerr=[est - f["ci_lower"].astype(float), f["ci_upper"].astype(float) - est], fmt="o",
                    color=INK, capsize=3, label=point_label or None)
        ax.axhline(0, color=INK, linewidth=0.8)
        ax.axvline(-0.5, color=GREY, linestyle="--", linewidth=0.8)
        if before_label:
            ax.text(-0.6, 0.02, before_label + " ", transform=ax.get_xaxis_transform(), ha="right", va="bottom",
                    fontsize=10, color=GREY)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.yaxis.set_major_formatter(_formatter(language, pct))
        ax.set_xticks(e)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: str(round(v))))  # event times: no separators
        ax.set_title(title, loc="left")
        if point_label or band_label:  # below the axes, where it covers no estimate
            ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize=10)
        fig.tight_layout()
    plt.close(fig)
    return fig, ax


def line_by_group(frame: pd.DataFrame, *, x: str, group: str, title: str, language: str = "id",
                  pct: bool = True, group_labels: dict | None = None, ylabel: str = "", xlabel: str | None = None):
    """Lines with markers per group (coverage by decile for PKH and BPNT, rates by wave)."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots()
        markers = ("o", "s", "^", "D")
        styles = ("-", "--", ":", "-.")
        for k, (key, sub) in enumerate(frame.groupby(group, sort=False)):
            ax.plot(sub[x], sub["estimate"], marker=markers[k % 4], linestyle=styles[k % 4], color=INK,
                    label=(group_labels or {}).get(key, key))
            if "ci_lower" in sub:
                ax.fill_between(sub[x], sub["ci_lower"], sub["ci_upper"], color=LIGHT, alpha=0.35, linewidth=0)
        ax.yaxis.set_major_formatter(_formatter(language, pct))
        ax.set_xticks(sorted(frame[x].unique()))
        ax.set_xlabel(x if xlabel is None else xlabel)
        ax.set_ylabel(ylabel)
        ax.legend(frameon=False)
        ax.set_title(title, loc="left")
        fig.tight_layout()
    plt.close(fig)
    return fig, ax


def love_plot(balance: pd.DataFrame, *, title: str, threshold: float = 0.1):
    """Standardized mean differences before (open) and after (filled) weighting, per covariate,
    with the usual 0.1 threshold (from ``impact.common.balance_table``)."""
    with plt.rc_context(STYLE):
        b = balance.iloc[::-1]
        fig, ax = plt.subplots(figsize=(7.5, 0.35 * len(b) + 1.4))
        y = np.arange(len(b))
        ax.scatter(b["smd_before"].abs(), y, facecolors="white", edgecolors=INK, label="before / sebelum")
        ax.scatter(b["smd_after"].abs(), y, color=INK, label="after / sesudah")
        ax.axvline(threshold, color=GREY, linestyle="--", linewidth=1)
        ax.set_yticks(y, b["covariate"])
        ax.set_xlabel("|SMD|")
        ax.set_title(title, loc="left")
        ax.legend(frameon=False, loc="lower right")
        fig.tight_layout()
    plt.close(fig)
    return fig, ax


def tile_map(frame: pd.DataFrame, *, value: str, label: str, group: str, title: str, note: str,
             language: str = "id", pct: bool = True, digits: int = 1, flag: str | None = None,
             flag_marks: dict | None = None, group_labels: dict | None = None, per_row: int = 4):
    """A schematic map: one labelled square per area, grouped into blocks by ``group``.

    Without a boundary file the areas are drawn as tiles (kecamatan within their kabupaten), shaded
    in grey from light (low) to dark (high) so the map reads in grey print; each tile carries the
    area's name and value, and ``flag_marks`` (e.g. {"caution": "*", "unreliable": "(!)"}) marks
    the values to read with care. ``note`` says that the map is schematic and what the marks mean.
    """
    f = frame.reset_index(drop=True)
    groups = list(dict.fromkeys(f[group]))
    blocks = [(g, f.index[f[group] == g].tolist()) for g in groups]
    rows_per_block = [int(np.ceil(len(ix) / per_row)) for _, ix in blocks]
    cols = min(2, len(blocks))
    vals = f[value].astype(float)
    vmax = float(np.nanmax(vals)) if vals.notna().any() else 1.0
    cmap = plt.get_cmap("Greys")
    with plt.rc_context(STYLE):
        n_rows = sum(max(rows_per_block[j] for j in range(i, min(i + cols, len(blocks))))
                     for i in range(0, len(blocks), cols))
        height_units = n_rows + 0.9 * int(np.ceil(len(blocks) / cols))
        fig, ax = plt.subplots(figsize=(1.05 * cols * (per_row + 0.6) + 0.4, 0.95 * height_units + 0.9))
        y0 = 0.0
        for start in range(0, len(blocks), cols):
            band = blocks[start:start + cols]
            band_rows = max(int(np.ceil(len(ix) / per_row)) for _, ix in band)
            for j, (g, ix) in enumerate(band):
                x0 = j * (per_row + 0.6)
                ax.text(x0, -(y0 + 0.02), (group_labels or {}).get(g, str(g)), fontsize=10, fontweight="bold",
                        va="bottom", ha="left", color=INK)
                for k, i in enumerate(ix):
                    cx, cy = x0 + k % per_row, -(y0 + 1 + k // per_row)
                    v = vals.iloc[i]
                    shade = 0.08 + 0.8 * (v / vmax if vmax > 0 and np.isfinite(v) else 0)
                    ax.add_patch(plt.Rectangle((cx, cy), 0.94, 0.94, facecolor=cmap(shade) if np.isfinite(v)
                                               else "white", edgecolor=GREY, linewidth=0.6))
                    ink = "white" if shade > 0.5 else INK
                    name = str(f[label].iloc[i])
                    name = name if len(name) <= 13 else name[:12] + "."
                    mark = (flag_marks or {}).get(f[flag].iloc[i], "") if flag and np.isfinite(v) else ""
                    text = (fmt_pct(v, language, digits=digits) if pct else fmt_number(v, language, digits=digits)) \
                        if np.isfinite(v) else "–"
                    ax.text(cx + 0.47, cy + 0.62, name, ha="center", va="center", fontsize=6.8, color=ink)
                    ax.text(cx + 0.47, cy + 0.3, text + mark, ha="center", va="center", fontsize=8.5,
                            fontweight="bold", color=ink)
            y0 += band_rows + 0.9
        ax.set_xlim(-0.2, cols * (per_row + 0.6))
        ax.set_ylim(-(y0 + 0.2), 0.3)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(title, loc="left")
        fig.text(0.01, 0.01, note, fontsize=8, color=GREY, ha="left", va="bottom", wrap=True)
        fig.tight_layout(rect=(0, 0.04, 1, 1))
        plt.close(fig)
    return fig, ax


def choropleth(boundaries, *, value: str, title: str, note: str, language: str = "id", pct: bool = True,
               digits: int = 1, flag: str | None = None, hatch_flags: tuple = ()):
    """A map of ``value`` over polygons (a GeoDataFrame joined with the estimates), in grey shades.

    Areas whose value is missing (not published, too small) are white with a grey outline; areas
    whose ``flag`` is in ``hatch_flags`` (e.g. "caution") are hatched so the mark survives grey
    print. The colour bar is labelled in the report's language.
    """
    import matplotlib as mpl

    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(7.5, 7.5))
        vals = boundaries[value].astype(float)
        vmax = float(np.nanmax(vals)) if vals.notna().any() else 1.0
        norm = mpl.colors.Normalize(vmin=0, vmax=vmax)
        # light grey for the lowest value, so that no published area is as white as an unpublished one
        cmap = mpl.colors.LinearSegmentedColormap.from_list("greys_from_light",
                                                            plt.get_cmap("Greys")(np.linspace(0.12, 0.95, 256)))
        shown = boundaries[vals.notna()]
        boundaries[vals.isna()].plot(ax=ax, facecolor="white", edgecolor=GREY, linewidth=0.5)
        if len(shown):
            shown.plot(ax=ax, column=value, cmap=cmap, norm=norm, edgecolor=GREY, linewidth=0.5)
            if flag and hatch_flags:
                marked = shown[shown[flag].isin(hatch_flags)]
                if len(marked):
                    marked.plot(ax=ax, facecolor="none", edgecolor=INK, hatch="///", linewidth=0.0)
        bar = fig.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.6)
        bar.ax.yaxis.set_major_formatter(_formatter(language, pct, digits=0))
        ax.set_axis_off()
        ax.set_title(title, loc="left")
        fig.text(0.01, 0.01, note, fontsize=8, color=GREY, ha="left", va="bottom", wrap=True)
        fig.tight_layout(rect=(0, 0.05, 1, 1))
        plt.close(fig)
    return fig, ax
