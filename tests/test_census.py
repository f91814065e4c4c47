"""Counting test cases and resources from a task's files, without running anything (bot/census.py)."""

import json

from bot import census
from bot.iac.files import SourceFile
from bot.task import Task

JEST = """import { Template } from 'aws-cdk-lib/assertions';

describe('TapStack', () => {
  let template: Template;
  beforeAll(() => { template = makeTemplate(); });

  test('creates a bucket', () => {
    expect(/bucket/.test('bucket')).toBe(true);
  });

  describe('encryption', () => {
    it('uses KMS', () => {
      template.hasResourceProperties('AWS::S3::Bucket', {});
    });
    it('rotates the key', () => {
      template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    });
  });
});
"""

PYTEST = """import unittest

import pytest


def test_module_level():
    assert True


class TestStack:
    def setup_method(self):
        self.x = 1

    def test_bucket(self):
        assert self.x

    def test_key(self):
        assert self.x


class StackCase(unittest.TestCase):
    def test_outputs(self):
        self.assertTrue(True)


class Helper:
    def test_not_collected(self):
        pass
"""


def cases(path: str, text: str):
    lang = {"ts": "typescript", "js": "javascript", "py": "python", "go": "go", "java": "java"}[path.rsplit(".", 1)[-1]]
    return census.count_cases(SourceFile(path, lang, text))


def test_jest_counts_it_and_test_calls_in_describe_bodies():
    assert cases("test/tap-stack.unit.test.ts", JEST) == 3


def test_jest_tests_a_run_may_count_differently_are_not_counted():
    each = JEST.replace("  test('creates a bucket'", "  test.each([1, 2])('creates bucket %i'")
    skipped = JEST.replace("    it('rotates the key'", "    it.skip('rotates the key'")
    looped = JEST.replace("  test('creates a bucket', () => {\n    expect(/bucket/.test('bucket')).toBe(true);\n  });",
                          "  ['a', 'b'].forEach((name) => {\n    test(`creates ${name}`, () => {});\n  });")
    guarded = JEST.replace("    it('uses KMS'", "    if (process.env.CI) it('uses KMS'")
    helper = JEST + "\nfunction sharedTests() {\n  it('is shared', () => {});\n}\n"
    conditional = JEST.replace("describe('encryption'", "(hasOutputs ? describe : describe.skip)('encryption'")
    for text in (each, skipped, looped, guarded, helper, conditional):
        assert cases("test/tap-stack.unit.test.ts", text) is None, text


def test_jest_quick_count_reads_lines_and_agrees_on_plain_files():
    task = Task("", {"test/tap-stack.unit.test.ts": JEST, "test/tap-stack.int.test.ts": "it('works', () => {});\n",
                     "test/helpers.ts": "export const x = 1;\n"})
    got = {f.path: (f.suite, f.quick, f.cases) for f in census.test_files(task)}
    assert got == {"test/tap-stack.unit.test.ts": ("unit", 3, 3), "test/tap-stack.int.test.ts": ("integration", 1, 1),
                   "test/helpers.ts": ("unit", 0, 0)}


def test_pytest_counts_collected_functions_and_methods():
    assert cases("tests/unit/test_stack.py", PYTEST) == 4


def test_pytest_parametrised_skipped_inherited_or_redefined_tests_are_not_counted():
    parametrised = PYTEST.replace("def test_module_level", "@pytest.mark.parametrize('x', [1, 2])\ndef test_module_level")
    skipped = PYTEST.replace("        self.assertTrue(True)", "        self.skipTest('no outputs')")
    inherited = PYTEST + "\n\nclass TestMore(TestStack):\n    def test_more(self):\n        pass\n"
    redefined = PYTEST + "\n\ndef test_module_level():\n    assert False\n"
    for text in (parametrised, skipped, inherited, redefined):
        assert cases("tests/unit/test_stack.py", text) is None, text


def test_go_and_java():
    go = "package main\n\nimport \"testing\"\n\nfunc TestMain(m *testing.M) {}\n\nfunc TestBucket(t *testing.T) {}\n\nfunc TestKey(t *testing.T) {}\n"
    assert cases("tests/unit/stack_test.go", go) == 2
    assert cases("tests/unit/stack_test.go", go.replace("{}\n\nfunc TestKey", "{ t.Run(\"a\", nil) }\n\nfunc TestKey")) is None
    java = "class MainTest {\n  @Test\n  void a() {}\n  @Test\n  void b() {}\n  @TestInstance(PER_CLASS)\n  void c() {}\n}\n"
    assert cases("tests/unit/java/app/MainTest.java", java) == 2
    assert cases("tests/unit/java/app/MainTest.java", java.replace("@Test\n  void b", "@ParameterizedTest\n  void b")) is None


CFN = """AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Bucket:
    Type: AWS::S3::Bucket
  Key:
    Type: AWS::KMS::Key
  Topic:
    Type: AWS::SNS::Topic
Outputs:
  BucketName:
    Value: !Ref Bucket
"""

TF = """resource "aws_s3_bucket" "logs" {
  bucket = "logs"
}

data "aws_caller_identity" "current" {}

resource "aws_kms_key" "logs" {
  enable_key_rotation = true
}
"""


def task_of(platform: str, **files: str) -> Task:
    return Task("", {"metadata.json": json.dumps({"platform": platform}), **files})


def test_resources_of_a_template_or_terraform_code():
    assert census.resource_count(task_of("cfn", **{"lib/TapStack.yml": CFN})).count == 3
    same = {"lib/TapStack.yml": CFN, "lib/TapStack.json": json.dumps({"Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket"}, "Key": {"Type": "AWS::KMS::Key"}, "Topic": {"Type": "AWS::SNS::Topic"}}})}
    assert census.resource_count(task_of("cfn", **same)).count == 3  # the JSON copy of the YAML template
    found = census.resource_count(task_of("tf", **{"lib/main.tf": TF}))
    assert (found.count, found.what) == (2, "`resource` blocks in lib/main.tf")


def test_resources_a_deployment_may_create_differently_are_not_counted():
    conditional = CFN.replace("    Type: AWS::SNS::Topic", "    Type: AWS::SNS::Topic\n    Condition: IsProd")
    serverless = "Transform: AWS::Serverless-2016-10-31\n" + CFN
    differing = {"lib/TapStack.yml": CFN, "lib/Other.yml": CFN.replace("  Topic:\n    Type: AWS::SNS::Topic\n", "")}
    assert census.resource_count(task_of("cfn", **{"lib/TapStack.yml": conditional})) is None
    assert census.resource_count(task_of("cfn", **{"lib/TapStack.yml": serverless})) is None
    assert census.resource_count(task_of("cfn", **differing)) is None
    counted = TF.replace("enable_key_rotation = true", "count = 2")
    moduled = TF + '\nmodule "vpc" {\n  source = "./modules/vpc"\n}\n'
    assert census.resource_count(task_of("tf", **{"lib/main.tf": counted})) is None
    assert census.resource_count(task_of("tf", **{"lib/main.tf": moduled})) is None
    assert census.resource_count(task_of("cdk", **{"lib/tap-stack.ts": "new s3.Bucket(this, 'B');\n"})) is None
