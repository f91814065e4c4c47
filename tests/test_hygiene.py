"""Hygiene rules MF101-MF105 on small fixtures modelled on shapes seen in real reports."""

from __future__ import annotations

import pytest

from bot.config import Config
from bot.engine import review_tasks
from bot.rules.hygiene import (describe_emoji, find_emoji, find_mojibake, find_placeholders, find_secrets,
                               is_placeholder_account, personal_email, redact)
from bot.task import Task
from tests.conftest import review_files

REPORT = "lib/MODEL_FAILURES.md"


def hits(files: dict[str, str], rule: str, config: Config | None = None):
    review = review_files(files, config)
    assert not review.errors, review.errors
    return [f for f in review.findings if f.rule == rule]


def report(text: str, rule: str, **other: str):
    return hits({REPORT: text, **other}, rule)


# --- MF101 mojibake ---------------------------------------------------------------------------

@pytest.mark.parametrize("garbled, meant", [
    ("donâ€™t", "don’t"),  # Windows-1252, 3-byte sequence
    ("cafÃ©", "café"),  # Windows-1252, 2-byte sequence
    ("‚úÖ Passed", "✅ Passed"),  # Mac Roman
    ("‚ùå Failed", "❌ Failed"),
    ("ðŸ”’ Security", "🔒 Security"),  # 4-byte emoji through Windows-1252
    ("\uf8ffüîç Analysis", "🔍 Analysis"),  # 4-byte emoji through Mac Roman (U+F8FF is its 0xF0)
])
def test_mojibake_found_with_the_text_restored(garbled, meant):
    found = find_mojibake(garbled)
    assert found, garbled
    fixed = garbled
    for g, m in found:
        fixed = fixed.replace(g, m)
    assert fixed == meant


@pytest.mark.parametrize("text", [
    "Le modèle a oublié la clé KMS: café, naïve, Ångström, Straße",
    "東京リージョン (ap-northeast-1) では動作しない",
    "Ошибка: бакет не зашифрован",
    "The model’s “quoted” text — with dashes… and arrows → ✅ ❌ ✓",
    "Price: 5 € / month, 10 × faster, ≥ 3 AZs",
])
def test_legitimate_text_is_not_mojibake(text):
    assert find_mojibake(text) == []
    assert report(f"# Model Failures\n\n{text}\n", "MF101") == []


def test_mojibake_finding_points_at_the_line_and_suggests_the_repair():
    found = report("# Model Failures\n\n### 1. Bucket\n\nThe modelâ€™s policy allowed `s3:*`.\n", "MF101")
    assert [(f.line, f.path) for f in found] == [(5, REPORT)]
    assert "`â€™` for `’`" in found[0].message
    assert found[0].replacement == "The model’s policy allowed `s3:*`."


def test_replacement_character_is_reported_in_training_documents_too():
    found = hits({REPORT: "# Model Failures\n", "lib/IDEAL_RESPONSE.md": "# Ideal\n\nUse the \ufffd key.\n"}, "MF101")
    assert [(f.path, f.line) for f in found] == [("lib/IDEAL_RESPONSE.md", 3)]
    assert "U+FFFD" in found[0].message


# --- MF102 sensitive data -------------------------------------------------------------------

FAKE_KEY = "AKIA" + "Q3VZ7TXW2LMN4PRS"  # shaped like a key, not a real one
FAKE_SECRET = "k8Rz" + "Q2mVx7Lw9PbT4nYc1HdS6fGu0aJeXo3iKq5W/B+Z"[:36]
FAKE_TOKEN = "ghp_" + "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6"


def test_fake_secrets_have_the_real_shapes():
    assert len(FAKE_KEY) == 20 and len(FAKE_SECRET) == 40 and len(FAKE_TOKEN) == 40


@pytest.mark.parametrize("line, what", [
    (f"aws_access_key_id = {FAKE_KEY}", "AWS access key id"),
    (f'aws_secret_access_key = "{FAKE_SECRET}"', "AWS secret access key"),
    (f"export GITHUB_TOKEN={FAKE_TOKEN}", "GitHub token"),
    ("Role arn:aws:iam::482913305561:role/deploy is invalid", "AWS account id"),
    ("AccountId: '482913305561'", "AWS account id"),
    ('account_id = "482913305561"  # fallback', "AWS account id"),
    ("aws s3 rm s3://app-logs-482913305561-us-east-1 --recursive", "AWS account id"),
    ("ConfigBucketName: aws-config-482913305561-dev", "AWS account id"),
    ("notificationEmail: 'priya.k@acme-corp.io'", "personal e-mail address"),
    ("Default: someone.real@gmail.com", "personal e-mail address"),
    ("default = \"emmanuel@builders.io\"", "personal e-mail address"),
])
def test_secrets_found(line, what):
    assert [w for _, w, _ in find_secrets(line)] == [what]


