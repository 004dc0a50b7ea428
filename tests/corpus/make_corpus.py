"""The corpus of defective input files: each with the message fragment it must give and its exit code.

Every file is made here from small frames of a synthetic province (the contract tables and the raw
exports ``raw/dtks_registry.csv`` and ``raw/susenas_kor.{dta,sav}``), so the corpus is a deterministic
function of the province and nothing binary is committed. ``tests/test_corpus.py`` builds it once
per session and runs every file through the public loader and ``welfare-eval validate``.

    python tests/corpus/make_corpus.py OUT_DIR [--province DIR]

writes the files and ``cases.csv`` (without ``--province``, a small province is generated first).

Exit codes: 1 invalid data (the file is wrong), 2 a bad request (no file, a folder, an unknown or
malformed mapping), 0 accepted with a warning (a NIK-like column hashed, an implausible amount).
"""
from __future__ import annotations

import argparse
import csv
import shutil
import sys
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from welfare_eval.config import data_dir


@dataclass(frozen=True)
class Case:
    """One defective file and what the workbench must say about it."""

    id: str
    file: str                 # name inside the corpus folder
    table: str
    expect: str               # fragments of the message, separated by " | " (compared case-insensitively)
    exit_code: int            # 1 invalid data, 2 bad request, 0 accepted with a warning
    mapping: str = ""         # file in the corpus folder, or a shipped mapping's name
    encoding: str = ""
    delimiter: str = ""
    defect: str = ""          # what is wrong, for a reader of the corpus


#: A NIK of the synthetic province's structure: Kemendagri kecamatan 760501, a woman born 12.03.84 (52 = 12 + 40).
GOOD_NIK = "7605015203840001"


