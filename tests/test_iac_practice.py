"""Convention and deploy-blocker IaC rules (MF409-MF416) on each platform they cover."""

import pytest

from bot.config import Config
from bot.iac.files import model_files
from bot.iac.rule import Context
from bot.rules import all_rules
from bot.task import Task
from tests.conftest import review_files

HA = {"lib/PROMPT.md": "Create a highly available VPC across three availability zones.\n"}
SUFFIX_Y = "Parameters:\n  EnvironmentSuffix:\n    Type: String\n"

CASES = [
    # MF409 single NAT (only where the prompt asks for high availability)
    ("MF409", {**HA, "lib/tap-stack.ts": "new ec2.Vpc(this, 'V', { maxAzs: 3, natGateways: 1 });\n"}, True),
    ("MF409", {"lib/tap-stack.ts": "new ec2.Vpc(this, 'V', { maxAzs: 3, natGateways: 1 });\n"}, False),
    ("MF409", {**HA, "lib/tap-stack.ts": "new ec2.Vpc(this, 'V', { maxAzs: 3, natGateways: isProd ? 3 : 1 });\n"}, False),
    ("MF409", {**HA, "lib/tap_stack.py": "ec2.Vpc(self, 'V', max_azs=2, nat_gateways=1)\n"}, True),
    ("MF409", {**HA, "lib/template.yaml": "Resources:\n  Nat:\n    Type: AWS::EC2::NatGateway\n  PrivateSubnet1:\n"
                                          "    Type: AWS::EC2::Subnet\n  PrivateSubnet2:\n    Type: AWS::EC2::Subnet\n"}, True),
    ("MF409", {**HA, "lib/template.json": '{"Resources": {"Nat1": {"Type": "AWS::EC2::NatGateway"}, "Nat2": {"Type": '
                                          '"AWS::EC2::NatGateway"}, "PrivateA": {"Type": "AWS::EC2::Subnet"}, "PrivateB": '
                                          '{"Type": "AWS::EC2::Subnet"}}}'}, False),
    ("MF409", {**HA, "lib/main.tf": 'resource "aws_nat_gateway" "n" {\n  subnet_id = "x"\n}\nresource "aws_subnet" "private" {\n'
                                    '  count = 3\n}\n'}, True),
    ("MF409", {**HA, "lib/main.tf": 'resource "aws_nat_gateway" "n" {\n  count = 3\n}\nresource "aws_subnet" "private" {\n'
                                    '  count = 3\n}\n'}, False),
    # MF410 alarm without treatMissingData
    ("MF410", {"lib/template.yaml": "Resources:\n  A:\n    Type: AWS::CloudWatch::Alarm\n    Properties:\n      Threshold: 1\n"}, True),
    ("MF410", {"lib/template.json": '{"Resources": {"A": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Threshold": 1, '
                                    '"TreatMissingData": "breaching"}}}}'}, False),
    ("MF410", {"lib/tap-stack.ts": "new cloudwatch.Alarm(this, 'A', { metric, threshold: 1 });\n"}, True),
    ("MF410", {"lib/tap-stack.ts": "new cloudwatch.Alarm(this, 'A', { ...common, metric });\n"}, False),  # spread: unknown
    ("MF410", {"lib/tap_stack.py": "fn.metric_errors().create_alarm(self, 'A', threshold=1, evaluation_periods=1)\n"}, True),
    ("MF410", {"lib/tap_stack.py": "cloudwatch.Alarm(self, 'A', metric=m, threshold=1,\n"
                                   "    treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING)\n"}, False),
    # MF411 physical names without the environment suffix
    ("MF411", {"lib/template.yaml": SUFFIX_Y + "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n"
                                              "      TableName: orders\n"}, True),
    ("MF411", {"lib/template.yaml": "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      TableName: orders\n"}, False),
    ("MF411", {"lib/main.tf": 'variable "environment_suffix" {}\nresource "aws_s3_bucket" "b" {\n  bucket = "audit-logs"\n}\n'}, True),
    ("MF411", {"lib/main.tf": 'variable "environment_suffix" {}\nresource "aws_s3_bucket" "b" {\n'
                              '  bucket = "audit-logs-${var.environment_suffix}"\n}\n'}, False),
    ("MF411", {"lib/tap-stack.ts": "const environmentSuffix = props.environmentSuffix;\n"
                                   "new lambda.Function(this, 'F', { functionName: 'processor' });\n"}, True),
    ("MF411", {"lib/tap-stack.ts": "const environmentSuffix = props.environmentSuffix;\n"
                                   "new lambda.Function(this, 'F', { functionName: `processor-${environmentSuffix}` });\n"}, False),
    ("MF411", {"lib/tap_stack.py": "environment_suffix = props.environment_suffix\n"
                                   "sqs.Queue(self, 'Q', queue_name='jobs')\n"}, True),
    # MF412 deprecated runtimes (by the task's start date) and Pulumi S3 resources by provider version
    ("MF412", {"metadata.json": '{"startedAt": "2025-10-01T00:00:00Z"}',
               "lib/template.yaml": "Resources:\n  F:\n    Type: AWS::Lambda::Function\n    Properties:\n      Runtime: nodejs18.x\n"}, True),
    ("MF412", {"metadata.json": '{"startedAt": "2025-06-01T00:00:00Z"}',
               "lib/template.yaml": "Resources:\n  F:\n    Type: AWS::Lambda::Function\n    Properties:\n      Runtime: nodejs18.x\n"}, False),
    ("MF412", {"metadata.json": '{"startedAt": "2025-10-01"}',
               "lib/main.tf": 'resource "aws_lambda_function" "f" {\n  runtime = "python3.8"\n}\n'}, True),
    ("MF412", {"metadata.json": '{"startedAt": "2025-10-01"}',
               "lib/tap-stack.ts": "new lambda.Function(this, 'F', { runtime: lambda.Runtime.NODEJS_16_X });\n"}, True),
    ("MF412", {"metadata.json": '{"startedAt": "2025-10-01"}',
               "lib/tap_stack.py": "_lambda.Function(self, 'F', runtime=_lambda.Runtime.PYTHON_3_12)\n"}, False),
    ("MF412", {"requirements.txt": "pulumi-aws>=7.0.0,<8\n",
               "lib/tap_stack.py": "import pulumi_aws as aws\nb = aws.s3.BucketVersioningV2('v', bucket=b.id)\n"}, True),
    ("MF412", {"requirements.txt": "pulumi-aws>=6.0.0,<7\n",
               "lib/tap_stack.py": "import pulumi_aws as aws\nb = aws.s3.Bucket('b', versioning={'enabled': True})\n"}, True),
    ("MF412", {"lib/tap_stack.py": "import pulumi_aws as aws\nb = aws.s3.BucketV2('b')\n"}, False),  # no pin: undecidable
    # MF413 duplicate Step Functions states
    ("MF413", {"lib/template.yaml": "Resources:\n  SM:\n    Type: AWS::StepFunctions::StateMachine\n    Properties:\n"
                                    "      Definition:\n        StartAt: A\n        States:\n          A:\n            Type: Parallel\n"
                                    "            End: true\n            Branches:\n              - StartAt: A\n                States:\n"
                                    "                  A: {Type: Pass, End: true}\n"}, True),
    ("MF413", {"lib/template.json": '{"Resources": {"SM": {"Type": "AWS::StepFunctions::StateMachine", "Properties": '
                                    '{"DefinitionString": "{\\"StartAt\\": \\"A\\", \\"States\\": {\\"A\\": {\\"Type\\": \\"Map\\", '
                                    '\\"End\\": true, \\"Iterator\\": {\\"StartAt\\": \\"B\\", \\"States\\": {\\"B\\": {\\"Type\\": '
                                    '\\"Pass\\", \\"End\\": true}}}}}}"}}}}'}, False),
    ("MF413", {"lib/tap-stack.ts": "const def = JSON.stringify({ StartAt: 'A', States: { A: { Type: 'Map', End: true,\n"
                                   "  ItemProcessor: { StartAt: 'A', States: { A: { Type: 'Pass', End: true } } } } } });\n"}, True),
    ("MF413", {"lib/tap_stack.py": "definition = {'StartAt': 'A', 'States': {'A': {'Type': 'Pass', 'Next': 'B'}, "
                                   "'B': {'Type': 'Succeed'}}}\n"}, False),
    # MF415 SSM reserved prefix
    ("MF415", {"lib/main.tf": 'resource "aws_ssm_document" "d" {\n  name = "AWS-CustomPatch"\n  document_type = "Command"\n}\n'}, True),
    ("MF415", {"lib/main.tf": 'resource "aws_ssm_document" "d" {\n  name = "custom-patch"\n  document_type = "Command"\n}\n'}, False),
    ("MF415", {"lib/tap-stack.ts": "new ssm.CfnDocument(this, 'D', { name: 'amazon-ops', content: {} });\n"}, True),
    ("MF415", {"lib/tap_stack.py": "ssm.CfnDocument(self, 'D', name='ops-runbook', content={})\n"}, False),
    ("MF415", {"lib/template.json": '{"Resources": {"D": {"Type": "AWS::SSM::Document", "Properties": {"Name": "aws-x"}}}}'}, True),
    # MF416 placeholder tests
    ("MF416", {"test/stack.unit.test.ts": "test('x', () => {\n  expect(false).toBe(true);\n});\n"}, True),
    ("MF416", {"test/stack.unit.test.ts": "test('x', () => {\n  try { run(); } catch (e) { expect(true).toBe(false); }\n});\n"}, False),
    ("MF416", {"test/stack.unit.test.ts": "test.skip('x', () => {\n  expect(false).toBe(true);\n});\n"}, False),
    ("MF416", {"test/stack.unit.test.ts": "it('does nothing', () => {});\n"}, True),
    ("MF416", {"tests/unit/test_stack.py": "def test_placeholder():\n    assert False, 'write me'\n"}, True),
    ("MF416", {"tests/unit/test_stack.py": "def test_outputs():\n    if not outputs:\n        assert False, 'no outputs'\n"
                                           "    assert outputs['Bucket']\n"}, False),
    ("MF416", {"tests/unit/test_stack.py": "def test_todo(self):\n    pass\n"}, True),
    ("MF416", {"tests/unit/test_stack.py": "# assert False\ndef test_ok():\n    assert 'assert False' != ''\n"}, False),
    # MF416 tests that make no assertion: they only log, or compute a value they never check
    ("MF416", {"test/stack.int.test.ts": "test('alarms exist', async () => {\n  // TODO: call DescribeAlarms\n});\n"}, True),
    ("MF416", {"test/stack.int.test.ts": "test('NAT gateway', async () => {\n  console.log('[PASS] NAT gateway validated');\n});\n"}, True),
    ("MF416", {"test/stack.int.test.ts": ("it('alarms exist', async () => {\n  const res = await cw.send(new DescribeAlarmsCommand({}));\n"
                                          "  const names = res.MetricAlarms.map((a) => a.AlarmName);\n});\n")}, True),
    ("MF416", {"test/stack.int.test.js": ("test('bucket exists', async () => {\n"
                                          "  await s3.send(new HeadBucketCommand({ Bucket: name }));\n});\n")}, False),  # throws if absent
    ("MF416", {"test/stack.int.test.ts": ("const bucketIsPrivate = async (name) => { /* asserts */ };\n"
                                          "test('bucket', async () => {\n  const name = outputs.Bucket;\n  await bucketIsPrivate(name);\n});\n")}, False),
    ("MF416", {"test/stack.int.test.ts": "test('bucket', async () => {\n  const name = outputs.Bucket;\n  await verifyBucket(s3, name);\n});\n"}, False),
    ("MF416", {"test/stack.unit.test.ts": "it('outputs', (done) => {\n  stack.bucket.apply((b) => done());\n});\n"}, False),
    ("MF416", {"test/stack.unit.test.ts": "it.skip('later', () => {\n  console.log('not yet');\n});\n"}, False),
    ("MF416", {"test/stack.unit.test.ts": "test('synth', () => {\n  const t = synth();\n  // ... same checks as above\n});\n"}, False),
    ("MF416", {"tests/unit/test_stack.py": "def test_outputs():\n    \"\"\"Verify the outputs.\"\"\"\n    print('ok')\n"}, True),
    ("MF416", {"tests/integration/test_live.py": ("class TestLive:\n    def test_topic(self):\n"
                                                  "        topics = self.sns.list_topics()\n        print('listed')\n")}, True),
    ("MF416", {"tests/integration/test_live.py": ("class TestLive:\n    def _topic(self):\n        return self.sns.list_topics()\n"
                                                  "    def test_topic(self):\n        topics = self._topic()\n")}, False),
    ("MF416", {"tests/unit/test_stack.py": "def test_bad_cidr():\n    with pytest.raises(ValueError):\n        Config(cidr='x')\n"}, False),
    ("MF416", {"tests/unit/test_stack.py": "def test_name(self):\n    self.assertEqual(stack.name, 'x')\n"}, False),
    # a Pulumi test checks in a nested function; the next test, at the class's indentation, asserts nothing
    ("MF416", {"tests/unit/test_stack.py": ("class TestStack:\n    @pulumi.runtime.test\n    def test_bucket(self):\n"
                                            "        def check(args):\n            assert args[0] == 'b'\n"
                                            "        return stack.bucket.apply(check)\n")}, False),
    ("MF416", {"tests/unit/test_stack.py": ("class TestStack:\n    def test_topic(self):\n        topic = make_topic()\n"
                                            "\n    def helper(self):\n        assert True\n")}, True),
]


