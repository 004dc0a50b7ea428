"""Speed of `welfare-eval run` against a shell loop calling the `papermill` command, same jobs.

    .venv/bin/python benchmarks/run_reports.py [--data data/synthetic] [--regions all,7601,...] [--loop-jobs N]

The jobs: every report notebook for the province and each of the six kabupaten (8 x 7 = 56, what
`make report` runs) on the synthetic province at the default scale. The loop is what a team would write by hand:

    for each kabupaten, for each notebook:  papermill NB OUT -p kabupaten K -p results DIR ...

one process after another, each starting Python, papermill, a kernel and the imports. welfare-eval
runs the same jobs on one worker per core with kernels forked from a warm template ahead of need,
fits the province-wide small-area models once per run (welfare_eval.cache), and also writes both
HTML exports of every notebook (the loop writes only the executed notebook).

Prints: wall time of each side and the ratio; the CPU seconds (user + sys) of the welfare-eval run,
its workers, templates and kernels, which the load of other processes changes far less than wall;
per-job overhead of welfare-eval at steady state (job time minus the notebook's own cell time,
median over jobs after each worker's first); the time of a resume run with nothing to do.
``--loop-jobs N`` times the loop on the first N jobs only and scales it to all of them (says so in
the output) when a full loop would take too long.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def jobs(regions: list[str]) -> list[tuple[Path, str]]:
    nbs = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    return [(nb, k) for k in regions for nb in nbs]


def papermill_loop(job_list, data: Path, out: Path) -> float:
    out.mkdir(parents=True, exist_ok=True)
    results = out / "results"
    t0 = time.perf_counter()
    for nb, k in job_list:
        subprocess.run([str(BIN / "papermill"), str(nb), str(out / f"{nb.stem}_{k}.ipynb"), "-p", "data_dir",
                        str(data), "-p", "kabupaten", k, "-p", "results", str(results), "--cwd", str(nb.parent),
                        "--no-progress-bar", "-k", "python3"], check=True, capture_output=True)
    return time.perf_counter() - t0


def welfare_eval_run(data: Path, out: Path, regions: list[str], extra=()) -> tuple[float, dict]:
    env = {**os.environ, "WELFARE_EVAL_NO_SCREENSHOTS": "1"}
    t0 = time.perf_counter()
    cpu0 = os.times()
    subprocess.run([str(BIN / "welfare-eval"), "run", "--data", str(data), "--kabupaten", ",".join(regions),
                    "--output-root", str(out), "--run-id", "bench", *extra], check=True, capture_output=True, env=env)
    wall = time.perf_counter() - t0
    cpu1 = os.times()
    man = json.loads((out / "bench" / "manifest.json").read_text())
    man["_cpu_s"] = (cpu1.children_user - cpu0.children_user) + (cpu1.children_system - cpu0.children_system)
    return wall, man


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO / "data" / "synthetic")
    ap.add_argument("--regions", default="all,7601,7602,7603,7604,7605,7606")
    ap.add_argument("--loop-jobs", type=int, default=0, help="time the loop on this many jobs and scale (0 = all)")
    args = ap.parse_args()
    regions = args.regions.split(",")
    job_list = jobs(regions)
    n = len(job_list)
    print(f"{n} jobs ({n // len(regions)} notebooks x {len(regions)} regions), data {args.data}, "
          f"{os.cpu_count()} cores, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} at the start")
    tmp = Path(tempfile.mkdtemp(prefix="bench-run-"))
    try:
        wall, man = welfare_eval_run(args.data.resolve(), tmp / "we", regions)
        recs = man["jobs"]
        assert all(r["status"] == "ok" for r in recs), [r["job_id"] for r in recs if r["status"] != "ok"]
        first = {}
        steady = []
        for r in sorted(recs, key=lambda r: r["started"]):
            w = r["where"]["worker"]
            if w in first:
                steady.append(r["overhead_s"])
            else:
                first[w] = r["overhead_s"]
        cells = sum(r["cells_s"] for r in recs)
        print(f"welfare-eval run ({man['workers']} workers): {wall:7.1f} s wall, {man['_cpu_s']:.1f} s CPU "
              f"(notebook cells {cells:.1f} s in total, job durations "
              f"{sum(r['duration_s'] for r in recs):.1f} s; each job also exported to HTML twice)")
        print(f"  per-job overhead at steady state: median {statistics.median(steady):.2f} s, "
              f"max {max(steady):.2f} s over {len(steady)} jobs (first job per worker: "
              f"{', '.join(f'{v:.2f}' for v in first.values())} s)")
        waits = [r.get("kernel_wait_s") or 0 for r in recs]
        print(f"  waiting for a kernel: median {statistics.median(waits):.3f} s (warm kernels)")
        t0 = time.perf_counter()
        welfare_eval_run(args.data.resolve(), tmp / "we", regions)
        resume = time.perf_counter() - t0
        print(f"resume with nothing to do: {resume:.2f} s")

        k = args.loop_jobs or n
        loop = papermill_loop(job_list[:k], args.data.resolve(), tmp / "loop")
        scaled = loop * n / k
        note = "" if k == n else f" (measured on {k} jobs: {loop:.1f} s, scaled to {n})"
        print(f"papermill shell loop: {scaled:7.1f} s{note}; {scaled / n:.2f} s per job")
        print(f"ratio loop / welfare-eval: {scaled / wall:.2f}x")
        print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} at the end")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
