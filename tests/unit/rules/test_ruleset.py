"""Rules files: what they may change, and the clear errors for what they may not."""

from __future__ import annotations

from pathlib import Path

import pytest

from rules.ruleset import RuleSet, RulesFileError, default_ruleset, load_rules_file


def write(tmp_path: Path, text: str, name: str = "rules.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_rules_file_overrides_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'version = "2026.2"\n[rules.address_cluster]\nactive_threshold = 7\nseverity = "red"\n'
        "[rules.tax_arrears]\nmin_amount = 50000\nenabled = false\n",
    )
    ruleset = load_rules_file(path)
    by_id = {r["rule_id"]: r for r in ruleset.describe()}
    assert ruleset.version == "2026.2" and ruleset.source == str(path)
    assert by_id["address_cluster"]["params"]["active_threshold"] == 7
    assert by_id["address_cluster"]["params"]["new_threshold"] == 3  # default kept
    assert by_id["address_cluster"]["severity"] == "red"
    assert by_id["tax_arrears"]["params"]["min_amount"] == 50000  # int accepted for a float
    assert "tax_arrears" not in {a.rule.rule_id for a in ruleset.active()}
    assert RuleSet.from_json(ruleset.to_json()).describe() == ruleset.describe()


def test_json_rules_files_work_too(tmp_path: Path) -> None:
    path = write(
        tmp_path, '{"version": "j1", "rules": {"abnormal_age": {"max_age": 70}}}', "r.json"
    )
    assert load_rules_file(path).overrides == {"abnormal_age": {"max_age": 70}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[rules.address_cluster]\nactive_threshold = 6\n", "version must be a non-empty string"),
        ('version = "v"\n[rules.no_such_rule]\nx = 1\n', "unknown rule 'no_such_rule'"),
        ('version = "v"\n[rules.address_cluster]\nactive_treshold = 6\n', "is not a setting"),
        ('version = "v"\n[rules.address_cluster]\nactive_threshold = 6.5\n', "must be int"),
        ('version = "v"\n[rules.address_cluster]\nseverity = "purple"\n', "must be one of"),
        ('version = "v"\n[rules.address_cluster]\ndeduction = -5\n', "must not be negative"),
        ('version = "v"\n[rules.permit_missing]\nindustries = [1, 2]\n', "must be list"),
        ('version = "v"\nthresholds = 1\n', "unknown top-level keys"),
        ('version = "v"\n[rules.address_cluster\n', "not valid TOML"),
    ],
)
def test_a_bad_rules_file_says_what_to_fix(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(RulesFileError, match=message):
        load_rules_file(write(tmp_path, text))


def test_combination_settings_must_name_rules() -> None:
    with pytest.raises(RulesFileError, match="no_such_rule"):
        RuleSet("v", {"shell_company": {"signals": ["no_such_rule"]}})


def test_the_defaults_are_a_valid_rule_set() -> None:
    ruleset = default_ruleset()
    assert len(ruleset.active()) == len(ruleset.describe()) >= 17


def test_the_rules_page_documents_every_rule() -> None:
    page = (Path(__file__).resolve().parents[3] / "docs" / "rules.md").read_text()
    missing = [
        r["rule_id"] for r in default_ruleset().describe() if f"`{r['rule_id']}`" not in page
    ]
    assert not missing, f"docs/rules.md lacks {missing}"
