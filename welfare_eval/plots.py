"""Charts in one house style, readable in black and white: functions take results, return (fig, ax).

They never load data. Titles and labels come from the caller (the string table of
``welfare_eval.report.strings``), numbers formatted in the report's language. Figures are closed
once drawn, so a notebook shows each one where it is displayed, not where it was made.
"""
from __future__ import annotations

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from .report.strings import fmt_number, fmt_pct  # noqa: E402

STYLE = {
    "figure.figsize": (7.5, 4.2), "figure.dpi": 110, "font.size": 10, "axes.titlesize": 12,
    "axes.titleweight": "bold", "axes.spines.top": False, "axes.spines.right": False,
    "axes.grid": True, "grid.color": "#cccccc", "grid.linewidth": 0.6, "axes.axisbelow": True,
    "font.family": "DejaVu Sans",
}
INK, GREY, LIGHT = "#111111", "#777777", "#bbbbbb"
HATCHES = ("", "///", "...", "xxx")


def _formatter(language: str, pct: bool, digits: int = 0):
    return FuncFormatter(lambda v, _: fmt_pct(v, language, digits=digits) if pct
                         else fmt_number(v, language, digits=digits))


def bar_with_intervals(frame: pd.DataFrame, *, label: str, title: str, language: str = "id", pct: bool = True,
                       reference: float | None = None, reference_label: str = "", series: str | None = None,
                       series_labels: dict | None = None):
    """Horizontal bars with 95% interval whiskers (suppressed rows drawn empty and marked)."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(7.5, 0.45 * frame[label].nunique() * (1 if series is None else 1.6) + 1.6))
        groups = list(dict.fromkeys(frame[label]))
        keys = [None] if series is None else list(dict.fromkeys(frame[series]))
        height = 0.8 / len(keys)
        for k, key in enumerate(keys):
            sub = frame if key is None else frame[frame[series] == key]
            sub = sub.set_index(label).reindex(groups)
            y = np.arange(len(groups)) + (k - (len(keys) - 1) / 2) * height
            est = sub["estimate"].to_numpy(float)
            supp = sub["suppressed"].fillna(False).to_numpy(bool) if "suppressed" in sub else np.zeros(len(y), bool)
            ax.barh(y, np.nan_to_num(est), height=height * 0.9, color="white" if k else LIGHT, edgecolor=INK,
                    hatch=HATCHES[k % len(HATCHES)], label=(series_labels or {}).get(key, key) if key is not None else None)
            lo, hi = sub["ci_lower"].to_numpy(float), sub["ci_upper"].to_numpy(float)
            ok = ~np.isnan(lo) & ~supp
            ax.errorbar(est[ok], y[ok], xerr=[est[ok] - lo[ok], hi[ok] - est[ok]], fmt="none", ecolor=INK, capsize=3,
                        linewidth=1)
            for yy, e, s in zip(y, est, supp):
                if s:
                    ax.text(0, yy, " *", va="center", color=INK)
                elif not np.isnan(e):
                    ax.text(e, yy, "  " + (fmt_pct(e, language) if pct else fmt_number(e, language)), va="center",
                            ha="left", fontsize=8, color=INK)
        if reference is not None:
            ax.axvline(reference, color=INK, linestyle="--", linewidth=1)
            ax.text(reference, len(groups) - 0.4, " " + reference_label, fontsize=8, color=INK)
        ax.set_yticks(np.arange(len(groups)), [str(g) for g in groups])
        ax.invert_yaxis()
        ax.xaxis.set_major_formatter(_formatter(language, pct))
        ax.set_title(title, loc="left")
        if series is not None:
            ax.legend(frameon=False, loc="lower right")
        fig.tight_layout()
    plt.close(fig)
    return fig, ax


def event_plot(frame: pd.DataFrame, *, title: str, xlabel: str, ylabel: str, language: str = "id",
               pct: bool = True, band: bool = True):
    """Effects by event time with pointwise intervals (and a uniform band when present)."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots()
        f = frame[pd.to_numeric(frame["event_time"], errors="coerce").notna()].copy()
        e = f["event_time"].astype(int).to_numpy()
        est = f["estimate"].to_numpy(float)
        if band and "band_lower" in f:
            ax.fill_between(e, f["band_lower"], f["band_upper"], color=LIGHT, alpha=0.6, step=None, linewidth=0)
        ax.errorbar(e, est, yerr=[est - f["ci_lower"], f["ci_upper"] - est], fmt="o", color=INK, capsize=3)
        ax.axhline(0, color=INK, linewidth=0.8)
        ax.axvline(-0.5, color=GREY, linestyle="--", linewidth=0.8)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.yaxis.set_major_formatter(_formatter(language, pct, 0 if pct else 2))
        ax.set_xticks(e)
        ax.set_title(title, loc="left")
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
