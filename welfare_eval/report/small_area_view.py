"""Kecamatan small-area estimates for readers and for the results store.

The analysis is :func:`welfare_eval.small_area.area_poverty`, called in the notebook with its
choices in view; this module only translates, formats, applies the publication rules and shapes
the rows for the store. Publication rules, applied alike to tables, maps, text and the store:

- a kecamatan's estimate is shown only when it rests on at least ``min_cell`` sampled households
  (a modelled estimate mixes in the direct one, which a reader could back out for a tiny cell);
- BPS's reading of the relative standard error: up to 25% reliable, 25-50% shown with a caution
  mark, over 50% not published.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .. import regions
from ..config import DEFAULT_MIN_CELL
from .strings import fmt_number, fmt_pct, fmt_pp, t, t_or


def publishable(kec: pd.DataFrame, *, min_cell: int = DEFAULT_MIN_CELL) -> pd.Series:
    """True where the kecamatan's estimate may be shown (enough sample, RSE at most 50%), and no
    hidden kecamatan of the same kabupaten could be worked out from the others: the estimates are
    benchmarked to add up to the kabupaten's published figure, so secondary suppression
    (``store.secondary_suppress``) hides more where one alone would give it away."""
    from .store import secondary_suppress

    first = (kec["nobs"] >= min_cell) & (kec["quality"] != "unreliable")
    if kec.empty:
        return first
    # in kecamatan order, so that every table, map, text and store row hides the same cells
    order = np.argsort(kec["kec_code"].astype(str).to_numpy(), kind="stable")
    f = secondary_suppress(pd.DataFrame({"kab_code": kec["kab_code"].to_numpy()[order],
                                         "nobs": kec["nobs"].to_numpy()[order],
                                         "estimate": kec["estimate"].to_numpy()[order],
                                         "suppressed": ~first.to_numpy()[order]}),
                           margins=[["kab_code"]], min_cell=min_cell)
    shown = np.empty(len(kec), bool)
    shown[order] = ~f["suppressed"].to_numpy(bool)
    return pd.Series(shown, index=kec.index)


def store_rows(kec: pd.DataFrame, *, min_cell: int = DEFAULT_MIN_CELL, kabupaten: str | None = None) -> pd.DataFrame:
    """Tidy rows for ``store.append`` (the kabupaten's kecamatan only, when one is given):
    unpublishable estimates blanked (``store.append`` marks them suppressed by their n)."""
    kec = kec if kabupaten is None else kec[kec["kab_code"] == kabupaten]
    ok = publishable(kec, min_cell=min_cell)
    out = kec[["estimand", "kab_code", "kec_code", "estimate", "std_error", "ci_lower", "ci_upper", "nobs",
               "method", "quality"]].copy()   # quality (BPS band) goes into the store's group text
    for c in ("estimate", "std_error", "ci_lower", "ci_upper"):
        out[c] = out[c].where(ok)
    out["suppressed"] = ~ok.to_numpy()   # unreliable or hidden by secondary suppression, not only small
    return out


def kecamatan_table(kec: pd.DataFrame, language: str, *, min_cell: int = DEFAULT_MIN_CELL,
                    kabupaten: str | None = None) -> pd.DataFrame:
    """One row per kecamatan: direct estimate (where its cell is large enough), small-area estimate
    with its interval and relative standard error, reliability, and the sample behind it."""
    k = kec if kabupaten is None else kec[kec["kab_code"] == kabupaten]
    k = k.sort_values(["kab_code", "kec_code"])
    ok = publishable(k, min_cell=min_cell)
    level = int(round(100 * float(k["level"].iloc[0]))) if len(k) else 95
    kab, kec_names = regions.kab_names(), regions.kec_names()
    quality = {"reliable": t("sa_reliable", language), "caution": t("sa_caution", language),
               "unreliable": t("sa_unreliable", language)}
    rows = []
    for (_, r), show in zip(k.iterrows(), ok):
        if r["nobs"] == 0:
            note = t("sa_no_sample", language)
        elif r["nobs"] < min_cell:
            note = t("suppressed", language, n=min_cell)
        elif not show and r["quality"] != "unreliable":
            note = t("suppressed_secondary", language)
        else:
            note = quality[r["quality"]]
        rows.append({
            t("kabupaten", language): kab.get(str(r["kab_code"]), str(r["kab_code"])),
            t("kecamatan", language): kec_names.get(str(r["kec_code"]), str(r["kec_code"])),
            # the direct estimate only where the kecamatan is published at all (it is the less reliable one)
            t("sa_direct", language): fmt_pct(r["direct"], language) if show else "–",
            t("sa_model", language): fmt_pct(r["estimate"], language) if show else "–",
            t("sa_ci", language, level=level): (f"{fmt_pct(r['ci_lower'], language)} – "
                                                f"{fmt_pct(r['ci_upper'], language)}") if show else "–",
            t("sa_rse", language): fmt_pct(r["rse"], language, digits=0) if show and np.isfinite(r["rse"]) else "–",
            t("sa_quality", language): note,
            # a count under the threshold is not printed either
            t("sa_n", language): fmt_number(r["nobs"], language) if r["nobs"] >= min_cell or r["nobs"] == 0
            else f"< {min_cell}",
        })
    return pd.DataFrame(rows)


def map_frame(kec: pd.DataFrame, *, min_cell: int = DEFAULT_MIN_CELL, kabupaten: str | None = None) -> pd.DataFrame:
    """What the tile map draws: publishable estimates, names and reliability flags."""
    k = kec if kabupaten is None else kec[kec["kab_code"] == kabupaten]
    k = k.sort_values(["kab_code", "kec_code"]).copy()
    k["shown"] = k["estimate"].where(publishable(k, min_cell=min_cell))
    k["name"] = k["kec_code"].astype(str).map(regions.kec_names())
    return k


def summary(p0: pd.DataFrame, extreme: pd.DataFrame, language: str, *, min_cell: int = DEFAULT_MIN_CELL,
            kabupaten: str | None = None, top: int = 3) -> str:
    """The paragraph under the heading, every number from the two results."""
    k = p0 if kabupaten is None else p0[p0["kab_code"] == kabupaten]
    e = extreme if kabupaten is None else extreme[extreme["kab_code"] == kabupaten]
    ok = publishable(k, min_cell=min_cell)
    e_ok = e[publishable(e, min_cell=min_cell)].sort_values("estimate", ascending=False).head(top)
    names = regions.kec_names()
    top_text = ", ".join(f"{names.get(str(c), str(c))} ({fmt_pct(v, language)})"
                         for c, v in zip(e_ok["kec_code"], e_ok["estimate"])) or "–"
    return t("sa_summary", language, n=len(k), reliable=int((ok & (k["quality"] == "reliable")).sum()),
             caution=int((ok & (k["quality"] == "caution")).sum()), unreliable=int((~ok).sum()), top=top_text,
             covariates=", ".join(t_or(f"sa_cov_{c}", language, c)
                                  for c in str(k["covariates"].iloc[0]).split(";")))


def _ebp_covariates(ebp: pd.DataFrame, language: str) -> str:
    fit = ebp.attrs.get("fit")
    names = [] if fit is None else [c for c in fit.beta.index if c != "(Intercept)"]
    return ", ".join(t_or(f"sa_ebp_cov_{c}", language, c) for c in names)


def ebp_comparison(p0: pd.DataFrame, extreme: pd.DataFrame, ebp_p0: pd.DataFrame, ebp_extreme: pd.DataFrame,
                   *, min_cell: int = DEFAULT_MIN_CELL, kabupaten: str | None = None) -> pd.DataFrame:
    """The published kecamatan with the Fay-Herriot estimate and interval beside the EBP headcount
    (``FGT0`` rows of :func:`welfare_eval.small_area.ebp`), and whether the EBP lies inside it.

    A kecamatan is shown when both its Fay-Herriot estimates are published (the same rule as the
    tables and maps); the EBP is a cross-check, never published where Fay-Herriot is not.
    """
    out = []
    for fh, ebp, key in ((p0, ebp_p0, "p0"), (extreme, ebp_extreme, "extreme")):
        k = fh if kabupaten is None else fh[fh["kab_code"] == kabupaten]
        k = k.assign(published=publishable(k, min_cell=min_cell).to_numpy())
        e = ebp[ebp["estimand"] == "FGT0"].set_index(ebp.columns[1])["estimate"]
        e.index = e.index.astype(str)
        f = k[["kab_code", "kec_code", "estimate", "ci_lower", "ci_upper", "published"]].copy()
        f["ebp"] = f["kec_code"].astype(str).map(e).to_numpy()
        f["inside"] = (f["ci_lower"] <= f["ebp"]) & (f["ebp"] <= f["ci_upper"])
        out.append(f.set_index(["kab_code", "kec_code"]).add_suffix(f"_{key}"))
    both = out[0].join(out[1], how="inner").reset_index()
    both = both[both["published_p0"] & both["published_extreme"]]
    return both.drop(columns=["published_p0", "published_extreme"]).sort_values(["kab_code", "kec_code"])


def ebp_table(comparison: pd.DataFrame, language: str) -> pd.DataFrame:
    """:func:`ebp_comparison` for readers: rates, the Fay-Herriot interval, and where they disagree."""
    kab, kec_names = regions.kab_names(), regions.kec_names()
    rows = []
    for _, r in comparison.iterrows():
        notes = [t(f"sa_ebp_outside_{k}", language) for k in ("p0", "extreme") if not r[f"inside_{k}"]]
        rows.append({
            t("kabupaten", language): kab.get(str(r["kab_code"]), str(r["kab_code"])),
            t("kecamatan", language): kec_names.get(str(r["kec_code"]), str(r["kec_code"])),
            t("sa_ebp_fh_p0", language): _with_interval(r, "p0", language),
            t("sa_ebp_p0", language): fmt_pct(r["ebp_p0"], language),
            t("sa_ebp_fh_extreme", language): _with_interval(r, "extreme", language),
            t("sa_ebp_extreme", language): fmt_pct(r["ebp_extreme"], language),
            t("sa_ebp_check", language): "; ".join(notes) or t("sa_ebp_agree", language),
        })
    return pd.DataFrame(rows)


def _with_interval(r: pd.Series, key: str, language: str) -> str:
    return (f"{fmt_pct(r[f'estimate_{key}'], language)} ({fmt_pct(r[f'ci_lower_{key}'], language)} – "
            f"{fmt_pct(r[f'ci_upper_{key}'], language)})")


def ebp_summary(comparison: pd.DataFrame, ebp: pd.DataFrame, language: str) -> str:
    """The paragraph under the EBP table, every number from the comparison."""
    names = regions.kec_names()
    c = comparison
    off = c[~(c["inside_p0"] & c["inside_extreme"])]
    where = t("sa_ebp_where", language, names=", ".join(names.get(str(k), str(k)) for k in off["kec_code"])) \
        if len(off) else t("sa_ebp_where_none", language)
    return t("sa_ebp_summary", language, covariates=_ebp_covariates(ebp, language), n=len(c),
             agree_p0=int(c["inside_p0"].sum()), agree_extreme=int(c["inside_extreme"].sum()),
             diff_p0=fmt_pp(float((c["ebp_p0"] - c["estimate_p0"]).abs().mean()) if len(c) else None, language),
             diff_extreme=fmt_pp(float((c["ebp_extreme"] - c["estimate_extreme"]).abs().mean()) if len(c) else None,
                                 language),
             where=where)
