"""IaC security rules on real syntax trees (MF401-MF408): KMS key policies, hard-coded regions and
accounts, retained resources, disabled encryption, wildcard IAM, open ingress.

Each rule reads the unified value tree of bot/iac, so one rule covers CloudFormation YAML/JSON,
Terraform and CDK/CDKTF/Pulumi source. Values inside conditionals (ternaries, `if`, `Fn::If`) and
env-lookup defaults are not unconditional and do not fire; comments are never values.
"""

from __future__ import annotations

import re
from typing import Iterator

from bot.findings import Level
from bot.iac.files import SourceFile
from bot.iac.rule import Hit, IacRule, unconditional
from bot.iac.values import BOOL, CALL, NUM, OBJ, REF, STR, TPL, V, norm
from bot.iac.views import Statement, calls, flavor, owner, resources, statements
from bot.rules import register

LOGS_PRINCIPAL = re.compile(r"(?<![\w.-])logs\.(?:[\w${}:.-]+\.)?amazonaws\.com")
REGION = r"(?:us|eu|ap|sa|ca|me|af|il|mx)(?:-gov)?-(?:north|south|east|west|central|northeast|southeast|northwest|southwest)-\d"
# REGION as a file pre-filter: the same matches anchored on the `-` before the direction, so the regex
# engine scans for a literal instead of trying nine prefixes at every position (13x faster on big files).
_PREFIX = "(?:us|eu|ap|sa|ca|me|af|il|mx)"
REGION_ANYWHERE = re.compile(rf"-(?:(?<={_PREFIX}-)|(?<={_PREFIX}-gov-))"
                             r"(?:north|south|east|west|central|northeast|southeast|northwest|southwest)-\d")
REGION_IN = re.compile(rf"arn:aws[\w-]*:[\w-]+:({REGION}):|\.({REGION})\.amazonaws\.com|com\.amazonaws\.({REGION})\."
                       rf"|\.execute-api\.({REGION})\b|\.dkr\.ecr\.({REGION})\.")
DASHBOARD_REGION = re.compile(rf'"region"\s*:\s*"({REGION})"')
ACCOUNT_IN = re.compile(r"arn:aws[\w-]*:[\w-]+:[\w-]*:(\d{12}):|(?<![\w.])(\d{12})\.dkr\.ecr\.")
ACCOUNT_KEYS = {"account", "accountid", "awsaccountid", "aws", "sourceaccount", "awssourceaccount", "kmscalleraccount",
                "awsprincipalaccount"}
# AWS-owned accounts that templates must name: ELB access-log delivery per region, LocalStack's dummy.
AWS_OWNED_ACCOUNTS = {
    "000000000000", "127311923021", "033677994240", "027434742980", "797873946194", "985666609251", "054676820928",
    "156460612806", "652711504416", "009996457667", "897822967062", "582318560864", "600734575887", "383597477331",
    "114774131450", "783225319266", "718504428378", "507241528517", "635631232127", "076674570225", "098369216593",
    "754344448648", "048591011584", "190560391635",
}


# Digits and every byte of a non-ASCII character become "0": a run of twelve `\d` (other Unicode
# digits included, each two bytes or more) becomes twelve "0" bytes or more.
_DIGITS_TO_ZERO = bytes.maketrans(bytes(range(0x31, 0x3A)) + bytes(range(0x80, 0x100)), b"0" * (9 + 0x80))


def _may_hold_twelve_digits(text: str) -> bool:
    """False when the text has no run of twelve digits (`\\d{12}`): one byte translation, ten times
    faster than the pattern on the files this filters."""
    return b"000000000000" in text.encode("utf-8", "surrogatepass").translate(_DIGITS_TO_ZERO)


