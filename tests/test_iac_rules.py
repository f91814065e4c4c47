"""Each IaC rule on each platform it covers: a failing and a passing example, conditionals, comments
and strings that must not fire."""

import pytest

from bot.config import Config
from tests.conftest import review_files

Y, J, T, TS, PY = "lib/template.yaml", "lib/template.json", "lib/main.tf", "lib/tap-stack.ts", "lib/tap_stack.py"


def _yaml_key(statement_extra=""):
    return ("Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n      KeyPolicy:\n        Statement:\n"
            "          - Effect: Allow\n            Principal:\n              Service: logs.amazonaws.com\n"
            "            Action: [kms:Encrypt*, kms:Decrypt*]\n            Resource: '*'\n" + statement_extra)


CTX = "            Condition:\n              ArnLike:\n                kms:EncryptionContext:aws:logs:arn: arn:aws:logs:*\n"

CASES = [
    # MF401 KMS logs principal without encryption context
    ("MF401", Y, _yaml_key(), True),
    ("MF401", Y, _yaml_key(CTX), False),
    ("MF401", J, '{"Resources": {"K": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": [{"Effect": "Allow", '
                 '"Principal": {"Service": "logs.us-east-1.amazonaws.com"}, "Action": "kms:*", "Resource": "*"}]}}}}}', True),
    ("MF401", J, '{"Resources": {"K": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": [{"Effect": "Deny", '
                 '"Principal": {"Service": "logs.amazonaws.com"}, "Action": "kms:*", "Resource": "*"}]}}}}}', False),
    ("MF401", T, 'data "aws_iam_policy_document" "k" {\n  statement {\n    actions = ["kms:Encrypt*"]\n    principals {\n'
                 '      type = "Service"\n      identifiers = ["logs.amazonaws.com"]\n    }\n  }\n}\n', True),
    ("MF401", T, 'data "aws_iam_policy_document" "k" {\n  statement {\n    actions = ["kms:Encrypt*"]\n    principals {\n'
                 '      type = "Service"\n      identifiers = ["logs.amazonaws.com"]\n    }\n    condition {\n      test = "ArnLike"\n'
                 '      variable = "kms:EncryptionContext:aws:logs:arn"\n      values = ["*"]\n    }\n  }\n}\n', False),
    ("MF401", TS, "key.addToResourcePolicy(new iam.PolicyStatement({ actions: ['kms:Encrypt*'],\n"
                  "  principals: [new iam.ServicePrincipal(`logs.${this.region}.amazonaws.com`)], resources: ['*'] }));\n", True),
    ("MF401", TS, "key.grantEncryptDecrypt(new iam.ServicePrincipal('logs.amazonaws.com'));\n", True),
    ("MF401", TS, "// key.grantEncryptDecrypt(new iam.ServicePrincipal('logs.amazonaws.com'));\n", False),
    ("MF401", PY, "key.add_to_resource_policy(iam.PolicyStatement(actions=['kms:Decrypt*'],\n"
                  "    principals=[iam.ServicePrincipal('logs.amazonaws.com')], resources=['*']))\n", True),
    ("MF401", PY, "key.add_to_resource_policy(iam.PolicyStatement(actions=['kms:Decrypt*'],\n"
                  "    principals=[iam.ServicePrincipal('logs.amazonaws.com')], resources=['*'],\n"
                  "    conditions={'ArnLike': {'kms:EncryptionContext:aws:logs:arn': arn}}))\n", False),
    # MF402 open key principal
    ("MF402", Y, "Resources:\n  K:\n    Type: AWS::KMS::Key\n    Properties:\n      KeyPolicy:\n        Statement:\n"
                 "          - Effect: Allow\n            Principal: '*'\n            Action: kms:Decrypt\n            Resource: '*'\n", True),
    ("MF402", Y, "Resources:\n  K:\n    Type: AWS::KMS::Key\n    Properties:\n      KeyPolicy:\n        Statement:\n"
                 "          - Effect: Allow\n            Principal: '*'\n            Action: kms:Decrypt\n            Resource: '*'\n"
                 "            Condition:\n              StringEquals:\n                kms:CallerAccount: !Ref AWS::AccountId\n", False),
    ("MF402", TS, "new iam.PolicyStatement({ principals: [new iam.AnyPrincipal()], actions: ['kms:Decrypt'] });\n", True),
    ("MF402", PY, "iam.PolicyStatement(principals=[iam.AnyPrincipal()], actions=['kms:Decrypt'],\n"
                  "    conditions={'StringEquals': {'kms:CallerAccount': self.account}})\n", False),
    # MF403 hard-coded region
    ("MF403", Y, "Resources:\n  T:\n    Type: AWS::SNS::Subscription\n    Properties:\n      TopicArn: arn:aws:sns:eu-west-1:111122223333:t\n", True),
    ("MF403", Y, "Resources:\n  T:\n    Type: AWS::SNS::Subscription\n    Properties:\n      TopicArn: !Sub arn:aws:sns:${AWS::Region}:${AWS::AccountId}:t\n"
                 "      # was arn:aws:sns:eu-west-1:111122223333:t\n", False),
    ("MF403", J, '{"Resources": {"D": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {"DashboardBody": '
                 '"{\\"widgets\\": [{\\"properties\\": {\\"region\\": \\"us-west-2\\"}}]}"}}}}', True),
    ("MF403", T, 'provider "aws" {\n  region = "us-east-1"\n}\n', False),
    ("MF403", TS, "const p = new iam.ServicePrincipal('logs.us-east-1.amazonaws.com');\n", True),
    ("MF403", TS, "const p = new iam.ServicePrincipal(isUsEast ? 'logs.us-east-1.amazonaws.com' : other);\n", False),
    ("MF403", PY, "endpoint = 'com.amazonaws.us-west-2.s3'\n", True),
    ("MF403", PY, "env = cdk.Environment(region='us-west-2')\n", False),
    # MF404 hard-coded account
    ("MF404", Y, "Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      Principal:\n        AWS: '444455556666'\n", True),
    ("MF404", Y, "Resources:\n  R:\n    Type: AWS::S3::BucketPolicy\n    Properties:\n      Principal:\n"
                 "        AWS: arn:aws:iam::127311923021:root\n", False),  # ELB log delivery (AWS-owned)
    ("MF404", T, 'resource "aws_lambda_function" "f" {\n  layers = ["arn:aws:lambda:us-east-1:580247275435:layer:Insights:14"]\n}\n', False),
    ("MF404", TS, "const image = '444455556666.dkr.ecr.us-east-1.amazonaws.com/app:latest';\n", True),
    ("MF404", TS, "const account = process.env.CDK_DEFAULT_ACCOUNT || '444455556666';\n", False),
    ("MF404", PY, "account = os.environ.get('ACCOUNT', '444455556666')\n", False),
    ("MF404", PY, "topic = 'arn:aws:sns:us-east-1:444455556666:alerts'\n", True),
    # MF405 retain
    ("MF405", Y, "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    DeletionPolicy: Retain\n", True),
    ("MF405", Y, "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    DeletionPolicy: !If [IsProd, Retain, Delete]\n", False),
    ("MF405", Y, "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Condition: IsProd\n    DeletionPolicy: Retain\n", False),
    ("MF405", J, '{"Resources": {"D": {"Type": "AWS::RDS::DBInstance", "Properties": {"DeletionProtection": true}}}}', True),
    ("MF405", J, '{"Resources": {"D": {"Type": "AWS::RDS::DBInstance", "Properties": {"DeletionProtection": false}}}}', False),
    ("MF405", T, 'resource "aws_s3_bucket" "b" {\n  lifecycle {\n    prevent_destroy = true\n  }\n}\n', True),
    ("MF405", T, 'resource "aws_db_instance" "d" {\n  deletion_protection = var.environment == "prod" ? true : false\n}\n', False),
    ("MF405", TS, "new s3.Bucket(this, 'B', { removalPolicy: cdk.RemovalPolicy.RETAIN });\n", True),
    ("MF405", TS, "new s3.Bucket(this, 'B', { removalPolicy: isProd ? cdk.RemovalPolicy.RETAIN : cdk.RemovalPolicy.DESTROY });\n", False),
    ("MF405", TS, "// removalPolicy: cdk.RemovalPolicy.RETAIN\nconst note = 'RemovalPolicy.RETAIN is not used';\n", False),
    ("MF405", TS, "new aws.s3.Bucket('b', {}, { retainOnDelete: true });\n", True),
    ("MF405", PY, "if is_prod:\n    bucket.apply_removal_policy(RemovalPolicy.RETAIN)\n", False),
    ("MF405", PY, "bucket.apply_removal_policy(RemovalPolicy.RETAIN)\n", True),
    # MF406 unencrypted
    ("MF406", Y, "Resources:\n  V:\n    Type: AWS::EC2::Volume\n    Properties:\n      Encrypted: false\n", True),
    ("MF406", Y, "Resources:\n  V:\n    Type: AWS::EC2::Volume\n    Properties:\n      Encrypted: true\n", False),
    ("MF406", T, 'resource "aws_rds_cluster" "c" {\n  storage_encrypted = false\n}\n', True),
    ("MF406", T, 'resource "aws_rds_cluster" "c" {\n  storage_encrypted = var.encrypt\n}\n', False),
    ("MF406", TS, "new s3.Bucket(this, 'B', { encryption: s3.BucketEncryption.UNENCRYPTED });\n", True),
    ("MF406", TS, "new s3.Bucket(this, 'B', { encryption: s3.BucketEncryption.S3_MANAGED });\n", False),  # prompt silent
    ("MF406", PY, "s3.Bucket(self, 'B', encryption=s3.BucketEncryption.KMS if prod else s3.BucketEncryption.UNENCRYPTED)\n", False),
    ("MF406", PY, "opensearch.Domain(self, 'D', encryption_at_rest=opensearch.EncryptionAtRestOptions(enabled=False))\n", True),
    # MF407 IAM wildcard
    ("MF407", Y, "Resources:\n  P:\n    Type: AWS::IAM::Policy\n    Properties:\n      PolicyDocument:\n        Statement:\n"
                 "          - Effect: Allow\n            Action: '*'\n            Resource: '*'\n", True),
    ("MF407", Y, "Resources:\n  P:\n    Type: AWS::IAM::Policy\n    Properties:\n      PolicyDocument:\n        Statement:\n"
                 "          - Effect: Allow\n            Action: 's3:GetObject'\n            Resource: '*'\n", False),
    ("MF407", J, '{"Resources": {"E": {"Type": "AWS::EC2::VPCEndpoint", "Properties": {"PolicyDocument": {"Statement": [{'
                 '"Effect": "Allow", "Action": "*", "Principal": "*", "Resource": "*", "Condition": {"StringEquals": '
                 '{"aws:PrincipalAccount": "111"}}}]}}}}}', False),
    ("MF407", T, 'resource "aws_iam_role_policy_attachment" "a" {\n  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"\n}\n', True),
    ("MF407", TS, "role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('PowerUserAccess'));\n", True),
    ("MF407", TS, "// role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('PowerUserAccess'));\n"
                  "new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] });\n", False),
    ("MF407", PY, "iam.PolicyStatement(actions=['*'], resources=['*'])\n", True),
    ("MF407", PY, "iam.PolicyStatement(effect=iam.Effect.DENY, actions=['*'], resources=['*'])\n", False),
    # MF408 open ingress
    ("MF408", Y, "Resources:\n  SG:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      SecurityGroupIngress:\n"
                 "        - IpProtocol: tcp\n          FromPort: 22\n          ToPort: 22\n          CidrIp: 0.0.0.0/0\n", True),
    ("MF408", Y, "Resources:\n  SG:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      SecurityGroupIngress:\n"
                 "        - IpProtocol: tcp\n          FromPort: 443\n          ToPort: 443\n          CidrIp: 0.0.0.0/0\n", False),
    ("MF408", J, '{"Resources": {"SG": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"SecurityGroupIngress": '
                 '[{"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}]}}}}', True),
    ("MF408", T, 'resource "aws_security_group" "s" {\n  ingress {\n    from_port = 5432\n    to_port = 5432\n    protocol = "tcp"\n'
                 '    cidr_blocks = ["0.0.0.0/0"]\n  }\n}\n', True),
    ("MF408", T, 'resource "aws_security_group" "s" {\n  egress {\n    from_port = 0\n    to_port = 0\n    protocol = "-1"\n'
                 '    cidr_blocks = ["0.0.0.0/0"]\n  }\n}\nresource "aws_route" "r" {\n  destination_cidr_block = "0.0.0.0/0"\n}\n', False),
    ("MF408", TS, "sg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(3389));\n", True),
    ("MF408", TS, "if (debug) { sg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(22)); }\n", False),
    ("MF408", PY, "sg.add_ingress_rule(ec2.Peer.any_ipv4(), ec2.Port.all_traffic())\n", True),
    ("MF408", PY, "sg.add_ingress_rule(ec2.Peer.ipv4(vpc.vpc_cidr_block), ec2.Port.tcp(22))\n", False),
]


