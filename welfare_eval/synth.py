"""The synthetic West Sulawesi province and its truth file.

A stand-in for the real microdata: every household of the province (the population, with its
consumption, which no registry observes), the DTSEN-like registry drawn from it, a SUSENAS-like
two-stage survey sample, an evaluation panel with a staggered TKSK roll-out, quarterly
disbursement records, raw exports as an office receives them (NIK numbers, SUSENAS names, Stata
and SPSS files), and ``truth.json`` with every population value and effect built in.

How the world is built (details in ``docs/synthetic.md``):

- Households are spread over the 69 kecamatan and their desa in proportion to the 2020 census.
  Log consumption per capita before transfers depends on kabupaten, area, schooling, household
  size and composition, kecamatan and desa effects and an idiosyncratic term; the kabupaten
  intercepts are calibrated so that post-transfer headcounts meet ``welfare_eval/data/synth_calibration.yaml``.
- Asset and housing indicators depend on consumption; the PMT score is the least-squares
  prediction of log consumption from them (as BPS fits the PMT on SUSENAS), and the deciles rank
  persons by that score, so PMT targeting errors arise as they do in practice.
- PKH goes to families in deciles 1-3 with a PKH component, with imperfect take-up and some
  leakage above the cut-off (a fuzzy discontinuity at the decile-3 PMT threshold); BPNT to deciles
  1-4 likewise. Receipt depends only on observed traits (PMT score, components, female head), so
  conditioning on them removes the bias of naive comparisons.
- The panel draws households with an oversample of deciles 1-4. TKSK starts in a quarter of the
  kecamatan in each of 2022, 2023 and 2024 (poorer kecamatan first), with effects on
  empowerment outcomes that grow with exposure and shrink for later cohorts, so naive two-way
  fixed effects is biased while parallel trends hold by construction.
"""
from __future__ import annotations

import copy
import functools
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy.special import expit
from scipy.stats import norm

from . import __version__, regions
from .config import DEFAULT_SEED, data_dir, synthetic_dir
from .exceptions import parameter_error
from .io import DEFAULT_EXTREME_LINE, extreme_line_value, poverty_lines
from .poverty import fgt_value, gini_value

GENERATOR_VERSION = "1"
#: Reference date pinned into the Stata and SPSS headers so that files are identical per seed.
FILE_TIMESTAMP = ("01 Mar 2024 00:00", "01 Mar 24", "00:00:00")

# structural parameters of the welfare model (log consumption per capita, before transfers)
SD_IDIOSYNCRATIC = 0.23
SKEW_IDIOSYNCRATIC = 0.42   # mean of an exponential term: a long upper tail, as consumption has
URBAN_PREMIUM = 0.30
SD_KECAMATAN = 0.10
SD_DESA = 0.06
# PMT: how strongly each asset responds to log consumption (larger = a more accurate PMT)
ASSET_SLOPES = {"floor_earth": -0.35, "wall_bamboo": -0.3, "no_toilet": -0.3, "no_electricity": -0.25,
                "cooking_wood": -0.3, "owns_motorbike": 0.35, "owns_fridge": 0.45, "owns_land": 0.15}
ASSET_INTERCEPTS = {"floor_earth": -1.2, "wall_bamboo": -0.9, "no_toilet": -1.0, "no_electricity": -2.2,
                    "cooking_wood": 0.0, "owns_motorbike": 0.8, "owns_fridge": -0.4, "owns_land": 0.2}
ASSET_URBAN = {"floor_earth": -0.8, "wall_bamboo": -0.7, "no_toilet": -0.6, "no_electricity": -1.5,
               "cooking_wood": -1.8, "owns_motorbike": 0.2, "owns_fridge": 0.6, "owns_land": -1.6}
# PKH components in the order of their value (the cap of four keeps the most valuable)
PKH_COMPONENTS = (("n_pregnant", "pregnant"), ("n_child_0_6", "child_0_6"), ("n_disabled", "disability"),
                  ("n_elderly_70", "elderly_70"), ("n_senior", "senior"), ("n_junior", "junior"),
                  ("n_primary", "primary"))
# panel: real consumption growth per year and the spread of wave-to-wave shocks
GROWTH = 0.02
SD_WAVE = 0.10
# TKSK effects: at first exposure, growing by half of it per further year, scaled by cohort
TKSK_BASE = {"kks_independent": 0.08, "knows_program": 0.10, "has_savings": 0.04, "kube_member": 0.03}
TKSK_BUSINESS = (0.03, 0.05)        # business probability, log business income
TKSK_GRADUATION = 0.02              # extra yearly hazard of graduation
TKSK_GROWTH = 0.5
TKSK_COHORT_SCALE = {0: 1.3, 1: 1.0, 2: 0.7}   # by cohort order: earliest first
TKSK_NON_KPM = 0.3                  # intensity for households outside PKH and BPNT
#: With ``tksk_rollout="targeted"``: change per wave of the empowerment probabilities per standard
#: deviation of the household's PMT score (negative: poorer households gain faster without TKSK),
#: the score clipped at +-2.5 SD. Kecamatan with the lowest mean PMT score get TKSK first, so
#: parallel trends hold only given the PMT score.
TARGETED_TREND = -0.03
TARGETED_Z_CLIP = 2.5
# PKH and BPNT effects: proportional reductions of the probability
PKH_REDUCTION = {"child_out_of_school": 0.50, "child_stunted": 0.23, "early_marriage": 0.20}
BPNT_REDUCTION = {"child_stunted": 0.10}
GRADUATION_HAZARD = 0.04
BUSINESS_SD = 0.3


@functools.lru_cache(maxsize=8)
def _parsed_yaml(path: Path) -> dict:
    # parsed once per process (about 10 ms each, four times per province: a tenth of a panel's generation)
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _calibration() -> dict:
    return copy.deepcopy(_parsed_yaml(data_dir() / "synth_calibration.yaml"))


def _rules() -> dict:
    return copy.deepcopy(_parsed_yaml(data_dir() / "program_rules.yaml"))


def _cpi() -> dict[int, float]:
    c = pd.read_csv(data_dir() / "cpi.csv")
    return dict(zip(c["year"].astype(int), c["cpi"].astype(float)))


@dataclass
class World:
    """Everything the generator built; ``population`` holds what no analyst sees."""

    seed: int
    scale: float
    population: pd.DataFrame
    registry: pd.DataFrame
    survey: pd.DataFrame
    panel: pd.DataFrame
    disbursement: pd.DataFrame
    truth: dict


# ---------------------------------------------------------------------------------------------
# geography

def _geography(rng: np.random.Generator, scale: float, cal: dict) -> pd.DataFrame:
    """One row per desa: codes, urban flag, number of households."""
    kab = regions.kabupaten()
    kec = regions.kecamatan()
    capitals = {"Banggae": 0.85, "Banggae Timur": 0.55, "Polewali": 0.8, "Wonomulyo": 0.5, "Mamuju": 0.8,
                "Simboro": 0.45, "Kalukku": 0.3, "Pasangkayu": 0.55, "Mamasa": 0.45, "Topoyo": 0.4,
                "Campalagian": 0.25, "Tinambung": 0.35}
    rows = []
    for _, k in kab.iterrows():
        n_hh = int(round(k["population_2020"] * scale / cal["persons_per_household"]))
        kk = kec[kec["kab_code"] == k["kab_code"]].reset_index(drop=True)
        share = rng.gamma(4.0, size=len(kk)) * np.where(kk["kec_name"].isin(capitals), 2.0, 1.0)
        n_kec = rng.multinomial(n_hh, share / share.sum())
        kab_code = k["kab_code"]
        # plain lists, not rows of the frame: a pandas lookup per desa was a third of the panel's generation
        for kec_code, kec_name, nk in zip(kk["kec_code"].tolist(), kk["kec_name"].tolist(), n_kec):
            n_desa = int(rng.integers(6, 16))
            w = rng.gamma(3.0, size=n_desa)
            n_d = rng.multinomial(nk, w / w.sum())
            urban_p = capitals.get(kec_name, 0.06)
            urb = rng.random(n_desa) < urban_p
            if kec_name in capitals:
                urb[0] = True
            for j in range(n_desa):
                rows.append((kab_code, kec_code, f"{kec_code}{j + 1:03d}", bool(urb[j]), int(n_d[j])))
    return pd.DataFrame(rows, columns=["kab_code", "kec_code", "desa_code", "urban", "n_hh"])