def _fix(f: SourceFile, what: str) -> str:
    """The idiom that replaces a hard-coded region or account on this platform."""
    idioms = {
        "region": {"cfn": "`${AWS::Region}` (in `!Sub`)", "tf": "`data.aws_region.current.name`",
                   "cdk": "`Stack.of(this).region` / `Aws.REGION`", "cdktf": "a `DataAwsRegion` data source",
                   "pulumi": "`aws.getRegionOutput().name`"},
        "account": {"cfn": "`${AWS::AccountId}` (in `!Sub`)", "tf": "`data.aws_caller_identity.current.account_id`",
                    "cdk": "`Stack.of(this).account` / `Aws.ACCOUNT_ID`", "cdktf": "a `DataAwsCallerIdentity` data source",
                    "pulumi": "`aws.getCallerIdentityOutput().accountId`"},
    }
    return idioms[what][flavor(f)]


def _where(f: SourceFile, node: V, key: str = "") -> str:
    own = owner(f, node)
    parts = [f"`{own}`" if own else "", f"`{key}`" if key else ""]
    return " ".join(p for p in parts if p) or "this code"


def _mentions(node: V | None, rx: re.Pattern) -> bool:
    """A key or string in the subtree matches."""
    if node is None:
        return False
    for n, k in node.walk():
        if rx.search(k) or (n.kind in (STR, TPL, REF) and rx.search(n.text)):
            return True
    return False


def _granting(f: SourceFile) -> list[Statement]:
    """The policy statements that allow, outside conditionals."""
    return [st for st in statements(f) if st.allows and unconditional(st.node)]


def _texts(node: V | None) -> list[str]:
    return [n.text for n, _ in node.walk() if n.kind in (STR, TPL, REF)] if node is not None else []


# --------------------------------------------------------------------------- MF401


@register
class KmsLogsNoCondition(IacRule):
    id = "MF401"
    name = "kms-logs-no-encryption-context"
    kind = "IAC_KMS_LOGS_NO_CONDITION"
    trigger = ("amazonaws.com",)
    needs = re.compile(r"logs\.")
    level = Level.WARNING
    security = True
    summary = "A KMS key policy lets the CloudWatch Logs service use the key with no `kms:EncryptionContext:aws:logs:arn` condition."
    why = ("Without the encryption-context condition any log group in any account the Logs service acts for can "
           "use the key. AWS documents the condition `ArnLike kms:EncryptionContext:aws:logs:arn` for keys that "
           "encrypt log groups; generated key policies usually leave it out.")
    bad = {"lib/template.yaml": (
        "Resources:\n  LogsKey:\n    Type: AWS::KMS::Key\n    Properties:\n      KeyPolicy:\n        Statement:\n"
        "          - Effect: Allow\n            Principal:\n              Service: !Sub logs.${AWS::Region}.amazonaws.com\n"
        "            Action: [kms:Encrypt*, kms:Decrypt*, kms:GenerateDataKey*]\n            Resource: '*'\n")}
    good = {"lib/template.yaml": bad["lib/template.yaml"] + (
        "            Condition:\n              ArnLike:\n                kms:EncryptionContext:aws:logs:arn: "
        "!Sub arn:aws:logs:${AWS::Region}:${AWS::AccountId}:log-group:*\n")}

    _CONTEXT = re.compile(r"EncryptionContext", re.I)
    _GRANT = (".grantEncryptDecrypt", ".grantEncrypt", ".grantDecrypt", ".grant_encrypt_decrypt", ".grant_encrypt",
              ".grant_decrypt")

    def detect_file(self, f, ctx):
        for st in _granting(f):
            principal = st.principal
            if not any(LOGS_PRINCIPAL.search(t) for t in _texts(principal)):
                continue
            kms = [a.text for a in st.action_strings() if a.text.lower().startswith("kms:") or a.text == "*"]
            if kms and not _mentions(st.condition, self._CONTEXT):
                yield self.hit(f, principal, f"{_where(f, st.node)} grants the CloudWatch Logs service "
                               f"{', '.join(kms[:4])} with no `kms:EncryptionContext:aws:logs:arn` condition: add "
                               "`ArnLike: {kms:EncryptionContext:aws:logs:arn: arn:aws:logs:<region>:<account>:log-group:*}`.")
        if f.platform == "source":
            for call in calls(f, *self._GRANT):
                if call.items and any(LOGS_PRINCIPAL.search(t) for t in _texts(call.items[0])) and unconditional(call):
                    yield self.hit(f, call, f"`{call.name}(...)` grants the CloudWatch Logs service the key with no "
                                   "encryption-context condition: add a key-policy statement with `ArnLike "
                                   "kms:EncryptionContext:aws:logs:arn` instead of the grant.")


