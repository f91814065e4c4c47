"""Hygiene rules: text damage and leftovers that make a report unusable as training data."""

from __future__ import annotations

import bisect
import re

from bot.findings import Level
from bot.rules import Rule, register
from bot.task import IDEAL_RESPONSE, PROMPT

# The documents of a task that become training text.
TRAINING_DOCS = (PROMPT, IDEAL_RESPONSE)


def _byte_table(encoding: str) -> dict[str, int]:
    table = {}
    for b in range(0x80, 0x100):
        try:
            table[bytes([b]).decode(encoding)] = b
        except UnicodeDecodeError:
            pass
    return table


# UTF-8 bytes read as Windows-1252 (`â€™`, `Ã©`, `ðŸ”`) or Mac Roman (`‚úÖ`, `‚ùå`).
_CODEPAGES = [("cp1252", _byte_table("cp1252"), 2), ("mac_roman", _byte_table("mac_roman"), 3)]
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]{2,}")


def find_mojibake(line: str) -> list[tuple[str, str]]:
    """(garbled, meant) pairs in a line. Only sequences that decode as valid UTF-8 count, so
    legitimate accented or non-Latin text never matches."""
    found = []
    for run in _NON_ASCII_RUN.finditer(line):
        text = run.group(0)
        for _, table, min_len in _CODEPAGES:
            i = 0
            while i < len(text):
                n = _utf8_length(table.get(text[i]))
                chunk = text[i:i + n]
                if n >= min_len and len(chunk) == n and all(0x80 <= table.get(c, 0) <= 0xBF for c in chunk[1:]):
                    try:
                        meant = bytes(table[c] for c in chunk).decode("utf-8")
                    except UnicodeDecodeError:
                        meant = ""
                    if meant:
                        # Emoji come as two sequences (U+1F5xx then a variation selector): join neighbours.
                        if found and found[-1][0] and line.find(found[-1][0] + chunk) >= 0:
                            found[-1] = (found[-1][0] + chunk, found[-1][1] + meant)
                        else:
                            found.append((chunk, meant))
                        i += n
                        continue
                i += 1
            if found:
                break
    return found


def _utf8_length(byte: int | None) -> int:
    if byte is None:
        return 0
    if 0xC2 <= byte <= 0xDF:
        return 2
    if 0xE0 <= byte <= 0xEF:
        return 3
    if 0xF0 <= byte <= 0xF4:
        return 4
    return 0


@register
class Mojibake(Rule):
    id = "MF101"
    name = "mojibake"
    kind = "MOJIBAKE"
    level = Level.ERROR
    summary = "Text garbled by reading UTF-8 through another code page (`â€™`, `Ã©`, `‚ùå`) or replaced by U+FFFD."
    why = ("Garbled characters are learned as if they were real text: a model trained on `donâ€™t` writes "
           "`donâ€™t`. The damage comes from an editor or a pipeline that decoded UTF-8 as Windows-1252 or "
           "Mac Roman; the original text can be restored exactly, which is what the suggestion shows.")
    bad = {"lib/MODEL_FAILURES.md": ("# Model Failures\n\n### 1. Bucket policy\n\nThe modelâ€™s policy allowed "
                                     "`s3:*` instead of `s3:GetObject`.\n")}
    good = {"lib/MODEL_FAILURES.md": ("# Model Failures\n\n### 1. Bucket policy\n\nThe model’s policy allowed "
                                      "`s3:*` instead of `s3:GetObject` (café, 東京 stay as they are).\n")}

    def check(self, task, config):
        for path in (task.report_path, *TRAINING_DOCS):
            text = task.get(path)
            if not text or text.isascii():
                continue
            for n, line in enumerate(text.split("\n"), 1):
                if line.isascii():
                    continue
                pairs = find_mojibake(line)
                if pairs:
                    fixed = line
                    for garbled, meant in pairs:
                        fixed = fixed.replace(garbled, meant)
                    shown = ", ".join(f"`{g}` for `{m}`" for g, m in pairs[:3])
                    yield self.finding(path, n, f"Garbled text: {shown} (UTF-8 read as another code page).",
                                       evidence=line.strip()[:200], replacement=fixed)
                elif "\ufffd" in line:
                    yield self.finding(path, n, "U+FFFD replacement character: the original text was lost in decoding.",
                                       evidence=line.strip()[:200])


