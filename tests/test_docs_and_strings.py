"""Documentation in step with the code; the string table and the Indonesian number formats."""
from __future__ import annotations

import pytest

from welfare_eval.cli import main
from welfare_eval.config import PACKAGE_DIR, REPO_DIR
from welfare_eval.exceptions import ParameterError
from welfare_eval.report.strings import STRINGS, both, fmt_number, fmt_pct, fmt_rp, t


def test_data_contract_doc_is_current():
    assert main(["docs", "--check"]) == 0


def test_readme_first_screen_has_the_two_commands():
    first = "\n".join((REPO_DIR / "README.md").read_text().splitlines()[:60])
    assert "make report" in first and "make test" in first


def test_every_shipped_data_file_has_its_provenance():
    readme = (PACKAGE_DIR / "data" / "README.md").read_text()
    shipped = [p for p in (PACKAGE_DIR / "data").rglob("*") if p.is_file() and p.name != "README.md"
               and "synthetic" not in p.parts]
    assert shipped
    for p in shipped:
        assert str(p.relative_to(PACKAGE_DIR / "data")) in readme, p


def test_every_string_has_both_languages():
    for key, texts in STRINGS.items():
        assert set(texts) == {"id", "en"} and all(texts.values()), key


@pytest.mark.parametrize("value,lang,expected", [
    (1234567, "id", "1.234.567"), (1234567, "en", "1,234,567"), (-1500.5, "id", "-1.500"), (999, "id", "999")],
    ids=["id", "en", "negative", "small"])
def test_numbers(value, lang, expected):
    assert fmt_number(value, lang) == expected


def test_percent_and_rupiah():
    assert fmt_pct(0.1121, "id") == "11,2%"
    assert fmt_pct(0.1121, "en") == "11.2%"
    assert fmt_rp(1234567, "id") == "Rp 1.234.567"
    assert fmt_number(float("nan")) == "–"
    assert both("dq_title") == "Kualitas data / Data quality"


def test_unknown_language():
    with pytest.raises(ParameterError, match="'language' parameter must be one of"):
        t("dq_title", "fr")


def test_every_estimator_diagnostic_has_an_indonesian_sentence():
    """Each diagnostic an estimator attaches is worded in Indonesian from its own numbers (not the
    English sentence passed through), with Indonesian number formatting."""
    import numpy as np
    import pandas as pd
    from test_language import english_in, reader_text  # the scanner of the Indonesian pages (same folder)

    from welfare_eval import impact
    from welfare_eval.impact.inference import heterogeneity
    from welfare_eval.report.strings import diagnostic_text

    rng = np.random.default_rng(3)
    n = 1500
    x = rng.normal(size=n)
    d = (rng.random(n) < 1 / (1 + np.exp(-1.5 * x))).astype(int)
    g = rng.integers(0, 12, n)
    df = pd.DataFrame({"y": 0.4 * d + x + rng.normal(size=n), "d": d, "x": x, "g": g, "f": g % 2,
                       "run": rng.uniform(-1, 1, n)})
    df["y_rd"] = df["y"] + 0.5 * (df["run"] >= 0)
    ests = [impact.aipw(df, outcome="y", treatment="d", covariates=["x"]),
            impact.matching(df, outcome="y", treatment="d", covariates=["x"]),
            impact.regression(df, outcome="y", treatment="d", covariates=["x"], cluster="g", wild_bootstrap=199),
            impact.rd(df, outcome="y_rd", running="run", cutoff=0.0)]
    diags = [dg for e in ests for dg in e.diagnostics]
    diags += list(heterogeneity(impact.naive, df, by="f", outcome="y", treatment="d").diagnostics)
    names = {dg.name for dg in diags}
    assert {"overlap", "balance", "e_value", "oster_delta", "few_clusters", "density_at_cutoff", "bandwidth",
            "match_concentration", "equal_effects", "effective_sample"} <= names
    for dg in diags:
        id_text, en_text = diagnostic_text(dg, "id"), diagnostic_text(dg, "en")
        assert en_text == dg.message
        assert id_text != dg.message, dg.name
        assert not any(w in id_text.split() for w in ("the", "and", "of", "to")), id_text
        assert not english_in(reader_text(f"<p>{id_text}</p>")), (dg.name, id_text)


def test_p_values_in_sentences_read_as_written():
    from welfare_eval.report.strings import fmt_p

    assert fmt_p(0.0004, "id") == "p < 0,001" and fmt_p(0.03, "id") == "p = 0,030" and fmt_p(0.5, "en") == "p = 0.500"