# --------------------------------------------------------------------------- MF402


@register
class KmsOpenPrincipal(IacRule):
    id = "MF402"
    name = "kms-open-principal"
    kind = "IAC_KMS_OPEN_PRINCIPAL"
    trigger = ("kms:",)
    level = Level.WARNING
    security = True
    summary = "A KMS key policy allows principal `*` with no caller-account condition."
    why = ("A key-policy statement for `*` lets every AWS account use the key unless a condition such as "
           "`kms:CallerAccount` or `aws:PrincipalAccount` narrows it; `kms:ViaService` alone does not.")
    bad = {"lib/main.tf": (
        'data "aws_iam_policy_document" "key" {\n  statement {\n    actions = ["kms:Decrypt", "kms:GenerateDataKey"]\n'
        '    principals {\n      type        = "AWS"\n      identifiers = ["*"]\n    }\n    resources = ["*"]\n  }\n}\n')}
    good = {"lib/main.tf": bad["lib/main.tf"].replace(
        '    resources = ["*"]\n', '    resources = ["*"]\n    condition {\n      test     = "StringEquals"\n'
        '      variable = "kms:CallerAccount"\n      values   = [data.aws_caller_identity.current.account_id]\n    }\n')}

    _ACCOUNT = re.compile(r"CallerAccount|PrincipalAccount|PrincipalOrgI[dD]|PrincipalOrgPaths|SourceAccount|PrincipalArn|SourceArn", re.I)
    _ANY = re.compile(r"(AnyPrincipal|StarPrincipal)\b")

    def detect_file(self, f, ctx):
        for st in _granting(f):
            principal = st.principal
            if principal is None:
                continue
            open_ = any(n.kind == STR and n.text == "*" and norm(k) != "type" for n, k in principal.walk()) or any(
                n.kind == CALL and self._ANY.search(n.name) for n, _ in principal.walk())
            kms = [a.text for a in st.action_strings() if a.text.lower().startswith("kms:")]
            if open_ and kms and not _mentions(st.condition, self._ACCOUNT):
                yield self.hit(f, st.node, f"{_where(f, st.node)} allows principal `*` {', '.join(kms[:4])} with no "
                               "caller-account condition: add `StringEquals kms:CallerAccount` (or `aws:PrincipalAccount`) "
                               "or name the principals.")


# --------------------------------------------------------------------------- MF403 / MF404


class _HardcodedRule(IacRule):
    platforms = ("cfn", "tf", "source", "data")

    def allowed(self, hit, ctx):
        return not ctx.prompt_has(hit.tag)


