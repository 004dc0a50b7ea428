"""Build the test datasets of the R survey cross-check (committed CSV; rerun only to change them).

    python tests/reference/make_survey_data.py

survey_data.csv: 6 strata, 3-8 PSUs each (PSU codes repeat across strata: nested), 6 to 12
households per PSU, domains `region` (5 values that cut across strata) and `urban`, a welfare
variable with a poverty line per row, household size, a finite population count of PSUs.
survey_lonely.csv: the same with one stratum reduced to a single PSU.
"""
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def build(seed: int = 2024) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for h in range(6):
        n_psu = int(rng.integers(3, 9))
        N_h = n_psu * int(rng.integers(4, 20))
        for j in range(n_psu):
            m = int(rng.integers(6, 13))
            psu_effect = rng.normal(0, 0.25)
            for k in range(m):
                size = int(rng.integers(1, 9))
                region = int(rng.integers(1, 6))
                urban = int(rng.random() < 0.3 + 0.1 * h)
                y = float(np.exp(13.0 + 0.15 * h + 0.3 * urban - 0.05 * size + psu_effect + rng.normal(0, 0.45)))
                z = 480_000.0 + 25_000.0 * urban + 5_000.0 * region
                rows.append({"strata": f"S{h + 1}", "psu": j + 1, "fpc_n": N_h, "region": f"R{region}",
                             "urban": urban, "hh_size": size, "w": round(float(rng.uniform(20, 180)), 3),
                             "y": round(y, 2), "x": round(float(rng.uniform(1, 5) + size), 3), "z": z})
    return pd.DataFrame(rows)


if __name__ == "__main__":
    d = build()
    d.to_csv(HERE / "survey_data.csv", index=False)
    lonely = d[(d["strata"] != "S2") | (d["psu"] == 1)]
    lonely.to_csv(HERE / "survey_lonely.csv", index=False)
    print(len(d), "rows;", len(lonely), "rows in the lonely-PSU variant")
