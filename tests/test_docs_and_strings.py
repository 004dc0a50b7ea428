"""Documentation in step with the code; the string table and the Indonesian number formats."""
from __future__ import annotations


import pytest

from welfare_eval.cli import main
from welfare_eval.config import REPO_DIR
from welfare_eval.exceptions import ParameterError
from welfare_eval.report.strings import STRINGS, both, fmt_number, fmt_pct, fmt_rp, t


def test_data_contract_doc_is_current():
    assert main(["docs", "--check"]) == 0


def test_readme_first_screen_has_the_two_commands():
    first = "\n".join((REPO_DIR / "README.md").read_text().splitlines()[:60])
    assert "make report" in first and "make test" in first


def test_every_shipped_data_file_has_its_provenance():
    readme = (REPO_DIR / "data" / "README.md").read_text()
    shipped = [p for p in (REPO_DIR / "data").rglob("*") if p.is_file() and p.name != "README.md"
               and "synthetic" not in p.parts]
    assert shipped
    for p in shipped:
        assert str(p.relative_to(REPO_DIR / "data")) in readme, p


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
