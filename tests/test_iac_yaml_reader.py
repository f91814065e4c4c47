"""The YAML reader without a syntax tree (bot/iac/yaml_reader.py) gives the tree-sitter path's values, node for node."""

from __future__ import annotations

import pytest

from bot.iac import langs
from bot.iac.yaml_reader import yaml_values
from tests.value_trees import same_as_tree


TEMPLATE = """AWSTemplateFormatVersion: '2010-09-09'
Description: >-
  Storage for the logs, encrypted
  and versioned

Parameters:
  EnvironmentSuffix:
    Type: String
    Default: dev
    AllowedValues: [dev, prod]

Conditions:
  IsProd: !Equals [!Ref EnvironmentSuffix, prod]

Resources:
  # the bucket
  LogsBucket:
    Type: AWS::S3::Bucket
    DeletionPolicy: Retain
    Properties:
      BucketName: !Sub '${AWS::StackName}-logs-${EnvironmentSuffix}'
      VersioningConfiguration:
        Status: !If [IsProd, Enabled, Suspended]
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault:
              SSEAlgorithm: aws:kms
              KMSMasterKeyID: !GetAtt LogsKey.Arn
            BucketKeyEnabled: true
      Tags:
        - Key: Name
          Value: logs

  LogsPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref LogsBucket
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: { Service: logging.s3.amazonaws.com }
            Action:
              - s3:PutObject
            Resource: !Join ['', [!GetAtt LogsBucket.Arn, '/*']]

Outputs:
  BucketName:
    Value: !Ref LogsBucket
"""

CONSTRUCTS = {
    "a template": TEMPLATE,
    "sequences as deep as their key, compact mappings, nested sequences": """Statement:
- Effect: Allow
  Action:
  - s3:GetObject
  - - nested
    - - deeper
-
- last
Other: 1
""",
    "plain, quoted and multi-line scalars": """a: plain text with  spaces   # and a comment
b: 'single ''quoted'''
c: "double \\"quoted\\" \\t \\x41 \\u00e9 \\/"
d: a plain scalar
  going on over

  two more lines
e: "a double-quoted one
  over lines, \\
  escaped break"
f: 'single

  quoted'
g: ::/0
h: arn:aws:s3:::bucket/*
""",
    "scalar types": """n1: null
n2: ~
b1: true
b2: No
b3: on
i1: 42
i2: -7
i3: 0x1F
i4: 0o17
f1: 3.14
f2: .5
f3: -.inf
s1: 1.2.3
s2: '42'
s3: !!str 42
s4: !!str true
s5: 10.0.0.0/16
""",
    "block scalars": """Code: |
  import json

  def handler(event, context):
      return {"ok": True}
Strip: |-
  line one
  line two

Folded: >
  folded
  text

    more indented
  back
FoldedStrip: >-
  a
  b
Comment: |  # a comment in the header
  text
Last: |
  runs to the end

""",
    "tags on scalars and collections": """A: !Ref Bucket
B: !GetAtt Bucket.Arn
C: !GetAtt [Bucket, Arn]
D: !Sub |
  #!/bin/bash
  echo ${AWS::Region}
E: !If
  - IsProd
  - !Ref Big
  - !Ref AWS::NoValue
F: !If [IsProd, {Key: a, Value: b}, !Ref AWS::NoValue]
G: !Sub
  - '${Name}-x'
  - Name: !Ref Name
H: !Join
- ''
- [a, b]
I: !Condition IsProd
J: !Select [0, !GetAZs '']
K: !And [!Condition A, !Not [!Condition B]]
L:
  Fn::If:
    - IsProd
    - yes
    - no
M: !Base64
  Fn::Sub: |
    echo hi
""",
    "flow collections": """a: []
b: {}
c: [ a , 'b', "c", 1, true, null ]
d: { Key: Name, Value: !Ref Name }
e: [{a: 1}, {b: [x, y]}, [z]]
f: ["s3:GetObject", "s3:PutObject",]
g: {"json": 1, "style":2}
h: [
  one, # a comment
  two
]
i:
  j: {
    k: v,
    l: w }
""",
    "comments everywhere": """# header
--- # start of the document
# before
a: 1  # after
# between
b:
  # before the first key
  c: 2
  # after the last key
# dedented comment
d:
  - x  # item
  # between items
  - y
# trailing
""",
    "empty values": """a:
b:  # nothing
c:
  - 
  -
  - x
d: 1
""",
    "left out: parameters, outputs, tags, descriptions": """Parameters:
  P:
    Type: String
    Description: "a \\"quoted\\" text"
    AllowedValues:
      - a
      - b
Resources:
  R:
    Type: AWS::SNS::Topic
    Description: not converted
    Properties:
      Tags: [{Key: a, Value: b}]
      TopicName: t
Outputs:
  O: {Value: !Ref R}
""",
    "a document of one sequence": "- a\n- b: 1\n  c: 2\n",
    "a document of one flow mapping": '{\n  "Resources": {\n    "B": {"Type": "AWS::S3::Bucket"}\n  }\n}\n',
    "indented document, no final newline": "  a: 1\n  b:\n    c: 2",
    "a byte order mark": "\ufeffAWSTemplateFormatVersion: '2010-09-09'\nResources: {}\n",
    "quoted keys": """"Quoted": 1
'Single': 2
"Fn::If": [c, a, b]
plain key: 3
""",
}


