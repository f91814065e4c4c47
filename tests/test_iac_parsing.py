"""The IaC views: CloudFormation YAML/JSON against PyYAML/json, Terraform, TS and Python value trees."""

import json
import subprocess
import sys

import pytest
import yaml

from bot.iac import langs
from bot.iac.convert import json_values
from bot.config import Config
from bot.engine import review_tasks
from bot.iac.files import SourceFile, fenced_blocks, final_files, is_runtime_code
from bot.iac.values import COND, FALLBACK
from bot.iac.views import resources, statements
from bot.task import Task
from tests.value_trees import same_as_tree


class CfnLoader(yaml.SafeLoader):
    """PyYAML with CloudFormation short-form tags, the way cfn-lint and aws-cli read them."""


def _tag(loader, suffix, node):
    name = suffix
    key = {"Ref": "Ref", "Condition": "Condition"}.get(name, "Fn::" + name)
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if name == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {key: value}


CfnLoader.add_multi_constructor("!", _tag)

TEMPLATES = [
    """AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    DeletionPolicy: Retain
    Properties:
      BucketName: !Sub 'logs-${EnvironmentSuffix}-${AWS::AccountId}'
      Arn: !GetAtt Key.Arn
      Enc: !If [IsProd, !Ref Key, !Ref AWS::NoValue]
      Joined: !Join ['', [a, !Ref B]]
      Nums: [1, 2.5, 0x1F, -3, 1_000]
      Flags: [true, false, yes, no, on, off, ~, null]
      Quoted: "line\\nnext \\u00e9"
      Single: 'it''s'
      Folded: >
        one
        two

        three
      Literal: |
        a
          b
      Strip: |-
        kept
      Flow: {a: 1, b: [x, "y"], c: {d: e}}
      Multi: plain text
        continued here
  Key:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy:
        Statement:
          - Effect: Allow
            Principal: {Service: !Sub 'logs.${AWS::Region}.amazonaws.com'}
            Action: ['kms:Encrypt*']
            Resource: '*'
""",
    """Resources:
  Anchored:
    Type: AWS::SNS::Topic
    Properties: &props
      TopicName: alerts
  Copy:
    Type: AWS::SNS::Topic
    Properties: *props
  Empty:
    Type: AWS::SQS::Queue
    Properties:
      Value:
      Str: !!str 123
""",
]


def _cfn(text, lang="yaml"):
    return SourceFile("lib/template." + lang, lang, text)


@pytest.mark.parametrize("text", TEMPLATES)
def test_cloudformation_yaml_view_equals_pyyaml(text):
    f = _cfn(text)
    assert f.platform == "cfn"
    assert f.root.py() == yaml.load(text, Loader=CfnLoader)


def test_cloudformation_json_view_equals_json():
    data = {"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {
        "Name": "a\"b\\u00e9", "N": [1, 2.5, -3e2], "T": True, "Z": None,
        "If": {"Fn::If": ["C", {"Ref": "X"}, {"Ref": "AWS::NoValue"}]}}}}}
    text = json.dumps(data, indent=2)
    f = _cfn(text, "json")
    assert f.root.py() == json.loads(text)
    (bucket,) = resources(f)
    assert (bucket.type, bucket.name, bucket.line) == ("AWS::S3::Bucket", "B", 3)
    ref = bucket.prop("If").get("Fn::If").items[1]
    assert ref.flags & COND


@pytest.mark.parametrize("text", [
    json.dumps({"Resources": {"B": {"Type": "AWS::S3::Bucket", "Tags": [{"Key": "k", "Value": {"a": [1]}}],
                                    "Properties": {"Esc": "q\"\\u00e9\\n", "Empty": {}, "None": [], "Dup": 1,
                                                   "If": {"Fn::If": ["C", {"Ref": "X"}, [True, None, -1.5e3]]}}}},
                "Outputs": {"O": {"Value": {"Fn::GetAtt": ["B", "Arn"]}}}}, indent=2),
    '{"a": {"Description": "x", "b": [[], {}, "Rules"]}, "a": false}',
    '"just a string"',
])
def test_json_read_without_a_tree_equals_the_tree_converter(text):
    for offset in (0, 7):
        same_as_tree(json_values, "json", text, offset)


@pytest.mark.parametrize("text", ['{"a": 1, // note\n "b": NaN}', '{"a": [1, 2,]}', '{"a": '])
def test_json_the_fast_reader_rejects_is_converted_from_its_tree(text):
    assert json_values(text) is None
    assert SourceFile("lib/t.json", "json", text).root is not None


