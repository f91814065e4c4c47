"""Evidence rules MF301-MF308 on small tasks modelled on real reports: each fires on the defect and
stays silent on the shapes that caused false alarms in the corpus sweep."""

from bot.security import downgrades, prose_downgrade
from tests.conftest import review_files

STACK = """import * as cdk from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as kms from 'aws-cdk-lib/aws-kms';

export class TapStack extends cdk.Stack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const key = new kms.Key(this, 'LogsKey', { enableKeyRotation: true });
    const bucket = new s3.Bucket(this, 'Logs', {
      encryptionKey: key,
      encryption: s3.BucketEncryption.KMS,
      versioned: true,
      removalPolicy: cdk.RemovalPolicy.DESTROY,
    });
  }
}
"""
MODEL_CODE = """import * as cdk from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';

export class TapStack extends cdk.Stack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const bucket = new s3.Bucket(this, 'Logs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      versioned: false,
      removalPolicy: cdk.RemovalPolicy.RETAIN,
    });
  }
}
"""
MODEL_MD = "# Model Response\n\nHere is the stack.\n\n## lib/tap-stack.ts\n\n```typescript\n" + MODEL_CODE + "```\n"
IDEAL_MD = "# Ideal Response\n\n## lib/tap-stack.ts\n\n```typescript\n" + STACK + "```\n"


def task(report: str, **files: str) -> dict[str, str]:
    base = {"lib/MODEL_FAILURES.md": "# Model Failures\n\n" + report, "lib/MODEL_RESPONSE.md": MODEL_MD,
            "lib/IDEAL_RESPONSE.md": IDEAL_MD, "lib/tap-stack.ts": STACK}
    base.update({k.replace("__", "/").replace("_dot_", "."): v for k, v in files.items()})
    return base


def entry(model: str = "", fix: str = "", model_label: str = "**MODEL_RESPONSE Issue**:",
          fix_label: str = "**IDEAL_RESPONSE Fix**:", title: str = "### 1. Bucket encryption", extra: str = "") -> str:
    out = f"{title}\n\n**Impact Level**: High\n\n"
    if model:
        out += f"{model_label}\n\n```typescript\n{model}\n```\n\n"
    if fix:
        out += f"{fix_label}\n\n```typescript\n{fix}\n```\n\n"
    return out + extra


def found(files: dict[str, str], rule: str) -> list:
    review = review_files(files)
    assert not review.errors, review.errors
    return [f for f in review.findings if f.rule == rule]


# -- MF301 EVIDENCE_NOT_IN_MODEL_RESPONSE ---------------------------------------------------------

def test_model_quote_that_is_not_in_model_response_is_reported_with_closest_match():
    report = entry(model="const bucket = new s3.Bucket(this, 'Logs', {\n  publicReadAccess: true,\n"
                         "  websiteIndexDocument: 'index.html',\n  websiteErrorDocument: 'error.html',\n});")
    hits = found(task(report), "MF301")
    assert len(hits) == 1
    assert "1 of 4 lines found" in hits[0].message
    assert "closest: lib/MODEL_RESPONSE.md:14 (25% of lines)" in hits[0].message
    assert '("MODEL_RESPONSE Issue")' in hits[0].message
    assert hits[0].line == 10  # the first code line of the block (the fence is line 9)


def test_edited_model_quote_is_found():
    report = entry(model="const bucket = new s3.Bucket(this, \"Logs\", {\n    encryption: s3.BucketEncryption.S3_MANAGED, // ❌ weak\n"
                         "    // ... other config\n    removalPolicy: cdk.RemovalPolicy.RETAIN,\n});")
    assert not found(task(report), "MF301")


def test_output_commands_generic_and_weakly_labelled_blocks_are_not_evidence():
    invented = "const q = new sqs.Queue(this, 'Jobs', {\n  visibilityTimeout: cdk.Duration.minutes(5),\n});"
    shapes = [
        entry(model="$ npm run deploy\nError: stack failed\n  at Object.<anonymous> (x.ts:1:1)"),
        entry(model=invented, model_label="**Typical MODEL_RESPONSE pattern** (for example):"),
        entry(model=invented, model_label="**Models often write**:"),
        entry(model=invented, model_label="❌ Wrong:"),  # not attributed to the model
        entry(model="CREATE_FAILED | AWS::S3::Bucket | Logs\nResource handler returned message: \"Invalid request\""),
        entry(model="// MODEL_RESPONSE is missing this:\n" + invented),  # code the model lacked
        entry(model="// Model Response\n" + invented + "\n// Ideal Response\nconst q = new sqs.Queue(this, 'Jobs');"),
    ]
    for report in shapes:
        assert not found(task(report), "MF301"), report