@pytest.mark.parametrize("rule,path,text,fires", CASES, ids=[f"{c[0]}-{c[1].rsplit('.', 1)[-1]}-{i}" for i, c in enumerate(CASES)])
def test_rule_on_platform(rule, path, text, fires):
    review = review_files({path: text})
    assert not review.errors, review.errors
    hits = [f for f in review.findings if f.rule == rule]
    assert bool(hits) == fires, hits
    for f in hits:  # every finding names a place and says what to do
        assert f.line >= 1 and ":" in f.message and f.evidence


def test_finding_names_resource_attribute_and_fix():
    review = review_files({Y: "Resources:\n  Logs:\n    Type: AWS::S3::Bucket\n    DeletionPolicy: Retain\n"})
    (f,) = [f for f in review.findings if f.rule == "MF405"]
    assert (f.path, f.line) == (Y, 4)
    assert "AWS::S3::Bucket Logs" in f.message and "DeletionPolicy" in f.message and "Delete" in f.message


def test_prompt_fixes_region_and_account():
    code = {TS: "const t = 'arn:aws:sns:eu-west-1:444455556666:alerts';\n"}
    assert {"MF403", "MF404"} <= {f.rule for f in review_files(code).findings}
    prompt = {"lib/PROMPT.md": "Deploy to eu-west-1 in account 444455556666.\n"}
    assert not {"MF403", "MF404"} & {f.rule for f in review_files({**code, **prompt}).findings}


