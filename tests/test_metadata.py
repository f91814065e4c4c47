"""metadata.json: the packaged JSON Schema (all errors, each at its key's line) and the report against it."""

import json

import pytest

from bot.config import Config
from bot.rules.metadata import GOOD_METADATA, MetadataSchemaError, key_lines
from tests.conftest import review_files

REPORT = "lib/MODEL_FAILURES.md"


def meta(**changes) -> dict:
    data = json.loads(GOOD_METADATA)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def findings(metadata_text: str, rule: str = "MF207", report: str = "# Model Failures\n", config=None, **extra):
    review = review_files({"metadata.json": metadata_text, REPORT: report, **extra}, config)
    assert not review.errors, review.errors
    return [f for f in review.findings if f.rule == rule]


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.split("\n"), 1) if needle in line)


def test_valid_metadata_and_pipeline_written_keys_pass():
    assert findings(GOOD_METADATA) == []
    archived = json.dumps(meta(training_quality=9, coverage={"lines": 100}, author="someone",
                               dockerS3Location="s3://bucket/x"), indent=2)
    assert findings(archived) == []


def test_invalid_json_reports_line_and_column():
    text = GOOD_METADATA.replace('"complexity": "hard",', '"complexity": "hard"')
    [f] = findings(text)
    assert f.line == line_of(text, '"turn_type"') and "line 5, column 3" in f.message and "Expecting ','" in f.message


def test_all_errors_at_once_each_on_its_key():
    data = meta(platform="tf", language="ts", complexity="easy", po_id="", startedAt="yesterday",
                subject_labels=["Web Application Deployment", "Bogus Label"], aws_services="S3", region="us-east-1",
                training_quality=8.5, team=None)
    text = json.dumps(data, indent=2)
    got = {(f.line, f.message) for f in findings(text)}
    expected_lines = {
        1: "'team' is a required property",
        line_of(text, '"language"'): "'ts' is not a language of platform 'tf'",
        line_of(text, '"complexity"'): "'easy' is not an allowed value",
        line_of(text, '"po_id"'): "should be non-empty",
        line_of(text, '"startedAt"'): "is not a 'date-time'",
        line_of(text, '"Bogus Label"'): "'Bogus Label' is not an allowed value",
        line_of(text, '"aws_services"'): "is not of type 'array'",
        line_of(text, '"region"'): "`region` is not allowed by the schema",
        line_of(text, '"training_quality"'): "8.5 is not of type 'integer'",
    }
    for line, text_part in expected_lines.items():
        assert any(n == line and text_part in m for n, m in got), (line, text_part, sorted(got))
    assert len(got) == len(expected_lines)


@pytest.mark.parametrize("platform, language, ok", [
    ("cdk", "go", True), ("cdktf", "js", False), ("tf", "hcl", True), ("tf", "py", False),
    ("cfn", "yml", True), ("cicd", "json", False), ("analysis", "sh", True), ("pulumi", "java", True),
])
def test_platform_language_matrix(platform, language, ok):
    assert (findings(json.dumps(meta(platform=platform, language=language))) == []) is ok


def test_localstack_needs_a_wave():
    [f] = findings(json.dumps(meta(provider="localstack")))
    assert "'wave' is a required property" in f.message
    assert findings(json.dumps(meta(provider="localstack", wave="P1"))) == []


def test_schema_is_replaceable_by_configuration(tmp_path):
    schema = {"type": "object", "required": ["owner"]}
    inline = Config(settings={"metadata": {"schema": schema}})
    [f] = findings(GOOD_METADATA, config=inline)
    assert "'owner' is a required property" in f.message
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(schema))
    assert len(findings(GOOD_METADATA, config=Config(settings={"metadata": {"schema": str(path)}}))) == 1
    review = review_files({"metadata.json": GOOD_METADATA, REPORT: "# R\n"},
                          Config(settings={"metadata": {"schema": {"type": 12}}}))
    assert review.errors and "not a valid JSON Schema" in review.errors[0].message


def test_bad_schema_setting_raises_a_clear_error(tmp_path):
    from bot.rules.metadata import validator
    with pytest.raises(MetadataSchemaError, match="cannot read"):
        validator(Config(settings={"metadata": {"schema": str(tmp_path / "missing.json")}}))


def test_key_lines_scanner():
    text = '{\n  "a": 1,\n  "b": {\n    "c": "x:y"\n  },\n  "d": [\n    "p",\n    {"q": 2}\n  ],\n  "e\\"f": true\n}'
    lines = key_lines(text)
    assert lines[("a",)] == 2 and lines[("b", "c")] == 4 and lines[("d",)] == 6
    assert lines[("d", 0)] == 7 and lines[("d", 1)] == 8 and lines[("d", 1, "q")] == 8 and lines[('e"f',)] == 10


# --- METADATA_MISMATCH --------------------------------------------------------------------------

def test_report_platform_and_language_against_metadata():
    report = "# Model Failures\n\n**Platform**: CDK TypeScript\n**Complexity**: Hard\n\n### 1. Bucket\n\nPublic.\n"
    tf = json.dumps(meta(platform="tf", language="hcl", complexity="expert"), indent=2)
    got = [(f.line, f.message) for f in findings(tf, "MF206", report)]
    assert got == [(3, "The report says language ts, metadata.json says hcl."),
                   (3, "The report says platform cdk, metadata.json says tf."),
                   (4, "The report says complexity hard, metadata.json says expert.")]
    assert findings(GOOD_METADATA, "MF206", report) == []


def test_region_against_lib_aws_region_and_yaml_spellings():
    report = "# R\n\n**Region**: us-west-2\n**Platform**: CloudFormation YAML\n"
    cfn = json.dumps(meta(platform="cfn", language="yml"))
    [f] = findings(cfn, "MF206", report, **{"lib/AWS_REGION": "us-east-1\n"})
    assert f.line == 3 and "lib/AWS_REGION says us-east-1" in f.message
    assert findings(cfn, "MF206", report, **{"lib/AWS_REGION": "us-west-2\n"}) == []
    assert findings(cfn, "MF206", report) == []  # no lib/AWS_REGION: nothing to compare with


def test_facts_inside_entries_or_attempts_are_not_the_tasks():
    report = ("# R\n\n## Deployment Attempt 1\n\n**Region**: ap-northeast-1\n\n## Regional Issues\n\n"
              "### 1. Quota\n\n**Region**: eu-west-3\n**Complexity**: Medium - easy to add later\n")
    assert findings(GOOD_METADATA, "MF206", report, **{"lib/AWS_REGION": "us-east-1"}) == []


def test_key_lines_scanner_with_escaped_quotes_and_backslashes():
    text = '{\n  "a\\\\": "x\\\\\\"y",\n  "b": ["\\\\", "q\\"",\n    "r"],\n  "c": 1\n}'
    assert json.loads(text) == {"a\\": 'x\\"y', "b": ["\\", 'q"', "r"], "c": 1}
    lines = key_lines(text)
    assert lines[("a\\",)] == 2 and lines[("b",)] == 3 and lines[("b", 1)] == 3 and lines[("b", 2)] == 4
    assert lines[("c",)] == 5
    assert key_lines('{"a": "open\\\\') == {("a",): 1}  # an unterminated string ends the scan