def test_model_quote_found_in_the_final_code_is_left_alone():
    report = entry(model="const key = new kms.Key(this, 'LogsKey', { enableKeyRotation: true });\n"
                         "const bucket = new s3.Bucket(this, 'Logs', {\n  encryptionKey: key,\n});")
    assert not found(task(report), "MF301")


def test_inline_model_code_absent_is_reported_but_not_in_sentences_about_absence():
    assert found(task(entry(extra="**MODEL_RESPONSE Issue**: The model set `objectLockRetentionDays: 3650` on the bucket.\n")),
                 "MF301")
    assert not found(task(entry(extra="**MODEL_RESPONSE Issue**: The model did not set `objectLockRetentionDays: 3650`.\n")),
                     "MF301")
    assert not found(task(entry(extra="**MODEL_RESPONSE Issue**: `removalPolicy: cdk.RemovalPolicy.RETAIN` blocks cleanup.\n")),
                     "MF301")
    for message in ("`AccessDenied (BlockPublicPolicy)`", "`PYTHONPATH=\"${PWD}:${PYTHONPATH}\"`",
                    "`Expected pattern: /^[a-z]+\\.elb$/`", "`C0305: Trailing newlines`"):
        assert not found(task(entry(extra=f"**MODEL_RESPONSE Issue**: the model hit {message}.\n")), "MF301"), message


# -- MF302 EVIDENCE_NOT_IN_FINAL -----------------------------------------------------------------

def test_fix_in_neither_ideal_nor_final_code_is_reported():
    report = entry(fix="const bucket = new s3.Bucket(this, 'Logs', {\n  objectLockEnabled: true,\n"
                       "  serverAccessLogsPrefix: 'access/',\n});")
    hits = found(task(report), "MF302")
    assert len(hits) == 1 and "1 of 3 lines found" in hits[0].message


def test_fix_in_final_code_only_or_ideal_only_is_fine():
    fix = "const bucket = new s3.Bucket(this, 'Logs', {\n  encryptionKey: key,\n  versioned: true,\n});"
    assert not found(task(entry(fix=fix)), "MF302")
    assert not found(task(entry(fix=fix), lib__tap_dash_stack="") | {"lib/tap-stack.ts": "// moved\n"}, "MF302")


def test_fix_of_root_toolchain_config_is_not_checked():
    report = entry(fix='{\n  "compilerOptions": {"strict": true},\n  "exclude": ["node_modules", "cdk.out"]\n}')
    assert not found(task(report), "MF302")


# -- MF303 FIX_NOT_APPLIED -----------------------------------------------------------------------

WRONG = "const bucket = new s3.Bucket(this, 'Logs', {\n  encryption: s3.BucketEncryption.S3_MANAGED,\n  versioned: false,\n});"
FIXED = "const bucket = new s3.Bucket(this, 'Logs', {\n  encryption: s3.BucketEncryption.KMS_MANAGED,\n  versioned: true,\n});"


def test_fix_not_applied_when_final_code_keeps_the_wrong_lines():
    final = STACK.replace("      encryptionKey: key,\n      encryption: s3.BucketEncryption.KMS,\n      versioned: true,\n",
                          "      encryption: s3.BucketEncryption.S3_MANAGED,\n      versioned: false,\n")
    files = task(entry(model=WRONG, fix=FIXED)) | {"lib/tap-stack.ts": final}
    hits = found(files, "MF303")
    assert len(hits) == 1
    assert "lib/tap-stack.ts:10 still has `encryption: s3.BucketEncryption.S3_MANAGED,` (the wrong code quoted at line 11)" in hits[0].message
    assert not found(files, "MF302")  # one finding for one defect


def test_fix_applied_is_silent():
    files = task(entry(model=WRONG, fix=FIXED.replace("KMS_MANAGED", "KMS")))
    assert not found(files, "MF303")