def test_retain_setting_and_prompt():
    code = {TS: "new s3.Bucket(this, 'B', { removalPolicy: cdk.RemovalPolicy.RETAIN });\n"}
    off = Config(settings={"iac": {"destroyable": False}})
    assert "MF405" not in {f.rule for f in review_files(code, off).findings}
    prompt = {"lib/PROMPT.md": "Buckets must use RemovalPolicy.RETAIN.\n"}
    assert "MF405" not in {f.rule for f in review_files({**code, **prompt}).findings}


def test_aes256_only_when_prompt_asks_for_kms():
    code = {T: 'resource "aws_s3_bucket_server_side_encryption_configuration" "e" {\n  rule {\n'
               '    apply_server_side_encryption_by_default {\n      sse_algorithm = "AES256"\n    }\n  }\n}\n'}
    assert "MF406" not in {f.rule for f in review_files(code).findings}
    prompt = {"lib/PROMPT.md": "Encrypt the S3 buckets with a customer-managed KMS key.\n"}
    assert "MF406" in {f.rule for f in review_files({**code, **prompt}).findings}


def test_changed_lines_only_in_app():
    text = "new s3.Bucket(this, 'A', { removalPolicy: cdk.RemovalPolicy.RETAIN });\n" \
           "new s3.Bucket(this, 'B', { removalPolicy: cdk.RemovalPolicy.RETAIN });\n"
    review = review_files({TS: text}, changed={TS: {2}})
    assert [f.line for f in review.findings if f.rule == "MF405"] == [2]
    assert not [f for f in review_files({TS: text}, changed={"other.ts": {1}}).findings if f.rule == "MF405"]


