"""Speed of design-based poverty and targeting indicators by domain, against R survey and svy.

    .venv/bin/python benchmarks/survey_indicators.py [--rows 1000000] [--svy-python PATH] [--skip-r]

Data: a synthetic survey with 60 strata, 3,000 PSUs and 100 domains that cut across strata.
Prints, in one run:
- one headcount (person-level FGT0) by 100 domains with linearized SEs: welfare-eval, R's
  ``svyby(~poor, ~domain, design, svymean)`` (when Rscript and the survey package are installed)
  and the Rust-backed ``svy`` package (in this interpreter, or the one given by --svy-python), the
  ratios and the largest difference in estimates and standard errors;
- the full indicator table (FGT 0/1/2, extreme poverty and the ASPIRE/CEQ/targeting set for PKH
  and BPNT, about 20 indicators) by 100 domains;
- peak memory of the single indicator against the size of its input columns;
- how the single indicator's time grows with rows (1e5, 1e6, 1e7 with --scaling).
Timings are the best of REPEATS runs after one warm-up; only the estimation is timed (not I/O).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np
import pandas as pd

REPEATS = 3
N_STRATA, N_PSU, N_DOMAINS = 60, 3000, 100


def make_data(rows: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    psu = rng.integers(0, N_PSU, rows)
    strata = psu // (N_PSU // N_STRATA)
    domain = rng.integers(0, N_DOMAINS, rows)
    size = rng.integers(1, 9, rows)
    cons = np.exp(13.3 + 0.004 * domain + rng.normal(0, 0.2, N_PSU)[psu] + rng.normal(0, 0.45, rows))
    pkh = rng.random(rows) < 0.15
    bpnt = rng.random(rows) < 0.25
    pkh_amount = np.where(pkh, rng.choice([900_000, 1_500_000, 3_000_000, 5_400_000], rows), 0.0)
    bpnt_amount = np.where(bpnt, 2_400_000.0, 0.0)
    cons = cons + (pkh_amount + bpnt_amount) / 12 / size
    return pd.DataFrame({"strata": strata, "psu": psu, "weight": rng.uniform(20, 200, rows), "hh_size": size,
                         "domain": domain, "cons_pc": cons, "poverty_line": 500_000.0 + 1_000.0 * (domain % 7),
                         "extreme_line": 391_000.0, "pkh": pkh, "pkh_amount": pkh_amount, "bpnt": bpnt,
                         "bpnt_amount": bpnt_amount})


def best_of(fn, repeats: int = REPEATS) -> tuple[float, object]:
    fn()  # warm-up
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def ours_headcount(d: pd.DataFrame):
    from welfare_eval import poverty, survey
    return poverty.fgt(d, welfare="cons_pc", poverty_line="poverty_line", design=survey.SUSENAS, by="domain",
                       household_size="hh_size")


def ours_table(d: pd.DataFrame):
    from welfare_eval import survey, targeting
    return targeting.indicator_table(d, design=survey.SUSENAS, by="domain")


R_SCRIPT = r"""
suppressPackageStartupMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
d$pw <- d$weight * d$hh_size
d$poor <- as.numeric(d$cons_pc < d$poverty_line)
des <- svydesign(ids = ~psu, strata = ~strata, weights = ~pw, nest = TRUE, data = d)
t <- system.time(r <- svyby(~poor, ~domain, des, svymean))[["elapsed"]]
write.csv(data.frame(domain = r$domain, estimate = coef(r), std_error = SE(r), seconds = t), args[2],
          row.names = FALSE)
"""

SVY_SCRIPT = r"""
import json, sys, time
import numpy as np, polars as pl, svy
d = pl.read_parquet(sys.argv[1]).with_columns(
    (pl.col("weight") * pl.col("hh_size")).alias("pw"),
    (pl.col("cons_pc") < pl.col("poverty_line")).cast(pl.Float64).alias("poor"))
s = svy.Sample(data=d, design=svy.Design(stratum="strata", psu="psu", wgt="pw"))
s.estimation.mean(y="poor", by="domain")  # warm-up
times = []
for _ in range(3):
    t0 = time.perf_counter()
    r = s.estimation.mean(y="poor", by="domain")
    times.append(time.perf_counter() - t0)