@pytest.mark.parametrize("line", [
    "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",  # AWS's documented example key
    "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "token: ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "arn:aws:sns:us-east-1:123456789012:alerts",
    "arn:aws:iam::000000000000:root",
    "arn:aws:iam::111111111111:role/x and arn:aws:iam::222222222222:role/y",
    "arn:aws:iam::111122223333:role/Admin",  # AWS documentation's other placeholder
    "arn:aws:iam::987654321098:role/cross-account",
    'Principal: { AWS: "arn:aws:iam::${AWS::AccountId}:root" }',
    "'us-east-1': '127311923021',  // ELB log delivery account, owned by AWS",
    "layers: ['arn:aws:lambda:us-east-1:580247275435:layer:LambdaInsightsExtension:38']",
    "RequestId: 482913305561 took 120 ms",  # a number without account context
    "version 1.2.482913305561",
    "alerts go to ops-team@example.com, noreply@company.com and admin@yourdomain.com",
    "devops@meridianfinancial.com and security-alerts@bank.io are team mailboxes",
    "john.doe@company.io is the usual placeholder",
    "npm install @aws-cdk/aws-s3@2.100.0 and uses: actions/checkout@v4.1.0",
])
def test_placeholders_and_public_values_are_not_secrets(line):
    assert find_secrets(line) == []


def test_secrets_found_in_any_text():
    """The quick tests in front of the patterns (upper-case words, digits, non-ASCII text) keep every secret."""
    found = find_secrets(f"✅ Déployé — AWS_SECRET_ACCESS_KEY={FAKE_SECRET}\nRole: arn:aws:iam::482913305561:role/x 🚀\n"
                         "@dataclass\n@aws-cdk/aws-s3 by Priya.K@Acme-Corp.io\n")
    assert [what for _, what, _ in found] == ["AWS secret access key", "AWS account id", "personal e-mail address"]
    # Other Unicode digits are `\\d` too: a run of them next to ASCII ones is still looked at.
    assert [w for _, w, _ in find_secrets("AccountId: '4829133055\u0661\u0662'")] == ["AWS account id"]


def test_placeholder_accounts():
    for acct in ("123456789012", "000000000000", "999999999999", "234567890123", "121212121212", "999888777666"):
        assert is_placeholder_account(acct), acct
    assert not is_placeholder_account("482913305561")


def test_personal_email_shapes():
    assert personal_email("jane.roe", "corp.io")
    assert not personal_email("alerts", "corp.io")
    assert not personal_email("jane.roe", "example.com")
    assert not personal_email("demo", "gmail.com")


def test_redaction_keeps_ends_only():
    assert redact("AKIAIOSFODNN7EXAMPLE") == "AKIA************MPLE"
    assert redact("482913305561") == "4829****5561"


def test_sensitive_finding_is_redacted_everywhere():
    text = f"# Model Failures\n\n### 1. Keys in code\n\nThe model wrote `{FAKE_KEY}` into the stack.\n"
    [f] = report(text, "MF102")
    assert f.line == 5 and "AWS access key id `AKIA************4PRS`" in f.message
    assert FAKE_KEY not in f.message and FAKE_KEY not in f.evidence
    assert "AKIA************4PRS" in f.evidence


def test_error_message_with_real_account_and_user_address_is_one_finding_per_line():
    text = ("# Model Failures\n\n**Error**: User: arn:aws:iam::482913305561:user/priya.k@acme-corp.io is not "
            "authorized to perform: eks:DescribeCluster\n")
    [f] = report(text, "MF102")
    assert "4829****5561" in f.message and "pr*****@acme-corp.io" in f.message
    assert "482913305561" not in f.evidence and "priya.k" not in f.evidence


