"""Design-based intervals cover the true population values at the nominal rate.

Many survey samples are drawn from the same synthetic population (the whole province at the
default seed), each estimated with the SUSENAS design; the share of 95% intervals that contain
the value in truth.json must lie in COVERAGE_BAND.
"""
from __future__ import annotations

import numpy as np
import pytest

from welfare_eval import poverty, survey, synth

N_SAMPLES = 200
# With 200 samples a true 95% rate gives a binomial sd of 1.5 points; the band.
COVERAGE_BAND = (0.92, 0.98)


@pytest.mark.slow
def test_intervals_cover_the_truth(world_full):
    truth = world_full.truth["population"]
    pop = world_full.population
    kabs = sorted(truth["kabupaten"])
    hits = {"P0": [], "P1": [], "Gini": [], "P0 kab": []}
    sampling = synth.SurveyFrame(pop)  # draw_survey's frame, prepared once for the 200 samples
    for i in range(N_SAMPLES):
        rng = np.random.default_rng(np.random.SeedSequence([7, i]))
        s = sampling.draw(rng, households=7000)
        kw = dict(welfare="cons_pc", design=survey.SUSENAS, household_size="hh_size")
        for key, table, target in (
                ("P0", poverty.fgt(s, poverty_line="poverty_line", alpha=0, **kw), truth["province"]["fgt0"]),
                ("P1", poverty.fgt(s, poverty_line="poverty_line", alpha=1, **kw), truth["province"]["fgt1"]),
                ("Gini", poverty.gini(s, **kw), truth["province"]["gini"])):
            f = table.to_frame()
            hits[key].append(bool(f["ci_lower"].iloc[0] <= target <= f["ci_upper"].iloc[0]))
        f = poverty.fgt(s, poverty_line="poverty_line", by="kab_code", **kw).to_frame().set_index("kab_code")
        for k in kabs:
            hits["P0 kab"].append(bool(f.loc[k, "ci_lower"] <= truth["kabupaten"][k]["fgt0"] <= f.loc[k, "ci_upper"]))
    rates = {k: float(np.mean(v)) for k, v in hits.items()}
    print("coverage of 95% intervals over", N_SAMPLES, "samples:", rates)
    for key, rate in rates.items():
        assert COVERAGE_BAND[0] <= rate <= COVERAGE_BAND[1], (key, rate)