def test_positions_are_the_matching_nodes_in_walk_order():
    f = _cfn(TEMPLATES[0])
    nodes = f.nodes
    assert [nodes[i] for i in f.positions(kinds=("str", "tpl"))] == [(n, k) for n, k in nodes if n.kind in ("str", "tpl")]
    assert [nodes[i] for i in f.positions(kinds=("obj",), under={"properties"})] == [
        (n, k) for n, k in nodes if n.kind == "obj" or k.lower() == "properties"]
    assert [nodes[i][0] for i in f.positions(holding={"type", "action"})] == [
        n for n, _ in nodes if n.kind == "obj" and (n.get("Type") or n.get("Action"))]


def test_cloudformation_resources_lines_and_statements():
    f = _cfn(TEMPLATES[0])
    by_name = {r.name: r for r in resources(f)}
    assert by_name["Bucket"].line == 4 and by_name["Key"].type == "AWS::KMS::Key"
    (st,) = statements(f)
    assert st.allows and [a.text for a in st.actions] == ["kms:Encrypt*"]
    assert st.principal.get("Service").get("Fn::Sub").text == "logs.${AWS::Region}.amazonaws.com"
    # Fn::If branches are conditional
    enc = by_name["Bucket"].prop("Enc")
    assert all(v.flags & COND for v in enc.get("Fn::If").items[1:])


def test_terraform_resources_blocks_and_jsonencode():
    text = '''resource "aws_kms_key" "logs" {
  enable_key_rotation = true
  lifecycle {
    prevent_destroy = true
  }
  policy = jsonencode({
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "logs.amazonaws.com" }
      Action    = ["kms:Encrypt*", "kms:Decrypt*"]
    }]
  })
  name = var.prod ? "a-${var.suffix}" : "b"
}
'''
    f = SourceFile("lib/main.tf", "hcl", text)
    (key,) = resources(f)
    assert (key.type, key.name, key.line) == ("aws_kms_key", "logs", 1)
    assert key.node.get("lifecycle").get("prevent_destroy").is_true()
    (st,) = statements(f)
    assert [a.text for a in st.actions] == ["kms:Encrypt*", "kms:Decrypt*"] and st.line == 7
    name = key.node.get("name")
    assert name.items[0].kind == "tpl" and all(v.flags & COND for v in name.items)


def test_typescript_calls_props_conditionals_fallbacks_and_comments():
    text = """import * as s3 from 'aws-cdk-lib/aws-s3';
// new s3.Bucket(this, 'Commented', { removalPolicy: RemovalPolicy.RETAIN });
const account = process.env.CDK_DEFAULT_ACCOUNT || '123456789012';
const bucket = new s3.Bucket(this, 'Data', {
  bucketName: `data-${environmentSuffix}`,
  removalPolicy: isProd ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
  ...common,
});
if (isProd) { bucket.applyRemovalPolicy(RemovalPolicy.RETAIN); }
"""
    f = SourceFile("lib/stack.ts", "typescript", text)
    buckets = [r for r in resources(f) if r.type == "s3.Bucket"]
    assert len(buckets) == 1 and buckets[0].name == "Data" and buckets[0].line == 4
    props = buckets[0].props
    assert props.get("bucketName").kind == "tpl" and props.flags  # spread: absent keys undecidable
    retains = [n for n, _ in f.nodes if n.kind == "ref" and n.text.endswith("RETAIN")]
    assert len(retains) == 2 and all(n.flags & COND for n in retains)  # the comment is no value
    fallback = [n for n, _ in f.strings if n.text == "123456789012"]
    assert fallback and fallback[0].flags & FALLBACK


def test_python_calls_kwargs_and_conditionals():
    text = """import os
bucket = s3.Bucket(self, "Data", removal_policy=RemovalPolicy.RETAIN if prod else RemovalPolicy.DESTROY,
                   encryption=s3.BucketEncryption.KMS)
account = os.environ.get("ACCOUNT", "123456789012")
# s3.Bucket(self, "Old", removal_policy=RemovalPolicy.RETAIN)
"""
    f = SourceFile("lib/stack.py", "python", text)
    (bucket,) = [r for r in resources(f) if r.type == "s3.Bucket"]
    assert bucket.name == "Data" and bucket.props.get("encryption").text == "s3.BucketEncryption.KMS"
    retains = [n for n, _ in f.nodes if n.kind == "ref" and n.text.endswith("RETAIN")]
    assert len(retains) == 1 and retains[0].flags & COND
    (default,) = [n for n, _ in f.strings if n.text == "123456789012"]
    assert default.flags & FALLBACK


