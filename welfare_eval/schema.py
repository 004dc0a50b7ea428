"""The data contract: tables, columns, types, units, allowed values and keys.

Everything downstream of the loaders may trust a frame that passed :func:`validate`. The
Markdown description in ``docs/data.md`` is generated from these definitions
(``welfare-eval docs``), so the documentation cannot drift from the checks.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

Kind = Literal["int", "float", "bool", "code", "str", "date"]


@dataclass(frozen=True)
class Column:
    """One column of the contract."""

    name: str
    kind: Kind
    description: str
    unit: str = ""
    required: bool = True
    nullable: bool = False
    min: float | None = None          # inclusive lower bound
    min_exclusive: bool = False       # lower bound excluded (weights, consumption)
    max: float | None = None          # inclusive upper bound
    allowed: tuple = ()               # closed set of values (codes, labels)
    region: Literal["kab", "kec", "desa", ""] = ""  # region code checked against the crosswalk
    pattern: str = ""                 # regular expression every value must match in full
    pattern_text: str = ""            # the pattern as a reader says it ("YYYYQn, e.g. 2024Q1")

    def describe_allowed(self) -> str:
        if self.allowed:
            return ", ".join(str(a) for a in self.allowed)
        lo = "" if self.min is None else (f"> {self.min:g}" if self.min_exclusive else f">= {self.min:g}")
        hi = "" if self.max is None else f"<= {self.max:g}"
        if self.region:
            return f"{self.region} code of province 76 in the BPS system"
        if self.kind == "bool":
            return "true/false (1/0)"
        if self.pattern_text:
            return self.pattern_text
        if self.kind == "date":
            return "YYYY-MM-DD (or the mapping's date_format)"
        return " and ".join(s for s in (lo, hi) if s)


@dataclass(frozen=True)
class Table:
    """One table of the contract."""

    name: str
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    survey_design: bool = False       # check strata/PSU nesting and PSUs per stratum
    notes: tuple[str, ...] = field(default=())

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _flag(name: str, what: str, required: bool = True) -> Column:
    return Column(name, "bool", what, required=required)


def _count(name: str, what: str) -> Column:
    return Column(name, "int", what, unit="persons", min=0, required=False)


_KAB = Column("kab_code", "code", "Kabupaten (BPS code, 4 digits)", region="kab")
_KEC = Column("kec_code", "code", "Kecamatan (BPS code, 7 digits)", region="kec")
_DESA = Column("desa_code", "code", "Desa/kelurahan (BPS code, 10 digits, starts with kec_code)", region="desa")
_HH = Column("hh_id", "int", "Household identifier (stable across tables; never a NIK)", min=1)
_HHSIZE = Column("hh_size", "int", "Household members", unit="persons", min=1, max=40)
_URBAN = _flag("urban", "Urban (perkotaan) area as classified by BPS")
_DECILE = Column("decile", "int", "DTSEN welfare decile from the proxy means test (1 = poorest)", min=1, max=10)
_CONS = Column("cons_pc", "float", "Consumption per capita after transfers", unit="Rp per capita per month",
               min=0, min_exclusive=True)
_PKH = _flag("pkh", "Family receives PKH")
_BPNT = _flag("bpnt", "Family receives BPNT / Sembako")
_PKH_AMT = Column("pkh_amount", "float", "PKH benefit (0 if none)", unit="Rp per year", min=0)
_BPNT_AMT = Column("bpnt_amount", "float", "BPNT benefit (0 if none)", unit="Rp per year", min=0)

_PMT_ASSETS = (
    ("floor_earth", "Floor of earth or bamboo"),
    ("wall_bamboo", "Walls of bamboo, wood of low quality or thatch"),
    ("no_toilet", "No private toilet"),
    ("no_electricity", "No PLN electricity connection"),
    ("cooking_wood", "Cooks with firewood or charcoal"),
    ("owns_motorbike", "Owns a motorcycle"),
    ("owns_fridge", "Owns a refrigerator"),
    ("owns_land", "Owns agricultural land"),
)

REGISTRY = Table(
    name="registry",
    description=(
        "DTSEN-like list of every household of the province, ranked into welfare deciles by a proxy "
        "means test, with programme receipt. One row per household."
    ),
    key=("hh_id",),
    columns=(
        _HH, _KAB, _KEC, _DESA, _URBAN, _HHSIZE,
        _flag("head_female", "Household head is a woman", required=False),
        Column("head_age", "int", "Age of the household head", unit="years", min=10, max=110, required=False),
        Column("head_educ", "int", "Schooling of the household head", unit="years", min=0, max=22, required=False),
        _count("n_child_0_6", "Children aged 0-6"),
        _count("n_primary", "Primary school pupils (SD)"),
        _count("n_junior", "Junior secondary pupils (SMP)"),
        _count("n_senior", "Senior secondary pupils (SMA)"),
        _count("n_elderly_70", "Members aged 70 or more"),
        _count("n_disabled", "Members with a severe disability"),
        _count("n_pregnant", "Pregnant or post-natal women"),
        *(_flag(n, d, required=False) for n, d in _PMT_ASSETS),
        Column("pmt_score", "float", "Proxy means test score (predicted log consumption per capita)"),
        _DECILE, _PKH, _PKH_AMT, _BPNT, _BPNT_AMT,
        _flag("kks", "Holds a KKS (Kartu Keluarga Sejahtera) card"),
        Column("nik_hash", "str", "Keyed hash of the household head's NIK (pseudonym; the NIK itself is never kept)",
               required=False),
    ),
    notes=("Region codes are BPS codes; files in the Kemendagri system are converted at load by the crosswalk.",),
)

SURVEY = Table(
    name="survey",
    description=(
        "SUSENAS-like household survey: a stratified two-stage sample (strata = kabupaten x urban/rural, "
        "PSU = census block, 10 households per block). One row per sampled household."
    ),
    key=("hh_id",),
    columns=(
        _HH,
        _KAB,
        _URBAN,
        Column("strata", "code", "Design stratum (kabupaten code + 1 urban / 2 rural)"),
        Column("psu", "code", "Primary sampling unit (census block code); nested in strata"),
        Column("weight", "float", "Household expansion weight", unit="households", min=0, min_exclusive=True),
        _HHSIZE,
        _CONS,
        Column(
            "poverty_line",
            "float",
            "Poverty line (garis kemiskinan) of the household's kabupaten and area",
            unit="Rp per capita per month",
            min=0,
            min_exclusive=True,
        ),
        Column(
            "extreme_line",
            "float",
            "Extreme poverty line (the selected international line)",
            unit="Rp per capita per month",
            min=0,
            min_exclusive=True,
        ),
        _DECILE,
        _PKH,
        _PKH_AMT,
        _BPNT,
        _BPNT_AMT,
        replace(_KEC, required=False),
        _flag("head_female", "Household head is a woman", required=False),
        Column("head_educ", "int", "Schooling of the household head", unit="years", min=0, max=22, required=False),
    ),
    survey_design=True,
    notes=(
        "Person-level estimates weight households by weight x hh_size.",
        "poverty_line and extreme_line are attached from welfare_eval/data/poverty_lines.csv "
        "when a raw file lacks them.",
    ),
)

_OUTCOMES = (
    ("poor", "Consumption below the poverty line of the wave"),
    ("extreme_poor", "Consumption below the extreme poverty line of the wave"),
    ("child_out_of_school", "A child aged 7-18 is out of school (ATS)"),
    ("child_stunted", "A child aged 0-6 is stunted"),
    ("early_marriage", "A child under 19 married in the past year"),
    ("kks_independent", "Uses the KKS card or bank account without help"),
    ("knows_program", "Knows the purpose and conditions of the programme"),
    ("has_savings", "Holds savings (bank, group or cash set aside)"),
    ("kube_member", "Member of a joint business group (KUBE)"),
    ("graduated", "Has left PKH by graduation (graduasi) by this wave"),
)

PANEL = Table(
    name="panel",
    description=(
        "Evaluation panel: the same households observed in yearly waves, with TKSK accompaniment "
        "rolled out across kecamatan in staggered cohorts. One row per household and wave."
    ),
    key=("hh_id", "wave"),
    columns=(
        _HH,
        Column("wave", "int", "Survey year of the wave", min=2000, max=2100),
        _KAB,
        _KEC,
        Column("tksk_cohort", "int", "First wave with TKSK accompaniment in the kecamatan (0 = never)", min=0),
        _flag("tksk", "Kecamatan accompanied by a TKSK in this wave"),
        _PKH,
        _BPNT,
        _CONS,
        Column("cpi", "float", "Consumer price index of the wave (2018 = 100)", min=0, min_exclusive=True),
        *(_flag(n, d) for n, d in _OUTCOMES[:9]),
        Column(
            "business_income", "float", "Income from own business", unit="Rp per month, constant 2024 prices", min=0
        ),
        _flag(*_OUTCOMES[9]),
        _HHSIZE,
        Column("decile", "int", "DTSEN welfare decile at baseline", min=1, max=10, required=False),
        Column("pmt_score", "float", "PMT score at baseline", required=False),
        _flag("head_female", "Household head is a woman", required=False),
        Column("head_educ", "int", "Schooling of the household head", unit="years", min=0, max=22, required=False),
        replace(_URBAN, required=False),
    ),
    notes=(
        "pkh and bpnt record receipt at enrolment (the baseline wave); graduated records exits since.",
        "cons_pc is nominal; divide by cpi/100 for constant 2018 rupiah.",
    ),
)

DISBURSEMENT = Table(
    name="disbursement",
    description="Quarterly allocation and payment records per beneficiary household and programme.",
    key=("hh_id", "program", "period"),
    columns=(
        _HH,
        Column("program", "str", "Programme", allowed=("PKH", "BPNT")),
        Column("period", "str", "Quarter of the allocation, as YYYYQn", pattern=r"\d{4}Q[1-4]",
               pattern_text="YYYYQn with n 1-4, e.g. 2024Q1"),
        Column("allocated_amount", "float", "Amount allocated for the quarter", unit="Rp", min=0),
        Column("disbursed_amount", "float", "Amount received by the family", unit="Rp", min=0),
        Column("paid_on", "date", "Date the family received it (empty if not received)", nullable=True),
        Column("channel", "str", "Payment channel", allowed=("bank", "pos", "e-warong")),
        replace(_KEC, required=False),
    ),
    notes=(("A disbursed amount more than twice the allocated amount of its quarter is warned about "
            "(a back-payment, rapel, can double a quarter's payment; more is implausible)."),),
)

TABLES: dict[str, Table] = {t.name: t for t in (REGISTRY, SURVEY, PANEL, DISBURSEMENT)}


def table(name: str) -> Table:
    """The contract of table ``name``."""
    from .exceptions import parameter_error

    if name not in TABLES:
        raise parameter_error("table", "the data contract", f"one of {sorted(TABLES)}", name)
    return TABLES[name]


def to_markdown() -> str:
    """The data contract as Markdown (the content of ``docs/data.md``)."""
    lines = [
        "# Data contract",
        "",
        "Generated from `welfare_eval/schema.py` by `welfare-eval docs`; do not edit by hand.",
        "",
        "Every loader maps its input onto these tables and validates it before anything is written",
        "(`welfare-eval validate --table NAME FILE`). Region codes are BPS codes of province 76;",
        "the crosswalk to Kemendagri-style codes is `welfare_eval/data/regions_*.csv`. Extra columns are kept.",
        "Rows in validation messages are counted from 1, the first data row of the file.",
        "",
    ]
    for t in TABLES.values():
        lines += [f"## `{t.name}`", "", t.description, "", f"Key: {', '.join(f'`{k}`' for k in t.key)} (unique).", ""]
        lines += ["| column | type | required | unit | allowed | meaning |", "|---|---|---|---|---|---|"]
        for c in t.columns:
            lines.append(
                f"| `{c.name}` | {c.kind} | {'yes' if c.required else 'no'} | {c.unit} | "
                f"{c.describe_allowed()} | {c.description} |"
            )
        extra = list(t.notes)
        if t.survey_design:
            extra.append("Each PSU lies in one stratum and each stratum has at least two PSUs.")
        if extra:
            lines += [""] + [f"- {n}" for n in extra]
        lines.append("")
    return "\n".join(lines)
