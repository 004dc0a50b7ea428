"""Time and peak memory of the synthetic generator at several scales.

    .venv/bin/python benchmarks/synth_scale.py [SCALE ...]      (default: 1 10)

Each scale runs in a fresh process so that peak resident memory (ru_maxrss) belongs to it alone.
Targets of the foundation issue: the whole province (scale 1) in under 30 s, scale 10 within 4 GB.
"""
from __future__ import annotations

import json
import subprocess
import sys

CHILD = """
import json, resource, sys, time, tempfile
from welfare_eval import synth
scale = float(sys.argv[1])
t0 = time.perf_counter()
world = synth.generate(20240301, scale)
t1 = time.perf_counter()
with tempfile.TemporaryDirectory() as d:
    synth.write(world, d + "/out")
t2 = time.perf_counter()
print(json.dumps({"scale": scale, "households": len(world.registry), "generate_s": t1 - t0,
                  "write_s": t2 - t1, "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2}))
"""


def main(scales: list[float]) -> None:
    print(f"{'scale':>6} {'households':>11} {'generate s':>11} {'write s':>8} {'total s':>8} {'peak GB':>8}")
    for s in scales:
        out = subprocess.run([sys.executable, "-c", CHILD, str(s)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{r['scale']:>6g} {r['households']:>11,} {r['generate_s']:>11.1f} {r['write_s']:>8.1f} "
              f"{r['generate_s'] + r['write_s']:>8.1f} {r['peak_rss_gb']:>8.2f}")


if __name__ == "__main__":
    main([float(a) for a in sys.argv[1:]] or [1.0, 10.0])