f = r.to_polars() if hasattr(r, "to_polars") else pl.DataFrame(r.to_dict())
print(json.dumps({"seconds": min(times), "table": f.to_dicts()}, default=float))
"""


def run_r(d: pd.DataFrame, tmp: str):
    if shutil.which("Rscript") is None:
        return None, "Rscript not installed"
    ok = subprocess.run(["Rscript", "-e", "library(survey)"], capture_output=True)
    if ok.returncode != 0:
        return None, "R package survey not installed"
    csv, out, script = (os.path.join(tmp, n) for n in ("d.csv", "r.csv", "b.R"))
    d.to_csv(csv, index=False)
    with open(script, "w") as fh:
        fh.write(R_SCRIPT)
    subprocess.run(["Rscript", script, csv, out], check=True, capture_output=True)
    return pd.read_csv(out), "R " + subprocess.run(["Rscript", "-e", "cat(R.version$version.string)"],
                                                   capture_output=True, text=True).stdout


def run_svy(d: pd.DataFrame, tmp: str, python: str | None):
    exe = python or sys.executable
    probe = subprocess.run([exe, "-c", "import svy, polars; print(svy.__version__)"], capture_output=True, text=True)
    if probe.returncode != 0:
        return None, "svy not installed (pip install svy in another environment and pass --svy-python)"
    pq, script = os.path.join(tmp, "d.parquet"), os.path.join(tmp, "svy_bench.py")
    d.to_parquet(pq, index=False)
    with open(script, "w") as fh:
        fh.write(SVY_SCRIPT)
    res = subprocess.run([exe, script, pq], capture_output=True, text=True, check=True)
    r = json.loads(res.stdout.strip().splitlines()[-1])
    return r, f"svy {probe.stdout.strip()}"


def compare(ours: pd.DataFrame, other: pd.DataFrame, est: str, se: str) -> tuple[float, float]:
    m = ours.merge(other, on="domain", suffixes=("", "_o"))
    return float(np.max(np.abs(m["estimate"] - m[est]))), float(np.max(np.abs(m["std_error"] - m[se])))


MEMORY_CHILD = textwrap.dedent("""
    import sys, tracemalloc
    sys.path.insert(0, {root!r})
    from benchmarks.survey_indicators import make_data, ours_headcount
    d = make_data({rows})
    cols = ["strata", "psu", "weight", "hh_size", "domain", "cons_pc", "poverty_line"]
    inputs = sum(d[c].to_numpy().nbytes for c in cols)
    tracemalloc.start()  # numpy reports its buffers to tracemalloc
    ours_headcount(d)
    _, peak = tracemalloc.get_traced_memory()
    print(inputs, peak)
""")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--svy-python", default=None)
    ap.add_argument("--skip-r", action="store_true")
    ap.add_argument("--scaling", action="store_true", help="also time 1e5, 1e6 and 1e7 rows")
    args = ap.parse_args()
    d = make_data(args.rows)
    print(f"data: {args.rows:,} households, {N_STRATA} strata, {N_PSU} PSUs, {N_DOMAINS} domains")
    t1, res = best_of(lambda: ours_headcount(d))
    ours = res.to_frame()[["domain", "estimate", "std_error"]]
    print(f"welfare-eval  headcount by domain     {t1:8.3f} s")
    t_full, full = best_of(lambda: ours_table(d), repeats=2)
    print(f"welfare-eval  full table ({full.to_frame()['estimand'].nunique()} indicators x {N_DOMAINS} domains, "
          f"{len(full)} cells) {t_full:8.3f} s")
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_r:
            r, label = run_r(d, tmp)
            if r is None:
                print(f"R survey      skipped: {label}")
            else:
                de, ds = compare(ours, r, "estimate_o", "std_error_o")
                print(f"{label}: svyby {r['seconds'].iloc[0]:8.3f} s  ratio {r['seconds'].iloc[0] / t1:6.0f}x  "
                      f"max |diff| estimate {de:.2e}, SE {ds:.2e}")
        sv, label = run_svy(d, tmp, args.svy_python)
        if sv is None:
            print(f"svy           skipped: {label}")
        else:
            f = pd.DataFrame(sv["table"])
            est_col = "est" if "est" in f else "estimate"
            se_col = "se" if "se" in f else "std_error"
            f = f.rename(columns={est_col: "estimate_o", se_col: "std_error_o"})
            f["domain"] = f["domain"].astype(int)
            de, ds = compare(ours, f, "estimate_o", "std_error_o")
            print(f"{label}: mean by domain {sv['seconds']:8.3f} s  ratio {sv['seconds'] / t1:6.1f}x  "
                  f"max |diff| estimate {de:.2e}, SE {ds:.2e}")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-c", MEMORY_CHILD.format(root=root, rows=args.rows)], capture_output=True,
                         text=True, check=True)
    inputs, peak = map(int, out.stdout.split())
    print(f"memory: input columns {inputs / 1e6:.0f} MB, peak allocated during the headcount by domain "
          f"{peak / 1e6:.0f} MB ({peak / inputs:.2f} x inputs)")
    if args.scaling:
        for rows in (100_000, 1_000_000, 10_000_000):
            dd = make_data(rows)
            t, _ = best_of(lambda dd=dd: ours_headcount(dd))
            print(f"scaling: {rows:>10,} rows  {t:7.3f} s  ({t / rows * 1e9:6.1f} ns per row)")
            del dd


if __name__ == "__main__":
    main()