@register
class HardcodedRegion(_HardcodedRule):
    id = "MF403"
    name = "hardcoded-region"
    kind = "IAC_HARDCODED_REGION"
    trigger = ("arn:aws", "amazonaws.com", "com.amazonaws.", "widgets", "execute-api", "dkr.ecr")
    needs = REGION_ANYWHERE
    level = Level.WARNING
    summary = "A region is hard-coded in an ARN, a service principal or endpoint, or a dashboard body."
    why = ("A stack with `arn:aws:logs:us-east-1:...` or `logs.us-east-1.amazonaws.com` in it breaks or silently "
           "points elsewhere when deployed to another region. A plain `region: 'us-east-1'` setting is normal and "
           "not reported, nor is a region the prompt asks for.")
    bad = {"lib/tap-stack.ts": (
        "const key = new kms.Key(this, 'LogsKey');\n"
        "key.addToResourcePolicy(new iam.PolicyStatement({\n  actions: ['kms:Encrypt*'],\n"
        "  principals: [new iam.ServicePrincipal('logs.us-east-1.amazonaws.com')],\n}));\n")}
    good = {"lib/tap-stack.ts": bad["lib/tap-stack.ts"].replace(
        "'logs.us-east-1.amazonaws.com'", "`logs.${cdk.Stack.of(this).region}.amazonaws.com`")}

    def detect_file(self, f, ctx):
        for node, _ in f.strings:
            if not unconditional(node):
                continue
            m = REGION_IN.search(node.text) if "arn:" in node.text or "amazonaws" in node.text else None
            region = next((g for g in m.groups() if g), None) if m else None
            if region is None:
                d = DASHBOARD_REGION.search(node.text) if "widgets" in node.text else None
                region = d.group(1) if d else None
            if region:
                yield Hit(f.path, node.line, f"{_where(f, node)}: region `{region}` is hard-coded in "
                          f"`{_clip(node.text, m or d)}`: use {_fix(f, 'region')}.", f.line_text(node.line)[:200], tag=region)
        for dash in _dashboard_objects(f):
            for n, k in dash.walk():
                if n.kind == STR and norm(k) == "region" and re.fullmatch(REGION, n.text) and unconditional(n):
                    yield Hit(f.path, n.line, f"{_where(f, n)}: dashboard widget region `{n.text}` is hard-coded: "
                              f"use {_fix(f, 'region')}.", f.line_text(n.line)[:200], tag=n.text)


def _dashboard_objects(f: SourceFile) -> Iterator[V]:
    nodes = f.nodes
    for i in f.positions(holding=("widgets",)):
        yield nodes[i][0]


def _clip(text: str, m: re.Match | None) -> str:
    if m is None or len(text) <= 90:
        return text.replace("\n", " ")[:90]
    start = max(0, m.start() - 30)
    return ("…" if start else "") + text[start:m.end() + 40].replace("\n", " ") + "…"


@register
class HardcodedAccount(_HardcodedRule):
    id = "MF404"
    name = "hardcoded-account"
    kind = "IAC_HARDCODED_ACCOUNT"
    trigger = ("arn:aws", ".dkr.", "ccount", "AWS")
    needs = staticmethod(_may_hold_twelve_digits)
    level = Level.WARNING
    summary = "A 12-digit AWS account id is hard-coded in an ARN, an image URI or an account property."
    why = ("The stack only works in that one account. Env fallbacks (`process.env.CDK_DEFAULT_ACCOUNT || "
           "'123456789012'`), AWS-owned service accounts (ELB log delivery), Lambda layer ARNs, LocalStack's "
           "`000000000000` and ids the prompt gives are not reported.")
    bad = {"lib/main.tf": 'resource "aws_sns_topic_subscription" "s" {\n  topic_arn = "arn:aws:sns:us-east-1:123456789012:alerts"\n}\n'}
    good = {"lib/main.tf": ('resource "aws_sns_topic_subscription" "s" {\n  topic_arn = "arn:aws:sns:${data.aws_region.current.name}:'
                            '${data.aws_caller_identity.current.account_id}:alerts"\n}\n')}

    def detect_file(self, f, ctx):
        for node, key in f.strings:
            if not unconditional(node):
                continue
            text = node.text
            account = None
            m = ACCOUNT_IN.search(text) if "arn:" in text or ".dkr." in text else None
            if m and ":layer:" not in text:
                account = m.group(1) or m.group(2)
            elif len(text) == 12 and text.isdigit() and norm(key).replace(":", "") in ACCOUNT_KEYS:
                account = text
            if account and account not in AWS_OWNED_ACCOUNTS:
                yield Hit(f.path, node.line, f"{_where(f, node)}: account id `{account}` is hard-coded in "
                          f"`{_clip(text, m)}`: use {_fix(f, 'account')}.", f.line_text(node.line)[:200], tag=account)


# --------------------------------------------------------------------------- MF405