def test_corpus_false_alarms_stay_removed():
    kms_prompt = {"lib/PROMPT.md": "Encrypt all S3 buckets with KMS.\n"}
    log_bucket = {Y: "Resources:\n  AccessLogsBucket:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketEncryption:\n"
                     "        ServerSideEncryptionConfiguration:\n          - ServerSideEncryptionByDefault:\n"
                     "              SSEAlgorithm: AES256\n"}
    assert "MF406" not in {f.rule for f in review_files({**kms_prompt, **log_bucket}).findings}
    either = {"lib/PROMPT.md": "Enable server-side encryption (SSE-S3 or KMS) on all S3 buckets.\n"}
    data_bucket = {Y: log_bucket[Y].replace("AccessLogsBucket", "DataBucket")}
    assert "MF406" not in {f.rule for f in review_files({**either, **data_bucket}).findings}
    assert "MF406" in {f.rule for f in review_files({**kms_prompt, **data_bucket}).findings}
    variable = {T: 'variable "cert" {\n  default = "arn:aws:acm:us-east-1:123456789012:certificate/x"\n}\n'}
    assert not {"MF403", "MF404"} & {f.rule for f in review_files(variable).findings}


def test_analysis_tasks_and_update_replace_policy_are_not_reported():
    script = {"metadata.json": '{"platform": "analysis", "language": "py"}',
              PY: "RISKY = ['AdministratorAccess', 'PowerUserAccess']\nvolume = {'encrypted': False}\n"}
    assert not [f for f in review_files(script).findings if f.rule.startswith("MF4")]
    replace_only = {Y: "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    UpdateReplacePolicy: Retain\n    DeletionPolicy: Delete\n"}
    assert "MF405" not in {f.rule for f in review_files(replace_only).findings}