# ---------------------------------------------------------------------------------------------
# the population

def _draw_households(rng: np.random.Generator, geo: pd.DataFrame, cal: dict) -> pd.DataFrame:
    n = int(geo["n_hh"].sum())
    desa_idx = np.repeat(np.arange(len(geo)), geo["n_hh"].to_numpy())
    urban = geo["urban"].to_numpy()[desa_idx]
    hh_size = np.minimum(1 + rng.poisson(cal["persons_per_household"] - 1.0, n), 12)
    head_age = np.clip(np.round(rng.normal(46, 13, n)), 18, 95).astype(np.int16)
    head_female = rng.random(n) < np.where(hh_size == 1, 0.45, 0.12)
    levels = np.array([0, 6, 9, 12, 16])
    p_urban, p_rural = [0.05, 0.25, 0.20, 0.35, 0.15], [0.12, 0.40, 0.20, 0.22, 0.06]
    head_educ = np.where(urban, rng.choice(levels, n, p=p_urban), rng.choice(levels, n, p=p_rural)).astype(np.int8)
    n_kids = rng.binomial(hh_size - 1, 0.5)
    comp = rng.multinomial(n_kids, [0.34, 0.30, 0.14, 0.12, 0.10])
    adults = hh_size - n_kids
    df = pd.DataFrame({
        "hh_id": np.arange(1, n + 1, dtype=np.int64),
        "desa_idx": desa_idx.astype(np.int32),
        "urban": urban,
        "hh_size": hh_size.astype(np.int16),
        "head_female": head_female,
        "head_age": head_age,
        "head_educ": head_educ,
        "n_child_0_6": comp[:, 0].astype(np.int8),
        "n_primary": comp[:, 1].astype(np.int8),
        "n_junior": comp[:, 2].astype(np.int8),
        "n_senior": comp[:, 3].astype(np.int8),
        "n_elderly_70": ((rng.random(n) < 0.05 + 0.15 * (head_age >= 70)) & (adults >= 1)).astype(np.int8),
        "n_disabled": (rng.random(n) < 0.03).astype(np.int8),
        "n_pregnant": ((rng.random(n) < 0.03 + 0.05 * (comp[:, 0] > 0)) & (adults >= 2)).astype(np.int8),
    })
    # census blocks of about block_size households within each desa, households in random order
    n_blocks = np.maximum(1, np.round(geo["n_hh"].to_numpy() / cal["survey"]["block_size"])).astype(np.int64)
    df["block"] = (desa_idx.astype(np.int64) * 1000 + np.floor(rng.random(n) * n_blocks[desa_idx])).astype(np.int64)
    return df


def _component_amounts(df: pd.DataFrame, rules: dict) -> tuple[np.ndarray, np.ndarray]:
    """PKH amount (Rp per year) a family would get, and its number of components."""
    remaining = np.full(len(df), rules["pkh"]["max_components"], dtype=np.int64)
    amount = np.zeros(len(df))
    n_comp = np.zeros(len(df), dtype=np.int64)
    for col, comp in PKH_COMPONENTS:
        take = np.minimum(df[col].to_numpy().astype(np.int64), remaining)
        amount += take * rules["pkh"]["components"][comp]
        n_comp += df[col].to_numpy()
        remaining -= take
    return amount, n_comp


def _least_squares_fit(columns: list, y: np.ndarray) -> np.ndarray:
    """Fitted values of y on the columns, by the normal equations built one column pair at a time.

    The same fit as ``lstsq`` on the stacked matrix without holding that matrix (it would take
    most of the memory at scale 10); the columns are few and far from collinear. The sums are
    numpy's pairwise sums, not BLAS dot products, whose order of summation (so the last bits of
    the PMT score) depended on BLAS's thread count: one seed now makes one province on any machine.
    """
    cols = [np.asarray(c, dtype=float) for c in columns]
    k = len(cols)
    xtx = np.empty((k, k))
    for i in range(k):
        for j in range(i, k):
            xtx[i, j] = xtx[j, i] = np.add.reduce(cols[i] * cols[j])
    beta = np.linalg.solve(xtx, np.array([np.add.reduce(c * y) for c in cols]))
    fitted = np.zeros(len(y))
    for b, c in zip(beta, cols):
        fitted += b * c
    return fitted


def _stable_argsort(x: np.ndarray) -> np.ndarray:
    """``np.argsort(x, kind="stable")`` in a quarter of the time for 76,000 PMT scores (half of them tied):
    a fast unstable sort, then one more on keys (run of equal values, position) that are all distinct,
    so the order is unique and is the stable one."""
    order = np.argsort(x)
    v = x[order]
    if np.isnan(v[-1:]).any():  # NaN never equals itself: leave NaNs to the stable sort
        return np.argsort(x, kind="stable")
    run = np.concatenate([[0], np.cumsum(v[1:] != v[:-1])]).astype(np.int64)
    return order[np.argsort(run * len(x) + order)]


def _welfare_dependent(lc: np.ndarray, df: pd.DataFrame, u: dict, rules: dict, kab_idx: np.ndarray) -> dict:
    """Assets, PMT score, deciles and programme receipt given log consumption (no new draws)."""
    urban = df["urban"].to_numpy()
    centre = np.median(lc)
    out = {}
    for a, slope in ASSET_SLOPES.items():
        p = expit(ASSET_INTERCEPTS[a] + slope * (lc - centre) / 0.37 + ASSET_URBAN[a] * urban)
        out[a] = u[a] < p
    # the PMT: least squares of log consumption on what a registry observes
    x_cols = [np.ones(len(lc)), *(out[a] for a in ASSET_SLOPES), urban, df["hh_size"].to_numpy(),
              df["head_educ"].to_numpy(), df["head_female"].to_numpy(), df["n_child_0_6"].to_numpy(),
              *((kab_idx == k) for k in range(1, 6))]
    pmt = _least_squares_fit(x_cols, lc)
    persons = df["hh_size"].to_numpy(float)
    order = _stable_argsort(pmt)
    cum = np.empty(len(lc))
    cum[order] = (np.cumsum(persons[order]) - 0.5 * persons[order]) / persons.sum()
    decile = np.clip(np.floor(cum * 10).astype(int) + 1, 1, 10)
    amount, n_comp = _component_amounts(df, rules)
    female = df["head_female"].to_numpy()
    elig_pkh = (decile <= rules["pkh"]["eligible_max_decile"]) & (n_comp > 0)
    p_pkh_in = expit(1.3 + 0.3 * female + 0.15 * np.minimum(n_comp, 4))
    p_pkh_out = expit(-2.0 - 0.45 * (decile - 4))
    p_pkh = np.where(n_comp > 0, np.where(elig_pkh, p_pkh_in, p_pkh_out), 0.0)
    elig_bpnt = decile <= rules["bpnt"]["eligible_max_decile"]
    p_bpnt = np.where(elig_bpnt, expit(1.4 + 0.3 * female + 0.2 * (decile <= 2)), expit(-2.2 - 0.45 * (decile - 5)))
    pkh = u["pkh"] < p_pkh
    bpnt = u["bpnt"] < p_bpnt
    out.update(pmt_score=pmt, decile=decile, pkh=pkh, bpnt=bpnt, pkh_potential=amount, n_components=n_comp,
               p_pkh_in=np.where(n_comp > 0, p_pkh_in, 0.0), p_pkh_out=np.where(n_comp > 0, p_pkh_out, 0.0),
               pkh_amount=np.where(pkh, amount, 0.0),
               bpnt_amount=np.where(bpnt, 12.0 * rules["bpnt"]["monthly_amount"], 0.0))
    return out


