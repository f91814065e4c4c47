"""Security controls in two snippets (the model's and the fix), and the ones the fix weakens.

A fix that drops encryption, widens IAM to `*`, grants an admin policy, opens ingress to the
world or turns off logging, deletion protection or versioning teaches the opposite of a fix.
Controls are read with language-neutral patterns (CDK, CloudFormation, Terraform, Pulumi spell
them alike), per snippet: a downgrade is a control the model's snippet has and the fix lacks or
sets to its weak value. Removals count only when the fix restates the same code (most of its lines
match the model's) and elides nothing, so a fix that shows only the part it changed is not read
as dropping the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.matching import normalise, strip_comments


@dataclass(frozen=True)
class Downgrade:
    control: str  # "encryption (kmsKeyId)"
    before: str  # the model's line, as quoted
    after: str  # the fix's line, or "" when removed


# (control, strong pattern, weak pattern). A strong match in the model's snippet and a weak one
# (or, for a restated snippet, none) in the fix is a downgrade.
_TRUE = r"[\"']?(?:true|True|TRUE|yes|Enabled|ENABLED)[\"']?"
_FALSE = r"[\"']?(?:false|False|FALSE|no|Disabled|DISABLED|Suspended)[\"']?"
CONTROLS: list[tuple[str, re.Pattern[str], re.Pattern[str] | None]] = [
    ("encryption key (KMS)", re.compile(r"\b(kms_?key_?(id|arn)?|KmsKey(Id|Arn)?|kmsMasterKey(Id)?|kms_master_key_id|"
                                        r"encryptionKey|encryption_key|masterKey|KMSMasterKeyID)\b\s*[:=(]", re.I), None),
    ("SSE algorithm aws:kms", re.compile(r"aws:kms(?!:)|BucketEncryption\.KMS|SSEAlgorithm\W+aws:kms", re.I),
     re.compile(r"AES256|BucketEncryption\.S3_MANAGED|S3_MANAGED|UNENCRYPTED", re.I)),
    ("encryption enabled", re.compile(rf"\b(storage_?encrypted|encrypted|StorageEncrypted|Encrypted|encryption_?enabled)\b\W{{0,4}}{_TRUE}", re.I),
     re.compile(rf"\b(storage_?encrypted|encrypted|encryption_?enabled)\b\W{{0,4}}{_FALSE}", re.I)),
    ("deletion protection", re.compile(rf"\bdeletion_?protection(_?enabled)?\b\W{{0,4}}{_TRUE}", re.I),
     re.compile(rf"\bdeletion_?protection(_?enabled)?\b\W{{0,4}}{_FALSE}", re.I)),
    ("versioning", re.compile(rf"\b(versioned|versioning)\b\W{{0,6}}(?:enabled\W{{0,4}})?{_TRUE}", re.I),
     re.compile(rf"\b(versioned|versioning)\b\W{{0,6}}(?:enabled\W{{0,4}})?{_FALSE}", re.I)),
    ("logging", re.compile(rf"\b(enable_?logging|logging_?enabled|IsLogging|enable_?log_?file_?validation|"
                           rf"EnableLogFileValidation|access_?logs?_?enabled)\b\W{{0,4}}{_TRUE}", re.I),
     re.compile(rf"\b(enable_?logging|logging_?enabled|IsLogging|enable_?log_?file_?validation|EnableLogFileValidation|"
                rf"access_?logs?_?enabled)\b\W{{0,4}}{_FALSE}", re.I)),
    ("public access block", re.compile(rf"\b(block_?public_?(acls|policy)|restrict_?public_?buckets|ignore_?public_?acls|"
                                       rf"BlockPublicAccess\.BLOCK_ALL)\b(\W{{0,4}}{_TRUE})?", re.I),
     re.compile(rf"\b(block_?public_?(acls|policy)|restrict_?public_?buckets|ignore_?public_?acls)\b\W{{0,4}}{_FALSE}", re.I)),
]
# Grants the fix widens: the model's snippet sets the key to something specific, the fix to `*`.
# `kms:*` is left out: a KMS key policy grants it to the account root by design.
_KEY_AT_START = r"^\s*(?:-\s*)?[\"']?"
WIDENINGS: list[tuple[str, re.Pattern[str], re.Pattern[str]]] = [
    ("IAM action `*`",
     re.compile(_KEY_AT_START + r"(?:[Aa]ctions?|actions?)\b[\"']?\s*[:=]\s*\[?\s*[\"'](?:\*|(?!kms:)[\w-]+:\*)[\"']"),
     re.compile(_KEY_AT_START + r"(?:[Aa]ctions?)\b[\"']?\s*[:=]")),
    ("IAM resource `*`",
     re.compile(_KEY_AT_START + r"[Rr]esources?\b[\"']?\s*[:=]\s*\[?\s*[\"']\*[\"']"),
     re.compile(_KEY_AT_START + r"[Rr]esources?\b[\"']?\s*[:=]")),
    ("admin or power-user managed policy", re.compile(r"\b(AdministratorAccess|PowerUserAccess|IAMFullAccess)\b"),
     re.compile(r"\b(ManagedPolic|managed_polic|policy_arn|PolicyArn)", re.I)),
]
# Ingress from anywhere to an administrative or database port, or to every port.
_WORLD = re.compile(r"0\.0\.0\.0/0|::/0|anyIpv4\(\)|Peer\.any_ipv4\(\)")
_RISKY_PORT = re.compile(r"\b(22|3389|3306|5432|1433|1521|6379|27017|9200|11211)\b|IpProtocol\W+-1|protocol\W+[\"']?-1|allTraffic", re.I)
_NOT_INGRESS = re.compile(r"destination|route|egress|nat", re.I)
# Prose that says the fix removed a control to make things simpler or pass.
PROSE = re.compile(
    r"\b(remov\w*|disabl\w*|drop\w*|turn\w* off|omit\w*|strip\w*|delet\w*|bypass\w*|skipp?\w*|relax\w*|loosen\w*|"
    r"widen\w*|weaken\w*)\b[^.\n]{0,60}\b(encryption|kms|deletion protection|versioning|logging|tls|ssl|mfa|"
    r"least[- ]privilege|security group rules?|authentication|authori[sz]ation)\b[^.\n]{0,60}\b(for simplicity|to simplify|"
    r"to make (?:the )?(?:tests?|deployment) pass|to avoid (?:the )?(?:error|failure|complexity|cost)|for (?:testing|convenience)|"
    r"unnecessary complexity|to reduce (?:complexity|cost))",
    re.I,
)


def _lines(text: str) -> list[str]:
    return [line for line in text.replace("\r\n", "\n").split("\n") if line.strip()]


def _code_only(text: str) -> str:
    """The snippet without its comments (`# Too broad: Resource '*'` is prose, not a grant)."""
    return strip_comments(text, "")


def _first(rx: re.Pattern[str], text: str) -> str | None:
    for line in _lines(text):
        if rx.search(line):
            return line.strip()
    return None


def restates(model: str, fix: str) -> bool:
    """Whether the fix shows the same code as the model's snippet, changed (not an excerpt)."""
    if "..." in fix or "…" in fix:
        return False
    a = {n for n, _, _ in normalise(model)}
    b = {n for n, _, _ in normalise(fix)}
    return bool(a) and len(a & b) >= 0.5 * len(a)


