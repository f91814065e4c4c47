"""The Terraform reader without a syntax tree (bot/iac/hcl.py) gives the tree-sitter path's values, node for node."""

from __future__ import annotations

import pytest

from bot.iac import langs
from bot.iac.convert import convert
from bot.iac.hcl import hcl_values
from tests.value_trees import differences, same_as_tree


RESOURCE = '''# Storage for the logs
terraform {
  required_version = ">= 1.5.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

resource "aws_s3_bucket" "logs" {
  bucket        = "${var.project}-logs-${var.environment_suffix}"
  force_destroy = true
  tags = merge(local.common_tags, {
    Name = "logs"
  })
}

resource aws_s3_bucket_versioning logs {
  bucket = aws_s3_bucket.logs.id
  versioning_configuration { status = "Enabled" }
}
'''

CONSTRUCTS = {
    "blocks and labels": RESOURCE,
    "multi-line expression": """locals {
  name = join("-", [
    var.project,
    var.env,
  ])
  n = 3
}
""",
    "heredoc": """resource "aws_instance" "web" {
  user_data = <<EOF
#!/bin/bash
echo "${var.name}" > /tmp/x
echo ${var.name} EOF
  EOFX
EOF
}
""",
    "indented heredoc, directives, escaped markers": """x = <<-EOT
    {
      "a": 1,
        "b": "%{ if var.on }on%{ else }off%{ endif }"
    }
  EOT
y = <<EOF # the rest of the line is skipped
  $${literal} %%{literal}
  EOF
""",
    "jsonencode policy": """resource "aws_iam_policy" "p" {
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ReadOnly"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:ListBucket",]
        Resource = ["${aws_s3_bucket.logs.arn}/*", aws_s3_bucket.logs.arn]
        Condition = { "StringEquals" : { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
      },
    ]
  })
}
""",
    "for expressions": """locals {
  ids   = [for s in aws_subnet.private : s.id if s.map_public_ip_on_launch == false]
  by_az = {for k, v in var.subnets : k => v.cidr...}
}
""",
    "splats, indexes, traversals": """x = aws_subnet.private[*].id
y = aws_instance.web.*.id
z = a.b[0].c
w = var.m[each.key]["k"]
v = a.0
""",
    "conditionals": """count  = var.enabled ? 1 : 0
name   = var.a != "" ? var.a : var.b == "" ? "x" : var.b
mode   = var.x
  ? "a"
  : "b"
nested = var.a ? var.b ? 1 : 2 : 3
""",
    "operations and parentheses": """a = 1 + 2 * var.n
b = -1
c = !var.x
d = (var.a || var.b) && var.c
e = ((var.a))
f = (var.a ? 1 : 2)
g = (var.a).b
""",
    "comments inside parentheses and after =": """a = ( # why
  var.a
)
b = /* old */ "new"
c /* c */ = 1
d = # trailing
  2
""",
    "templates": r"""a = "plain"
b = "${var.a}"
c = "x-${upper(var.b)}-${var.c ? "y" : "z"}"
d = "%{ for s in var.l ~}${s},%{ endfor ~}"
e = "a\"b\\c\n\u00e9"
f = "cost: $5 and 100%"
""",
    "comments": """# hash
// slashes
/* block
   comment */
a = 1 # after
b = 2 // after
c /* inline */ {
}
""",
    "object keys and separators": """x = {
  a = 1, "b" = 2
  (var.k) = 3
  "${var.p}-k" = 4
  c : 5
  true = 6
  null = 7
  d = 8,
}
y = {a = 1 b = 2}
z = {}
""",
    "literals": "a = null\nb = true\nc = false\nd = 1.5e3\ne = 0x1F\nf = 42\ng = 3.14\n",
    "dynamic blocks": """resource "aws_security_group" "sg" {
  dynamic "ingress" {
    for_each = var.rules
    content {
      from_port   = ingress.value.port
      cidr_blocks = ingress.value.cidrs
    }
  }
}
""",
    "left out: variables, outputs, tags": """variable "name" {
  type    = string
  default = "x"
}
output "id" { value = aws_s3_bucket.b.id }
resource "x" "y" {
  tags        = { A = "b" }
  description = "d"
  default_tags { tags = {} }
}
locals { tags = {} }
""",
    "empty": "",
    "comments only": "# nothing here\n\n",
    "one line, no final newline": 'provider "aws" { region = var.region }',
    "one object (a policy snippet)": '# from the report\n{\n  "Effect": "Allow",\n  Action = ["s3:*"]\n}\n',
    "calls": """a = f()
b = concat(var.a, [1],)
c = merge(var.maps...)
d = provider::aws::arn_parse(var.arn)
e = cidrsubnet(var.cidr, 8, count.index)
""",
    "crlf line ends": 'locals {\r\n  a = "x"\r\n  b = <<EOF\r\nline\r\nEOF\r\n}\r\n',
}