@register
class Retain(IacRule):
    id = "MF405"
    name = "retain-on-delete"
    kind = "IAC_RETAIN"
    trigger = ("RETAIN", "Retain", "revent", "eletionProtection", "eletion_protection", "etainOnDelete", "etain_on_delete")
    level = Level.WARNING
    platforms = ("cfn", "tf", "source")
    summary = "A resource is retained or protected on delete unconditionally (RETAIN, DeletionPolicy Retain, prevent_destroy, deletion protection)."
    why = ("The repository's pipeline deploys every task and destroys it afterwards; a retained bucket or a "
           "deletion-protected database survives the destroy, costs money and blocks the next deploy with a "
           "name clash. Environment-dependent policies (`isProd ? RETAIN : DESTROY`) are fine. Turn the rule "
           "off with `settings.iac.destroyable: false` where stacks are meant to keep data.")
    settings = {"iac.destroyable": "true (default): stacks must be destroyable, so unconditional RETAIN, "
                                   "prevent_destroy and deletion protection are reported; false: the rule is off"}
    bad = {"lib/tap_stack.py": "bucket = s3.Bucket(self, 'Data', removal_policy=RemovalPolicy.RETAIN)\n"}
    good = {"lib/tap_stack.py": ("bucket = s3.Bucket(self, 'Data', removal_policy=RemovalPolicy.RETAIN if is_prod "
                                 "else RemovalPolicy.DESTROY, auto_delete_objects=not is_prod)\n")}

    _REMOVAL = re.compile(r"RemovalPolicy[._](RETAIN(?:_ON_UPDATE_OR_DELETE)?)\b")
    _POLICY_KEYS = {"deletionpolicy"}  # UpdateReplacePolicy does not affect deleting the stack
    _PROTECT_KEYS = {"deletionprotection", "deletionprotectionenabled", "enabledeletionprotection"}
    _DESTROY_KEYS = {"preventdestroy", "retainondelete"}
    _KEYS = _POLICY_KEYS | _PROTECT_KEYS | _DESTROY_KEYS  # besides references, only values under these keys can fire

    def enabled(self, ctx):
        return ctx.is_iac and bool(ctx.setting("destroyable", True))

    def allowed(self, hit, ctx):
        words = {"retain": r"\bretain|RemovalPolicy", "deletion-protection": r"deletion[ _-]?protection",
                 "prevent-destroy": r"prevent_destroy|preventDestroy|retainOnDelete|retain_on_delete|protect"}
        return not re.search(words.get(hit.tag, r"$^"), ctx.prompt, re.I)

    def detect_file(self, f, ctx):
        skip = _conditional_resources(f)
        nodes = f.nodes
        for i in f.positions(kinds=(REF,), under=self._KEYS):
            node, key = nodes[i]
            if not unconditional(node) or (skip and any(r.line <= node.line <= r.end for r in skip)):
                continue
            k = norm(key)
            if node.kind == REF and "RemovalPolicy" in node.text:
                m = self._REMOVAL.search(node.text)
                if m and node.text.endswith(m.group(0)):
                    yield self.hit(f, node, f"{_where(f, node)}: `RemovalPolicy.{m.group(1)}` is unconditional, so the "
                                   "stack cannot be destroyed cleanly: use `RemovalPolicy.DESTROY` (with "
                                   "`autoDeleteObjects` for buckets) or make it depend on the environment.", "retain")
            elif k in self._POLICY_KEYS and node.kind == STR and node.text.startswith("Retain"):
                yield self.hit(f, node, f"{_where(f, node)}: `{key}: {node.text}` keeps the resource after the stack "
                               "is deleted: use `Delete` or a condition on the environment.", "retain")
            elif k in self._PROTECT_KEYS and _is(node, "true"):
                yield self.hit(f, node, f"{_where(f, node)}: `{key}` is on, so destroying the stack fails: set it "
                               "to false or make it depend on the environment.", "deletion-protection")
            elif k in self._DESTROY_KEYS and _is(node, "true"):
                yield self.hit(f, node, f"{_where(f, node)}: `{key} = true` keeps the resource from being destroyed: "
                               "remove it or make it depend on the environment.", "prevent-destroy")


def _is(node: V, literal: str) -> bool:
    """A boolean `literal` ("true" or "false"), or a string that says it."""
    return (node.kind == BOOL or node.kind == STR) and node.text.lower() == literal