@pytest.mark.parametrize("name", list(CONSTRUCTS))
def test_the_reader_gives_the_tree_converter_values(name):
    for offset in (0, 11):  # a file, and a fence of MODEL_RESPONSE.md
        same_as_tree(yaml_values, "yaml", CONSTRUCTS[name], offset)


def test_values_lines_flags_and_texts():
    root = same_as_tree(yaml_values, "yaml", TEMPLATE, 4)
    assert [k for k, _ in root.items] == ["AWSTemplateFormatVersion", "Conditions", "Resources"]
    bucket = root.get("Resources").get("LogsBucket")
    # from its first key to its last non-blank row before the next resource (4 lines down: the offset)
    assert (bucket.line, bucket.end) == (22, 36)
    status = bucket.get("Properties").get("VersioningConfiguration").get("Status")
    cond = status.get("Fn::If")
    assert [(v.text, v.flags) for v in cond.items] == [("IsProd", 1), ("Enabled", 1), ("Suspended", 1)]
    assert bucket.get("Properties").get("Tags") is None
    kms = bucket.get("Properties").get("BucketEncryption").get("ServerSideEncryptionConfiguration").items[0]
    arn = kms.get("ServerSideEncryptionByDefault").get("KMSMasterKeyID").get("Fn::GetAtt")
    assert arn.str_values() == ["LogsKey", "Arn"]


@pytest.mark.parametrize("text", [
    'x: "bad \\q escape"\n',
    "a:\n  b: 1\n c: 2\n",
    "a: b: c\n",
    "a: !GetAZs !Ref Region\n",
    "a: 'unterminated\n",
    "m:\n  a: \"b\nc\"\ne: 1\n",
    "a:\n  b: [\n    x,\n  y ]\nc: 1\n",
    "a: b\n  c: d\n",
    "a:\n\tb: 1\n",
    "".join(f"k{i}: 1\n" for i in range(2 ** 15 + 1)),  # tree-sitter-yaml fails past row 2**15
])
def test_text_tree_sitter_must_recover_from_is_left_to_it(text):
    assert langs.parse(text, "yaml").root_node.has_error
    assert yaml_values(text) is None


@pytest.mark.parametrize("text", [
    "base: &base\n  a: 1\nother:\n  <<: *base\n",
    "%YAML 1.2\n---\na: 1\n",
    "a: 1\n---\nb: 2\n",
    "a: 1\n...\n",
    "a: 1\r\nb: 2\r\n",
    "? complex\n: key\n",
    "a: |2\n    indented\n",
    "a: [x\n  y]\n",
    "a: !Ref\nb: 1\n",
    "a: !<tag:yaml.org,2002:str> x\n",
])
def test_valid_shapes_the_reader_does_not_know_are_left_to_tree_sitter(text):
    assert not langs.parse(text, "yaml").root_node.has_error
    assert yaml_values(text) is None


def test_empty_and_comment_only_texts_give_nothing():
    assert yaml_values("") is None
    assert yaml_values("# only a comment\n\n") is None


def test_deep_nesting_is_left_to_tree_sitter_without_error():
    # deeper than the reader follows (not past 250 levels: tree-sitter-yaml's scanner then crashes the process)
    nested = "".join(" " * i + f"k{i}:\n" for i in range(150)) + " " * 150 + "v: 1\n"
    assert not langs.parse(nested, "yaml").root_node.has_error
    assert yaml_values(nested) is None
    # deeper than Python's stack or MAX_DEPTH: only the reader, which must give up without error
    assert yaml_values("".join(" " * i + f"k{i}:\n" for i in range(3000)) + " " * 3000 + "v: 1\n") is None
    assert yaml_values("a: " + "[" * 5000 + "]" * 5000 + "\n") is None
    assert yaml_values("- " * 3000 + "x\n") is None


def test_a_megabyte_template_is_read_whole():
    # (its speed is measured by bench/sweep.py, not here). Long rows: tree-sitter reads 2**15 rows at most.
    resources = TEMPLATE.split("Resources:\n", 1)[1].split("\nOutputs:", 1)[0]
    resources += "  Fn:\n    Properties:\n      ZipFile: |\n" + ("        print('" + "x" * 150 + "')\n") * 8
    count = 1_000_000 // len(resources)
    text = "Resources:\n" + "".join(resources.replace("LogsBucket", f"LogsBucket{i}").replace(
        "LogsPolicy", f"LogsPolicy{i}").replace("  Fn:", f"  Fn{i}:") for i in range(count))
    assert len(text) > 1_000_000
    root = same_as_tree(yaml_values, "yaml", text)
    assert len(root.get("Resources").items) == 3 * count