def _survey_subset(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Two whole strata of the survey (every PSU kept, so the design checks pass)."""
    s = tables["survey"]
    keep = sorted(s["strata"].unique())[:2]
    return s[s["strata"].isin(keep)].reset_index(drop=True)


def _write_csv(df: pd.DataFrame, path: Path, **kw) -> None:
    df.to_csv(path, index=False, **kw)


def _raw_susenas(province: Path, ext: str, strata: list[str]) -> tuple[pd.DataFrame, dict]:
    import pyreadstat

    reader = pyreadstat.read_dta if ext == "dta" else pyreadstat.read_sav
    df, meta = reader(str(province / "raw" / f"susenas_kor.{ext}"), apply_value_formats=False)
    df = df[df["strata"].isin(strata)].reset_index(drop=True)
    labels = {c: {int(k): v for k, v in lab.items()} for c, lab in meta.variable_value_labels.items()}
    return df, labels


def _write_stat(df: pd.DataFrame, path: Path, labels: dict, *, compress: bool = False) -> None:
    import pyreadstat

    if path.suffix == ".dta":
        pyreadstat.write_dta(df, str(path), variable_value_labels=labels)
    else:
        pyreadstat.write_sav(df, str(path), variable_value_labels=labels, compress=compress)


def build(out: str | Path, province: str | Path) -> list[Case]:
    """Write the corpus into ``out`` from the province folder ``province``; the cases, in order."""
    out, province = Path(out), Path(province)
    out.mkdir(parents=True, exist_ok=True)
    tables = {n: pd.read_parquet(province / f"{n}.parquet") for n in ("registry", "survey", "panel", "disbursement")}
    sv = _survey_subset(tables)
    reg = tables["registry"].head(300).reset_index(drop=True)
    pan = tables["panel"].head(300).reset_index(drop=True)
    dis = tables["disbursement"].head(300).reset_index(drop=True)
    for name in ("program", "period", "channel", "kec_code"):
        dis[name] = dis[name].astype(str)
    dtks = pd.read_csv(province / "raw" / "dtks_registry.csv", dtype=str, nrows=200)
    strata = sorted(sv["strata"].unique())
    cases: list[Case] = []

    def add(id, file, table, expect, exit_code, **kw):
        cases.append(Case(id, file, table, expect, exit_code, **kw))

    def survey_csv(name, df):
        _write_csv(df, out / name)
        return name

    # ---------------------------------------------------------------- empty, truncated, mislabelled
    for ext in ("csv", "parquet", "dta", "sav"):
        (out / f"empty.{ext}").write_bytes(b"")
        add(f"empty-{ext}", f"empty.{ext}", "survey", "is empty (0 bytes)", 1, defect="a file of 0 bytes")
    (out / "header_only.csv").write_text(",".join(sv.columns) + "\n", encoding="utf-8")
    add("header-only-csv", "header_only.csv", "survey", "the table has no rows", 1, defect="header, no rows")
    (out / "blank_first_line.csv").write_text("\n\n", encoding="utf-8")
    add("blank-first-line-csv", "blank_first_line.csv", "survey", "no header line", 1, defect="only blank lines")
    sv.to_parquet(out / "whole.parquet", index=False)
    data = (out / "whole.parquet").read_bytes()
    (out / "truncated.parquet").write_bytes(data[: len(data) // 2])
    add("truncated-parquet", "truncated.parquet", "survey", "truncated", 1, defect="first half of a Parquet file")
    raw_dta, labels = _raw_susenas(province, "dta", strata)
    raw_sav, _ = _raw_susenas(province, "sav", strata)
    _write_stat(raw_dta, out / "susenas_ok.dta", labels)
    _write_stat(raw_sav, out / "susenas_ok.sav", labels)
    for ext in ("dta", "sav"):
        data = (out / f"susenas_ok.{ext}").read_bytes()
        (out / f"truncated.{ext}").write_bytes(data[: int(len(data) * 0.6)])
        add(f"truncated-{ext}", f"truncated.{ext}", "survey", "truncated", 1, mapping="susenas",
            defect=f"first 60% of a {ext} file")
    csv_text = sv.to_csv(index=False)
    (out / "truncated.csv").write_text(csv_text[: int(len(csv_text) * 0.6)], encoding="utf-8")
    add(
        "truncated-csv",
        "truncated.csv",
        "survey",
        "ends in the middle of a row",
        1,
        defect="CSV cut in the middle of a row",
    )
    shutil.copy(out / "susenas_ok.dta", out / "stata_renamed.csv")
    add("dta-renamed-csv", "stata_renamed.csv", "survey", "holds a Stata file; rename it to stata_renamed.dta", 1,
        defect="a .dta renamed .csv")
    shutil.copy(out / "susenas_ok.sav", out / "spss_renamed.csv")
    add("sav-renamed-csv", "spss_renamed.csv", "survey", "holds an SPSS file", 1, defect="a .sav renamed .csv")
    shutil.copy(out / "whole.parquet", out / "parquet_renamed.csv")
    add("parquet-renamed-csv", "parquet_renamed.csv", "survey", "holds a Parquet file", 1,
        defect="a .parquet renamed .csv")
    survey_csv("csv_renamed.parquet", sv)
    add("csv-renamed-parquet", "csv_renamed.parquet", "survey", "ends in .parquet but holds text", 1,
        defect="a CSV renamed .parquet")
    survey_csv("csv_renamed.dta", sv)
    add("csv-renamed-dta", "csv_renamed.dta", "survey", "ends in .dta but holds text", 1, defect="a CSV renamed .dta")
    with zipfile.ZipFile(out / "excel_renamed.csv", "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
    add("xlsx-renamed-csv", "excel_renamed.csv", "survey", "Excel workbook", 1, defect="an Excel file renamed .csv")
    (out / "a_folder.csv").mkdir(exist_ok=True)
    add("folder-as-file", "a_folder.csv", "survey", "is a folder, not a file", 2, defect="a folder")
    add("missing-file", "no_such_file.csv", "survey", "does not exist", 2, defect="no such file")
    (out / "survey.xlsx").write_bytes(b"not read")
    add("excel-workbook", "survey.xlsx", "survey", "save the sheet as 'CSV UTF-8'", 2, defect="an .xlsx workbook")
    (out / "survey.txt").write_text("not read", encoding="utf-8")
    add("unsupported-extension", "survey.txt", "survey", "a file ending in one of", 2, defect="a .txt file")

    # ---------------------------------------------------------------- encodings and delimiters
    latin = sv.assign(nama_desa=["Désa Tammerodo"] * len(sv))
    latin.to_csv(out / "latin1.csv", index=False, encoding="cp1252")
    add("latin1-csv", "latin1.csv", "survey", "is not UTF-8 text", 1, defect="Windows-1252 text")
    latin.to_csv(out / "utf16.csv", index=False, encoding="utf-16")
    add("utf16-csv", "utf16.csv", "survey", "UTF-16", 1, defect="UTF-16 text with BOM")
    latin.to_csv(out / "latin1_declared_wrong.csv", index=False, encoding="cp1252")
    add(
        "latin1-declared-utf16",
        "latin1_declared_wrong.csv",
        "survey",
        "is not utf-16 text as declared",
        1,
        encoding="utf-16",
        defect="encoding declared but wrong",
    )
    sv.to_csv(out / "semicolon.csv", index=False, sep=";", decimal=",")
    add("semicolon-csv", "semicolon.csv", "survey", "delimiter is ';'", 1, defect="semicolon-separated")
    sv.to_csv(out / "tab.csv", index=False, sep="\t")
    add("tab-csv", "tab.csv", "survey", "delimiter", 1, defect="tab-separated")
    lines = csv_text.splitlines()
    lines[3] = lines[3] + ",extra,fields"
    (out / "ragged.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    add("ragged-csv", "ragged.csv", "survey", "cannot be read as csv", 1, defect="a row with extra fields")
    lines = csv_text.splitlines()
    lines[5] = '"' + lines[5]
    (out / "open_quote.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    add("unclosed-quote-csv", "open_quote.csv", "survey", "cannot be read as csv", 1, defect="a quote never closed")

    # ---------------------------------------------------------------- headers that lie about their size
    data = bytearray((out / "susenas_ok.dta").read_bytes())
    at = data.index(b"<N>") + 3
    data[at:at + 8] = (15_800_000).to_bytes(8, "little")
    (out / "huge_claim.dta").write_bytes(bytes(data))
    add("dta-header-claims-15.8M-rows", "huge_claim.dta", "survey", "claims 15,800,000 rows", 1, mapping="susenas",
        defect="a .dta whose header claims 15.8 million rows")
    data[at:at + 8] = (158_000_000).to_bytes(8, "little")
    (out / "huger_claim.dta").write_bytes(bytes(data))
    add("dta-header-claims-158M-rows", "huger_claim.dta", "survey", "claims 158,000,000 rows", 1, mapping="susenas",
        defect="a .dta whose header claims 158 million rows")
    data = bytearray((out / "susenas_ok.sav").read_bytes())
    data[80:84] = (158_000_000).to_bytes(4, "little")
    (out / "huge_claim.sav").write_bytes(bytes(data))
    add("sav-header-claims-158M-rows", "huge_claim.sav", "survey", "claims 158,000,000 rows", 1, mapping="susenas",
        defect="an uncompressed .sav whose header claims 158 million cases")

    # a synthetic SUSENAS .sav with 20 bytes flipped (found by fuzzing) on which the ReadStat C library
    # crashes the interpreter (SIGSEGV) even when reading only the header: read in a child process
    shutil.copy(Path(__file__).parent / "files" / "readstat_segfault.sav", out / "readstat_segfault.sav")
    add("sav-crashes-the-reader", "readstat_segfault.sav", "survey", "cannot be read as an SPSS file", 1,
        mapping="susenas", defect="bytes flipped: the C reader segfaults on it")
    data = bytearray((out / "susenas_ok.dta").read_bytes())
    rng = np.random.default_rng(12)
    for at in rng.integers(200, 1200, 40):
        data[at] = int(rng.integers(0, 256))
    (out / "flipped.dta").write_bytes(bytes(data))
    add("dta-bytes-flipped", "flipped.dta", "survey", "cannot be read as a Stata file", 1, mapping="susenas",
        defect="40 bytes of the header and dictionary overwritten")

    # ---------------------------------------------------------------- NIK in the DTKS export
    def dtks_file(name, nik_values, column="NIK_KEPALA"):
        d = dtks.copy()
        d[column] = nik_values
        d.to_csv(out / name, index=False)
        return name

    def first(values, n=7):
        v = list(dtks["NIK_KEPALA"])
        v[:n] = values if isinstance(values, list) else [values] * n
        return v

    nik_cases = [
        ("nik-scientific", [f"{float(x):.14E}" for x in dtks["NIK_KEPALA"]],
         "format the column as Text", "every NIK as 7.60501221272462E+15 (Excel)"),
        ("nik-decimal", [x + ".0" for x in dtks["NIK_KEPALA"]], "format the column as Text", "NIKs written 7605....0"),
        ("nik-15-digits", first([x[:15] for x in dtks["NIK_KEPALA"][:7]]), "not 16 digits", "7 NIKs of 15 digits"),
        ("nik-17-digits", first([x + "1" for x in dtks["NIK_KEPALA"][:7]]), "not 16 digits", "7 NIKs of 17 digits"),
        ("nik-letters", first(["76050152O3840001"] * 7), "not 16 digits", "a letter O for a zero"),
        ("nik-province", first(["9905015203840001"] * 7), "province code", "province 99"),
        ("nik-province-00", first(["0005015203840001"] * 7), "province code", "province 00"),
        ("nik-month-13", first(["7605011213840001"] * 7), "possible date", "month 13"),
        ("nik-day-72", first(["7605017203840001"] * 7), "possible date", "day 72 (a woman's 32)"),
        ("nik-day-35", first(["7605013503840001"] * 7), "possible date", "day 35 (neither a man's nor a woman's)"),
        ("nik-feb-30", first(["7605013002840001"] * 7), "possible date", "30 February"),
        ("nik-feb-29-not-leap", first(["7605012902850001"] * 7), "possible date", "29 February 1985"),
    ]
    for id_, values, expect, what in nik_cases:
        add(id_, dtks_file(f"{id_}.csv", values), "registry", expect, 1, mapping="dtks_registry", defect=what)
    ok_reg = reg.copy()
    ok_reg["NO_KTP"] = [GOOD_NIK] * len(ok_reg)
    ok_reg.loc[[2, 40, 41], "NO_KTP"] = ["760501520384000", "76050152038400011", "760501520384000X"]
    ok_reg.to_csv(out / "no_ktp_bad.csv", index=False)
    add("no-ktp-unmapped-bad", "no_ktp_bad.csv", "registry", "3 values are not 16 digits | (rows 3, 41, 42)", 1,
        defect="an unmapped NO_KTP column with three bad NIKs")
    f_reg = reg.copy()
    f_reg["NIK1"] = np.full(len(f_reg), 7605015203840001.0)
    f_reg.to_parquet(out / "nik1_float.parquet", index=False)
    add("nik1-float-parquet", "nik1_float.parquet", "registry", "format the column as Text", 1,
        defect="a NIK1 column stored as float in Parquet")
    f_reg = reg.copy()
    f_reg["id_warga"] = np.full(len(f_reg), 7605015203840001.0)
    f_reg.to_parquet(out / "float_nik_unnamed.parquet", index=False)
    add("nik-like-float-unnamed", "float_nik_unnamed.parquet", "registry", "look like NIK numbers stored as floats", 1,
        defect="16-digit numbers as floats in a column with another name")
    t_reg = reg.copy()
    t_reg["catatan"] = ["KTP " + GOOD_NIK if i % 3 == 0 else "" for i in range(len(t_reg))]
    t_reg.to_csv(out / "nik_in_notes.csv", index=False)
    add("nik-in-free-text", "nik_in_notes.csv", "registry", "replaced by catatan_hash", 0,
        defect="NIKs inside a notes column (hashed, warned)")
    i_reg = reg.copy()
    i_reg["id_penduduk"] = np.full(len(i_reg), 7605015203840001, dtype=np.int64)
    i_reg.to_parquet(out / "nik_as_int.parquet", index=False)
    add("nik-like-int-column", "nik_as_int.parquet", "registry", "replaced by id_penduduk_hash", 0,
        defect="16-digit integers in a column of any name (hashed, warned)")

    # ---------------------------------------------------------------- mappings
    def mapping(name, text):
        (out / name).write_text(text, encoding="utf-8")
        return name

    good_survey_csv = survey_csv("survey_ok.csv", sv)
    add("mapping-invalid-yaml", good_survey_csv, "survey", "is not valid YAML at line 4", 2,
        mapping=mapping("bad_yaml.yaml", "table: survey\nrename:\n  fwt: weight\n bad: indent: here\n"),
        defect="YAML syntax error")
    add("mapping-compose-without-widths", good_survey_csv, "survey", "lacks 'widths'", 2,
        mapping=mapping("no_widths.yaml", "table: survey\ncompose:\n  kab_code: {from: [r101, r102]}\n"),
        defect="compose without widths")
    add("mapping-recode-not-a-map", good_survey_csv, "survey", "recode of 'pkh' must be a map", 2,
        mapping=mapping("recode_scalar.yaml", "table: survey\nrecode:\n  pkh: yes\n"), defect="recode: pkh: yes")
    add("mapping-is-a-list", good_survey_csv, "survey", "not a map of keys", 2,
        mapping=mapping("a_list.yaml", "- table: survey\n- rename: {fwt: weight}\n"), defect="a YAML list")
    add("mapping-many-problems", good_survey_csv, "survey", "has 4 problem(s)", 2,
        mapping=mapping("many.yaml", "table: surveys\nregion_codes: dukcapil\nrenames: {a: b}\ndrop: r101\n"),
        defect="four problems at once: table, region_codes, unknown key, drop not a list")
    add("mapping-empty-file", good_survey_csv, "survey", "holds nothing", 2,
        mapping=mapping("empty.yaml", ""), defect="an empty mapping file")
    add("mapping-unknown-name", good_survey_csv, "survey", "shipped mappings: dtks_registry, susenas", 2,
        mapping="susenass", defect="a misspelt mapping name")
    add("mapping-for-another-table", "susenas_ok.dta", "registry", "a mapping for table 'registry'", 2,
        mapping="susenas", defect="the survey mapping used for the registry")
    add("mapping-absent-columns", "susenas_ok.dta", "survey", "'nomor_rt' of table survey: named under 'rename'", 1,
        mapping=mapping("absent.yaml", (data_dir() / "mappings" / "susenas.yaml")
                        .read_text(encoding="utf-8").replace("urut: hh_id", "nomor_rt: hh_id")
                        .replace("fwt: weight", "bobot: weight")),
        defect="two raw columns the file lacks (both listed)")
    d = dtks.copy()
    d["KODE_KAB"] = d["KODE_KAB"].str.slice(0, 2) + ".09"
    d.to_csv(out / "kemendagri_dotted_unknown.csv", index=False)
    add("kemendagri-dotted-unknown", "kemendagri_dotted_unknown.csv", "registry",
        "Kemendagri-style codes, as the column mapping declares", 1, mapping="dtks_registry",
        defect="dotted Kemendagri kabupaten codes 76.09 that do not exist")
    d = reg.copy()
    d["kab_code"] = d["kab_code"].map({"7601": "7605", "7602": "7604", "7603": "7603", "7604": "7602",
                                       "7605": "7601", "7606": "7606"})
    d["kab_code"] = d["kab_code"].where(d["kab_code"] != "7603", "7699")
    d.to_csv(out / "kemendagri_without_mapping.csv", index=False)
    add("region-codes-wrong-system", "kemendagri_without_mapping.csv", "registry", "region_codes: kemendagri", 1,
        defect="Kemendagri kabupaten codes in a BPS table")

    # ---------------------------------------------------------------- value labels
    inv = {**labels, "pkh": {1: "Tidak", 2: "Ya"}}
    _write_stat(raw_sav, out / "pkh_labels_inverted.sav", inv)
    add("sav-labels-contradict-recode", "pkh_labels_inverted.sav", "survey",
        "value label of 1 is 'Tidak'", 1, mapping="susenas", defect="SPSS labels 1 = Tidak, recode 1 -> true")
    _write_stat(raw_dta, out / "pkh_labels_inverted.dta", inv)
    add("dta-labels-contradict-recode", "pkh_labels_inverted.dta", "survey",
        "value label of 1 is 'Tidak'", 1, mapping="susenas", defect="Stata labels 1 = Tidak, recode 1 -> true")
    inv_urban = {**labels, "r105": {1: "Perdesaan", 2: "Perkotaan"}}
    _write_stat(raw_dta, out / "urban_labels_inverted.dta", inv_urban)
    add("dta-urban-labels-contradict", "urban_labels_inverted.dta", "survey", "value label of 1 is 'Perdesaan'", 1,
        mapping="susenas", defect="r105 labels 1 = Perdesaan, recode 1 -> urban")

    # ---------------------------------------------------------------- numbers
    def sv_file(name, df, fmt="parquet"):
        if fmt == "parquet":
            df.to_parquet(out / name, index=False)
        else:
            df.to_csv(out / name, index=False)
        return name

    def setv(df, col, rows, value):
        df = df.copy()
        try:
            df.loc[rows, col] = value
        except TypeError:  # pandas refuses to upcast: a float in an int column, text in a number column
            df[col] = df[col].astype(float if isinstance(value, float) else object)
            df.loc[rows, col] = value
        return df

    add("inf-weight", sv_file("inf_weight.parquet", setv(sv, "weight", [3, 9], np.inf)), "survey",
        "2 values are infinite", 1, defect="weight = inf")
    add("inf-consumption-csv", sv_file("inf_cons.csv", setv(sv, "cons_pc", [0], "inf"), "csv"), "survey",
        "values are infinite", 1, defect="cons_pc written 'inf'")
    add("minus-inf-pkh-amount", sv_file("minf_pkh.parquet", setv(sv, "pkh_amount", [4], -np.inf)), "survey",
        "values are infinite", 1, defect="pkh_amount = -inf")
    add("nan-text-weight", sv_file("text_weight.csv", setv(sv, "weight", [6], "1.234,5"), "csv"), "survey",
        "not numbers", 1, defect="weight with a decimal comma")
    add("zero-consumption", sv_file("zero_cons.parquet", setv(sv, "cons_pc", [1], 0.0)), "survey",
        "values are zero", 1, defect="cons_pc = 0")
    add("hh-size-zero", sv_file("hh_size0.parquet", setv(sv, "hh_size", [2], 0)), "survey", "below 1", 1,
        defect="hh_size = 0")
    add("missing-weight-column", sv_file("no_weight.parquet", sv.drop(columns="weight")), "survey",
        "required column(s) missing", 1, defect="no weight column")
    other = sv.index[sv["strata"] != sv["strata"].iloc[0]][0]
    add("psu-spans-strata", sv_file("psu_span.parquet", setv(sv, "psu", [other], sv["psu"].iloc[0])), "survey",
        "span more than one stratum", 1, defect="one PSU in two strata")
    add("duplicate-hh-id", sv_file("dup.parquet", pd.concat([sv, sv.iloc[[0]]], ignore_index=True)), "survey",
        "share a key", 1, defect="a household twice")
    add("registry-decile-zero", sv_file("decile0.parquet", setv(reg, "decile", [7], 0)), "registry", "below 1", 1,
        defect="decile 0")
    add("registry-half-household-id", sv_file("hh_half.csv", setv(reg, "hh_id", [5], 1.5), "csv"), "registry",
        "not whole numbers", 1, defect="hh_id 1.5")
    add("registry-desa-outside-kec", sv_file("desa.parquet", setv(reg, "desa_code", [0], "7699999999")), "registry",
        "desa codes are not 10-digit codes inside the row's kecamatan", 1, defect="desa code of another kecamatan")
    add("panel-wave-1999", sv_file("wave.parquet", setv(pan, "wave", [0], 1999)), "panel", "below 2000", 1,
        defect="wave 1999")
    add("panel-tksk-not-yes-no", sv_file("tksk.csv", setv(pan, "tksk", [3], "mungkin"), "csv"), "panel",
        "not yes/no", 1, defect="tksk 'mungkin'")
    add("panel-inf-business-income", sv_file("inf_income.parquet", setv(pan, "business_income", [8], np.inf)),
        "panel", "values are infinite", 1, defect="business_income = inf")

    # ---------------------------------------------------------------- dates, periods, amounts (disbursement)
    paid = pd.to_datetime(dis["paid_on"])

    def dis_csv(name, df):
        df.to_csv(out / name, index=False)
        return name

    low_days = dis.copy()
    low_days["paid_on"] = paid.map(lambda d: pd.NaT if pd.isna(d) else d.replace(day=min(d.day, 12)))
    low_days["paid_on"] = low_days["paid_on"].map(lambda d: "" if pd.isna(d) else d.strftime("%d/%m/%Y"))
    add("paid-on-ambiguous-day-first", dis_csv("paid_dmy_ambiguous.csv", low_days), "disbursement",
        "day-first cannot be told from month-first", 1, defect="DD/MM/YYYY with every day <= 12")
    dmy = dis.copy()
    dmy["paid_on"] = paid.map(lambda d: "" if pd.isna(d) else d.strftime("%d/%m/%Y"))
    add("paid-on-day-first", dis_csv("paid_dmy.csv", dmy), "disbursement", "written day/month/year", 1,
        defect="DD/MM/YYYY")
    mixed = dis.copy()
    mixed["paid_on"] = paid.map(lambda d: "" if pd.isna(d) else d.strftime("%Y-%m-%d")).astype(object)
    mixed.loc[mixed["paid_on"] != "", "paid_on"] = mixed.loc[mixed["paid_on"] != "", "paid_on"].where(
        np.arange((mixed["paid_on"] != "").sum()) % 4 != 0, "March 3 2024")
    add("paid-on-mixed-formats", dis_csv("paid_mixed.csv", mixed), "disbursement",
        "not dates in the form YYYY-MM-DD", 1, defect="a quarter of the dates written 'March 3 2024'")
    add("paid-on-declared-format-mismatch", dis_csv("paid_iso_declared_dmy.csv", dis.assign(
        paid_on=paid.map(lambda d: "" if pd.isna(d) else d.strftime("%Y-%m-%d")))), "disbursement",
        "do not match the declared date format", 1,
        mapping=mapping("dates_dmy.yaml", "table: disbursement\ndate_format: {paid_on: '%d/%m/%Y'}\n"),
        defect="ISO dates under a declared %d/%m/%Y")
    for id_, value in (("period-q-first", "Q1-2024"), ("period-quarter-5", "2024Q5"), ("period-dash", "2024-Q1"),
                       ("period-lowercase", "2024q1")):
        d = dis.copy()
        d.loc[[0, 5], "period"] = value
        add(id_, dis_csv(f"{id_}.csv", d), "disbursement", "not written YYYYQn", 1, defect=f"period {value}")
    add("program-lowercase", dis_csv("program.csv", setv(dis, "program", [1], "pkh")), "disbursement",
        "outside the allowed set", 1, defect="program 'pkh'")
    add("channel-unknown", dis_csv("channel.csv", setv(dis, "channel", [2], "atm")), "disbursement",
        "outside the allowed set", 1, defect="channel 'atm'")
    add("disbursement-negative", dis_csv("neg.csv", setv(dis, "disbursed_amount", [3], -100.0)), "disbursement",
        "below 0", 1, defect="negative payment")
    big = dis.copy()
    rows = big.index[big["allocated_amount"] > 0][:3]
    big.loc[rows, "disbursed_amount"] = big.loc[rows, "allocated_amount"] * 100
    add("disbursed-100x-allocated", dis_csv("disbursed_100x.csv", big), "disbursement",
        "3 disbursed amounts are more than 2 times", 0, defect="three payments 100 times the allocation (warned)")
    return cases


def write_cases(cases: list[Case], path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(asdict(cases[0])))
        w.writeheader()
        for c in cases:
            w.writerow(asdict(c))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out", type=Path)
    p.add_argument("--province", type=Path, default=None, help="synthetic province folder (default: generate one)")
    args = p.parse_args(argv)
    province = args.province
    if province is None:
        from welfare_eval import synth

        province = synth.synth(seed=7, scale=0.05, out=args.out / "_province")
    cases = build(args.out, province)
    write_cases(cases, args.out / "cases.csv")
    print(f"{len(cases)} defective files in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