def test_fenced_blocks_keep_markdown_lines():
    md = "# Response\n\n```typescript\nconst a = 'x';\n```\n\ntext\n\n```yaml\nResources: {}\n```\n"
    blocks = fenced_blocks(md, "lib/MODEL_RESPONSE.md")
    assert [(b.lang, b.offset) for b in blocks] == [("typescript", 3), ("yaml", 9)]
    (s,) = blocks[0].strings
    assert s[0].line == 4  # the line in MODEL_RESPONSE.md


RUNTIME = [
    ("python", "import boto3\n\ndef lambda_handler(event, context):\n    s3 = boto3.client('s3', region_name='us-east-1')\n", True),
    ("python", "import json\n\ndef handler(event, context):\n    return {'statusCode': 200}\n", True),
    ("python", "from botocore.config import Config\nrds = session.client('rds')\n", True),  # an analysis script
    ("javascript", "const { S3Client } = require('@aws-sdk/client-s3');\nexports.handler = async (event) => ({});\n", True),
    ("typescript", "export const handler = async (event: unknown) => ({ statusCode: 200 });\n", True),
    # IaC that bundles or calls an SDK is IaC
    ("python", "import boto3\nfrom aws_cdk import Stack\nclass S(Stack):\n    pass\n", False),
    ("typescript", "import * as cdk from 'aws-cdk-lib';\nimport { S3Client } from '@aws-sdk/client-s3';\n", False),
    ("python", "import pulumi_aws as aws\ndef handler(event, context):\n    pass\n", False),
    # a config module of the stack: neither SDK nor handler
    ("typescript", "export const config = { runtime: 'nodejs18.x', region: 'us-east-1' };\n", False),
    ("yaml", "Resources: {}\n# import boto3\n", False),
]


@pytest.mark.parametrize("lang,text,runtime", RUNTIME)
def test_runtime_code_is_told_from_iac(lang, text, runtime):
    assert is_runtime_code(lang, text) is runtime


def test_lambda_handlers_and_sdk_scripts_are_not_reviewed_as_iac():
    handler = ("import boto3\n\ndef lambda_handler(event, context):\n    client = boto3.client('logs', region_name='us-west-2')\n"
               "    return {'bucketName': 'reports', 'arn': 'arn:aws:iam::210987654321:role/x'}\n")
    stack = "from aws_cdk import aws_s3 as s3\n\ns3.Bucket(self, 'B', bucket_name='reports', removal_policy=RemovalPolicy.RETAIN)\n"
    task = Task("", {"lib/lambda/handler.py": handler, "lib/tap_stack.py": stack, "metadata.json": '{"platform": "cdk"}'})
    assert [f.path for f in final_files(task)] == ["lib/tap_stack.py"]
    found = {f.path for f in review_tasks([task], Config()).findings if f.rule.startswith("MF4")}
    assert found == {"lib/tap_stack.py"}


DEEP_YAML = {
    "dashes": "- " * 300 + "x\n",
    "keys": "".join(" " * i + f"k{i}:\n" for i in range(300)) + " " * 300 + "v\n",
    "items of mappings": "".join("  " * i + f"- k{i}:\n" for i in range(150)),
}


@pytest.mark.parametrize("name", sorted(DEEP_YAML))
def test_yaml_nested_deeper_than_its_grammar_survives_is_not_parsed(name):
    # tree-sitter-yaml kills the process on these: run in a child, so a regression fails the test, not the run
    code = ("import sys\nfrom bot.iac import langs\nfrom bot.iac.files import SourceFile\n"
            "text = sys.stdin.read()\nf = SourceFile('lib/t.yml', 'yaml', text)\n"
            "print(langs.parse(text, 'yaml') is None, f.root is None)\n")
    done = subprocess.run([sys.executable, "-c", code], input=DEEP_YAML[name], capture_output=True, text=True,
                          timeout=60)
    assert (done.returncode, done.stdout.split()) == (0, ["True", "True"]), done.stderr[-500:]
    assert langs.parse("Resources:\n" + "  - x\n" * 10 + " " * 150 + "y: 1\n", "yaml") is not None