def _conditional_resources(f: SourceFile) -> list[V]:
    """CloudFormation resources with a `Condition`: they exist only in some environments."""
    if f.platform != "cfn":
        return []
    return [r.node for r in resources(f) if r.node.get("Condition") is not None]


# --------------------------------------------------------------------------- MF406


@register
class Unencrypted(IacRule):
    id = "MF406"
    name = "encryption-disabled"
    kind = "IAC_UNENCRYPTED"
    trigger = ("UNENCRYPTED", "ncrypted", "AES256", "S3_MANAGED", "ncryptionAtRest", "ncryption_at_rest")
    level = Level.WARNING
    security = True
    summary = "Storage is explicitly unencrypted, or uses AES256/S3-managed keys where the prompt asks for KMS."
    why = ("All new S3 buckets are encrypted since 2023, so a missing encryption block is no defect; turning "
           "encryption off is (`BucketEncryption.UNENCRYPTED`, `StorageEncrypted: false`, `encrypted = false`). "
           "When the prompt asks for KMS, SSE-S3 (`AES256`, `S3_MANAGED`) does not meet it.")
    bad = {"lib/template.json": ('{"Resources": {"Db": {"Type": "AWS::RDS::DBInstance", "Properties": '
                                 '{"Engine": "postgres", "StorageEncrypted": false}}}}\n')}
    good = {"lib/template.json": ('{"Resources": {"Db": {"Type": "AWS::RDS::DBInstance", "Properties": '
                                  '{"Engine": "postgres", "StorageEncrypted": true}}}}\n')}

    _OFF = re.compile(r"\w*Encryption[._]UNENCRYPTED\b")
    _S3_MANAGED = re.compile(r"BucketEncryption[._]S3_MANAGED\b")
    _FALSE_KEYS = {"storageencrypted", "encrypted"}
    _AT_REST_KEYS = {"encryptionatrestoptions", "encryptionatrest"}
    _SSE_KEYS = {"ssealgorithm", "serversideencryption"}
    _KEYS = _FALSE_KEYS | _AT_REST_KEYS | _SSE_KEYS  # besides references, only values under these keys can fire
    _KMS_PROMPT = re.compile(r"^.*\b(S3|buckets?)\b.*\b(SSE-KMS|KMS|customer[- ]managed (?:KMS )?keys?)\b.*$|"
                             r"^.*\b(SSE-KMS|KMS|customer[- ]managed (?:KMS )?keys?)\b.*\b(S3|buckets?)\b.*$", re.I | re.M)

    _SSE_S3_OK = re.compile(r"SSE-S3|S3[- ]managed|AES-?256", re.I)

    def allowed(self, hit, ctx):
        if hit.tag != "aes256":
            return True
        return bool(self._KMS_PROMPT.search(ctx.prompt)) and not self._SSE_S3_OK.search(ctx.prompt)

    def detect_file(self, f, ctx):
        nodes = f.nodes
        for i in f.positions(kinds=(REF,), under=self._KEYS):
            node, key = nodes[i]
            if not unconditional(node):
                continue
            k = norm(key)
            if node.kind == REF and "UNENCRYPTED" in node.text and self._OFF.search(node.text):
                yield self.hit(f, node, f"{_where(f, node)}: `{self._OFF.search(node.text).group(0)}` turns encryption "
                               "off: use KMS (or at least the service-managed default).", "off")
            elif k in self._FALSE_KEYS and _is(node, "false"):
                yield self.hit(f, node, f"{_where(f, node)}: `{key}` is false, so the data is stored unencrypted: set "
                               "it to true (with a KMS key).", "off")
            elif node.kind == OBJ and k in self._AT_REST_KEYS:
                enabled = node.get("enabled")
                if enabled is not None and _is(enabled, "false"):
                    yield self.hit(f, enabled, f"{_where(f, node)}: `{key}` is disabled: enable encryption at rest.", "off")
            elif ((node.kind == STR and node.text == "AES256" and k in self._SSE_KEYS) or (
                    node.kind == REF and "S3_MANAGED" in node.text and self._S3_MANAGED.search(node.text))) \
                    and not _LOG_BUCKET.search(owner(f, node)):
                # access-log target buckets (S3 server access logs, ALB/CloudFront logs) must use SSE-S3
                yield self.hit(f, node, f"{_where(f, node)}: S3-managed encryption (`{node.text.rsplit('.', 1)[-1]}`) "
                               "where the prompt asks for KMS: use `aws:kms` with a customer-managed key.", "aes256")