def test_additive_fix_missing_from_final_code_is_not_applied_but_structure_alone_is_no_evidence():
    yml = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n"
    model = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic"
    fix = "Resources:\n  Subscription:\n    Type: AWS::SNS::Subscription\n    Properties:\n      Protocol: email"
    assert found(task(entry(model=model, fix=fix)) | {"lib/TapStack.yml": yml}, "MF303")
    applied = yml + "  Subscription:\n    Type: AWS::SNS::Subscription\n    Properties:\n      Protocol: email\n"
    assert not found(task(entry(model=model, fix=fix)) | {"lib/TapStack.yml": applied}, "MF303")
    structure = "Resources:\n  Topic:\n    Properties:"
    assert not found(task(entry(model=structure, fix=fix)) | {"lib/TapStack.yml": yml}, "MF303")


# -- MF304 FILE_REF_MISSING ----------------------------------------------------------------------

def test_cited_file_that_exists_nowhere_is_reported():
    hits = found(task(entry(extra="The model wrote the roles to `lib/cross_account_roles.py`; see deployment.log.\n")), "MF304")
    assert {h.message.split("`")[1] for h in hits} == {"lib/cross_account_roles.py", "deployment.log"}


def test_generic_mentions_and_known_files_are_not_reported():
    extra = ("Run `npm test` after editing package.json and tsconfig.json.\n\n"
             "Deploy with `cat lib/params.json | jq .` first.\n\n"
             "Node.js 18 is used.\n\n"
             "The stack in tap-stack.ts and `lib/lambda/handler.py` (created by IDEAL_RESPONSE.md).\n\n"
             "The model never created `lib/monitoring.ts`.\n\n"
             "See CLAUDE.md and .claude/docs/guide.md.\n")
    ideal = IDEAL_MD + "\n## lib/lambda/handler.py\n\n```python\ndef handler(event, context):\n    return {}\n```\n"
    assert not found(task(entry(extra=extra)) | {"lib/IDEAL_RESPONSE.md": ideal}, "MF304")


def test_file_of_the_models_response_counts_as_known():
    model_md = MODEL_MD + "\n## lib/vpc-stack.ts\n\n```typescript\nexport const vpc = 1;\n```\n"
    files = task(entry(extra="The model split the VPC into `lib/vpc-stack.ts`.\n")) | {"lib/MODEL_RESPONSE.md": model_md}
    assert not found(files, "MF304")


# -- MF305 LINE_REF_WRONG ------------------------------------------------------------------------

def test_line_reference_to_the_wrong_lines_says_where_the_code_is():
    report = entry(model="encryption: s3.BucketEncryption.S3_MANAGED,\nversioned: false,",
                   model_label="**MODEL_RESPONSE Issue** (lib/MODEL_RESPONSE.md lines 1-3):")
    hits = found(task(report), "MF305")
    assert len(hits) == 1
    assert "lib/MODEL_RESPONSE.md:1-3 does not hold the quoted code; it is at lib/MODEL_RESPONSE.md:15-16" in hits[0].message


def test_right_line_reference_absolute_or_within_the_code_block_is_fine():
    for cite in ("lib/MODEL_RESPONSE.md lines 15-16", "lib/MODEL_RESPONSE.md lines 8-9"):  # 8-9: counted in the block
        report = entry(model="encryption: s3.BucketEncryption.S3_MANAGED,\nversioned: false,",
                       model_label=f"**MODEL_RESPONSE Issue** ({cite}):")
        assert not found(task(report), "MF305"), cite


def test_location_field_with_separate_line_range_is_checked():
    report = entry(fix="encryptionKey: key,\nencryption: s3.BucketEncryption.KMS,",
                   fix_label="**Location**: `lib/tap-stack.ts`, lines 2-3\n\n**IDEAL_RESPONSE Fix**:")
    hits = found(task(report), "MF305")
    assert len(hits) == 1 and "lib/tap-stack.ts:10-11" in hits[0].message
    report = report.replace("lines 2-3", "lines 10-11")
    assert not found(task(report), "MF305")


def test_model_code_cited_with_final_file_lines_is_not_compared():
    report = entry(model="encryption: s3.BucketEncryption.S3_MANAGED,\nversioned: false,",
                   model_label="**MODEL_RESPONSE Issue** (lib/tap-stack.ts lines 40-41):")
    assert not found(task(report), "MF305")