def test_literal_prefilters_skip_parsing_but_keep_spelling_variants():
    """`needs` / the MF411 name-key filter keep files without the literal from being parsed, and accept
    every key spelling `norm` treats as one (`BUCKET_NAME`, `bucket-name`, `bucketName`)."""
    from bot.iac.files import SourceFile
    from bot.iac.rule import Context
    from bot.rules import all_rules
    from bot.task import Task

    rules = {r.id: r for r in all_rules()}
    ctx = Context(Task("", {}), Config())
    plain = SourceFile(TS, "typescript", "new s3.Bucket(this, 'B', { versioned: true, arn: 'arn:aws:s3:::b' });\n")
    for rid in ("MF401", "MF403", "MF404", "MF411"):
        assert list(rules[rid].detect([plain], ctx)) == []
    assert "root" not in plain.__dict__ and "tree" not in plain.__dict__  # never parsed
    for key in ("BUCKET_NAME", "bucket-name", "bucketName"):
        code = f"const env_suffix = 'x';\nnew s3.Bucket(this, 'B', {{ '{key}': 'fixed' }});\n"
        assert "MF411" in rule_ids_of({TS: code}), key


def rule_ids_of(files):
    return {f.rule for f in review_files(files).findings}


def test_hits_are_computed_once_per_file_and_config(monkeypatch):
    """The claim checks run a rule again on the same files: `detect` answers from the file's cache,
    unless the config differs."""
    from bot.iac.files import SourceFile
    from bot.iac.rule import Context
    from bot.rules import all_rules
    from bot.task import Task

    rule = next(r for r in all_rules() if r.id == "MF406")
    calls = []
    detect_file = type(rule).detect_file
    monkeypatch.setattr(type(rule), "detect_file", lambda self, f, ctx: calls.append(f) or detect_file(self, f, ctx))
    f = SourceFile(J, "json", '{"Resources": {"D": {"Type": "AWS::RDS::DBInstance", "Properties": {"StorageEncrypted": false}}}}')
    task = Task("", {J: f.text})
    ctx = Context(task, Config())
    first, again = list(rule.detect([f], ctx)), list(rule.detect([f], ctx))
    assert first == again and len(first) == 1 and len(calls) == 1
    assert list(rule.detect([f], Context(task, Config()))) == first and len(calls) == 2