def _calibrated_shift(lc: np.ndarray, transfer: np.ndarray, z: np.ndarray, persons: np.ndarray, total: float,
                      target: float, lo: float = -1.5, hi: float = 1.5, steps: int = 50) -> float:
    """The shift ``s`` of log consumption at which the headcount ``sum(persons [exp(lc + s) + transfer < z])
    / total`` crosses ``target``, by ``steps`` bisection steps on ``[lo, hi]``.

    Being below the line can only stop as ``s`` grows, so once a step has decided a side, the
    households it found on the far side keep their status for every later step: they are counted
    (or dropped) once, and each step evaluates only the households still undecided (a few steps
    in, a handful). Household sizes are whole numbers, so the sums, and every step's decision, are
    exactly those of evaluating all households at every step.
    """
    undecided = np.arange(len(lc))
    below = 0.0   # persons below the line at every shift still possible
    for _ in range(steps):
        s = 0.5 * (lo + hi)
        poor = np.exp(lc[undecided] + s) + transfer[undecided] < z[undecided]
        rate = (below + np.sum(persons[undecided] * poor)) / total
        if rate > target:   # later shifts are larger: the non-poor stay non-poor
            lo = s
            undecided = undecided[poor]
        else:               # later shifts are smaller: the poor stay poor
            hi = s
            below += float(np.sum(persons[undecided] * poor))
            undecided = undecided[~poor]
    return 0.5 * (lo + hi)