def test_sources_and_docs_are_checked_but_not_tests():
    files = {
        REPORT: "# Model Failures\n",
        "lib/IDEAL_RESPONSE.md": "```ts\nnew EmailSubscription('priya.k@acme-corp.io');\n```\n",
        "lib/tap-stack.ts": "const topic = 'arn:aws:sns:us-east-1:482913305561:alerts';\n",
        "lib/terraform.tfvars": 'alert_email = "priya.k@acme-corp.io"\n',
        "test/tap-stack.int.test.ts": "expect(arn).toContain('482913305561');\n",
        "cfn-outputs/flat-outputs.json": '{"TopicArn": "arn:aws:sns:us-east-1:482913305561:alerts"}\n',
    }
    found = hits(files, "MF102")
    assert sorted(f.path for f in found) == ["lib/IDEAL_RESPONSE.md", "lib/tap-stack.ts", "lib/terraform.tfvars"]


def test_private_key_block_with_material_is_reported_without_the_key():
    body = "MIIEowIBAAKCAQEA7Vb3n4Qx2Kp9LmZr8TyU1wEoJ5sHdC6fGhI0jKlMnOpQrStUv"
    text = f"# Model Failures\n\n```\n-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\n```\n"
    [f] = report(text, "MF102")
    assert f.line == 4 and body not in f.message + f.evidence
    # Inside a JSON string, the key follows an escaped newline.
    [f] = hits({REPORT: "# M\n", "lib/key.json": '{"key": "-----BEGIN PRIVATE KEY-----\\n' + body + '"}\n'}, "MF102")
    assert f.path == "lib/key.json"


def test_private_key_header_without_material_is_silent():
    text = "# Model Failures\n\nThe model pasted `-----BEGIN RSA PRIVATE KEY-----` with `...` as the body.\n"
    assert report(text, "MF102") == []


# --- MF103 placeholder ------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "Insert here the model's failures",
    "Provide what made the model fail",
    "Model failures go here.",
    "(Insert specific error here, e.g. the stack event)",
    "Document items such as:",
    "**Root Cause**: TBD",
    "- TODO: describe the IAM failure",
    "1. TBD",
    "[To be documented]",
    "| 3 | Lambda timeout | TBD |",
])
def test_template_text_is_a_placeholder(text):
    assert find_placeholders(text), text
    [f] = report(f"# Model Failures\n\n## 1. Something\n\n{text}\n", "MF103")
    assert f.line == 5


@pytest.mark.parametrize("text", [
    'The file contained only placeholder text ("Insert here the model\'s failures").',
    "The initial report held the placeholder “Insert here the model's failures”.",
    "The model left TODO comments instead of completing the implementation.",
    "- **Incomplete implementations**: TODO comments and placeholders instead of working code",
    "**Root Cause**: The model left a \"TODO\" reminder instead of integration tests.",
    "The test file had `// TODO: implement` and nothing else.",
    "Stated TBD-free: every value is set.",
])
def test_discussing_a_placeholder_is_not_one(text):
    assert report(f"# Model Failures\n\n## 1. Tests\n\n{text}\n", "MF103") == []


def test_todo_inside_code_is_not_a_placeholder():
    text = "# Model Failures\n\n## 1. Stub\n\nThe model wrote:\n\n```ts\n// TODO: add tests\nTBD\n```\n"
    assert report(text, "MF103") == []


def test_empty_headings():
    text = ("# Model Failures\n\n## Critical Failures\n\n## High Failures\n\n### 1. Missing log group\n\n"
            "The model omitted `LogGroup`.\n\n## Fixes Applied\n\n---\n\n## Summary\n")
    found = report(text, "MF103")
    assert [f.line for f in found] == [3, 15]
    assert "`Critical Failures` has nothing under it" in found[0].message


def test_statement_headings_are_not_empty_sections():
    text = ("### Model Failures\n\n## Synth error\n\nThe model used `sns.Alias`.\n\n"
            "## Severity: CRITICAL\n\n## Task ID: 52841679\n## Region: us-east-1\n## Platform: CDK\n\n"
            "## 1. Flow logs\n\nMissing `FlowLog`.\n")
    assert report(text, "MF103") == []


