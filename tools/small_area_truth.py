"""Does small-area estimation recover the kecamatan truth? Repeated surveys from one synthetic province.

    python tools/small_area_truth.py [--draws 100] [--bootstrap 100] [--scale 1]
                                     [--no-parent-effects] [--bootstrap-errors normal]

The synthetic province knows every kecamatan's true headcount (P0) and extreme poverty. This
script draws ``--draws`` independent SUSENAS-like samples from the same population (the
generator's own two-stage design), runs :func:`welfare_eval.small_area.area_poverty` on each with
the registry as the census-like source, and compares, per kecamatan, the direct estimate and the
Fay-Herriot estimate with the truth: root mean squared error, the calibration of the estimated
MSE (average estimated MSE over empirical MSE) and the coverage of the 95% intervals, for the
model's estimate and for the published, benchmarked one. It also checks the sampling variance the
model assumes for the direct estimates (1 / (4 n_eff) on the arcsin scale) against their spread
around the truth. It writes ``docs/small_area_truth.md`` (the figures) and
``docs/small_area_truth.png`` (RMSE per kecamatan); ``--out`` writes elsewhere (to compare
variants of the method without touching the committed figures).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from welfare_eval import small_area, synth  # noqa: E402
from welfare_eval.io import extreme_line_value  # noqa: E402

DOCS = Path(__file__).resolve().parent.parent / "docs"


def truth_by_area(pop: pd.DataFrame, indicator: str, extreme_line: str) -> pd.Series:
    z = pop["poverty_line"].to_numpy() if indicator == "P0" else \
        np.full(len(pop), extreme_line_value(extreme_line))
    persons = pop["hh_size"].to_numpy(float)
    poor = persons * (pop["cons_pc"].to_numpy() < z)
    kec = pop["kec_code"].astype(str)
    return pd.Series(poor).groupby(kec.to_numpy()).sum() / pd.Series(persons).groupby(kec.to_numpy()).sum()


def run(draws: int, bootstrap: int, scale: float, seed: int = 20240301,
        indicators=("P0", "extreme"), **options) -> dict[str, pd.DataFrame]:
    world = synth.generate(seed=seed, scale=scale)
    households = world.truth["survey_design"]["households"]
    rng = np.random.default_rng(seed + 1)
    rows: dict[str, list[pd.DataFrame]] = {ind: [] for ind in indicators}
    for r in range(draws):
        s = synth.draw_survey(world.population, rng, households=households, per_psu=10)
        for ind in indicators:
            out = small_area.area_poverty(s, world.registry, indicator=ind, bootstrap=bootstrap, seed=r, **options)
            out["draw"] = r
            rows[ind].append(out[["kec_code", "kab_code", "draw", "direct", "nobs", "n_eff", "estimate_raw",
                                  "estimate", "mse_raw", "mse_benchmarked", "std_error", "ci_lower", "ci_upper",
                                  "ci_lower_raw", "ci_upper_raw"]])
    result = {}
    for ind in indicators:
        f = pd.concat(rows[ind], ignore_index=True)
        f["truth"] = f["kec_code"].map(truth_by_area(world.population, ind, "extreme_215_2017ppp"))
        result[ind] = f
    return result


def summarise(f: pd.DataFrame) -> pd.DataFrame:
    f = f.assign(err_direct=f["direct"] - f["truth"], err_fh=f["estimate_raw"] - f["truth"],
                 err_bench=f["estimate"] - f["truth"],
                 covered=(f["ci_lower"] <= f["truth"]) & (f["truth"] <= f["ci_upper"]))
    g = f.groupby("kec_code")
    return pd.DataFrame({
        "truth": g["truth"].first(),
        "draws_with_sample": g["direct"].count(),
        "rmse_direct": np.sqrt(g["err_direct"].apply(lambda e: np.nanmean(e ** 2))),
        "rmse_fh": np.sqrt(g["err_fh"].apply(lambda e: np.mean(e ** 2))),
        "rmse_benchmarked": np.sqrt(g["err_bench"].apply(lambda e: np.mean(e ** 2))),
        "mean_estimated_mse": g["mse_raw"].mean(),
        "empirical_mse": g["err_fh"].apply(lambda e: np.mean(e ** 2)),
        "mean_estimated_mse_benchmarked": g["mse_benchmarked"].mean(),
        "empirical_mse_benchmarked": g["err_bench"].apply(lambda e: np.mean(e ** 2)),
        "coverage": g["covered"].mean(),
    })


def sampling_variance_check(f: pd.DataFrame) -> float:
    """Mean of (arcsin sqrt(direct) - arcsin sqrt(truth))^2 / psi over sampled kecamatan and draws:
    1 when the model's sampling variance psi = 1 / (4 n_eff) is right (bias included)."""
    s = f[f["nobs"] > 0]
    z2 = (np.arcsin(np.sqrt(s["direct"])) - np.arcsin(np.sqrt(s["truth"]))) ** 2 * 4 * s["n_eff"]
    return float(z2.mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=100, help="independent survey samples")
    ap.add_argument("--bootstrap", type=int, default=100, help="bootstrap replicates of the MSE per fit")
    ap.add_argument("--scale", type=float, default=1.0, help="population scale of the synthetic province")
    ap.add_argument("--no-parent-effects", action="store_true", help="leave out the kabupaten fixed effects")
    ap.add_argument("--bootstrap-errors", default="binomial", choices=["binomial", "normal"],
                    help="how the bootstrap draws the direct estimates")
    ap.add_argument("--out", type=Path, default=DOCS, help="folder for small_area_truth.md and .png")
    ap.add_argument("--seed", type=int, default=20240301, help="seed of the synthetic population (another province)")
    a = ap.parse_args()
    t0 = time.perf_counter()
    res = run(a.draws, a.bootstrap, a.scale, seed=a.seed, parent_effects=not a.no_parent_effects,
              bootstrap_errors=a.bootstrap_errors)
    secs = time.perf_counter() - t0
    flags = (f" --seed {a.seed}" if a.seed != 20240301 else "") + \
        (" --no-parent-effects" if a.no_parent_effects else "") + \
        (f" --bootstrap-errors {a.bootstrap_errors}" if a.bootstrap_errors != "binomial" else "")
    lines = ["# Small-area estimation against the known truth", "",
             f"Made by `python tools/small_area_truth.py --draws {a.draws} --bootstrap {a.bootstrap} --scale {a.scale}"
             f"{flags}` ({secs:.0f} s on this machine). {a.draws} independent SUSENAS-like samples of the synthetic "
             f"province (seed {a.seed}), each estimated by `small_area.area_poverty` (Fay-Herriot, arcsin, REML, "
             f"registry covariates{'' if a.no_parent_effects else ', kabupaten fixed effects'}, parametric bootstrap "
             f"MSE with {a.bootstrap_errors} direct estimates and the benchmarking redone in each replicate) and "
             "compared per kecamatan with the truth.", ""]
    fig, axes = plt.subplots(2, len(res), figsize=(5.5 * len(res), 9.0), squeeze=False)
    for ax, cal_ax, (ind, f) in zip(axes[0], axes[1], res.items()):
        s = summarise(f)
        sampled = s[s["draws_with_sample"] >= a.draws // 2]
        gain = float((sampled["rmse_fh"] < sampled["rmse_direct"]).mean())
        calib = float(s["mean_estimated_mse"].mean() / s["empirical_mse"].mean())
        calib_med = float(np.median(s["mean_estimated_mse"] / s["empirical_mse"]))
        calib_b = float(s["mean_estimated_mse_benchmarked"].mean() / s["empirical_mse_benchmarked"].mean())
        gain_b = float((sampled["rmse_benchmarked"] < sampled["rmse_direct"]).mean())
        name = "P0 (garis kemiskinan BPS)" if ind == "P0" else "kemiskinan ekstrem (US$2.15, 2017 PPP)"
        lines += [f"## {name}", "",
                  "| measure | value |", "|---|---|",
                  f"| kecamatan | {len(s)} ({len(sampled)} sampled in at least half of the draws) |",
                  f"| kecamatan where Fay-Herriot's RMSE < direct RMSE (among those), model / benchmarked | "
                  f"{gain:.0%} / {gain_b:.0%} |",
                  f"| median RMSE, direct / Fay-Herriot / benchmarked | {sampled['rmse_direct'].median():.4f} / "
                  f"{s['rmse_fh'].median():.4f} / {s['rmse_benchmarked'].median():.4f} |",
                  f"| average estimated MSE / average empirical MSE, Fay-Herriot | {calib:.2f} (median of the "
                  f"per-kecamatan ratios {calib_med:.2f}) |",
                  f"| average estimated MSE / average empirical MSE, benchmarked | {calib_b:.2f} |",
                  f"| direct estimates: mean squared error on the arcsin scale / the model's 1/(4 n_eff) | "
                  f"{sampling_variance_check(f):.2f} |",
                  f"| coverage of the 95% intervals, Fay-Herriot / benchmarked (all kecamatan, all draws) | "
                  f"{_cov(f, '_raw'):.1%} / {_cov(f):.1%} |", ""]
        ax.scatter(sampled["rmse_direct"], sampled["rmse_fh"], s=14, color="0.2")
        lim = float(max(sampled["rmse_direct"].max(), sampled["rmse_fh"].max())) * 1.05
        ax.plot([0, lim], [0, lim], color="0.5", lw=1, ls="--")
        ax.set_xlim(0, lim), ax.set_ylim(0, lim)
        ax.set_xlabel("RMSE perkiraan langsung / direct")
        ax.set_ylabel("RMSE Fay-Herriot")
        ax.set_title(f"{name}\n{gain:.0%} kecamatan di bawah garis / below the line", fontsize=10)
        # calibration of what is published: each kecamatan's mean estimated MSE against its empirical MSE
        est, emp = s["mean_estimated_mse_benchmarked"], s["empirical_mse_benchmarked"]
        cal_ax.scatter(emp, est, s=14, color="0.2")
        lo, hi = float(min(est.min(), emp.min())) * 0.8, float(max(est.max(), emp.max())) * 1.25
        cal_ax.plot([lo, hi], [lo, hi], color="0.5", lw=1, ls="--")
        cal_ax.set_xscale("log"), cal_ax.set_yscale("log")
        cal_ax.set_xlim(lo, hi), cal_ax.set_ylim(lo, hi)
        cal_ax.set_xlabel("MSE empiris / empirical (benchmarked)")
        cal_ax.set_ylabel("rata-rata MSE taksiran / mean estimated MSE")
        cal_ax.set_title(f"rata-rata / average ratio {calib_b:.2f}", fontsize=10)
    fig.tight_layout()
    a.out.mkdir(parents=True, exist_ok=True)
    fig.savefig(a.out / "small_area_truth.png", dpi=110)
    lines += ["![Top: RMSE per kecamatan, direct against Fay-Herriot. Bottom: each kecamatan's mean estimated MSE "
              "of the published (benchmarked) estimate against its empirical MSE](small_area_truth.png)", ""]
    (a.out / "small_area_truth.md").write_text("\n".join(lines))
    print("\n".join(lines))


def _cov(f: pd.DataFrame, suffix: str = "") -> float:
    return float(((f["ci_lower" + suffix] <= f["truth"]) & (f["truth"] <= f["ci_upper" + suffix])).mean())


if __name__ == "__main__":
    main()