def downgrades(model: str, fix: str) -> list[Downgrade]:
    """Controls the model's snippet has and the fix weakens or, restating the code, drops."""
    model_code, fix_code = _code_only(model), _code_only(fix)
    whole = restates(model_code, fix_code)
    out = []
    for name, strong, weak in CONTROLS:
        before = _first(strong, model_code)
        if before is None or _first(strong, fix_code):
            continue
        after = _first(weak, fix_code) if weak else None
        if after is not None or whole:
            out.append(Downgrade(name, before, after or ""))
    key_policy = "kms:" in fix_code  # a KMS key policy names Resource "*" by design
    for name, wide, key in WIDENINGS:
        if key_policy and "resource" in name:
            continue
        after = _first(wide, fix_code)
        before = _first(key, model_code)
        if after is not None and before is not None and _first(wide, model_code) is None:
            out.append(Downgrade(name, before, after))
    world = _world_ingress(fix_code)
    if world and not _WORLD.search(model_code):
        out.append(Downgrade("ingress from 0.0.0.0/0 to a sensitive port", "", world))
    return out


def _world_ingress(code: str) -> str | None:
    """A rule that admits 0.0.0.0/0 to a sensitive port: inside an ingress block (the nearest
    ingress/egress word above it says ingress) with such a port within four lines."""
    lines = _lines(code)
    for i, line in enumerate(lines):
        if not _WORLD.search(line) or _NOT_INGRESS.search(line):
            continue
        above = next((m.group(0).lower() for n in range(i, max(-1, i - 9), -1)
                      for m in [re.search(r"ingress|egress", lines[n], re.I)] if m), "")
        near = "\n".join(lines[max(0, i - 4):i + 5])
        if above == "ingress" and _RISKY_PORT.search(near):
            return line.strip()
    return None


_PROSE_HINTS = ("simpl", "to make", "to avoid", "for testing", "convenience", "complexity", "to reduce")


def prose_hint(text: str) -> bool:
    """A cheap test that `prose_downgrade` may find something (the pattern is slow on long text); a
    text without a hint holds no part that has one."""
    low = text.lower()
    return any(h in low for h in _PROSE_HINTS)


def prose_downgrade(text: str) -> str | None:
    """The sentence that says a control was removed for simplicity (or similar), if any."""
    if not prose_hint(text):
        return None
    m = PROSE.search(text)
    return m.group(0) if m else None