# --- MF104 no failures documented -------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "Insert here the model's failures\n",
    "1. Deployment failed with the wrong region variable.\n\n2. Deployment failed because of the region.\n",
    ("# Model Response Failures Analysis\n\n## Critical Failures\n\nNo critical failures detected. The model "
     "response successfully implements all core requirements.\n"),
    ("# Model Failures\n\n## Summary\n\n**Overall Assessment**: PERFECT with NO failures identified.\n\n"
     "### ✅ S3 Bucket Requirements\n- **VERSIONING**: Enabled ✓\n- **ENCRYPTION**: `aws:kms` ✓\n"
     "- **Validation**: PASSED - no hardcoded values\n"),
    ("# Model Failures\n\nThis file documents any issues, errors, or failures encountered.\n\n"
     "Document items such as:\n- Security check failures\n- Deployment errors\n"),
    ("# Common Model Failures\n\n### 1. Network Configuration Issues\n- Incorrect CIDR block overlaps\n"
     "- Missing route table associations\n\n### 2. IAM Problems\n- Over-privileged roles\n"),
])
def test_reports_without_a_concrete_failure(text):
    [f] = report(text, "MF104")
    assert f.line == 1 and "no concrete failure" in f.message


@pytest.mark.parametrize("text", [
    # the model's code, labelled
    "# Failures\n\n- Region enforcement missing\n\n  MODEL_RESPONSE:\n\n  ```python\nvpc = aws.ec2.Vpc('vpc')\n```\n",
    # a quoted error
    "Flaw 1\n\nTSError: Unable to compile TypeScript: error TS2353: 'description' does not exist\n",
    # a code span said to be wrong
    "- Queries `svv_table_info` columns that do not exist, so table optimization fails.\n",
    # a bold-field entry naming a value
    ("# Model Failures\n\n### 3. No API Authorization\n**Issue**: API Gateway methods used \"NONE\" authorization, "
     "allowing unauthenticated access\n**Fix Applied**: Changed to \"AWS_IAM\"\n"),
    # a change log that names the code it replaced
    "## Linting\n- Updated deprecated calls\n  - Replaced `pointInTimeRecovery` with `pointInTimeRecoverySpecification`\n",
    # a report wrapped whole in a markdown fence
    "```markdown\n1) Invalid endpoint\n\t- The stack calls `vpc.addInterfaceEndpoint(...)` for S3, which is wrong.\n```\n",
])
def test_reports_with_a_concrete_failure(text):
    assert report(text, "MF104") == []


def test_empty_report_documents_nothing_but_an_unread_one_is_not_judged():
    [f] = report(" \n\n", "MF104")
    assert f.line == 1 and f.message == "The report is empty: it names no failure of the model."
    task = Task("", {"metadata.json": "{}"}, skipped={REPORT: "binary file"})
    assert [f for f in review_tasks([task], Config()).findings if f.rule == "MF104"] == []


# --- MF105 emoji ------------------------------------------------------------------------------

def test_each_line_with_emoji_names_the_characters():
    files = {REPORT: "# Model Failures\n\n- ✅ Encryption\n- ❌ Logging ❌\n- ⚠️ Costs → high\n",
             "lib/PROMPT.md": "Build a VPC 🚀\n"}
    found = hits(files, "MF105")
    assert [(f.path, f.line) for f in found] == [(REPORT, 3), (REPORT, 4), (REPORT, 5), ("lib/PROMPT.md", 1)]
    assert "✅ (U+2705)" in found[0].message
    assert found[1].message.count("❌") == 1
    assert "⚠️ (U+26A0)" in found[2].message


def test_dingbat_check_marks_count_but_arrows_and_box_drawing_do_not():
    assert [describe_emoji(e) for e in find_emoji("✓ done, ✗ failed, ✔ ok")] == [
        "✓ (U+2713)", "✗ (U+2717)", "✔ (U+2714)"]
    assert find_emoji("a → b ← c, ├── lib/ │ └── x, ≥ 2, × 3, café") == []
    assert find_emoji("**\ufe0f LIFECYCLE") == []  # a stray variation selector is not an emoji


def test_emoji_outside_lib_markdown_is_not_policy():
    files = {REPORT: "# Model Failures\n\nPlain.\n", "README.md": "✅ ready\n", "lib/docs/NOTES.md": "✅\n",
             "lib/tap-stack.ts": "// ✅ done\n"}
    assert hits(files, "MF105") == []


def test_emoji_paths_setting():
    files = {REPORT: "# Model Failures\n\n✅ ok\n", "README.md": "✅ ready\n"}
    only_readme = Config(settings={"emoji": {"paths": ["README.md"]}})
    assert [f.path for f in hits(files, "MF105", only_readme)] == ["README.md"]
    assert hits(files, "MF105", Config(settings={"emoji": {"paths": []}})) == []
    assert [f.path for f in hits(files, "MF105", Config(settings={"emoji": {"paths": "*.md"}}))] == ["README.md"]