@pytest.mark.parametrize("name", list(CONSTRUCTS))
def test_the_reader_gives_the_tree_converter_values(name):
    for offset in (0, 11):  # a file, and a fence of MODEL_RESPONSE.md
        same_as_tree(hcl_values, "hcl", CONSTRUCTS[name], offset)


def test_values_lines_flags_and_texts():
    root = same_as_tree(hcl_values, "hcl", CONSTRUCTS["conditionals"] + RESOURCE, 4)
    alt = root.get("name")
    assert (alt.kind, alt.line, alt.text) == ("alt", 6, 'var.a != "" ? var.a : var.b == "" ? "x" : var.b')
    # tree-sitter nests `a ? b : c ? d : e` from the left: the branches are the last two
    assert [(v.kind, v.text, v.flags) for v in alt.items] == [("str", "x", 1), ("ref", "var.b", 1)]
    mode = root.get("mode")
    assert (mode.line, mode.end) == (7, 9)
    bucket = root.get_all("resource")[0]
    assert (bucket.name, bucket.labels, bucket.line, bucket.end) == ("resource", ("aws_s3_bucket", "logs"), 22, 28)
    assert bucket.get("tags") is None and bucket.get("bucket").kind == "tpl"


@pytest.mark.parametrize("text", [
    'x = "unterminated\n',
    'x = <<EOF\nno end marker\n',
    'x = <<EOF\nends at the end of the text\nEOF',
    'resource "a" "b" {\n  x = 1\n',
    'x = [1, 2\n',
    "x = }\n",
    "!!! garbage ###\n",
    "x = 1e3\n",
    'x = "bad \\q escape"\n',
    'x = "${a:-b}"\n',
    'x = <<EOF\n${VAR:-default}\nEOF\n',
    'x = "%{ if a }no endif"\n',
    "x = [,]\n",
    "x = f(a b)\n",
])
def test_text_tree_sitter_must_recover_from_is_left_to_it(text):
    assert langs.parse(text, "hcl").root_node.has_error
    assert hcl_values(text) is None


@pytest.mark.parametrize("text", ["caf\u00e9 = 1\n", "x = a <<<EOF\nb\nEOF\n"])
def test_valid_shapes_the_reader_does_not_know_are_left_to_tree_sitter(text):
    assert not langs.parse(text, "hcl").root_node.has_error
    assert hcl_values(text) is None


def test_deep_nesting_is_left_to_tree_sitter_without_error():
    assert hcl_values("x = " + "[" * 5000 + "]" * 5000 + "\n") is None
    assert hcl_values("a {\n" * 3000 + "}\n" * 3000) is None
    assert hcl_values("x = " + "(" * 5000) is None


def test_a_megabyte_of_blocks_is_read_whole():
    # (its speed is measured by bench/sweep.py, not here: 0.2 s, tree-sitter and the converter 2.5 times that)
    text = RESOURCE * (1_000_000 // len(RESOURCE))
    root = hcl_values(text)
    assert root is not None and len(root.items) == 3 * (1_000_000 // len(RESOURCE))
    assert differences(root, convert(langs.parse(text, "hcl"), "hcl", 0)) == []