# -- MF306 SECURITY_DOWNGRADE --------------------------------------------------------------------

def test_fix_that_drops_kms_for_aes256_is_reported():
    model = "new s3.Bucket(this, 'Logs', {\n  encryption: s3.BucketEncryption.KMS,\n  encryptionKey: key,\n  versioned: true,\n});"
    fix = "new s3.Bucket(this, 'Logs', {\n  encryption: s3.BucketEncryption.S3_MANAGED,\n  versioned: true,\n});"
    hits = found(task(entry(model=model, fix=fix)), "MF306")
    assert len(hits) == 1 and "encryption key (KMS)" in hits[0].message


def test_security_comparisons():
    assert [d.control for d in downgrades("deletion_protection = true", "deletion_protection = false")] == ["deletion protection"]
    assert [d.control for d in downgrades('Action: ["s3:GetObject"]\nResource: "arn:aws:s3:::b/*"',
                                          'Action: ["s3:*"]\nResource: "*"')] == ["IAM action `*`", "IAM resource `*`"]
    assert downgrades("managed_policy_arns = [aws_iam_policy.read.arn]",
                      'managed_policy_arns = ["arn:aws:iam::aws:policy/AdministratorAccess"]')
    assert downgrades("SSEAlgorithm: aws:kms", "SSEAlgorithm: AES256")
    ingress = "SecurityGroupIngress:\n  - IpProtocol: tcp\n    FromPort: {p}\n    ToPort: {p}\n    CidrIp: {c}"
    assert downgrades(ingress.format(p=22, c="10.0.0.0/8"), ingress.format(p=22, c="0.0.0.0/0"))
    # Not downgrades: a KMS key policy, a public HTTPS listener, a route, a fix excerpt that elides.
    assert not downgrades('Action: "kms:Decrypt"\nResource: key.arn', 'Action: "kms:*"\nResource: "*"\nPrincipal: root')
    assert not downgrades(ingress.format(p=443, c="10.0.0.0/8"), ingress.format(p=443, c="0.0.0.0/0"))
    assert not downgrades("route { cidr_block = var.cidr }", 'route { destination_cidr_block = "0.0.0.0/0" }')
    assert not downgrades("encrypted: true,\nkmsKeyId: key.arn,\nsize: 20", "// ...\nsize: 8")
    assert not downgrades("# Resource: '*' is too broad\nResource: bucket.arn", "Resource: bucket.arn")


def test_prose_that_removes_a_control_for_simplicity_is_reported():
    assert prose_downgrade("We removed the KMS encryption for simplicity.")
    assert not prose_downgrade("The model removed encryption, which the fix restores.")
    hits = found(task(entry(extra="The fix disabled access logging to avoid the error in CI.\n")), "MF306")
    assert len(hits) == 1 and "disabled access logging to avoid the error" in hits[0].message


# -- MF307 IDEAL_SYNC ----------------------------------------------------------------------------

def test_ideal_response_in_sync_tolerates_line_endings_and_trailing_spaces():
    ideal = IDEAL_MD.replace("\n", "  \r\n")
    assert not found(task(entry()) | {"lib/IDEAL_RESPONSE.md": ideal}, "MF307")


def test_ideal_response_differing_from_the_file_names_the_first_differing_line():
    ideal = IDEAL_MD.replace("versioned: true", "versioned: false")
    hits = found(task(entry()) | {"lib/IDEAL_RESPONSE.md": ideal}, "MF307")
    assert len(hits) == 1
    assert hits[0].line == 6 + 11 and "at its line 12" in hits[0].message and "`versioned: false,` here" in hits[0].message


def test_ideal_response_missing_a_file_and_indentation_only_difference():
    files = task(entry()) | {"lib/constructs/queue.ts": "export const a = 1;\nexport const b = 2;\nexport const c = 3;\n"}
    hits = found(files, "MF307")
    assert len(hits) == 1 and "lib/constructs/queue.ts (3 lines) is not in lib/IDEAL_RESPONSE.md" in hits[0].message
    ideal = IDEAL_MD.replace("      versioned: true", "    versioned: true")
    hits = found(task(entry()) | {"lib/IDEAL_RESPONSE.md": ideal}, "MF307")
    assert "indentation or spacing only" in hits[0].message


