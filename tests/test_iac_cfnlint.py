"""The optional cfn-lint tier: skipped when cfn-lint is not installed."""

import pytest

from bot.config import Config
from bot.iac import cfnlint
from bot.review import Job, run_job
from bot.task import Task
from tests.github_kit import SHA, context, github, make_settings, task_files  # noqa: F401

pytest.importorskip("cfnlint")

TEMPLATE = ("Resources:\n  F:\n    Type: AWS::Lambda::Function\n    Properties:\n      Runtime: nodejs16.x\n"
            "      Handler: a\n      Code: {ZipFile: x}\n      Role: arn:aws:iam::123456789012:role/x\n")


def test_lints_changed_templates_and_caches_by_blob_sha():
    task = Task("svc", {"lib/template.yaml": TEMPLATE, "lib/other.yaml": TEMPLATE.replace("16", "22")})
    found = cfnlint.lint_templates(task, ["lib/template.yaml"])
    assert [(f.rule, f.path, f.line) for f in found] == [("MF490", "svc/lib/template.yaml", 5)]
    assert "W2531" in found[0].message and "Runtime: nodejs16.x" in found[0].evidence
    assert cfnlint.blob_sha(TEMPLATE) in cfnlint._cache
    # unchanged templates are not linted; a spent budget starts nothing new
    assert cfnlint.lint_templates(task, []) == []
    fresh = Task("", {"lib/t.yaml": TEMPLATE.replace("Handler: a", "Handler: b")})
    assert cfnlint.lint_templates(fresh, ["lib/t.yaml"], budget_s=-1) == []


def test_schema_error_is_an_error_finding():
    task = Task("", {"lib/t.yaml": "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketNam: x\n"})
    (found,) = cfnlint.lint_templates(task, ["lib/t.yaml"])
    assert (found.line, str(found.level)) == (5, "error") and "E3002" in found.message


def test_worker_publishes_cfn_lint_findings_of_changed_templates(github, tmp_path):
    github.add_pull(2, SHA, task_files(garbled=0) | {"lib/template.yaml": TEMPLATE})
    result = run_job(Job("review", 1, "Codertocat", "Hello-World", number=2, sha=SHA), context(make_settings(tmp_path)))
    assert result.status == "published", result.detail
    [found] = [f for f in result.findings if f.rule == "MF490"]
    assert (found.path, found.line) == ("lib/template.yaml", 5) and "W2531" in found.message
    [run] = github.runs_for(SHA)
    assert any("W2531" in a["message"] and a["path"] == "lib/template.yaml" for a in run["annotations"])


def test_worker_tier_is_off_with_a_zero_budget():
    task = Task("", {"lib/t.yaml": TEMPLATE}, changed={"lib/t.yaml": {5}})
    assert cfnlint.review_findings([task], Config(settings={"iac": {"cfn_lint_budget_s": 0}})) == []
    assert cfnlint.review_findings([task], Config(off=frozenset({"MF490"}))) == []
    assert [f.line for f in cfnlint.review_findings([task], Config())] == [5]
