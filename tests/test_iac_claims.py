"""Report claims checked with the IaC rules: MF481 (not in the model's code), MF482 (fix not applied),
MF483 (the fix weakens security)."""

from tests.conftest import review_files

REPORT = "lib/MODEL_FAILURES.md"
MODEL = "lib/MODEL_RESPONSE.md"


def _ids(files):
    review = review_files(files)
    assert not review.errors, review.errors
    return [f for f in review.findings if f.rule in ("MF481", "MF482", "MF483")]


def test_snippet_claim_not_in_model_response():
    report = ("# Model Failures\n\n### 1. Bucket retained\n\n**Model code:**\n```ts\nnew s3.Bucket(this, 'Logs', "
              "{ removalPolicy: cdk.RemovalPolicy.RETAIN });\n```\n")
    model = "```ts\nnew s3.Bucket(this, 'Logs', { removalPolicy: cdk.RemovalPolicy.DESTROY });\n```\n"
    found = _ids({REPORT: report, MODEL: model, "lib/tap-stack.ts": "new s3.Bucket(this, 'Logs', {});\n"})
    assert [(f.rule, f.line) for f in found] == [("MF481", 3)]
    assert "MF405" in found[0].message and "RETAIN" in found[0].evidence


def test_snippet_claim_present_in_model_and_fixed_is_silent():
    report = ("# Model Failures\n\n### 1. Bucket retained\n\n**Model code:**\n```ts\nnew s3.Bucket(this, 'Logs', "
              "{ removalPolicy: cdk.RemovalPolicy.RETAIN });\n```\n")
    model = "```ts\nnew s3.Bucket(this, 'Logs', { removalPolicy: cdk.RemovalPolicy.RETAIN });\n```\n"
    assert not _ids({REPORT: report, MODEL: model, "lib/tap-stack.ts": "new s3.Bucket(this, 'Logs', {});\n"})


def test_snippet_claim_still_in_final_code():
    line = "new s3.Bucket(this, 'Logs', { removalPolicy: cdk.RemovalPolicy.RETAIN });\n"
    report = f"# Model Failures\n\n### 1. Bucket retained\n\n**Model code:**\n```ts\n{line}```\n"
    found = _ids({REPORT: report, MODEL: f"```ts\n{line}```\n", "lib/tap-stack.ts": "// stack\n" + line})
    assert [(f.rule, f.line) for f in found] == [("MF482", 3)]
    assert "lib/tap-stack.ts:2" in found[0].message


def test_word_claim_powerusers_not_in_model():
    report = "# Model Failures\n\n### 1. Role uses PowerUserAccess\n\nToo broad.\n"
    model = "```python\nrole.add_managed_policy(iam.ManagedPolicy.from_aws_managed_policy_name('ReadOnlyAccess'))\n```\n"
    assert [f.rule for f in _ids({REPORT: report, MODEL: model})] == ["MF481"]
    model_has_it = model.replace("ReadOnlyAccess", "PowerUserAccess")
    assert not _ids({REPORT: report, MODEL: model_has_it})


def test_word_claim_needs_unambiguous_words():
    # "BucketV2" can mean either direction: no claim is read from the words alone
    report = "# Model Failures\n\n### 1. Used BucketV2\n\nShould use the other one.\n"
    model = "```ts\nimport * as aws from '@pulumi/aws';\nnew aws.s3.Bucket('b');\n```\n"
    assert not _ids({REPORT: report, MODEL: model, "package.json": '{"dependencies": {"@pulumi/aws": "^7.0.0"}}'})


def test_absence_claim_fix_not_applied():
    report = "# Model Failures\n\n### 1. Alarm without treatMissingData\n\nAdded it in the fix.\n"
    alarm = "new cloudwatch.Alarm(this, 'Errors', { metric, threshold: 1 });\n"
    found = _ids({REPORT: report, MODEL: f"```ts\n{alarm}```\n", "lib/tap-stack.ts": alarm})
    assert [f.rule for f in found] == ["MF482"]
    fixed = alarm.replace("threshold: 1", "threshold: 1, treatMissingData: cloudwatch.TreatMissingData.BREACHING")
    assert not _ids({REPORT: report, MODEL: f"```ts\n{alarm}```\n", "lib/tap-stack.ts": fixed})


def test_security_downgrade_only_when_fix_snippet_weakens():
    report = ("# Model Failures\n\n### 1. Missing permissions\n\n**Fix:**\n```ts\nrole.addToPolicy(new iam.PolicyStatement("
              "{ actions: ['*'], resources: ['*'] }));\n```\n")
    model = "```ts\nrole.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }));\n```\n"
    final = "role.addToPolicy(new iam.PolicyStatement({ actions: ['*'], resources: ['*'] }));\n"
    assert [(f.rule, f.line) for f in _ids({REPORT: report, MODEL: model, "lib/tap-stack.ts": final})] == [("MF483", 7)]
    # the model already had it: no downgrade
    assert not [f for f in _ids({REPORT: report, MODEL: model.replace("s3:GetObject", "*"), "lib/tap-stack.ts": final})
                if f.rule == "MF483"]


DASHBOARD_TF = ('resource "aws_cloudwatch_dashboard" "main" {\n  dashboard_name = "ops"\n  dashboard_body = jsonencode({\n'
                '    widgets = [{ type = "metric", properties = { metrics = [\n'
                '      ["AWS/Lambda", "Errors", { FunctionName = "f" }]\n    ] } }]\n  })\n}\n')


def test_dashboard_shape_claim_checked_against_both_code_versions():
    report = ("# Model Failures\n\n### 1. CloudWatch Dashboard invalid metrics\n\n"
              "Deploy failed: `Should NOT have more than 2 items`. Fixed the metric arrays.\n")
    fixed = DASHBOARD_TF.replace('{ FunctionName = "f" }', '"FunctionName", "f"')
    model = f"```hcl\n{DASHBOARD_TF}```\n"
    assert not _ids({REPORT: report, MODEL: model, "lib/main.tf": fixed})
    assert [f.rule for f in _ids({REPORT: report, MODEL: model, "lib/main.tf": DASHBOARD_TF})] == ["MF482"]
    no_dashboard = '```hcl\nresource "aws_sns_topic" "alarms" {\n  name = "alarms"\n}\n```\n'
    assert [f.rule for f in _ids({REPORT: report, MODEL: no_dashboard, "lib/main.tf": fixed})] == ["MF481"]