def test_a_first_line_that_only_names_the_file_is_a_label_not_a_difference():
    yml = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n"
    base = {"lib/MODEL_FAILURES.md": "# Model Failures\n", "lib/TapStack.yml": yml}
    labelled = "# Ideal\n\n```yaml\n# TapStack.yml\n" + yml + "```\n"
    assert not found(base | {"lib/IDEAL_RESPONSE.md": labelled}, "MF307")
    # The label on the file's side instead, and a label naming another file, which is a real difference.
    assert not found(base | {"lib/TapStack.yml": "# lib/TapStack.yml\n" + yml,
                             "lib/IDEAL_RESPONSE.md": "# Ideal\n\n```yaml\n" + yml + "```\n"}, "MF307")
    other = "# Ideal\n\n## lib/TapStack.yml\n\n```yaml\n# network.yml\n" + yml + "```\n"
    assert found(base | {"lib/IDEAL_RESPONSE.md": other}, "MF307")


def test_generated_json_twin_of_a_yaml_template_is_not_required():
    yml = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n"
    ideal = "# Ideal\n\n## lib/TapStack.yml\n\n```yaml\n" + yml + "```\n"
    files = {"lib/MODEL_FAILURES.md": "# Model Failures\n", "lib/IDEAL_RESPONSE.md": ideal, "lib/TapStack.yml": yml,
             "lib/TapStack.json": '{\n  "Resources": {\n    "Topic": {"Type": "AWS::SNS::Topic"}\n  }\n}\n'}
    assert not found(files, "MF307")


# -- MF308 PROVENANCE ----------------------------------------------------------------------------

def test_model_response_identical_to_ideal_is_reported():
    long_stack = STACK + "".join(f"// line {i}\nexport const v{i} = {i};\n" for i in range(30))
    ideal = "# Ideal\n\n```typescript\n" + long_stack + "```\n"
    model = "# Model\n\nHere you go:\n\n```typescript\n" + long_stack + "```\n"
    hits = found(task(entry()) | {"lib/IDEAL_RESPONSE.md": ideal, "lib/MODEL_RESPONSE.md": model,
                                  "lib/tap-stack.ts": long_stack}, "MF308")
    assert len(hits) == 1 and "identical to lib/IDEAL_RESPONSE.md" in hits[0].message


def test_model_response_claiming_tests_pass_is_reported_but_not_a_stated_goal():
    claim = MODEL_MD + "\n## Results\n\n- All 107 tests pass successfully\n"
    hits = found(task(entry()) | {"lib/MODEL_RESPONSE.md": claim}, "MF308")
    assert len(hits) == 1 and hits[0].line == claim.split("\n").index("- All 107 tests pass successfully") + 1
    goal = MODEL_MD + "\nThe response is successful if:\n1. All tests pass\n"
    assert not found(task(entry()) | {"lib/MODEL_RESPONSE.md": goal}, "MF308")
    assert not found(task(entry()), "MF308")


def test_fence_lines_are_the_lines_the_fence_pattern_matches():
    import re

    from bot.rules.evidence import _fences

    pattern = re.compile(r"^ {0,3}(`{3,}|~{3,})", re.M)
    for text in ["```", "```ts\nx\n```", "  ```\n    ```\n   ~~~~~\n", "a```\n``\n````````", "~~~```\n```~~~",
                 "`" * 10 + "\n" + " ``` ``` ```" * 3, "\n\n   ```\n", "x ~~~ y\n~~"]:
        assert _fences(text) == [(m.start(), m.group(1)) for m in pattern.finditer(text)], text


def test_fenced_blocks_read_fences_like_commonmark_line_starts():
    from bot.rules.evidence import fenced_blocks

    text = ("```ts\nconst a = 1;\n```\n"  # fence on the first line
            "text ``` not a fence\n"
            "    ```\nindented four: code, not a fence\n"
            "   ~~~~\nx = 1\n~~~\nstill inside (shorter fence)\n   ~~~~~\n"
            "\r\n```py\r\ny = 2\r\n```\r\n")
    blocks = fenced_blocks(text)
    assert [b.lines for b in blocks] == [["const a = 1;"],
                                         ["x = 1", "~~~", "still inside (shorter fence)"],
                                         ["y = 2"]]
    assert [b.first_line for b in blocks] == [2, 8, 14]
