"""Programme knowledge in one place: PKH, BPNT and TKSK as the reports use them.

What decides receipt (the rules whose terms make a propensity model right), the PMT / decile
cut-off of a regression discontinuity, the outcomes each report looks at, the transfer amounts and
the published evidence a local estimate is compared with. Amounts and cut-offs are read from the
shipped programme rules (``welfare_eval/data/program_rules.yaml``, as published for 2023; verify
against current Kemensos rules), so an office changes them in data, not in code.

The report notebooks use these objects in view of the analyst, e.g.::

    pkh_families = programs.PKH.receipt_data(last_wave)
    impact.aipw(pkh_families, outcome="child_stunted", treatment="pkh",
                covariates=programs.PKH.receipt_covariates, estimand="ATT")

References
----------
Cahyadi, N., Hanna, R., Olken, B. A., Prima, R. A., Satriawan, E. and Syamsulhakim, E. (2020).
Cumulative impacts of conditional cash transfer programs: experimental evidence from Indonesia.
*American Economic Journal: Economic Policy* 12(4), 88-110.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from .config import data_dir
from .exceptions import DataValidationError, ParameterError

#: PKH's outcomes in the impact report: the province's 4+1 priorities it is meant to move.
PKH_OUTCOMES = ("child_out_of_school", "child_stunted", "early_marriage", "poor", "extreme_poor")
#: BPNT's outcomes: consumption (Rp per person per month) and poverty.
BPNT_OUTCOMES = ("cons_pc", "poor", "extreme_poor")
#: Empowerment outcomes of TKSK accompaniment (their summary index is built from these).
TKSK_OUTCOMES = ("kks_independent", "knows_program", "has_savings", "kube_member")


@cache
def rules() -> dict:
    """The shipped programme rules (``program_rules.yaml`` in the reference-data folder)."""
    import yaml

    return yaml.safe_load((data_dir() / "program_rules.yaml").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Benchmark:
    """A published estimate a local one is compared with.

    Attributes
    ----------
    outcome : str
        The panel column the estimate is about.
    relative_change : float
        The published effect as a share of the comparison mean (-0.23: down by 23%).
    source : str
        The study, as cited.
    label : str
        Key of its short citation in the report's language table.
    """

    outcome: str
    relative_change: float
    source: str
    label: str = "published_ref"


def _require(data: pd.DataFrame, columns: list[str], where: str) -> None:
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ParameterError(f"{where} needs column(s) {', '.join(missing)} (the panel table has them); "
                             f"the data given have {len(data.columns)} columns without them.")


def _check_decile(max_decile, where: str) -> int:
    if isinstance(max_decile, bool) or not isinstance(max_decile, (int, np.integer)) or not 1 <= max_decile <= 9:
        raise ParameterError(f"The 'max_decile' parameter of {where} must be a whole number from 1 to 9. "
                             f"Got {max_decile!r} instead.")
    return int(max_decile)


@dataclass(frozen=True)
class CashTransfer:
    """A transfer programme as the panel records it (PKH, BPNT).

    Attributes
    ----------
    name : str
        ``"PKH"`` or ``"BPNT"``, as the results store and the disbursement table write it.
    flag : str
        The column recording receipt (0/1) in the panel and the survey.
    amount : str
        The survey column of the yearly amount received (Rp).
    eligible_max_decile : int
        The highest DTSEN welfare decile the programme is meant for (``program_rules.yaml``).
    receipt_covariates : tuple of str
        The terms of the receipt rule that :meth:`receipt_data` adds: the covariates of a
        propensity model that follows how families are chosen.
    outcomes : tuple of str
        The outcomes the impact report estimates the programme's effect on.
    monthly_amount : float or None
        Transfer per family per month (Rp) where the programme pays a flat amount (BPNT).
    benchmarks : tuple of Benchmark
        Published effects to set beside the local ones.
    """

    name: str
    flag: str
    amount: str
    eligible_max_decile: int
    receipt_covariates: tuple[str, ...]
    outcomes: tuple[str, ...]
    monthly_amount: float | None = None
    benchmarks: tuple[Benchmark, ...] = ()

    def receipt_data(self, data: pd.DataFrame, *, max_decile: int | None = None) -> pd.DataFrame:
        """The households the programme's effect is estimated among, with :attr:`receipt_covariates`
        added as columns (``max_decile``: another eligibility cut-off than the programme's)."""
        raise NotImplementedError  # each programme's rule below

    def pmt_cutoff(self, data: pd.DataFrame) -> float:
        """The PMT score at the eligibility cut-off: half way between the highest score of the last
        eligible decile and the lowest score of the next (the running variable of an RD).

        Parameters
        ----------
        data : DataFrame
            Households with ``decile`` and ``pmt_score`` (both deciles must be present).
        """
        _require(data, ["decile", "pmt_score"], f"programs.{self.name}.pmt_cutoff")
        last, nxt = self.eligible_max_decile, self.eligible_max_decile + 1
        below = data.loc[data["decile"] == last, "pmt_score"]
        above = data.loc[data["decile"] == nxt, "pmt_score"]
        if below.empty or above.empty:
            raise DataValidationError(
                f"The PMT cut-off of {self.name} lies between deciles {last} and {nxt}, but the data have "
                f"{len(below)} households in decile {last} and {len(above)} in decile {nxt}; both are needed.")
        return float(np.mean([below.max(), above.min()]))


@dataclass(frozen=True)
class PKHProgramme(CashTransfer):
    """PKH: a conditional cash transfer for families with a component (a pregnant mother, a child,
    a pupil, a severely disabled or elderly member) in the eligible deciles."""

    max_components: int = 4

    def receipt_data(self, data: pd.DataFrame, *, max_decile: int | None = None) -> pd.DataFrame:
        """Households with a PKH component and the terms of PKH's receipt rule.

        Receipt depends on eligibility (decile <= ``max_decile``, default
        :attr:`eligible_max_decile`), within it on a female head and the number of components
        (capped at :attr:`max_components`), outside it on the decile, and on the PMT score; so
        these make the propensity model right (``elig`` and ``decile_nonelig`` let the two sides
        of the cut-off differ). Adds ``elig``, ``female_elig``, ``comp_elig``, ``decile_nonelig``.
        """
        cut = _check_decile(self.eligible_max_decile if max_decile is None else max_decile,
                            "programs.PKH.receipt_data")
        _require(data, ["decile", "n_components", "head_female", self.flag, "pmt_score"],
                 "programs.PKH.receipt_data")
        out = data[data["n_components"] > 0].copy()
        elig = (out["decile"] <= cut).astype(float)
        out["elig"] = elig
        out["female_elig"] = out["head_female"].astype(float) * elig
        out["comp_elig"] = np.minimum(out["n_components"], self.max_components) * elig
        out["decile_nonelig"] = out["decile"] * (1 - elig)
        return out


@dataclass(frozen=True)
class BPNTProgramme(CashTransfer):
    """BPNT / Program Sembako: non-cash food assistance, a flat amount per family per month."""

    #: The poorest deciles, favoured within the eligible ones.
    poorest_deciles: int = 2

    def receipt_data(self, data: pd.DataFrame, *, max_decile: int | None = None) -> pd.DataFrame:
        """All households and the terms of BPNT's receipt rule.

        Eligibility (decile <= ``max_decile``, default :attr:`eligible_max_decile`), within it a
        female head and the poorest :attr:`poorest_deciles` deciles, outside it the decile; the PMT
        score; and PKH receipt (PKH families are BPNT families far more often and PKH raises
        consumption: left out, its effect would be credited to BPNT). Adds ``elig_bpnt``,
        ``female_elig_bpnt``, ``poorest_elig_bpnt``, ``decile_nonelig_bpnt``, ``pkh_receipt``.
        """
        cut = _check_decile(self.eligible_max_decile if max_decile is None else max_decile,
                            "programs.BPNT.receipt_data")
        _require(data, ["decile", "head_female", self.flag, "pkh", "pmt_score"], "programs.BPNT.receipt_data")
        out = data.copy()
        elig = (out["decile"] <= cut).astype(float)
        out["elig_bpnt"] = elig
        out["female_elig_bpnt"] = out["head_female"].astype(float) * elig
        out["poorest_elig_bpnt"] = (out["decile"] <= self.poorest_deciles).astype(float) * elig
        out["decile_nonelig_bpnt"] = out["decile"] * (1 - elig)
        out["pkh_receipt"] = out["pkh"].astype(float)
        return out


@dataclass(frozen=True)
class Accompaniment:
    """TKSK: one social welfare worker per kecamatan (Permensos 28/2018), rolled out in cohorts.

    Attributes
    ----------
    name : str
    cohort : str
        The panel column with each kecamatan's first accompanied wave (0 = never).
    outcomes : tuple of str
        The empowerment outcomes (and the parts of their summary index).
    """

    name: str
    cohort: str
    outcomes: tuple[str, ...]


PKH = PKHProgramme(
    name="PKH", flag="pkh", amount="pkh_amount",
    eligible_max_decile=int(rules()["pkh"]["eligible_max_decile"]),
    max_components=int(rules()["pkh"]["max_components"]),
    receipt_covariates=("elig", "female_elig", "comp_elig", "decile_nonelig", "pmt_score"),
    outcomes=PKH_OUTCOMES,
    # the randomized evaluation after six years: stunting down by 23%, children out of school by half
    benchmarks=(Benchmark("child_stunted", -0.23, "Cahyadi et al. 2020, AEJ: Economic Policy 12(4)"),
                Benchmark("child_out_of_school", -0.50, "Cahyadi et al. 2020, AEJ: Economic Policy 12(4)")),
)
BPNT = BPNTProgramme(
    name="BPNT", flag="bpnt", amount="bpnt_amount",
    eligible_max_decile=int(rules()["bpnt"]["eligible_max_decile"]),
    receipt_covariates=("elig_bpnt", "female_elig_bpnt", "poorest_elig_bpnt", "decile_nonelig_bpnt", "pmt_score",
                        "pkh_receipt"),
    outcomes=BPNT_OUTCOMES,
    monthly_amount=float(rules()["bpnt"]["monthly_amount"]),
)
TKSK = Accompaniment(name="TKSK", cohort="tksk_cohort", outcomes=TKSK_OUTCOMES)

__all__ = ["BPNT", "BPNT_OUTCOMES", "PKH", "PKH_OUTCOMES", "TKSK", "TKSK_OUTCOMES", "Accompaniment",
           "BPNTProgramme", "Benchmark", "CashTransfer", "PKHProgramme", "rules"]