_LOG_BUCKET = re.compile(r"log", re.I)


# --------------------------------------------------------------------------- MF407


@register
class IamWildcard(IacRule):
    id = "MF407"
    name = "iam-wildcard"
    kind = "IAC_IAM_WILDCARD"
    trigger = ("'*'", '"*"', "AdministratorAccess", "PowerUserAccess")
    level = Level.WARNING
    security = True
    platforms = ("cfn", "tf", "source", "data")
    summary = "An IAM statement allows every action (`*`) with no condition, or an admin/power-user managed policy is attached."
    why = ("`Action: *` and the AWS managed `AdministratorAccess` / `PowerUserAccess` policies grant far more than "
           "any task needs and are the first thing a security review rejects. Statements with a condition (a "
           "VPC-endpoint policy limited to one account) and Deny statements are not reported.")
    bad = {"lib/template.yaml": (
        "Resources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      ManagedPolicyArns:\n"
        "        - arn:aws:iam::aws:policy/PowerUserAccess\n")}
    good = {"lib/template.yaml": (
        "Resources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      ManagedPolicyArns:\n"
        "        - arn:aws:iam::aws:policy/ReadOnlyAccess\n      Description: not PowerUserAccess\n")}

    _MANAGED = re.compile(r"(?:^|:policy/|^policy/)(AdministratorAccess|PowerUserAccess)$")

    def detect_file(self, f, ctx):
        for st in _granting(f):
            if _has_condition(st):
                continue
            star = next((a for a in st.action_strings() if a.text in ("*", "*:*")), None)
            if star is not None:
                yield self.hit(f, star, f"{_where(f, st.node)} allows every action (`{star.text}`) with no condition: "
                               "list the actions the role needs.", "action")
        for node, _ in f.strings:
            m = self._MANAGED.search(node.text) if node.kind == STR and "Access" in node.text else None
            if m and unconditional(node):
                yield self.hit(f, node, f"{_where(f, node)} attaches the AWS managed policy `{m.group(1)}`: grant "
                               "least-privilege actions instead.", m.group(1))


def _has_condition(st) -> bool:
    cond = st.condition
    return cond is not None and (cond.kind != OBJ or bool(cond.items))


# --------------------------------------------------------------------------- MF408


_CIDR_KEYS = {"cidrip", "cidripv6", "cidrblocks", "ipv6cidrblocks", "cidrblock", "cidripv4", "cidripv6s", "cidr",
              "sourcecidr"}
_OPEN = {"0.0.0.0/0", "::/0"}
_WEB = {80, 443}


