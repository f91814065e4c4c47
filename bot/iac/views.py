"""Platform views over the value tree: the resources of a CloudFormation template or a Terraform
file and the construct call sites of CDK/CDKTF/Pulumi code, all as `Resource` records, plus the
IAM policy statements found anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from bot.iac.files import SourceFile
from bot.iac.values import CALL, OBJ, STR, TPL, V, norm


@dataclass
class Resource:
    """A resource or construct. `type` is `AWS::S3::Bucket`, `aws_s3_bucket` or the callee
    (`s3.Bucket`, `aws.s3.BucketV2`); `props` the properties object (None when not literal)."""

    type: str
    name: str
    line: int
    props: V | None
    node: V
    platform: str

    @property
    def short_type(self) -> str:
        """The last word of the type, lower case: `bucket`, `aws_s3_bucket` -> `bucket`."""
        t = self.type.rsplit("::", 1)[-1].rsplit(".", 1)[-1]
        return t.lower()

    def prop(self, *keys: str) -> V | None:
        return self.props.get(*keys) if self.props is not None else None


def resources(f: SourceFile) -> list[Resource]:
    cached = f.__dict__.get("_resources")
    if cached is None:
        cached = list(_cfn(f) if f.platform == "cfn" else _tf(f) if f.platform == "tf"
                      else _constructs(f) if f.platform == "source" else [])
        f.__dict__["_resources"] = cached
    return cached


def _cfn(f: SourceFile) -> Iterator[Resource]:
    res = f.resources_obj()
    for name, node in res.items if res is not None else ():
        if node.kind != OBJ:
            continue
        t = node.get("Type")
        props = node.get("Properties")
        yield Resource(t.text if t is not None and t.kind == STR else "", name, node.line,
                       props if props is not None and props.kind == OBJ else None, node, "cfn")


def _tf(f: SourceFile) -> Iterator[Resource]:
    root = f.root
    for key, node in root.items if root is not None else ():
        if key in ("resource", "data") and len(node.labels) >= 2:
            yield Resource(node.labels[0], node.labels[1], node.line, node, node, "tf")


def _constructs(f: SourceFile) -> Iterator[Resource]:
    root = f.root
    if root is None:
        return
    nodes = f.nodes
    for i in f.positions(kinds=(CALL,)):
        node = nodes[i][0]
        if node.name and node.name[0].isalpha():
            props = next((a for a in reversed(node.items) if a.kind == OBJ), None)
            ident = next((a.text for a in node.items[:2] if a.kind in (STR, TPL)), "")
            yield Resource(node.name, ident, node.line, props, node, "source")


def calls(f: SourceFile, *suffixes: str) -> Iterator[V]:
    """Call sites whose callee ends with one of `suffixes` (`.addIngressRule`, `Bucket`)."""
    for r in resources(f):
        if r.platform == "source" and r.type.endswith(suffixes):
            yield r.node


# --------------------------------------------------------------------------- policy statements

_ACTION_KEYS = {"action", "actions", "notaction", "notactions"}


@dataclass
class Statement:
    """An IAM policy statement: `Action`/`actions` with its `Effect`, principals and condition."""

    node: V
    actions: list[V]

    @property
    def line(self) -> int:
        return self.node.line

    @property
    def allows(self) -> bool:
        effect = self.node.get("Effect")
        return effect is None or "deny" not in (effect.text or "").lower()

    @property
    def principal(self) -> V | None:
        return self.node.get("Principal", "Principals", "principal", "principals")

    @property
    def condition(self) -> V | None:
        return self.node.get("Condition", "Conditions")

    def action_strings(self) -> list[V]:
        return [a for a in self.actions if a.kind in (STR, TPL)]


def statements(f: SourceFile) -> list[Statement]:
    """Every object with an action list; statements with `NotAction` are left out (they deny by
    exception and read differently)."""
    cached = f.__dict__.get("_statements")
    if cached is None:
        cached = []
        nodes = f.nodes
        for i in f.positions(holding=_ACTION_KEYS):
            node = nodes[i][0]
            found = None
            for k, v in node.items:
                nk = norm(k)
                if nk in _ACTION_KEYS:
                    found = None if nk.startswith("not") else v.elements()
                    break
            if found is not None:
                cached.append(Statement(node, found))
        f.__dict__["_statements"] = cached
    return cached


# --------------------------------------------------------------------------- naming what a node belongs to

_NOT_OWNERS = ("PolicyStatement", "PolicyDocument", "Principal", "Port", "Peer", "Duration", "Fn", "Effect",
               "stringify", "jsonencode", "Sub", "Join", "getRegion", "getCallerIdentity", "interpolate", "concat")


def owner(f: SourceFile, node: V) -> str:
    """The resource or construct a node sits in, as the user reads it: `AWS::KMS::Key LogsKey`,
    `aws_kms_key.logs`, `kms.Key 'LogsKey'`; "" when there is none."""
    best = None
    for r in resources(f):
        if r.node.line <= node.line <= r.node.end and (best is None or r.node.end - r.node.line < best.node.end - best.node.line):
            if r.platform == "source":
                last = r.type.rsplit(".", 1)[-1]
                if not last[:1].isupper() or last.endswith(_NOT_OWNERS) or last.startswith(("from", "Cfn" + "Output")):
                    continue
            best = r
    if best is None:
        return ""
    if best.platform == "tf":
        return f"{best.type}.{best.name}"
    return f"{best.type} {best.name}".strip() if best.platform == "cfn" else (
        f"{best.type} '{best.name}'" if best.name else best.type)


def flavor(f: SourceFile) -> str:
    """cfn, tf, cdk, cdktf or pulumi: which idiom a suggested fix should use."""
    if f.platform in ("cfn", "tf"):
        return f.platform
    text = f.text
    if "pulumi" in text:
        return "pulumi"
    if "cdktf" in text or "@cdktf/" in text:
        return "cdktf"
    return "cdk"