# --- shared helpers ---------------------------------------------------------------------------

def _lib_docs(task) -> list[str]:
    """The report and the Markdown documents of `lib/` (the prompt, the responses, notes)."""
    docs = [p for p in task.files if p.startswith("lib/") and p.count("/") == 1 and p.endswith(".md")]
    return sorted({task.report_path, *docs})


def _code_lines(report) -> set[int]:
    return {n for c in report.code_blocks for n in range(c.line, c.end_line + 1)}


def _line_starts(text: str) -> list[int]:
    """Offsets where each line starts: `bisect_right(starts, offset)` is the 1-based line of an offset."""
    return [0] + [m.end() for m in re.finditer("\n", text)]


def _clip(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mask_inline_code(line: str) -> str:
    """The line with `code spans` blanked, so prose checks do not look inside quoted code."""
    return re.sub(r"(`+)(.+?)\1", lambda m: " " * len(m.group(0)), line)


# --- MF102 sensitive data ---------------------------------------------------------------------

def redact(secret: str, keep: int = 4) -> str:
    """`AKIA************MPLE`, `4829****5561`: enough to find the secret, never the whole of it."""
    keep = min(keep, max(1, (len(secret) - 4) // 2))
    return secret[:keep] + "*" * (len(secret) - 2 * keep) + secret[-keep:]


# AWS-owned accounts that appear in correct code: Elastic Load Balancing log delivery per region.
PUBLIC_AWS_ACCOUNTS = frozenset({
    "127311923021", "033677994240", "027434742980", "797873946194", "098369216593", "985666609251",
    "054676820928", "156460612806", "652711504416", "635631232127", "009996457667", "897822967062",
    "754344448648", "582318560864", "600734575887", "383597477331", "114774131450", "783225319266",
    "718504428378", "076674570225", "507241528517", "048591011584", "190560391635", "638102146993",
    "037604701340",
})


def is_placeholder_account(digits: str) -> bool:
    """123456789012, 000000000000, 111111111111, 111122223333, 987654321098 and their kin."""
    steps = {(int(b) - int(a)) % 10 for a, b in zip(digits, digits[1:])}
    if steps in ({1}, {9}):  # 123456789012, 234567890123, 987654321098
        return True
    if any(digits == (digits[:p] * 12)[:12] for p in (1, 2, 3, 4)):  # 111111111111, 121212121212
        return True
    runs = [len(m.group(0)) for m in re.finditer(r"(\d)\1*", digits)]
    return min(runs) >= 3  # 111122223333, 999888777666


# Rules run on every source file of every task: cheap literal tests guard the costlier scans, and
# most patterns start with a literal, which the regex engine finds fast.
_ACCESS_KEY_START = re.compile(r"AKIA|ASIA")
_ACCESS_KEY = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")
# A 40-character key shortly after a secret-key word (`aws_secret_access_key = "..."`); run on lower case.
_SECRET_KEY = re.compile(r"secret(?:[_ -]?access)?[_ -]?key[\w\"']*\W{1,6}(?P<s>[a-z0-9/+]{40})(?![a-z0-9/+=])")
_GITHUB_PREFIX = re.compile(r"gh[pousr]_|github_pat_")
_GITHUB_TOKEN = re.compile(r"(?<![\w])(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})")
_PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
# Key material right after the header: on the next lines, or after `\n` escapes inside a string.
_KEY_BODY = re.compile(r"(?:\s|\\n|[\"',+])*(?:Proc-Type:[^\n]*\n|[\w-]+:[^\n]*\n)*[A-Za-z0-9/+]{40,}")
# What makes a 12-digit number an account id: an ARN, an account word before it (`AccountId: `,
# `account_id = "`; run on lower case), or an S3 bucket name that holds it (`logs-482913305561-us-east-1`).
_ARN_ACCOUNT = re.compile(r"arn:aws[\w-]*:[\w-]*:[\w-]*:(?P<a>\d{12})(?![\d.])")
_ACCOUNT_WORDS = (("account", re.compile(r"account[\w\"' ]{0,20}[=:]\s*[\"']?(?P<a>\d{12})(?![\d.])")),
                  ("owner", re.compile(r"owner[_ -]?id[\w\"' ]{0,20}[=:]\s*[\"']?(?P<a>\d{12})(?![\d.])")))
_DASH_ACCOUNT = re.compile(r"-(?P<a>\d{12})(?=[-.\"'\s/]|$)", re.M)
# An `@` followed by a domain name (`_EMAIL_DOMAIN`): most `@`s are decorators and package scopes.
_EMAIL_AT = re.compile(r"@(?=(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}\b)")
_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9][\w.+-]*$")
_EMAIL_DOMAIN = re.compile(r"(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}\b")
_PLACEHOLDER_DOMAIN = re.compile(
    r"(^|\.)(example|test|invalid|localhost|local)$|(^|\.)(example|test|sample|dummy|fake)\.[a-z.]+$|"
    r"^(your|my|test|sample|dummy|fake|placeholder|demo)[\w-]*\.|"
    r"^(company|domain|email|mail|abc|xyz|acme|foo|bar|corp|org|website|site|anthropic)\.com$", re.I)
_WEBMAIL = re.compile(r"^(gmail|googlemail|yahoo|hotmail|outlook|live|icloud|me|aol|proton(mail)?|gmx|yandex|"
                      r"zoho|mail)\.[a-z.]+$", re.I)
_ROLE_WORDS = frozenset("""admin administrator alert alerts ops devops sre secops devsecops security team support
info contact help noreply no-reply donotreply do-not-reply oncall on-call monitoring compliance notifications
notification notify billing sales finance hr owner root postmaster webmaster hostmaster abuse dev developers
engineering platform infra infrastructure approver approvals audit backup mail test demo user username email me
your name you aws cloud data db dba network netops ci cd build deploy release pager incident incidents ops-team
sender receiver recipient customer customers service services system systems operations reports report
manager prod production staging qa example hello alarms admins tech it""".split())
_PLACEHOLDER_PERSON = frozenset({"john.doe", "jane.doe", "john.smith", "first.last", "firstname.lastname",
                                 "your.name", "name.surname", "user.name", "foo.bar"})


def personal_email(local: str, domain: str) -> bool:
    """A person's address (`jane.roe@corp.io`, `someone@gmail.com`), not a role or a placeholder."""
    local_l = local.lower()
    if _PLACEHOLDER_DOMAIN.search(domain) or local_l in _PLACEHOLDER_PERSON:
        return False
    words = re.split(r"[.+_-]", local_l)
    if any(w in _ROLE_WORDS for w in words) or any(ch.isdigit() for ch in local_l):
        return False
    if _WEBMAIL.match(domain):
        return True
    if re.fullmatch(r"[a-z]{2,}[._][a-z]{1,}", local_l):  # first.last, name.x
        return True
    return bool(re.fullmatch(r"[a-z]{4,}", local_l)) and local_l not in _ROLE_WORDS


# One byte translation answers the first questions about a text: ASCII letters lower case (`secret`
# in `_ascii_lower(text)` as the bytes `secret`: no other character lowers to one of its letters),
# digits "0" and every byte of a non-ASCII character "0" (a run of twelve `\d`, other Unicode digits
# included, becomes twelve "0" bytes or more).
_FOLD = bytes.maketrans(bytes(range(0x41, 0x5B)) + bytes(range(0x31, 0x3A)) + bytes(range(0x80, 0x100)),
                        bytes(range(0x61, 0x7B)) + b"0" * (9 + 0x80))


def find_secrets(text: str) -> list[tuple[int, str, str]]:
    """(offset, what, secret) for every secret in a text, in order."""
    folded = text.encode("utf-8", "surrogatepass").translate(_FOLD)
    secret_word, twelve_digits = b"secret" in folded, b"000000000000" in folded
    lower = _ascii_lower(text) if secret_word or twelve_digits else ""
    found = []
    if _ACCESS_KEY_START.search(text):  # one scan for both prefixes
        found += [(m.start(), "AWS access key id", m.group(0)) for m in _ACCESS_KEY.finditer(text)
                  if "EXAMPLE" not in m.group(0)]  # AWS's documented AKIAIOSFODNN7EXAMPLE
    # Each scan only when the literal its pattern starts with (or needs) is in the text at all.
    if secret_word:
        found += [(m.start("s"), "AWS secret access key", text[m.start("s"):m.end("s")])
                  for m in _SECRET_KEY.finditer(lower) if _looks_random(text[m.start("s"):m.end("s")])]
    if _GITHUB_PREFIX.search(text):
        found += [(m.start(), "GitHub token", m.group(0)) for m in _GITHUB_TOKEN.finditer(text)
                  if len(set(m.group(0).split("_", 1)[1])) >= 10]  # not ghp_xxxxxxxx...
    if twelve_digits:  # what every account id pattern (`\d{12}`) needs; most texts have none
        accounts = []
        if "arn:aws" in text:
            accounts += [m for m in _ARN_ACCOUNT.finditer(text)
                         if not text.startswith(":layer:", m.end())]  # Lambda layers are published from public accounts
        for word, rx in _ACCOUNT_WORDS:
            if word in lower:
                accounts += rx.finditer(lower)
        if "bucket" in lower or "s3://" in lower:  # what `_in_bucket_name` asks of the number's line
            accounts += [m for m in _DASH_ACCOUNT.finditer(text) if _in_bucket_name(text, lower, m.start())]
        found += [(m.start("a"), "AWS account id", m.group("a")) for m in accounts
                  if not is_placeholder_account(m.group("a")) and m.group("a") not in PUBLIC_AWS_ACCOUNTS]
    for m in _EMAIL_AT.finditer(text):
        at = m.start()
        local = _EMAIL_LOCAL.search(_before(text, at, 64))
        domain = _EMAIL_DOMAIN.match(text, at + 1)
        if local and personal_email(local.group(0), domain.group(0)):
            found.append((at - len(local.group(0)), "personal e-mail address", f"{local.group(0)}@{domain.group(0)}"))
    return sorted(set(found))


def _ascii_lower(text: str) -> str:
    """Lower case with the offsets kept (`str.lower` may lengthen some non-ASCII letters)."""
    if text.isascii():  # `bytes.lower` is twice as fast as `str.lower`
        return text.encode("ascii").lower().decode("ascii")
    lower = text.lower()
    return lower if len(lower) == len(text) else text.translate(_ASCII_LOWER)


_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def _in_bucket_name(text: str, lower: str, dash: int) -> bool:
    """`logs-482913305561-us-east-1` on a line about a bucket: the number is part of a bucket name."""
    if not dash or not (text[dash - 1].isalnum() or text[dash - 1] == "."):
        return False
    start, end = lower.rfind("\n", 0, dash) + 1, lower.find("\n", dash)
    line = lower[start:end if end >= 0 else len(lower)]
    return "bucket" in line or "s3://" in line


def _before(text: str, offset: int, width: int) -> str:
    """Up to `width` characters before `offset`, on the same line."""
    start = max(text.rfind("\n", 0, offset) + 1, offset - width)
    return text[start:offset]


def _looks_random(s: str) -> bool:
    """A real secret key mixes digits, lower and upper case; AWS's documented one ends in EXAMPLEKEY."""
    return "EXAMPLE" not in s and all(re.search(c, s) for c in (r"\d", "[a-z]", "[A-Z]"))


def _redact_found(what: str, secret: str) -> str:
    if what == "personal e-mail address":
        local, domain = secret.split("@", 1)
        return f"{local[:2]}{'*' * max(3, len(local) - 2)}@{domain}"
    return redact(secret)


@register
class SensitiveData(Rule):
    id = "MF102"
    name = "sensitive-data"
    kind = "SENSITIVE_DATA"
    level = Level.ERROR
    summary = ("Credentials or personal data in the task: AWS access keys and secret keys, real AWS account ids, "
               "GitHub tokens, private keys, personal e-mail addresses.")
    why = ("Everything in a task becomes training data and is published: a key, a token or a private key is leaked "
           "for good, and a real account id or a colleague's e-mail address tells the world where the "
           "infrastructure runs and who built it. Use AWS's documented placeholders (`123456789012`, "
           "`AKIAIOSFODNN7EXAMPLE`), `${AWS::AccountId}` / `Aws.ACCOUNT_ID` in code, and `example.com` addresses. "
           "The finding shows the value redacted; rotate any real credential, rewriting the file is not enough.")
    bad = {"lib/MODEL_FAILURES.md": (
        "# Model Failures\n\n### 1. Hard-coded topic ARN\n\nThe model wrote "
        "`arn:aws:sns:us-east-1:482913305561:alerts` instead of using the stack's account.\n")}
    good = {"lib/MODEL_FAILURES.md": (
        "# Model Failures\n\n### 1. Hard-coded topic ARN\n\nThe model wrote "
        "`arn:aws:sns:us-east-1:123456789012:alerts` instead of `${AWS::AccountId}`; "
        "alerts go to ops@example.com.\n")}

    def check(self, task, config):
        tfvars = [p for p in task.files if p.endswith(".tfvars")]
        for path in (*_lib_docs(task), *task.source_paths, *tfvars):
            text = task.get(path)
            if text:
                yield from self._check_text(path, text)

    def _check_text(self, path: str, text: str):
        secrets = find_secrets(text)
        if not secrets and "PRIVATE KEY" not in text:
            return
        starts = _line_starts(text)
        by_line: dict[int, list[tuple[str, str]]] = {}
        for offset, what, secret in secrets:
            items = by_line.setdefault(bisect.bisect_right(starts, offset), [])
            if (what, secret) not in items:
                items.append((what, secret))
        lines = text.split("\n")
        for n, found in sorted(by_line.items()):
            shown = lines[n - 1].strip()
            for what, secret in found:
                shown = shown.replace(secret, _redact_found(what, secret))
            items = ", ".join(f"{what} `{_redact_found(what, s)}`" for what, s in found[:3])
            yield self.finding(path, n, f"Sensitive data: {items}; replace it with a placeholder.",
                               evidence=_clip(shown))
        if "PRIVATE KEY" in text:
            for m in _PRIVATE_KEY.finditer(text):
                if _KEY_BODY.match(text, m.end()):
                    yield self.finding(path, bisect.bisect_right(starts, m.start()),
                                       f"Private key block `{m.group(0)}` with key material below it.",
                                       evidence=m.group(0))


# --- MF103 placeholder -----------------------------------------------------------------------

# Template sentences of the task repository, and bracketed fill-in-the-blank text.
_TEMPLATE = re.compile(
    r"insert here\b[^.\n]*|insert (?:the |specific |your )?[\w' ]{0,40}? here\b|provide what made the model fail|"
    r"model failures go here|document items such as|\[(?:to be (?:documented|added|determined|filled(?: in)?|"
    r"completed|updated)|tbd|todo|insert[^\]\n]*|add [^\]\n]* here|describe [^\]\n]*)\]", re.I)
# TODO / TBD as the content of a line, a field or a table cell ("**Root Cause**: TBD", "- TODO: ...").
_MARKER = re.compile(r"(TODO|TBD|FIXME)(?=\s*(?:$|[:.\-–—(]))")
_LINE_LEAD = re.compile(r"^\s*(?:>\s*)*(?:#{1,6}\s+|[-*+]\s+(?:\[[ x]\]\s+)?|\d+[.)]\s+)?(?:\*\*[^*]{1,60}\*\*\s*:?\s*)?")
_HINTS = ("insert", "provide what", "go here", "document items", "[to be", "[tbd", "[todo", "[add", "[describe")
_QUOTES = "\"'`“‘«("


def _placeholder_hint(text: str) -> bool:
    """Cheap test for text worth the full look."""
    lower = text.lower()
    return any(h in lower for h in _HINTS) or any(m in text for m in ("TODO", "TBD", "FIXME"))


def find_placeholders(line: str) -> list[str]:
    """Placeholder texts in a prose line (code spans already blanked)."""
    found = [m.group(0).strip() for m in _TEMPLATE.finditer(line)
             if not (m.start() and line[m.start() - 1] in _QUOTES and line[m.start() - 1] != "(")]
    lead = _LINE_LEAD.match(line)
    rest = line[lead.end():] if lead else line
    m = _MARKER.match(rest)
    if m:
        found.append(m.group(1))
    if line.lstrip().startswith("|"):
        found += [cell.strip() for cell in line.strip().strip("|").split("|") if cell.strip() in ("TODO", "TBD")]
    return found


# `## Severity: CRITICAL`, `### Task ID: 52841679`: a heading that is a statement, not a section title.
_LABEL_HEADING = re.compile(r"^[A-Za-z][A-Za-z ]{0,25}:\s*\S|^\[[A-Z]+\]")


def empty_headings(report) -> list:
    """Headings with nothing under them: the next non-blank line is a heading of the same or a
    higher level, or the end of the file. Not reported: `Label: value` headings, and runs of
    same-level headings on adjacent lines (statements written as headings, or code comments
    that lost their fence)."""
    lines, out = report.lines, []
    starts = {h.line: h for h in report.headings}
    for h in report.headings:
        if _LABEL_HEADING.match(h.text) or any(
                (o := starts.get(h.line + d)) is not None and o.level == h.level for d in (-1, 1)):
            continue
        n = h.line + 1
        while n <= len(lines) and not lines[n - 1].strip():
            n += 1
        nxt = starts.get(n)
        if h is report.headings[0] and nxt is not None and nxt.level < h.level:
            continue  # a title above higher-ranked sections (`### Title` then `## Problem`)
        if n > len(lines) or (nxt is not None and nxt.level <= h.level):
            out.append(h)
    return out


@register
class Placeholder(Rule):
    id = "MF103"
    name = "placeholder"
    kind = "PLACEHOLDER"
    level = Level.ERROR
    summary = ("Template text left in the report (`Insert here the model's failures`, `TODO`, `TBD`, "
               "`[To be documented]`) or a heading with nothing under it.")
    why = ("A report that still holds the template's fill-in text was never written, whatever else it says; "
           "an empty section promises an analysis that is not there. Both pass the repository's checks, which "
           "only test that the file exists. A TODO quoted in code or a report discussing the TODO the model "
           "left is not a placeholder and is not reported.")
    bad = {"lib/MODEL_FAILURES.md": ("# Model Failures\n\nInsert here the model's failures\n\n## Root Cause\n\n"
                                     "## Fixes\n\nTBD\n")}
    good = {"lib/MODEL_FAILURES.md": (
        "# Model Failures\n\n## 1. Integration tests left as a stub\n\nThe model left `// TODO: add tests` "
        "instead of tests, so nothing checked the deployed stack.\n\n## Fixes\n\nWrote the integration tests.\n")}

    def check(self, task, config):
        report = task.report
        if _placeholder_hint(report.text):
            yield from self._template_text(report)
        for h in empty_headings(report):
            yield self.finding(report.path, h.line, f"Heading `{h.text}` has nothing under it.",
                               evidence=_clip(report.line_text(h.line).strip()))

    def _template_text(self, report):
        code = _code_lines(report)
        for n, line in enumerate(report.lines, 1):
            if n in code or not _placeholder_hint(line):
                continue
            found = find_placeholders(_mask_inline_code(line))
            if found:
                shown = ", ".join(f"`{f}`" for f in found[:3])
                yield self.finding(report.path, n, f"Placeholder text left in the report: {shown}.",
                                   evidence=_clip(line.strip()))


# --- MF104 no failures documented ------------------------------------------------------------

# A quoted error: exception and error names, compiler and API error codes, CloudFormation states.
_ERROR_CITED = re.compile(
    r"\b[A-Z]\w*(?:Error|Exception|Fault)\b|\berror TS\d+|\b(?:CREATE|UPDATE|DELETE)_FAILED\b|"
    r"\bROLLBACK_(?:COMPLETE|IN_PROGRESS|FAILED)\b|\bAccessDenied\w*|\b(?:Error|ERROR|error|Exception):\s+\S|"
    r"\bTraceback \(most recent|\bInvalid[A-Z]\w+|\bstatus code:? [45]\d\d\b|\bexit code [1-9]")
# Lines that praise or tick off what the model did right, or say there was nothing wrong.
_PRAISE = re.compile(
    r"[✅✓✔]|\[(?:PASS|OK|x)\]|\bPASS(?:ED)?\b|(?<!not )\b(?:correctly|properly|successfully|excellent|"
    r"(?:no|zero|none of the) (?:\w+ ){0,2}(?:issues|failures|problems|errors|gaps)|none (?:found|identified|detected))\b",
    re.I)
# Words that say something is wrong.
_FAULT = re.compile(
    r"\b(?:missing|lack(?:s|ed|ing)?|wrong(?:ly)?|incorrect(?:ly)?|instead of|invalid|fail(?:s|ed|ure|ures|ing)?|"
    r"errors?|broke|broken|bugs?|buggy|doesn'?t|didn'?t|don'?t|(?:did|does|do|was|were|is|are|could|would) not|"
    r"no longer|non-?existent|unsupported|deprecated|hard-?coded|mismatch\w*|typo|misconfigured|misreport\w*|"
    r"crash\w*|cannot|can'?t|unable|unset|exceed\w*|conflict\w*|duplicated?|omit\w*|omission|forgot|unrelated|"
    r"insecure|vulnerab\w*|overly|excessive|too (?:broad|permissive|many|few)|without|absent|no \w+ (?:was|were)|"
    r"not (?:set|enabled|configured|defined|included|created|used|supported|found|allowed|implemented))\b|❌|✗",
    re.I)
# A change the fix made: `Replaced `pointInTimeRecovery` with ...` says the model's code was wrong.
_FIXED = re.compile(r"\b(?:replaced|renamed|corrected|fixed|changed|switched|removed)\b|"
                    r"^\W*(?:replace|rename|fix|change|switch|remove|add)(?:e?d)?\b", re.I)
# Something a reader can look up: a code span, `CamelCase` / `snake_case` / `dotted.name` identifiers,
# an `AWS::Service::Resource` type, a quoted value.
_CODE_ELEMENT = re.compile(r"`[^`\n]+`|\b[a-z]+(?:[A-Z][a-z0-9]+)+\b|\b[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+)+\b|"
                           r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b|\bAWS::\w+::\w+|\b\w+\.\w+\(|\"[^\"\n]{2,60}\"|“[^”\n]{2,60}”")


def _says_wrong(text: str) -> bool:
    return bool(_FAULT.search(text)) and not _PRAISE.search(text)


def failure_evidence(report) -> tuple[int, str] | None:
    """The first concrete failure the report names, as (line, why), or None.

    Concrete: code the report labels as the model's, an error it quotes, an entry that says what
    was wrong, or a sentence that says what was wrong with a code element in it (`enableDnsHostnames`,
    `AWS::EC2::VPC`, a quoted value) or with a code block right below it."""
    for item in (*report.code_blocks, *report.inline_code):
        if item.role == "model":
            return item.line, "the model's code"
    for block in report.code_blocks:
        m = _ERROR_CITED.search(block.text)
        if m:
            return block.line, f"the error `{m.group(0)}`"
    # A report wrapped whole in a ```markdown fence is still prose.
    code = {n for b in report.code_blocks if b.lang not in ("markdown", "md")
            for n in range(b.line, b.end_line + 1)}
    for entry in report.entries:
        body = [report.lines[n - 1] for n in range(entry.line + 1, entry.end_line + 1) if n not in code]
        cites = entry.code or entry.inline or any(_CODE_ELEMENT.search(line) for line in body)
        if cites and not _PRAISE.search(entry.title) and any(_says_wrong(line) for line in body):
            return entry.line, f"entry `{_clip(entry.title, 60)}`"
    fences = {b.line for b in report.code_blocks}
    for n, line in enumerate(report.lines, 1):
        if n in code:
            continue
        m = _ERROR_CITED.search(line)
        if m:
            return n, f"the error `{m.group(0)}`"
        if (_says_wrong(line) or _FIXED.search(line)) and (
                _CODE_ELEMENT.search(line) or fences & set(range(n + 1, n + 4))):
            return n, "a code element said to be wrong"
    return None


@register
class NoFailuresDocumented(Rule):
    id = "MF104"
    name = "no-failures-documented"
    kind = "NO_FAILURES_DOCUMENTED"
    level = Level.ERROR
    summary = ("The report names no concrete failure of the model's answer: no quoted model code, no cited "
               "code element that was wrong, no quoted error.")
    why = ("MODEL_FAILURES.md is the training signal: what the model got wrong, shown on its own code. Praise, a "
           "checklist of what was implemented, a compliance report or two vague lines (`deployment failed because "
           "of the region`) teach nothing, yet they pass the repository's checks, which only test that the file "
           "exists. A failure counts as concrete when the report quotes the model's code, names a code element "
           "it got wrong (`` `enableDnsHostnames` was missing ``) or quotes the error it caused.")
    bad = {"lib/MODEL_FAILURES.md": (
        "# Model Failures\n\nThe model response met all requirements.\n\n- ✅ VPC with public and private subnets\n"
        "- ✅ Encryption at rest\n- ✅ `BlockPublicAccess` enabled on every bucket\n")}
    good = {"lib/MODEL_FAILURES.md": (
        "# Model Failures\n\n### 1. Flow logs without a role\n\nThe model's `aws_flow_log` had no `iam_role_arn`, "
        "so the deployment failed with `InvalidParameter: role ARN required`.\n")}

    def check(self, task, config):
        report = task.report
        if task.report_path not in task.files:
            return  # not read (binary, too large): the engine reports it
        if not report.text.strip():
            yield self.finding(report.path, 1, "The report is empty: it names no failure of the model.")
            return
        if failure_evidence(report) is not None:
            return
        body = [n for n, line in enumerate(report.lines, 1) if line.strip()]
        yield self.finding(report.path, body[0],
                           f"The report names no concrete failure of the model ({_count(len(body), 'non-blank line')}, "
                           f"{_count(len(report.entries), 'entry', 'entries')}; no quoted model code, cited code "
                           "element or error).", evidence=_clip(report.line_text(body[0]).strip()))


def _count(n: int, one: str, many: str = "") -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


# --- MF105 emoji -----------------------------------------------------------------------------

# The anchor repositories' ban: pictographs, emoticons, transport, supplemental symbols, and the
# Miscellaneous Symbols and Dingbats blocks (U+2600-27BF, so ✅ ✓ ✗ ⚠ count), plus any character
# asked to show as emoji (followed by U+FE0F) and regional-indicator flags.
_EMOJI = re.compile(
    "[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B50\u2B55\u2B1B\u2B1C\u231A\u231B\u23E9-\u23FA]\uFE0F?"
    "|[^\\x00-\\x7F\\s\uFE0F]\uFE0F")
DEFAULT_EMOJI_PATHS = ("lib/*.md",)


def find_emoji(line: str) -> list[str]:
    """The emoji of a line, each once, in order (a following U+FE0F belongs to its emoji)."""
    out: list[str] = []
    for m in _EMOJI.finditer(line):
        if m.group(0) not in out:
            out.append(m.group(0))
    return out


def describe_emoji(emoji: str) -> str:
    """`✅ (U+2705)`: the character and its code point(s), variation selector left out."""
    points = "+".join(f"U+{ord(c):04X}" for c in emoji if c != "\uFE0F")
    return f"{emoji} ({points})"


def _emoji_paths(config) -> list[re.Pattern]:
    from bot.task import glob_to_regex

    paths = config.setting("emoji", "paths", list(DEFAULT_EMOJI_PATHS))
    if isinstance(paths, str):
        paths = [paths]
    return [glob_to_regex(str(p)) for p in paths or ()]


@register
class Emoji(Rule):
    id = "MF105"
    name = "emoji"
    kind = "EMOJI"
    level = Level.ERROR
    summary = "Emoji in the task's Markdown documents (`lib/*.md`), which the repository's policy bans."
    why = ("The task repository's pipeline rejects emoji in `lib/*.md` (the prompt, the responses, the report): "
           "they are noise in training text and the pipeline's check uses the Unicode emoji blocks and U+2600-27BF, "
           "so a check mark (✅ ✓) or a cross (❌ ✗) counts too. Catching them here saves a failed pipeline run. "
           "Write `PASS` / `FAIL`, `Yes` / `No`, or plain words instead.")
    settings = {
        "emoji.paths": "globs of the files checked, relative to the task folder (default `[\"lib/*.md\"]`); "
                       "an empty list turns the check off for a repository without the policy",
    }
    bad = {"lib/MODEL_FAILURES.md": ("# Model Failures\n\n### 1. Public bucket ❌\n\n"
                                     "The model left `BlockPublicAcls` unset.\n")}
    good = {"lib/MODEL_FAILURES.md": ("# Model Failures\n\n### 1. Public bucket (FAIL)\n\n"
                                      "The model left `BlockPublicAcls` unset → public.\n")}

    def check(self, task, config):
        patterns = _emoji_paths(config)
        for path in sorted(task.files):
            if not any(p.match(path) for p in patterns):
                continue
            text = task.files[path]
            if text.isascii():
                continue
            for n, line in enumerate(text.split("\n"), 1):
                if line.isascii():
                    continue
                found = find_emoji(line)
                if found:
                    names = ", ".join(describe_emoji(e) for e in found[:5]) + (" ..." if len(found) > 5 else "")
                    yield self.finding(path, n, f"Emoji {names}: the repository bans emoji in {path}.",
                                       evidence=_clip(line.strip()))