@pytest.mark.parametrize("rule,files,fires", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule(rule, files, fires):
    review = review_files(files)
    assert not review.errors, review.errors
    hits = [f for f in review.findings if f.rule == rule]
    assert bool(hits) == fires, hits


def test_alarm_notice_level_and_review_date_setting():
    files = {"lib/template.yaml": "Resources:\n  F:\n    Type: AWS::Lambda::Function\n    Properties:\n      Runtime: python3.9\n"}
    early = Config(settings={"iac": {"review_date": "2025-01-01"}})
    late = Config(settings={"iac": {"review_date": "2026-01-01"}})
    assert "MF412" not in {f.rule for f in review_files(files, early).findings}
    assert "MF412" in {f.rule for f in review_files(files, late).findings}
    alarm = review_files({"lib/template.yaml": "Resources:\n  A:\n    Type: AWS::CloudWatch::Alarm\n    Properties: {}\n"})
    assert [str(f.level) for f in alarm.findings if f.rule == "MF410"] == ["notice"]


REGRESSIONS = [
    # corpus false alarms, removed: inline policy names and Lambda aliases are scoped to their parent
    ("MF411", {"lib/template.yaml": SUFFIX_Y + "Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      Policies:\n"
                                              "        - PolicyName: S3Access\n          PolicyDocument: {}\n"}, False),
    ("MF411", {"lib/tap_stack.py": "environment_suffix = 'dev'\nlambda_.Alias(self, 'A', alias_name='live', version=v)\n"}, False),
    # a prompt that asks for one NAT in its own words
    ("MF409", {"lib/PROMPT.md": "A highly available VPC.\n- NAT Gateway for private subnets (1 gateway to optimize cost)\n",
               "lib/tap-stack.ts": "new ec2.Vpc(this, 'V', { maxAzs: 3, natGateways: 1 });\n"}, False),
]


@pytest.mark.parametrize("rule,files,fires", REGRESSIONS, ids=[f"{c[0]}-r{i}" for i, c in enumerate(REGRESSIONS)])
def test_corpus_false_alarms_stay_removed(rule, files, fires):
    assert bool([f for f in review_files(files).findings if f.rule == rule]) == fires


# The text filters that keep files from being parsed for MF409, MF411 and MF412 (files whose text cannot give a
# finding): each shape the rules read still fires; the last cases are skipped without a parse.
STARTED = {"metadata.json": '{"startedAt": "2025-10-01"}'}
SUFFIX_TS = "const environmentSuffix = props.environmentSuffix;\n"
FILTERED = [
    ("MF409", {**HA, "lib/tap-stack.ts": "new ec2.Vpc(this, 'V', { natGatewayProvider, natGatewayStrategy: "
                                         "ec2.NatGatewayStrategy.Single });\n"}, True),
    # the NAT gateway in one file, the private subnets in another that routes through it
    ("MF409", {**HA, "lib/nat.tf": 'resource "aws_nat_gateway" "n" {\n  subnet_id = aws_subnet.public.id\n}\n',
               "lib/subnets.tf": 'resource "aws_subnet" "private_a" {\n  vpc_id = "v"\n}\nresource "aws_subnet" "private_b" {\n'
                                 '  vpc_id = "v"\n}\nresource "aws_route" "r" {\n  nat_gateway_id = aws_nat_gateway.n.id\n}\n'}, True),
    ("MF409", {**HA, "lib/template.yaml": "Resources:\n  Nat:\n    Type: AWS::EC2::NatGateway\n  Nat2:\n"
                                          "    Type: AWS::EC2::NatGateway\n",
               "lib/subnets.yaml": "Resources:\n  PrivateSubnet1:\n    Type: AWS::EC2::Subnet\n  PrivateSubnet2:\n"
                                   "    Type: AWS::EC2::Subnet\n  Route:\n    Type: AWS::EC2::Route\n    Properties:\n"
                                   "      NatGatewayId: !Ref Nat\n"}, False),
    ("MF411", {"lib/template.json": '{"Parameters": {"EnvironmentSuffix": {"Type": "String"}}, "Resources": {"T": {"Type": '
                                    '"AWS::DynamoDB::Table", "Properties": {"TableName" : "orders"}}}}'}, True),
    ("MF411", {"lib/template.yaml": SUFFIX_Y + "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n"
                                              "      'BucketName': audit-logs\n"}, True),
    ("MF411", {"lib/tap-stack.ts": SUFFIX_TS + "new lambda.Function(this, 'F', {\n  functionName:\n    'ingest',\n});\n"}, True),
    ("MF411", {"lib/tap-stack.ts": SUFFIX_TS + "const topic = { topicName() { return 'alerts'; } };\n"}, True),
    ("MF411", {"lib/lambda/handler.py": "environment_suffix = 'dev'\nsqs.create_queue(QueueName='jobs')\n"}, True),
    ("MF411", {"lib/main.tf": 'variable "environment_suffix" {}\nresource "aws_sqs_queue" "q" {\n  name = "jobs"\n}\n'}, True),
    ("MF412", {**STARTED, "lib/template.json": '{"Resources": {"F": {"Type": "AWS::Lambda::Function", "Properties": '
                                               '{"Runtime": "python3.8"}}}}'}, True),
    ("MF412", {**STARTED, "lib/template.yaml": "Resources:\n  F:\n    Type: AWS::Lambda::Function\n    Properties:\n"
                                               "      Runtime: provided # custom\n"}, True),
    ("MF412", {**STARTED, "lib/template.yaml": "Resources:\n  F:\n    Type: AWS::Lambda::Function\n    Properties:\n"
                                               "      Runtime: provided.al2\n"}, False),
    ("MF412", {**STARTED, "lib/tap_stack.py": "_lambda.Function(self, 'F', runtime=_lambda.Runtime.PYTHON_3_8)\n"}, True),
    ("MF412", {**STARTED, "lib/index.ts": "new aws.lambda.Function('f', { runtime: \"nodejs16.x\", role });\n"}, True),
]


@pytest.mark.parametrize("rule,files,fires", FILTERED, ids=[f"{c[0]}-f{i}" for i, c in enumerate(FILTERED)])
def test_text_filters_keep_every_shape_the_rules_read(rule, files, fires):
    review = review_files(files)
    assert not review.errors, review.errors
    assert bool([f for f in review.findings if f.rule == rule]) == fires


@pytest.mark.parametrize("rule,path,code", [
    ("MF409", "lib/tap-stack.ts", "const nat = new ec2.CfnNatGateway(this, 'N', { subnetId });\n"),
    ("MF411", "lib/tap-stack.ts", SUFFIX_TS + "const bucketName = process.env.BUCKET_NAME;\n"),
    ("MF411", "lib/main.tf", 'variable "environment_suffix" {}\nresource "aws_s3_bucket_policy" "p" {\n  bucket = "b"\n}\n'),
    ("MF412", "lib/tap-stack.ts", "new lambda.Function(this, 'F', { runtime: lambda.Runtime.NODEJS_22_X });\n"),
    ("MF412", "lib/template.yaml", "Resources:\n  F:\n    Type: AWS::Lambda::Function\n    Properties:\n      Runtime: nodejs20.x\n"),
])
def test_files_that_cannot_give_a_finding_are_not_parsed(rule, path, code):
    from bot.iac.files import SourceFile

    task = Task("", {path: code, "metadata.json": STARTED["metadata.json"]})
    f = SourceFile(path, {"ts": "typescript", "py": "python", "tf": "hcl", "yaml": "yaml"}[path.rsplit(".", 1)[1]], code)
    rule_ = next(r for r in all_rules() if r.id == rule)
    assert list(rule_.detect([f], Context(task, Config()))) == []
    assert "root" not in f.__dict__ and "tree" not in f.__dict__


def test_placeholder_test_pairs_each_test_with_its_own_body():
    """Many tests, one empty: only that one is reported (the query's captures must stay per match)."""
    real = "".join(f"def test_real_{i}():\n    x = {i}\n    assert x == {i}\n\n" for i in range(40))
    py = real + "def test_empty():\n    pass\n\n" + real.replace("test_real_", "test_more_")
    ts = "".join(f"test('real {i}', () => {{\n  expect({i}).toBe({i});\n}});\n" for i in range(40))
    ts += "test('empty', () => {});\n" + ts.replace("real", "more")
    found = review_files({"tests/unit/test_stack.py": py, "test/stack.unit.test.ts": ts}).findings
    assert sorted((f.path, f.line) for f in found if f.rule == "MF416") == [
        ("test/stack.unit.test.ts", 121), ("tests/unit/test_stack.py", 161)]


def test_placeholder_test_reads_model_code_fences_only_when_they_hold_tests():
    """Claims run MF416 on MODEL_RESPONSE.md: a rotation step named `test_secret` in a Lambda is no test."""
    lambda_code = "```python\ndef test_secret(token):\n    logger.info('testing')\n```\n"
    test_code = "```python\nimport pytest\n\ndef test_secret(token):\n    logger.info('testing')\n```\n"
    rule = next(r for r in all_rules() if r.id == "MF416")
    for markdown, fires in ((lambda_code, False), (test_code, True)):
        task = Task("", {"lib/MODEL_RESPONSE.md": markdown})
        hits = list(rule.detect(model_files(task), Context(task, Config())))
        assert [h.line for h in hits] == ([4] if fires else []), hits


def test_abbreviated_tests_in_a_report_snippet_claim_nothing():
    """A report quotes the model's tests with their bodies left out (`// Test 1`): no placeholder-test claim."""
    report = ("# Model Failures\n\n### 1. Too few tests\n\n**MODEL_RESPONSE Issue**:\nThe model wrote 2 tests:\n\n```typescript\n"
              "describe('Stack', () => {\n  it('creates the stack', async () => {\n    // Test 1\n  });\n"
              "  it('applies tags', async () => {\n    // Test 2\n  });\n});\n```\n")
    model = ("```typescript\nimport { describe, it, expect } from '@jest/globals';\ndescribe('Stack', () => {\n"
             "  it('creates the stack', async () => {\n    expect(stack).toBeDefined();\n  });\n});\n```\n")
    found = review_files({"lib/MODEL_FAILURES.md": report, "lib/MODEL_RESPONSE.md": model}).findings
    assert not [f for f in found if f.rule in ("MF481", "MF482") and "MF416" in f.message], found


# A CloudFormation YAML template's generated JSON copy (`X.json` beside `X.yml`, made by cfn-flip for the unit
# tests) is not read by the IaC rules: its findings would repeat the YAML's, and its NAT gateway was counted
# as a second one, which hid the single NAT gateway of 15 corpus templates.
NAT_YAML = ("Resources:\n  Nat:\n    Type: AWS::EC2::NatGateway\n  PrivateSubnet1:\n    Type: AWS::EC2::Subnet\n"
            "  PrivateSubnet2:\n    Type: AWS::EC2::Subnet\n")
NAT_JSON = ('{"Resources": {"Nat": {"Type": "AWS::EC2::NatGateway"}, "PrivateSubnet1": {"Type": "AWS::EC2::Subnet"}, '
            '"PrivateSubnet2": {"Type": "AWS::EC2::Subnet"}}}')


def test_generated_json_twin_of_a_yaml_template_is_not_reviewed_twice():
    task = Task("", {"lib/TapStack.yml": NAT_YAML, "lib/TapStack.json": NAT_JSON, "lib/other.json": NAT_JSON})
    assert task.template_twins == {"lib/TapStack.json"}
    twins = {**HA, "lib/TapStack.yml": NAT_YAML, "lib/TapStack.json": NAT_JSON}
    assert [(f.rule, f.path) for f in review_files(twins).findings if f.rule == "MF409"] == [("MF409", "lib/TapStack.yml")]
    other = {**twins, "lib/other.json": NAT_JSON}  # a template of its own: a second NAT gateway
    assert [f for f in review_files(other).findings if f.rule == "MF409"] == []
    alone = [(f.rule, f.path) for f in review_files({**HA, "lib/TapStack.json": NAT_JSON}).findings if f.rule == "MF409"]
    assert alone == [("MF409", "lib/TapStack.json")]  # a JSON template without a YAML one is reviewed