def _population(rng: np.random.Generator, scale: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    cal, rules = _calibration(), _rules()
    geo = _geography(rng, scale, cal)
    df = _draw_households(rng, geo, cal)
    kab_codes = regions.kabupaten()["kab_code"].tolist()
    kec_codes = regions.kecamatan()["kec_code"].tolist()
    geo_kab = pd.Categorical(geo["kab_code"], categories=kab_codes)
    kab_idx = geo_kab.codes[df["desa_idx"].to_numpy()]
    kec_idx = pd.Categorical(geo["kec_code"], categories=kec_codes).codes[df["desa_idx"].to_numpy()]
    n = len(df)
    kec_eff = rng.normal(0, SD_KECAMATAN, len(kec_codes))
    desa_eff = rng.normal(0, SD_DESA, len(geo))
    eps = rng.normal(0, SD_IDIOSYNCRATIC, n) + rng.exponential(SKEW_IDIOSYNCRATIC, n) - SKEW_IDIOSYNCRATIC
    u = {a: rng.random(n) for a in [*ASSET_SLOPES, "pkh", "bpnt"]}
    urban = df["urban"].to_numpy()
    base = (URBAN_PREMIUM * urban + 0.035 * (df["head_educ"].to_numpy() - 7) - 0.07 * (df["hh_size"].to_numpy() - 3.75)
            - 0.04 * df["head_female"].to_numpy() - 0.05 * df["n_child_0_6"].to_numpy()
            + kec_eff[kec_idx] + desa_eff[df["desa_idx"].to_numpy()] + eps)
    gk = poverty_lines()
    gk = gk[gk["kind"] == "poverty"]
    z_lookup = {(k, u_ == "1"): float(v) for k, u_, v in zip(gk["kab_code"], gk["urban"], gk["value"])}
    z = np.array([[z_lookup[(kc, False)], z_lookup[(kc, True)]] for kc in kab_codes])[kab_idx, urban.astype(int)]
    persons = df["hh_size"].to_numpy(float)
    targets = np.array([cal["target_headcount"][k] for k in kab_codes])
    mu = np.log(z.mean()) + 1.22 * 0.37 + np.zeros(6)
    in_kab = [kab_idx == k for k in range(6)]
    persons_k = [persons[m] for m in in_kab]
    total_k = [p.sum() for p in persons_k]
    z_k = [z[m] for m in in_kab]
    for _ in range(3):  # fixed point: programmes depend on the PMT, which depends on consumption
        lc = base + mu[kab_idx]
        dep = _welfare_dependent(lc, df, u, rules, kab_idx)
        transfer_pc = (dep["pkh_amount"] + dep["bpnt_amount"]) / 12.0 / persons
        for k, m in enumerate(in_kab):
            mu[k] += _calibrated_shift(lc[m], transfer_pc[m], z_k[k], persons_k[k], total_k[k], targets[k])
    lc = base + mu[kab_idx]
    dep = _welfare_dependent(lc, df, u, rules, kab_idx)
    for key in [*ASSET_SLOPES, "pmt_score", "decile", "pkh", "bpnt", "pkh_amount", "bpnt_amount",
                "pkh_potential", "n_components", "p_pkh_in", "p_pkh_out"]:
        df[key] = dep[key]
    df["kks"] = df["pkh"] | df["bpnt"]
    df["kab_code"] = pd.Categorical.from_codes(kab_idx, categories=kab_codes)
    df["kec_code"] = pd.Categorical.from_codes(kec_idx, categories=kec_codes)
    df["desa_code"] = pd.Categorical.from_codes(df["desa_idx"].to_numpy(), categories=geo["desa_code"].tolist())
    df["lcons_pre"] = lc
    df["cons_pre"] = np.exp(lc)
    df["cons_pc"] = df["cons_pre"] + (df["pkh_amount"] + df["bpnt_amount"]) / 12.0 / persons
    df["poverty_line"] = z
    return df, geo


# ---------------------------------------------------------------------------------------------
# the survey

def draw_survey(population: pd.DataFrame, rng: np.random.Generator, *, households: int,
                per_psu: int = 10, extreme_line: str = DEFAULT_EXTREME_LINE) -> pd.DataFrame:
    """A stratified two-stage sample of ``population``.

    Strata are kabupaten x urban/rural; census blocks (PSUs) are drawn by simple random sampling
    without replacement within strata, allocated in proportion to households (at least two per
    stratum), then ``per_psu`` households by simple random sampling within each block. The weight
    is the inverse of the inclusion probability, ``(N_h / n_h) (M_i / m_i)``.

    Many samples of one population: ``SurveyFrame(population).draw(rng, ...)`` prepares the frame
    (blocks, strata, labels) once; each draw is then the same sample as this function's.
    """
    return SurveyFrame(population).draw(rng, households=households, per_psu=per_psu, extreme_line=extreme_line)


def _text(values) -> Any:
    """Python strings as the array pandas makes of them in a DataFrame column (its default string dtype)."""
    return pd.Series(np.asarray(values, dtype=object)).array


class SurveyFrame:
    """The sampling frame of a population: its census blocks by stratum, and the columns a survey
    row copies. :meth:`draw` is :func:`draw_survey`."""

    def __init__(self, population: pd.DataFrame):
        pop = population
        kab = pd.Categorical(pop["kab_code"])
        labels = np.array([f"{k}{u}" for k in kab.categories for u in ("1", "2")])  # BPS: 1 urban, 2 rural
        sid = kab.codes.astype(np.int64) * 2 + np.where(pop["urban"].to_numpy(), 0, 1)
        block = pop["block"].to_numpy().astype(np.int64)
        # the blocks, ordered by stratum then block number; row_block: each household's block
        order = np.lexsort((block, sid))
        new = np.r_[True, (np.diff(sid[order]) != 0) | (np.diff(block[order]) != 0)]
        first = order[new]
        self.row_block = np.empty(len(pop), np.int64)
        self.row_block[order] = np.cumsum(new) - 1
        self.block_M = np.bincount(self.row_block, minlength=len(first))
        self.block_stratum = sid[first]
        desa = pop["desa_code"].astype(str).to_numpy()[first]
        # text columns as the arrays a DataFrame would make of them, so that a draw only takes rows
        self.block_psu = _text([f"{d}{b % 1000 + 1:03d}" for d, b in zip(desa, block[first])])
        self.block_strata = _text(labels[self.block_stratum].astype(object))
        # strata in the order of their labels, each a run of the block table
        present = np.unique(self.block_stratum)
        self.strata = present[np.argsort(labels[present], kind="stable")]
        self.labels = labels
        self.stratum_start = np.searchsorted(self.block_stratum, self.strata)
        self.stratum_blocks = np.bincount(self.block_stratum, minlength=len(labels))[self.strata]
        self.stratum_households = np.bincount(self.block_stratum, weights=self.block_M,
                                              minlength=len(labels))[self.strata].astype(np.int64)
        self.columns = {
            "hh_id": pop["hh_id"].to_numpy(),
            "kab_code": _text(pop["kab_code"].astype(str).to_numpy()),
            "kec_code": _text(pop["kec_code"].astype(str).to_numpy()),
            "urban": pop["urban"].to_numpy(),
            "hh_size": pop["hh_size"].astype(np.int64).to_numpy(),
            "cons_pc": pop["cons_pc"].to_numpy(),
            "poverty_line": pop["poverty_line"].to_numpy(),
            "decile": pop["decile"].astype(np.int64).to_numpy(),
            **{c: pop[c].to_numpy() for c in ("pkh", "pkh_amount", "bpnt", "bpnt_amount", "head_female")},
            "head_educ": pop["head_educ"].astype(np.int64).to_numpy(),
            "n_child_0_6": pop["n_child_0_6"].astype(np.int64).to_numpy(),
        }

    def draw(self, rng: np.random.Generator, *, households: int, per_psu: int = 10,
             extreme_line: str = DEFAULT_EXTREME_LINE) -> pd.DataFrame:
        """One sample (see :func:`draw_survey`), with the same random draws in the same order."""
        n_psu_total = max(1, int(round(households / per_psu)))
        hh = self.stratum_households
        alloc = np.maximum(2, np.round(n_psu_total * hh / hh.sum())).astype(int)
        chosen = np.zeros(len(self.block_M), bool)
        n_h = np.zeros(len(self.labels), np.int64)
        N_h = np.zeros(len(self.labels), np.int64)
        for i, h in enumerate(self.strata):
            size = int(self.stratum_blocks[i])
            k = min(int(alloc[i]), size)
            pick = rng.choice(size, size=k, replace=False)
            chosen[self.stratum_start[i] + pick] = True
            n_h[h], N_h[h] = k, size
        cand = np.flatnonzero(chosen[self.row_block])       # households of the chosen blocks, in row order
        key = rng.random(len(cand))
        cb = self.row_block[cand]
        # by block, then the random key: np.lexsort((key, cb)) as two sorts, the second stable on small
        # integers (a radix sort); the first need not be stable unless two keys are equal (almost never)
        by_key = np.argsort(key)
        if np.any(np.diff(key[by_key]) == 0):
            by_key = np.argsort(key, kind="stable")
        small = cb.astype(np.uint16) if len(self.block_M) <= np.iinfo(np.uint16).max else cb
        order = by_key[np.argsort(small[by_key], kind="stable")]
        sorted_block = cb[order]
        run_start = np.r_[True, sorted_block[1:] != sorted_block[:-1]]
        starts = np.flatnonzero(run_start)
        rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
        rows = np.sort(cand[order[rank < per_psu]])
        b = self.row_block[rows]
        st = self.block_stratum[b]
        M = self.block_M[b]
        m = np.minimum(per_psu, M)
        c = {k: v.take(rows) for k, v in self.columns.items()}
        return pd.DataFrame({
            "hh_id": c["hh_id"], "kab_code": c["kab_code"], "kec_code": c["kec_code"], "urban": c["urban"],
            "strata": self.block_strata.take(b),
            "psu": self.block_psu.take(b),
            "weight": (N_h[st] / n_h[st] * M / m).astype(float),
            "hh_size": c["hh_size"], "cons_pc": c["cons_pc"], "poverty_line": c["poverty_line"],
            "extreme_line": extreme_line_value(extreme_line),
            "decile": c["decile"],
            "pkh": c["pkh"], "pkh_amount": c["pkh_amount"], "bpnt": c["bpnt"], "bpnt_amount": c["bpnt_amount"],
            "head_female": c["head_female"], "head_educ": c["head_educ"], "n_child_0_6": c["n_child_0_6"],
        })


# ---------------------------------------------------------------------------------------------
# the panel

def _panel(
    rng: np.random.Generator, pop: pd.DataFrame, scale: float, cal: dict, cpi: dict, tksk_rollout: str = "parallel"
) -> tuple[pd.DataFrame, dict]:
    pc = cal["panel"]
    waves = np.array(pc["waves"])
    last = int(waves[-1])
    n = max(60, int(round(pc["households"] * scale)))
    # oversample deciles 1-4 (Efraimidis-Spirakis keys give a weighted sample without replacement)
    w = np.where(pop["decile"].to_numpy() <= 4, 3.0, 1.0)
    keys = np.log(rng.random(len(pop))) / w
    rows = np.sort(np.argpartition(-keys, n - 1)[:n])
    p = pop.iloc[rows].reset_index(drop=True)
    # TKSK cohorts by kecamatan: poorer kecamatan first, a quarter each
    kec_codes = regions.kecamatan()["kec_code"].tolist()
    # (targeted: by the kecamatan's mean PMT score, which the office sees, instead of its consumption)
    trait = "pmt_score" if tksk_rollout == "targeted" else "lcons_pre"
    kec_mean = pop.groupby("kec_code", observed=False)[trait].mean().reindex(kec_codes).to_numpy()
    order = np.argsort(kec_mean + rng.normal(0, 0.05, len(kec_codes)), kind="stable")
    cohorts = list(pc["cohorts"])
    kec_cohort = np.zeros(len(kec_codes), dtype=int)
    for j, k in enumerate(order):
        q = j * 4 // len(kec_codes)
        kec_cohort[k] = cohorts[q] if q < len(cohorts) else 0
    kec_i = pd.Categorical(p["kec_code"].astype(str), categories=kec_codes).codes
    cohort = kec_cohort[kec_i]
    nw = len(waves)
    a = p["lcons_pre"].to_numpy()
    abar = a.mean()
    kpm = (p["pkh"] | p["bpnt"]).to_numpy()
    intensity = np.where(kpm, 1.0, TKSK_NON_KPM)
    T = np.broadcast_to(waves, (n, nw))
    G = np.broadcast_to(cohort[:, None], (n, nw))
    treated = (G > 0) & (T >= G)
    cscale = np.vectorize(lambda g: TKSK_COHORT_SCALE[cohorts.index(g)] if g in cohorts else 0.0)(cohort)
    # accompaniment's dose in each unit-wave: grows with exposure, scaled by cohort and intensity (it applies
    # only where ``treated``; the potential outcome under treatment is defined for every wave)
    dose = (1 + TKSK_GROWTH * np.where(G > 0, np.maximum(T - G, 0), 0)) * cscale[:, None] * intensity[:, None]
    cpi_t = np.array([cpi[int(t)] for t in waves])
    c_ratio = cpi_t / cpi[last]
    hh = p["hh_size"].to_numpy(float)
    pkh = p["pkh"].to_numpy()
    bpnt = p["bpnt"].to_numpy()
    pkh_pc = p["pkh_potential"].to_numpy() / 12.0 / hh
    bpnt_pc = 12.0 * _rules()["bpnt"]["monthly_amount"] / 12.0 / hh
    z = p["poverty_line"].to_numpy()[:, None] * c_ratio[None, :]
    zx = extreme_line_value() * c_ratio[None, :]
    m = a[:, None] - GROWTH * (last - T)
    u = rng.normal(0, SD_WAVE, (n, nw))
    cons_pre = np.exp(m + u) * c_ratio[None, :]
    cons = cons_pre + (pkh * pkh_pc + bpnt * bpnt_pc)[:, None]

    def p_below(line, transfer):
        gap = line - transfer[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            val = norm.cdf((np.log(np.maximum(gap, 1e-9) / c_ratio[None, :]) - m) / SD_WAVE)
        return np.where(gap > 0, val, 0.0)

    other = bpnt * bpnt_pc
    pot = {"poor": (p_below(z, other), p_below(z, other + pkh_pc)),
           "extreme_poor": (p_below(zx, other), p_below(zx, other + pkh_pc))}
    kec_lvl = {k: rng.normal(0, 0.03, len(kec_codes))[kec_i] for k in
               ["child_out_of_school", "child_stunted", "early_marriage", *TKSK_BASE, "business"]}
    t0 = T - waves[0]
    has_school = (p["n_primary"] + p["n_junior"] + p["n_senior"]).to_numpy() > 0
    has_young = p["n_child_0_6"].to_numpy() > 0
    has_teen = (p["n_junior"] + p["n_senior"]).to_numpy() > 0

    def base(level, slope, lo, hi, trend, k):
        b = np.clip(level + slope * (a - abar) + kec_lvl[k], lo, hi)
        return b[:, None] + trend * t0

    p0 = {
        "child_out_of_school": np.where(
            has_school[:, None], base(0.16, -0.15, 0.06, 0.40, -0.005, "child_out_of_school"), 0.0
        ),
        "child_stunted": np.where(has_young[:, None], base(0.30, -0.20, 0.12, 0.55, -0.01, "child_stunted"), 0.0),
        "early_marriage": np.where(has_teen[:, None], base(0.07, -0.05, 0.02, 0.20, -0.002, "early_marriage"), 0.0),
    }
    binary = {}
    for k, r in PKH_REDUCTION.items():
        bp = 1.0 - BPNT_REDUCTION.get(k, 0.0) * bpnt[:, None]
        p_0 = p0[k] * bp
        binary[k] = (p_0, p_0 * (1 - r))  # (without PKH, with PKH)
    emp_base = {"kks_independent": (0.35, 0.15, 0.10, 0.55, 0.015), "knows_program": (0.45, 0.10, 0.20, 0.60, 0.01),
                "has_savings": (0.22, 0.30, 0.05, 0.50, 0.01), "kube_member": (0.08, 0.05, 0.02, 0.20, 0.005)}
    emp = {}
    if tksk_rollout == "targeted":   # trends that differ by the PMT score, the trait the roll-out followed
        pmt = p["pmt_score"].to_numpy()
        zp = np.clip((pmt - pmt.mean()) / pmt.std(), -TARGETED_Z_CLIP, TARGETED_Z_CLIP)
    for k, (lvl, slope, lo, hi, trend) in emp_base.items():
        q0 = base(lvl, slope, lo, hi, trend, k)
        if tksk_rollout == "targeted":
            q0 = q0 + TARGETED_TREND * zp[:, None] * t0
        q1 = q0 + TKSK_BASE[k] * dose
        emp[k] = (q0, np.minimum(q1, 0.99))
    # business: probability and log amount (constant 2024 rupiah)
    qb0 = np.broadcast_to(np.clip(0.15 + 0.10 * (a - abar) + kec_lvl["business"], 0.05, 0.50)[:, None], (n, nw))
    qb1 = qb0 + TKSK_BUSINESS[0] * dose
    mb0 = np.broadcast_to((np.log(600_000) + 0.5 * (a - abar))[:, None], (n, nw))
    mb1 = mb0 + TKSK_BUSINESS[1] * dose
    ez = np.exp(BUSINESS_SD**2 / 2)
    # graduation: absorbing, for PKH families, hazard raised by accompaniment
    h0 = np.full((n, nw), GRADUATION_HAZARD)
    h1 = h0 + TKSK_GRADUATION * dose
    surv0 = np.cumprod(1 - h0, axis=1)
    surv1 = np.cumprod(1 - np.where(treated, h1, h0), axis=1)  # accompaniment raises the hazard from g on
    # observed draws with common random numbers
    U = {k: rng.random((n, nw)) for k in [*binary, *emp, "business", "grad"]}
    zb = rng.normal(0, 1, (n, nw))
    obs = {}
    for k, (q_0, q_1) in binary.items():
        obs[k] = U[k] < np.where(pkh[:, None], q_1, q_0)
    for k, (q0, q1) in emp.items():
        obs[k] = U[k] < np.where(treated, q1, q0)
    has_b = U["business"] < np.where(treated, qb1, qb0)
    obs["business_income"] = np.where(has_b, np.exp(np.where(treated, mb1, mb0) + BUSINESS_SD * zb), 0.0).round(-3)
    h_obs = np.where(treated, h1, h0)
    obs["graduated"] = pkh[:, None] & (np.cumsum(U["grad"] < h_obs, axis=1) > 0)
    panel = pd.DataFrame({
        "hh_id": np.repeat(p["hh_id"].to_numpy(), nw),
        "wave": T.ravel().astype(np.int64),
        "kab_code": np.repeat(p["kab_code"].astype(str).to_numpy(), nw),
        "kec_code": np.repeat(p["kec_code"].astype(str).to_numpy(), nw),
        "tksk_cohort": G.ravel().astype(np.int64),
        "tksk": treated.ravel(),
        "pkh": np.repeat(pkh, nw), "bpnt": np.repeat(bpnt, nw),
        "cons_pc": cons.ravel(),
        "cpi": np.broadcast_to(cpi_t, (n, nw)).ravel(),
        "poor": (cons < z).ravel(), "extreme_poor": (cons < zx).ravel(),
        **{k: obs[k].ravel() for k in ["child_out_of_school", "child_stunted", "early_marriage",
                                         "kks_independent", "knows_program", "has_savings", "kube_member"]},
        "business_income": obs["business_income"].ravel(),
        "graduated": obs["graduated"].ravel(),
        "hh_size": np.repeat(p["hh_size"].astype(np.int64).to_numpy(), nw),
        "decile": np.repeat(p["decile"].astype(np.int64).to_numpy(), nw),
        "pmt_score": np.repeat(p["pmt_score"].to_numpy(), nw),
        "head_female": np.repeat(p["head_female"].to_numpy(), nw),
        "head_educ": np.repeat(p["head_educ"].astype(np.int64).to_numpy(), nw),
        "urban": np.repeat(p["urban"].to_numpy(), nw),
        "n_components": np.repeat(p["n_components"].astype(np.int64).to_numpy(), nw),
    })
    # truth: expected effects given each unit's traits
    cons_eff = np.broadcast_to(pkh_pc[:, None], (n, nw))
    pkh_pot = {"cons_pc": (np.zeros((n, nw)), cons_eff), **pot, **binary}
    li = nw - 1
    truth_pkh = {}
    for k, (y0, y1) in pkh_pot.items():
        d = (y1 - y0)[:, li]
        truth_pkh[k] = {"ATT": float(d[pkh].mean()), "ATE": float(d.mean()), "wave": last,
                        "n_treated": int(pkh.sum()), "n": n}
    truth_bpnt = {"cons_pc": {"ATT": float(bpnt_pc[bpnt].mean()), "ATE": float(bpnt_pc.mean()), "wave": last,
                              "n_treated": int(bpnt.sum()), "n": n}}
    tk = {k: (q0, q1) for k, (q0, q1) in emp.items()}
    tk["business_income"] = (qb0 * np.exp(mb0) * ez, qb1 * np.exp(mb1) * ez)
    tk["graduated"] = ((1 - surv0) * pkh[:, None], (1 - surv1) * pkh[:, None])
    truth_tksk = {}
    for k, (y0, y1) in tk.items():
        # graduation exists only for PKH families: its effect (and its estimation) is among them, where
        # the untreated trend is common to all cohorts
        among = pkh if k == "graduated" else np.ones(n, bool)
        d = np.where(treated, y1 - y0, 0.0)
        cells = []
        for g in cohorts:
            for j, t in enumerate(waves):
                if t >= g:
                    mask = (cohort == g) & among
                    cells.append({"cohort": int(g), "wave": int(t), "att": float(d[mask, j].mean()),
                                  "n": int(mask.sum())})
        dyn = {}
        for ev in range(0, int(waves[-1] - min(cohorts)) + 1):
            sel = treated & (T - G == ev) & among[:, None]
            dyn[str(ev)] = float(d[sel].mean())
        grp = {str(g): float(np.mean([c["att"] for c in cells if c["cohort"] == g])) for g in cohorts}
        truth_tksk[k] = {"att_simple": float(d[treated & among[:, None]].mean()), "att_gt": cells,
                         "att_dynamic": dyn, "att_group": grp,
                         "population": "PKH households" if k == "graduated" else "all panel households"}
    # regression discontinuity at the PKH decile cut-off: complier effects near the threshold
    cutoff = float(np.mean([pop.loc[pop["decile"] == 3, "pmt_score"].max(),
                            pop.loc[pop["decile"] == 4, "pmt_score"].min()]))
    near = np.abs(p["pmt_score"].to_numpy() - cutoff) < 0.05
    fs = (p["p_pkh_in"] - p["p_pkh_out"]).to_numpy()
    rd: dict[str, Any] = {"running": "pmt_score", "cutoff": cutoff, "bandwidth_for_truth": 0.05,
          "first_stage_population": float(np.mean(((pop["p_pkh_in"] - pop["p_pkh_out"]).to_numpy())[
              np.abs(pop["pmt_score"].to_numpy() - cutoff) < 0.02])),
          "late": {}}
    for k, (y0, y1) in pkh_pot.items():
        dd = (y1 - y0)[:, li]
        if (fs[near] > 0).any():
            rd["late"][k] = float(np.sum(dd[near] * fs[near]) / np.sum(fs[near]))
    truth = {"waves": [int(t) for t in waves], "cohorts": cohorts, "cpi": {str(int(t)): cpi[int(t)] for t in waves},
             "n_households": n,
             "pkh": truth_pkh, "bpnt": truth_bpnt, "tksk": truth_tksk, "rd": rd,
             "notes": ["Effects are expected differences given each household's traits (binary outcomes: "
                       "differences in probability), averaged over the panel households of the wave or cell.",
                       "PKH and BPNT effects are for the last wave; ATT averages over recipients, ATE over all.",
                       "TKSK effects: ATT(g,t) by cohort and wave, averaged as Callaway-Sant'Anna's simple, "
                       "dynamic (event time) and group aggregations; never-treated kecamatan carry tksk_cohort 0.",
                       "business_income is in constant 2024 rupiah; cons_pc is nominal (deflate by cpi)."]}
    return panel, truth


# ---------------------------------------------------------------------------------------------
# disbursement

def _disbursement(rng: np.random.Generator, registry: pd.DataFrame, year: int) -> tuple[pd.DataFrame, dict]:
    """Quarterly records per beneficiary: allocation, payment, date and channel.

    Built column by column and ordered with one permutation, so that scale 10 (about 7.6 million
    records) fits in memory comfortably.
    """
    kec_codes = regions.kecamatan()["kec_code"].tolist()
    kec_delay = rng.gamma(2.0, 7.0, len(kec_codes)) + 3.0
    cols: dict[str, list] = {k: [] for k in ("hh_id", "program", "quarter", "alloc", "paid", "sched", "paid_on",
                                            "channel", "kec")}
    programs = (
        ("PKH", "pkh_amount", ("bank", "pos"), 0.85, 15),
        ("BPNT", "bpnt_amount", ("e-warong", "pos"), 0.75, 20),
    )
    channels = ["bank", "e-warong", "pos"]
    for pi, (_prog, amount_col, chans, p_first, day) in enumerate(programs):
        rows = np.flatnonzero(registry[amount_col].to_numpy() > 0)
        nb = len(rows)
        chan = np.where(rng.random(nb) > p_first, channels.index(chans[1]), channels.index(chans[0]))
        ki = pd.Categorical(registry["kec_code"].to_numpy()[rows], categories=kec_codes).codes
        annual = registry[amount_col].to_numpy()[rows]
        hh = registry["hh_id"].to_numpy()[rows]
        for q in range(4):
            sched = np.datetime64(f"{year}-{3 * q + 1:02d}-{day:02d}", "D")
            alloc = annual / 4.0
            r = rng.random(nb)
            short = r < 0.04
            missing = (r >= 0.04) & (r < 0.055)
            frac = np.where(short, rng.uniform(0.5, 0.95, nb), 1.0)
            delay = rng.gamma(2.0, kec_delay[ki] / 2.0) + np.where(chan == channels.index("pos"), 7.0, 0.0)
            paid_on = sched + np.round(delay).astype("timedelta64[D]")
            cols["hh_id"].append(hh)
            cols["program"].append(np.full(nb, pi, np.int8))
            cols["quarter"].append(np.full(nb, q, np.int8))
            cols["alloc"].append(alloc)
            cols["paid"].append(np.where(missing, 0.0, np.round(alloc * frac, -3)))
            cols["sched"].append(np.full(nb, sched))
            cols["paid_on"].append(np.where(missing, np.datetime64("NaT", "D"), paid_on))
            cols["channel"].append(chan.astype(np.int8))
            cols["kec"].append(ki)
    arr = {k: np.concatenate(v) for k, v in cols.items()}
    order = np.lexsort((arr["quarter"], arr["program"], arr["hh_id"]))
    d = pd.DataFrame({
        "hh_id": arr["hh_id"][order],
        "program": pd.Categorical.from_codes(arr["program"][order], categories=[p[0] for p in programs]),
        "period": pd.Categorical.from_codes(arr["quarter"][order], categories=[f"{year}Q{q + 1}" for q in range(4)]),
        "allocated_amount": arr["alloc"][order],
        "disbursed_amount": arr["paid"][order],
        "scheduled_on": arr["sched"][order].astype("datetime64[ns]"),
        "paid_on": arr["paid_on"][order].astype("datetime64[ns]"),
        "channel": pd.Categorical.from_codes(arr["channel"][order], categories=channels),
        "kec_code": pd.Categorical.from_codes(arr["kec"][order], categories=kec_codes),
    })
    received = ~np.isnat(arr["paid_on"])
    late = received & ((arr["paid_on"] - arr["sched"]).astype(np.int64) > 30)
    truth = {"rows": len(d), "allocated_total": float(arr["alloc"].sum()),
             "disbursed_total": float(arr["paid"].sum()),
             "not_received_rate": float(np.mean(~received)),
             "late_over_30_days_rate": float(np.mean(late)),
             "short_rate": float(np.mean((arr["paid"] < arr["alloc"]) & received))}
    return d, truth


# ---------------------------------------------------------------------------------------------
# truth of the population

def _population_truth(pop: pd.DataFrame) -> dict:
    persons = pop["hh_size"].to_numpy(float)
    pre = pop["cons_pre"].to_numpy()
    post = pop["cons_pc"].to_numpy()
    z = pop["poverty_line"].to_numpy()
    lines = poverty_lines()
    ext = lines[lines["kind"] == "extreme"]

    def block(mask) -> dict:
        w = persons[mask]
        out = {"households": int(mask.sum()), "persons": int(w.sum()),
               "mean_cons_pc": float(np.sum(w * post[mask]) / w.sum())}
        for a in (0, 1, 2):
            out[f"fgt{a}"] = fgt_value(post[mask], z[mask], w, a)
            out[f"fgt{a}_pre"] = fgt_value(pre[mask], z[mask], w, a)
        for lid, val in zip(ext["line_id"], ext["value"]):
            out[f"extreme_{lid}"] = fgt_value(post[mask], float(val), w, 0)
        out["gini"] = gini_value(post[mask], w)
        out["gini_pre"] = gini_value(pre[mask], w)
        for prog in ("pkh", "bpnt"):
            out[f"{prog}_households"] = int(pop[prog].to_numpy()[mask].sum())
        return out

    kab = pd.Categorical(pop["kab_code"])
    urban = pop["urban"].to_numpy()
    truth = {"province": block(np.ones(len(pop), bool)),
             "kabupaten": {str(k): block(kab.codes == i) for i, k in enumerate(kab.categories)},
             "urban": {"urban": block(urban), "rural": block(~urban)}}
    # targeting against the pre-transfer poor and against the bottom 30% of persons
    poor_pre = pre < z
    order = _stable_argsort(pre)
    cum = np.empty(len(pre))
    cum[order] = np.cumsum(persons[order]) / persons.sum()
    bottom30 = cum <= 0.30
    tg = {}
    for prog, quota_decile in (("pkh", 3), ("bpnt", 4)):
        rec = pop[prog].to_numpy()
        eligible = pop["decile"].to_numpy() <= quota_decile
        for name, target in (("poor", poor_pre), ("bottom30", bottom30)):
            tg[f"{prog}_exclusion_error_rate_{name}"] = float(
                np.sum(persons * (target & ~rec)) / np.sum(persons * target)
            )
            tg[f"{prog}_inclusion_error_rate_{name}"] = float(np.sum(persons * (~target & rec)) / np.sum(persons * rec))
        tg[f"{prog}_coverage_of_poor_rate"] = float(np.sum(persons * (poor_pre & rec)) / np.sum(persons * poor_pre))
        tg[f"{prog}_quota_share"] = float(np.sum(persons * eligible) / persons.sum())
    # PMT alone, as in Alatas et al. (2012): deciles 1-3 against the bottom 30% by consumption
    pmt30 = pop["decile"].to_numpy() <= 3
    tg["pmt_exclusion_error_rate_bottom30"] = float(np.sum(persons * (bottom30 & ~pmt30)) / np.sum(persons * bottom30))
    tg["pmt_inclusion_error_rate_bottom30"] = float(np.sum(persons * (~bottom30 & pmt30)) / np.sum(persons * ~bottom30))
    tg["pmt_mistargeting_rate_bottom30"] = float(np.sum(persons * (bottom30 != pmt30)) / persons.sum())
    tg["pmt_rank_correlation"] = float(pd.Series(pop["pmt_score"].to_numpy()).corr(pd.Series(pre), method="spearman"))
    truth["targeting"] = tg
    return truth


# ---------------------------------------------------------------------------------------------
# putting it together

def _check_generate(seed, scale, tksk_rollout) -> None:
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise parameter_error("seed", "synth", "a non-negative integer", seed)
    if not isinstance(scale, (int, float)) or isinstance(scale, bool) or not (0.005 <= scale <= 100):
        raise parameter_error("scale", "synth", "a number between 0.005 and 100", scale)
    if tksk_rollout not in ("parallel", "targeted"):
        raise parameter_error("tksk_rollout", "synth", "'parallel' or 'targeted'", tksk_rollout)


def _streams(seed: int) -> list[np.random.Generator]:
    """One independent stream per part: population, survey, panel, disbursement, raw exports."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(5)]


def generate_panel(seed: int = DEFAULT_SEED, scale: float = 1.0, *,
                   tksk_rollout: str = "parallel") -> tuple[pd.DataFrame, dict]:
    """The panel and its truth (``truth["panel"]``) of :func:`generate`'s province, without the survey,
    the disbursement records and the population's truth.

    Each part of the province draws from its own stream (``SeedSequence(seed).spawn``), and the
    panel needs only the population's, so the panel equals ``generate(seed, scale, ...).panel`` value
    for value (tests/test_synth.py checks it). For Monte Carlo checks over many provinces.
    """
    _check_generate(seed, scale, tksk_rollout)
    streams = _streams(seed)
    pop, _geo = _population(streams[0], float(scale))
    panel, truth = _panel(streams[2], pop, float(scale), _calibration(), _cpi(), tksk_rollout)
    if tksk_rollout != "parallel":
        truth["tksk_rollout"] = tksk_rollout
    return panel, truth


def generate(seed: int = DEFAULT_SEED, scale: float = 1.0, *, tksk_rollout: str = "parallel") -> World:
    """Build the synthetic province (in memory).

    Parameters
    ----------
    seed : int
        Everything is a deterministic function of the seed and the scale.
    scale : float
        Multiplies the population (1 = the whole province, about 380,000 households), the
        survey sample and the panel.
    tksk_rollout : {"parallel", "targeted"}
        ``"parallel"`` (the default province): poorer kecamatan get TKSK first, and the outcomes'
        trends without TKSK are the same everywhere, so unconditional parallel trends hold.
        ``"targeted"``: kecamatan with the lowest mean PMT score get TKSK first, and the
        empowerment outcomes (``kks_independent``, ``knows_program``, ``has_savings``,
        ``kube_member``) trend by ``TARGETED_TREND`` per wave per SD of the household's PMT score:
        parallel trends hold only given ``pmt_score``, so the unconditional Callaway-Sant'Anna
        estimate is biased and the doubly robust one with that covariate is not. The random draws
        are the same; ``truth.json`` records the mode and the true effects as always.
    """
    _check_generate(seed, scale, tksk_rollout)
    cal = _calibration()
    streams = _streams(seed)
    pop, _geo = _population(streams[0], float(scale))
    registry_cols = ["hh_id", "kab_code", "kec_code", "desa_code", "urban", "hh_size", "head_female", "head_age",
                     "head_educ", "n_child_0_6", "n_primary", "n_junior", "n_senior", "n_elderly_70", "n_disabled",
                     "n_pregnant", *ASSET_SLOPES, "pmt_score", "decile", "pkh", "pkh_amount", "bpnt",
                     "bpnt_amount", "kks"]
    registry = pop[registry_cols].copy()  # region codes stay categorical: text values, a fraction of the memory
    for c in ("hh_size", "head_age", "head_educ", "decile", "n_child_0_6", "n_primary", "n_junior", "n_senior",
              "n_elderly_70", "n_disabled", "n_pregnant"):
        registry[c] = registry[c].astype(np.int64)
    s_cal = cal["survey"]
    survey = draw_survey(pop, streams[1], households=max(200, int(round(s_cal["households"] * scale))),
                         per_psu=s_cal["per_psu"])
    panel, panel_truth = _panel(streams[2], pop, float(scale), cal, _cpi(), tksk_rollout)
    if tksk_rollout != "parallel":   # the default province's truth file stays as it was
        panel_truth["tksk_rollout"] = tksk_rollout
    disb, disb_truth = _disbursement(streams[3], registry, int(cal["disbursement"]["year"]))
    truth = {
        "generator": {"package_version": __version__, "generator_version": GENERATOR_VERSION,
                      "seed": int(seed), "scale": float(scale)},
        "poverty_lines": {"poverty": "gk (welfare_eval/data/poverty_lines.csv, by kabupaten and area)",
                          "extreme_default": DEFAULT_EXTREME_LINE},
        "population": _population_truth(pop),
        "survey_design": {"households": len(survey), "psus": int(survey["psu"].nunique()),
                          "strata": int(survey["strata"].nunique())},
        "panel": panel_truth,
        "disbursement": disb_truth,
    }
    return World(int(seed), float(scale), pop, registry, survey, panel, disb, truth)


# ---------------------------------------------------------------------------------------------
# raw exports

def _nik(rng: np.random.Generator, registry: pd.DataFrame) -> np.ndarray:
    """Synthetic 16-digit NIK: Kemendagri kecamatan code, birth date ddmmyy (women +40), serial.

    Built as integers (all start with 76, so no leading zero is lost) to keep memory small.
    """
    kec = regions.kecamatan()
    kmd = dict(zip(kec["kec_code"], kec["kec_code_kemendagri"].astype(np.int64)))
    n = len(registry)
    day = rng.integers(1, 29, n) + np.where(registry["head_female"].to_numpy(), 40, 0)
    month = rng.integers(1, 13, n)
    year = (2024 - registry["head_age"].to_numpy().astype(np.int64)) % 100
    serial = rng.integers(1, 10000, n)
    prefix = registry["kec_code"].map(kmd).to_numpy().astype(np.int64)
    return prefix * 10**10 + day * 10**8 + month * 10**6 + year * 10**4 + serial


def raw_registry(registry: pd.DataFrame, nik: np.ndarray) -> pd.DataFrame:
    """Registry rows as a DTKS-style export: NIK, Indonesian column names, Kemendagri kab/kec codes."""
    r = registry
    kab = regions.kabupaten()
    kec = regions.kecamatan()
    yn = lambda s: np.where(s.to_numpy(), "Ya", "Tidak")  # noqa: E731
    as_text = lambda s, m: np.asarray(s.astype(str).map(m), dtype=object)  # noqa: E731
    return pd.DataFrame({
        "NIK_KEPALA": nik,
        "ID_KELUARGA": r["hh_id"].to_numpy(),
        "KODE_KAB": as_text(r["kab_code"], dict(zip(kab["kab_code"], kab["kab_code_kemendagri"]))),
        "KODE_KEC": as_text(r["kec_code"], dict(zip(kec["kec_code"], kec["kec_code_kemendagri"]))),
        "KODE_DESA_BPS": np.asarray(r["desa_code"].astype(str), dtype=object),
        "STATUS_WILAYAH": np.where(r["urban"].to_numpy(), 1, 2),
        "JML_ART": r["hh_size"].to_numpy(),
        "KRT_PEREMPUAN": yn(r["head_female"]),
        "UMUR_KRT": r["head_age"].to_numpy(),
        "LAMA_SEKOLAH_KRT": r["head_educ"].to_numpy(),
        "JML_BALITA": r["n_child_0_6"].to_numpy(), "JML_SD": r["n_primary"].to_numpy(),
        "JML_SMP": r["n_junior"].to_numpy(), "JML_SMA": r["n_senior"].to_numpy(),
        "JML_LANSIA": r["n_elderly_70"].to_numpy(), "JML_DISABILITAS": r["n_disabled"].to_numpy(),
        "JML_HAMIL": r["n_pregnant"].to_numpy(),
        **{f"ASET_{a.upper()}": r[a].to_numpy().astype(int) for a in ASSET_SLOPES},
        "SKOR_PMT": r["pmt_score"].to_numpy(),
        "DESIL": r["decile"].to_numpy(),
        "PKH": yn(r["pkh"]), "NILAI_PKH": r["pkh_amount"].to_numpy(),
        "BPNT": yn(r["bpnt"]), "NILAI_BPNT": r["bpnt_amount"].to_numpy(),
        "KKS": yn(r["kks"]),
    })


#: Rows per chunk of the raw registry CSV (bounds the memory of the export at large scales).
CSV_CHUNK = 250_000


def _write_raw_registry(world: World, rng: np.random.Generator, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    nik = _nik(rng, world.registry)
    writer = None
    try:
        for start in range(0, len(world.registry), CSV_CHUNK):
            chunk = raw_registry(world.registry.iloc[start:start + CSV_CHUNK], nik[start:start + CSV_CHUNK])
            table = pa.Table.from_pandas(chunk, preserve_index=False)
            if writer is None:
                writer = pacsv.CSVWriter(str(path), table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


SUSENAS_LABELS = {
    "urut": "Nomor urut rumah tangga", "r101": "Provinsi", "r102": "Kabupaten/kota", "r105": "Klasifikasi desa",
    "psu": "Blok sensus", "strata": "Strata", "fwt": "Penimbang rumah tangga", "r301": "Jumlah ART",
    "kapita": "Pengeluaran per kapita sebulan", "desil": "Desil DTSEN", "pkh": "Menerima PKH",
    "pkh_nilai": "Nilai PKH setahun", "bpnt": "Menerima BPNT/Sembako", "bpnt_nilai": "Nilai BPNT setahun",
    "krt_pr": "Kepala rumah tangga perempuan", "krt_sek": "Lama sekolah KRT", "jml_balita": "Jumlah balita",
}


def raw_survey(world: World) -> tuple[pd.DataFrame, dict]:
    """The survey with SUSENAS-style names and value labels (for Stata and SPSS)."""
    s = world.survey
    df = pd.DataFrame({
        "urut": s["hh_id"].to_numpy(),
        "r101": 76,
        "r102": s["kab_code"].str[2:].astype(int).to_numpy(),
        "r105": np.where(s["urban"].to_numpy(), 1, 2),
        "psu": s["psu"].to_numpy(), "strata": s["strata"].to_numpy(),
        "fwt": s["weight"].to_numpy(), "r301": s["hh_size"].to_numpy(),
        "kapita": s["cons_pc"].to_numpy(), "desil": s["decile"].to_numpy(),
        "pkh": np.where(s["pkh"].to_numpy(), 1, 2), "pkh_nilai": s["pkh_amount"].to_numpy(),
        "bpnt": np.where(s["bpnt"].to_numpy(), 1, 2), "bpnt_nilai": s["bpnt_amount"].to_numpy(),
        "krt_pr": np.where(s["head_female"].to_numpy(), 1, 2), "krt_sek": s["head_educ"].to_numpy(),
        "jml_balita": s["n_child_0_6"].to_numpy(),
    })
    names = regions.kab_names()
    yesno = {1: "Ya", 2: "Tidak"}
    labels = {"r102": {int(k[2:]): v for k, v in names.items()}, "r105": {1: "Perkotaan", 2: "Perdesaan"},
              "pkh": yesno, "bpnt": yesno, "krt_pr": yesno}
    return df, labels


def _pin_timestamp(path: Path) -> None:
    """Overwrite the creation time that Stata and SPSS writers stamp into their headers.

    With it the files are a pure function of the seed, like ``SOURCE_DATE_EPOCH`` builds.
    """
    data = bytearray(path.read_bytes())
    if path.suffix == ".dta":
        tag = b"<timestamp>"
        i = data.find(tag)
        if i >= 0 and data[i + len(tag)] == 17:
            data[i + len(tag) + 1: i + len(tag) + 18] = FILE_TIMESTAMP[0].encode()
    elif path.suffix == ".sav" and data[:4] == b"$FL2":
        data[92:101] = FILE_TIMESTAMP[1].encode()   # after the 8-byte compression bias at 84
        data[101:109] = FILE_TIMESTAMP[2].encode()
    path.write_bytes(bytes(data))


# ---------------------------------------------------------------------------------------------
# writing

OUTPUT_FILES = ("registry.parquet", "survey.parquet", "panel.parquet", "disbursement.parquet",
                "truth_population.parquet", "truth.json", "raw/dtks_registry.csv", "raw/susenas_kor.dta",
                "raw/susenas_kor.sav", "synthetic.json")

#: The marker that says a folder holds the generator's own province: its seed and scale and the SHA-256 of
#: each contract table as written. A folder counts as synthetic only while every table still has that hash,
#: so a copy whose tables were changed (or replaced by real data) is never called synthetic.
MARKER = "synthetic.json"
MARKED_TABLES = ("registry.parquet", "survey.parquet", "panel.parquet", "disbursement.parquet")


def _sha256(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def synthetic_marker(folder: str | os.PathLike) -> dict | None:
    """The generator's marker of ``folder`` (seed, scale, table hashes) when the folder holds the
    synthetic province as generated, else None (no marker, or a table changed or missing)."""
    path = Path(folder) / MARKER
    try:
        marker = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    tables = marker.get("sha256") or {}
    if not tables:
        return None
    for name, digest in tables.items():
        f = Path(folder) / name
        if not f.is_file() or _sha256(f) != digest:
            return None
    return marker


def write(world: World, out: str | os.PathLike) -> Path:
    """Write the world's files into ``out``: each is finished in a staging folder, then moved in."""
    import pyreadstat

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        (stage / "raw").mkdir()
        for name in ("registry", "survey", "panel", "disbursement"):
            getattr(world, name).to_parquet(stage / f"{name}.parquet", index=False)
        hidden = world.population[["hh_id", "cons_pre", "cons_pc", "poverty_line", "p_pkh_in", "p_pkh_out",
                                   "pkh_potential", "n_components"]]
        hidden.to_parquet(stage / "truth_population.parquet", index=False)
        (stage / "truth.json").write_text(json.dumps(world.truth, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        rng = np.random.default_rng(np.random.SeedSequence(world.seed).spawn(5)[4])
        _write_raw_registry(world, rng, stage / "raw" / "dtks_registry.csv")
        sv, labels = raw_survey(world)
        col_labels: list[str | None] = [SUSENAS_LABELS[c] for c in sv.columns]
        pyreadstat.write_dta(sv, str(stage / "raw" / "susenas_kor.dta"), variable_value_labels=labels,
                             column_labels=col_labels, file_label="SUSENAS KOR sintetis, Sulawesi Barat")
        pyreadstat.write_sav(sv, str(stage / "raw" / "susenas_kor.sav"), variable_value_labels=labels,
                             column_labels=col_labels, file_label="SUSENAS KOR sintetis, Sulawesi Barat")
        for f in ("susenas_kor.dta", "susenas_kor.sav"):
            _pin_timestamp(stage / "raw" / f)
        marker = {"generator": "welfare_eval.synth", **world.truth.get("generator", {}),
                  "sha256": {f: _sha256(stage / f) for f in MARKED_TABLES}}
        (stage / MARKER).write_text(json.dumps(marker, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        (out / "raw").mkdir(parents=True, exist_ok=True)
        # truth.json last: its presence marks a complete folder (make uses it as the target)
        for rel in sorted(OUTPUT_FILES, key=lambda r: r == "truth.json"):
            os.replace(stage / rel, out / rel)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return out


def synth(seed: int = DEFAULT_SEED, scale: float = 1.0, out: str | os.PathLike | None = None) -> Path:
    """Generate the synthetic province and write it to ``out`` (default ``data/synthetic/``)."""
    world = generate(seed, scale)
    return write(world, out if out is not None else synthetic_dir())