@register
class OpenIngress(IacRule):
    id = "MF408"
    name = "open-ingress"
    kind = "IAC_OPEN_INGRESS"
    trigger = ("0.0.0.0/0", "::/0", "nyIpv", "ny_ipv")
    level = Level.WARNING
    security = True
    summary = "A security group admits 0.0.0.0/0 or ::/0 on a port other than 80/443 (or on all ports)."
    why = ("SSH, RDP, database and all-traffic rules open to the internet are the classic exposed-instance "
           "finding. HTTP/HTTPS on a public load balancer is normal and not reported; network ACLs, routes and "
           "egress rules are not ingress.")
    bad = {"lib/tap-stack.ts": "sg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(22), 'SSH');\n"}
    good = {"lib/tap-stack.ts": "sg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS');\n"}

    def detect_file(self, f, ctx):
        nodes = f.nodes
        for i in f.positions(holding=_CIDR_KEYS):
            node, key = nodes[i]
            if unconditional(node):
                hit = self._rule_object(f, node, key)
                if hit:
                    yield hit
        if f.platform == "source":
            for call in calls(f, ".addIngressRule", ".add_ingress_rule", ".allowFromAnyIpv4", ".allow_from_any_ipv4"):
                hit = self._cdk_call(f, call)
                if hit:
                    yield hit

    def _rule_object(self, f: SourceFile, node: V, key: str) -> Hit | None:
        cidr = next((v for k, v in node.items if norm(k) in _CIDR_KEYS), None)
        if cidr is None or not _OPEN & set(cidr.str_values()):
            return None
        if norm(key) in ("egress", "securitygroupegress", "egressrules") or node.get("RuleAction", "RuleNumber", "Egress"):
            return None
        rtype = node.get("type")
        if rtype is not None and rtype.text != "ingress":
            return None
        kind = owner(f, node).lower()
        if "egress" in kind or "networkacl" in kind or "network_acl" in kind:
            return None
        ports = _ports(node.get("FromPort"), node.get("ToPort"), node.get("IpProtocol", "protocol"))
        if ports is None or ports <= _WEB:
            return None
        return self.hit(f, node, f"{_where(f, node)}: ingress from `{'/'.join(sorted(_OPEN & set(cidr.str_values())))}` on "
                        f"{_describe(ports)}: restrict the source to known CIDRs or a security group.")

    def _cdk_call(self, f: SourceFile, call: V) -> Hit | None:
        if not unconditional(call):
            return None
        if call.name.endswith(("Rule", "rule")):
            if len(call.items) < 2 or not re.search(r"any_?ipv[46]|any_ipv[46]|anyIpv[46]|0\.0\.0\.0/0|::/0",
                                                   _source(call.items[0]), re.I):
                return None
            port = call.items[1]
        else:
            if not call.items:
                return None
            port = call.items[0]
        ports = _cdk_ports(port)
        if ports is None or ports <= _WEB:
            return None
        return self.hit(f, call, f"`{call.name}` admits any IPv4/IPv6 address on {_describe(ports)}: restrict the peer "
                        "to known CIDRs or a security group.")


ALL_PORTS = frozenset({-1})


def _num(node: V | None) -> int | None:
    if node is None:
        return None
    if node.kind in (NUM, STR) and re.fullmatch(r"-?\d+", node.text):
        return int(node.text)
    return None


def _ports(lo: V | None, hi: V | None, proto: V | None) -> frozenset[int] | None:
    """The ports a rule opens: a set, ALL_PORTS, or None when unknown (not literal, ICMP)."""
    p = (proto.text if proto is not None and proto.kind in (STR, NUM) else "").lower()
    if p in ("-1", "all"):
        return ALL_PORTS
    if p in ("icmp", "icmpv6", "1", "58"):
        return None
    a, b = _num(lo), _num(hi)
    if a is None or b is None:
        return None
    if a == -1 or (a <= 0 and b >= 65535):
        return ALL_PORTS
    if b - a > 1000:
        return frozenset({a, b, -2})  # a wide range: described by its ends
    return frozenset(range(a, b + 1))


def _cdk_ports(node: V) -> frozenset[int] | None:
    if node.kind != CALL:
        return None
    name = node.name.rsplit(".", 1)[-1].lower().replace("_", "")
    if name in ("alltraffic", "alltcp", "alludp"):
        return ALL_PORTS
    nums = [_num(a) for a in node.items]
    if name in ("tcp", "udp") and nums and nums[0] is not None:
        return frozenset({nums[0]})
    if name in ("tcprange", "udprange") and len(nums) == 2 and None not in nums:
        return _ports(node.items[0], node.items[1], None)
    return None


def _describe(ports: frozenset[int]) -> str:
    if ports == ALL_PORTS:
        return "all ports"
    real = sorted(p for p in ports if p >= 0)
    if -2 in ports or len(real) > 3:
        return f"ports {real[0]}-{real[-1]}"
    return "port " + ", ".join(map(str, real)) if len(real) == 1 else "ports " + ", ".join(map(str, real))


def _source(node: V) -> str:
    return " ".join([node.name, node.text] + [_source(c) for c in node.children()])
