"""Configuration: `.github/mfbot.yml` / `--config FILE` parsing, and what it does to a review."""

from __future__ import annotations

import pytest
import yaml

from bot.config import DEFAULT_REPORT_GLOB, Config, ConfigError, parse_fail_on
from bot.findings import Level
from bot.rules import all_rules
from tests.conftest import review_files, rule_ids

# Trips MF101 (mojibake, line 5) and MF105 (emoji, line 7).
FILES = {"lib/MODEL_FAILURES.md": ("# Model Failures\n\n### 1. Bucket policy\n\nThe modelâ€™s policy allowed "
                                   "`s3:*` and the deploy failed with AccessDenied.\n\n- ❌ no encryption\n")}


def test_defaults():
    config = Config.from_yaml("")
    assert config == Config()
    assert config.report_glob == DEFAULT_REPORT_GLOB and config.fail_on is Level.ERROR
    assert config.setting("emoji", "paths", ["x"]) == ["x"]


def test_full_file():
    config = Config.from_yaml("""
rules:
  MF105: off
  mojibake: warning
  SENSITIVE_DATA: notice
  placeholder: false
report_glob: "tasks/**/MODEL_FAILURES.md"
fail_on: warning
settings:
  emoji: {paths: ["lib/*.md", "README.md"]}
""")
    assert config.off == {"MF105", "placeholder"}
    assert config.levels == {"mojibake": Level.WARNING, "SENSITIVE_DATA": Level.NOTICE}
    assert config.report_glob == "tasks/**/MODEL_FAILURES.md"
    assert config.fail_on is Level.WARNING
    assert config.setting("emoji", "paths", None) == ["lib/*.md", "README.md"]
    assert config.setting("score", "integer_only", True) is True


@pytest.mark.parametrize("key", ["MF105", "emoji", "EMOJI"])
def test_rule_off_by_id_name_or_kind(key):
    assert "MF105" in rule_ids(review_files(FILES))
    assert "MF105" not in rule_ids(review_files(FILES, Config.from_yaml(f"rules: {{{key}: off}}")))


@pytest.mark.parametrize("key", ["MF101", "mojibake", "MOJIBAKE"])
def test_level_change_by_id_name_or_kind(key):
    review = review_files(FILES, Config.from_yaml(f"rules: {{{key}: notice}}"))
    assert {f.level for f in review.findings if f.rule == "MF101"} == {Level.NOTICE}
    assert {f.level for f in review.findings if f.rule == "MF105"} == {Level.ERROR}


def config_yaml(levels: dict[str, str], fail_on: str = "error", keep=("MF101", "MF105")) -> str:
    """YAML that sets `levels` and turns off every rule but `keep`, so other families cannot change
    the outcome."""
    rules = {r.id: "off" for r in all_rules() if r.id not in keep} | levels
    return yaml.safe_dump({"rules": rules, "fail_on": fail_on})


@pytest.mark.parametrize("levels, fail_on, fails", [
    ({}, "error", True),
    ({"MF101": "warning", "emoji": "notice"}, "error", False),
    ({"MF101": "warning", "emoji": "notice"}, "warning", True),
    ({"MOJIBAKE": "notice", "EMOJI": "notice"}, "warning", False),
    ({"MOJIBAKE": "notice", "EMOJI": "notice"}, "notice", True),
    ({}, "never", False),
])
def test_fail_on_decides_failure(levels, fail_on, fails):
    config = Config.from_yaml(config_yaml(levels, fail_on))
    review = review_files(FILES, config)
    assert sorted(set(rule_ids(review))) == ["MF101", "MF105"]
    assert review.fails(config.fail_on) is fails


def test_parse_fail_on():
    assert parse_fail_on("never") is None
    assert parse_fail_on(" Warning ") is Level.WARNING


@pytest.mark.parametrize("text, words", [
    ("rules: [MF101]", ["rules must map"]),
    ("rules: {MF101: loud}", ["rules.MF101", "unknown level 'loud'", "error, warning or notice"]),
    ("fail_on: sometimes", ["fail_on must be error, warning, notice or never", "'sometimes'"]),
    ("report_glob: ''", ["report_glob must be a non-empty string"]),
    ("report_glob: 3", ["report_glob must be a non-empty string"]),
    ("settings: [1, 2]", ["settings must be a mapping"]),
    ("colour: blue", ["unknown key(s) colour", "known: fail_on, report_glob, rules, settings"]),
    ("- just\n- a list", ["expected a mapping at the top level"]),
    ("rules: {MF101: [", ["not valid YAML"]),
])
def test_bad_values_give_a_clear_error(text, words):
    with pytest.raises(ConfigError) as exc:
        Config.from_yaml(text, "repo/.github/mfbot.yml")
    message = str(exc.value)
    assert message.startswith("repo/.github/mfbot.yml: ")
    for w in words:
        assert w in message, message
