"""Evidence rules: is the quoted code real, is the fix in the final code, do cited files and lines exist.

A report is training data only if what it quotes is true. Quotes are found with `bot.matching`
(normalised, order-preserving, elisions as gaps); a finding is raised only when the evidence is
clearly absent, and it names the closest match so a reviewer can judge in seconds.

Thresholds (measured on the 1,089-PR corpus, see the sweep): a quoted block counts as ABSENT when
at most a third of its lines are found in order, and as PRESENT when at least 60% are. Scores of
real quotes cluster at 100% and of invented or paraphrased ones at 0-25% (often one shared header
line such as `new s3.Bucket(this, 'Logs', {` of three); between the two the rules stay silent.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Iterator

from bot.findings import Level
from bot.matching import Haystack, Match, match_block, match_inline, normal_lines, normalise, one_newline
from bot.report.model import FIX, MODEL, CodeBlock, FileRef, InlineCode, Report
from bot.rules import Rule, register
from bot.security import downgrades, prose_downgrade, prose_hint
from bot.task import IDEAL_RESPONSE, MODEL_RESPONSE, NOT_SOURCE, TEST_PATH, Task

ABSENT = 0.34  # below (a third of the lines or fewer): the quote is not there
PRESENT = 0.6  # at or above: the quote is there
LOCATED = 0.8  # a quote this well found pins down where it is (line references)

# Fenced code that is output, commands or prose, not the model's or the final code.
_SKIP_LANGS = {"bash", "sh", "shell", "console", "zsh", "powershell", "ps1", "ps", "cmd", "bat", "text", "txt",
               "log", "logs", "plaintext", "plain", "output", "diff", "markdown", "md", "mermaid", "ascii", "tree",
               "http", "csv", "none", "terminal", "stdout", "stderr", "error", "errors"}
# Labels of hypothetical or generic code, and of output.
_GENERIC_LABEL = re.compile(
    r"\b(for example|e\.g\.|example|pseudo|hypothetical|such as|something like|would (?:look|be)|could|"
    r"alternative(?:ly)?|optional(?:ly)?|recommend\w*|suggest\w*|consider|future|template|generic|"
    r"error|exception|output|logs?|stack ?trace|traceback|commands?|terminal|cli|console|message|"
    r"warning|test results?|synth(?:esis|esized)? output|run(?:ning)?|typical(?:ly)?|often|usually|commonly|common|"
    r"generally|(?:anti-)?patterns?|models? (?:tend|expect)\w*|would never|might|may|conceptual(?:ly)?|illustrat\w*|"
    r"simplified|sketch|in production|for production|production code)\b",
    re.I,
)
_OUTPUT_LINE = re.compile(
    r"^\s*(\$ |> |npm |npx |yarn |pnpm |cdk |cdktf |terraform |tofu |pulumi |aws |pip |pipenv |python3? -|go (?:test|run|build)|"
    r"mvn |gradle |docker |kubectl |curl |cd |export |\w*Error\b|ERROR\b|error[:\[]|Traceback|FAIL\b|PASS\b|✓|✗|●|╷|│|"
    r"at [\w.<>]+ \(|\d{4}-\d\d-\d\dT|\[\d\d:\d\d|Warning:|WARN|npm ERR|E\s+\w+Error|\w+ \| |"
    r"Terraform (?:plan|will|has)|Plan:|Apply complete|[\w.-]+/$)"
)
# Output markers anywhere in a line (stack events, tree listings, warnings).
_OUTPUT_ANYWHERE = re.compile(r"\b(?:CREATE|UPDATE|DELETE|ROLLBACK)_(?:FAILED|COMPLETE|IN_PROGRESS)\b|[├└]|\bwarning:\s|"
                              r"\(\d+(?:\.\d+)? ?m?s\)\s*$")
# Text without any of these has no match of `_OUTPUT_ANYWHERE`.
_OUTPUT_ANYWHERE_LITERALS = ("_FAILED", "_COMPLETE", "_IN_PROGRESS", "├", "└", "warning:", "s)")
# Labels that name the model as the author of a snippet: weak labels ("wrong", "❌") also mark code
# of QA attempts, tests and illustrations, which need not be in MODEL_RESPONSE.md.
_MODEL_AUTHOR = re.compile(r"model|generated|\bbefore\b|\bLLM\b", re.I)
_CODE_CHARS = re.compile(r"[=:{}()\[\];<>]|^\s*[-\w\"']+:\s|\w\.\w")
# Inline spans: lines that speak about what is absent, wished for or compared are not a quote.
_INLINE_CONTEXT_SKIP = re.compile(
    r"\b(no|not|missing|lack\w*|without|absent|instead|never|omit\w*|forg[oe]t\w*|should|must|needs?|"
    r"add\w*|remov\w*|replac\w*|deprecat\w*|rather|vs\.?|versus|e\.g\.|example|such as|like|either|or|"
    r"than|renam\w*|chang\w*|convert\w*|switch\w*|moved?|became|becomes|invalid|unsupported|doesn't|"
    r"didn't|don't|isn't|wasn't|can't|cannot)\b|→|->|=>",
    re.I,
)
_COMMAND = re.compile(r"^\s*(\$|npm|npx|yarn|cdk|cdktf|terraform|pulumi|aws|pip|pipenv|python3?|go|mvn|gradle|docker|"
                      r"git|make|bash|sh|curl|jest|pytest)\b")
# Two plain words in a row outside string literals: a sentence or a message (`C0305: Trailing newlines`).
_PROSE_WORDS = re.compile(r"\b(?!(?:new|const|let|var|return|def|class|import|from|resource|data|module|variable|output|"
                          r"await|async|export|public|private|static|final|function|lambda|not|and|or|in|is|if|for)\b)"
                          r"[A-Za-z]{2,} (?!(?:new|in|is|and|or|if|for|as)\b)[A-Za-z]{2,}\b(?!\s*[(=:.\[{])")
_IDENT = re.compile(r"[A-Za-z_$][\w$]{3,}")
# Cited paths that are toolchain or generated files, named in prose about the process.
_GENERIC_PATH = re.compile(
    r"(^|/)(README|CHANGELOG|LICENSE|CONTRIBUTING)\.md$|^(cdk\.out|cdktf\.out|node_modules|\.terraform|coverage|"
    r"cfn-outputs|dist|build|\.github|\.gen|tmp|/tmp|~)/|(^|/)(terraform\.tfstate|terraform\.tfvars|\.terraform\.lock\.hcl|"
    r"flat-outputs\.json|all-outputs\.json|cdk-outputs\.json|outputs\.json|manifest\.json|tree\.json|"
    r"tsconfig[\w.-]*\.json|Pulumi[\w.-]*\.ya?ml|docker-compose\.ya?ml|buildspec\.ya?ml|\.eslintrc[\w.]*|"
    r"requirements[\w-]*\.txt|setup\.cfg|jest\.config\.\w+|babel\.config\.\w+|lerna\.json)$"
)
_WORKING_CLAIM = re.compile(r"^[\s#*>-]*(working code)\b|\b(all tests? (?:pass|passed|passing)|all \d+ tests pass\w*)\b", re.I | re.M)
# A claim stated as a goal or a condition ("successful if: all tests pass") is not a report of a run.
_CONDITIONAL = re.compile(r"\b(if|should|must|criteria|will|would|expected|ensure|until|when|goal|target|once|to make)\b", re.I)


# -- what a task offers as evidence (built once per task) ----------------------------------------

def _is_final_file(path: str) -> bool:
    """Files of the final solution: everything but the report, the prompt and the model's response."""
    name = posixpath.basename(path)
    if name.endswith((".md", ".markdown")):
        return name.startswith("IDEAL_RESPONSE")
    return True


@dataclass
class Evidence:
    """The haystacks of one task, built on first use; each file is normalised once."""

    task: Task
    normalised: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, Haystack] = field(default_factory=dict)  # one file alone (line references)

    def _hay(self, paths) -> Haystack:
        parts = []
        for path in sorted(paths):
            if path not in self.normalised:
                self.normalised[path] = normal_lines(path, self.task.files[path])
            parts.append((path, 1, self.normalised[path]))
        return Haystack(parts=parts)

    @cached_property
    def model(self) -> Haystack:
        return self._hay(p for p in self.task.files
                         if posixpath.basename(p).startswith("MODEL_RESPONSE") and p.endswith(".md"))

    @cached_property
    def final(self) -> Haystack:
        """IDEAL_RESPONSE.md and the final files but tests: where a fix must be."""
        return self._hay(p for p in self.task.files
                         if p != self.task.report_path and _is_final_file(p) and not TEST_PATH.search(p))

    @cached_property
    def tests(self) -> Haystack:
        """The final tests: looked at only when a fix is not in `final` (they are large, fixes there rare)."""
        return self._hay(p for p in self.task.files if p != self.task.report_path and TEST_PATH.search(p))

    def match_final(self, text: str, lang: str) -> Match:
        m = match_block(text, lang, self.final)
        return m if m.score >= PRESENT else max(m, match_block(text, lang, self.tests), key=lambda x: x.score)

    def match_final_inline(self, text: str) -> Match:
        m = match_inline(text, self.final)
        return m if m.score >= 1.0 else max(m, match_inline(text, self.tests), key=lambda x: x.score)

    def in_code(self, norm: str, tests: bool = False) -> tuple[str, int] | None:
        """Where a normalised line occurs in a final file other than IDEAL_RESPONSE.md (deployed code),
        or with `tests` also in a test file."""
        for hay in (self.final, self.tests) if tests else (self.final,):
            for pos in hay.positions(norm, False):
                path, line = hay.location(pos)
                if not path.endswith(".md"):
                    return path, line
        return None

    @cached_property
    def has_code(self) -> bool:
        return any(p != self.task.report_path and _is_final_file(p) and not p.endswith(".md") for p in self.task.files)

    @cached_property
    def not_applied(self) -> list[tuple[CodeBlock, CodeBlock, tuple[str, int]]]:
        """Fixes the final code lacks (MF302 skips them, MF303 reports them): see `_not_applied`."""
        return list(_not_applied(self.task, self))

    @cached_property
    def ideal_blocks(self) -> list["FencedBlock"]:
        return fenced_blocks(self.task.ideal_response or "")

    def file(self, path: str) -> Haystack:
        if path not in self.files:
            self.files[path] = self._hay([path])
        return self.files[path]


_LAST: list = [None, None]  # (task, Evidence): rules run task by task, so one slot is enough


def evidence_of(task: Task) -> Evidence:
    if _LAST[0] is not task:
        _LAST[0], _LAST[1] = task, Evidence(task)
    return _LAST[1]


# -- which quotes count as evidence ---------------------------------------------------------------

# Files outside the task folder (the repository's root toolchain): their fixes cannot be checked.
_ROOT_CONFIG = re.compile(r"^\s*(?:module \S+$|require \(|go \d)|\"(?:compilerOptions|devDependencies|dependencies|scripts|"
                          r"exclude|include|types|jest|testMatch|coverageThreshold)\"\s*:", re.M)


def checkable(block: CodeBlock) -> bool:
    """A block that quotes code (not output, commands, prose, an example or root toolchain config)."""
    return _checkable(block.text, block.lang, block.label or "")


@lru_cache(maxsize=2048)  # several rules ask about the same block
def _checkable(text: str, lang: str, label: str) -> bool:
    if lang in _SKIP_LANGS or _GENERIC_LABEL.search(label):
        return False
    lines = [line for line in text.split("\n") if line.strip()]
    if not lines or _ROOT_CONFIG.search(text) or _GENERIC_LABEL.search(_comment_label(lines[0])):
        return False
    if _OUTPUT_LINE.match(lines[0]) or _output_lines(lines, text) >= 0.2 * len(lines):
        return False
    return _at_least(_CODE_CHARS, lines, 0.5 * len(lines)) and len(normalise(text, lang)) >= 2


def _output_lines(lines: list[str], text: str) -> int:
    """How many lines (of `text`) look like output."""
    if not any(literal in text for literal in _OUTPUT_ANYWHERE_LITERALS):  # most code: no search in each line
        return sum(1 for line in lines if _OUTPUT_LINE.match(line))
    return sum(1 for line in lines if _OUTPUT_LINE.match(line) or _OUTPUT_ANYWHERE.search(line))


def _at_least(rx: re.Pattern[str], lines: list[str], need: float) -> bool:
    """Whether `rx` is found in `need` of the lines or more (stops counting there)."""
    count = 0
    for line in lines:
        if rx.search(line):
            count += 1
            if count >= need:
                return True
    return count >= need


_GENERIC_ENTRY = re.compile(r"\b(typical(?:ly)?|commonly|common (?:mistakes?|patterns?|failures?|errors?)|models? (?:often|usually|tend))\b", re.I)


def generic_entry(report: Report, block: CodeBlock) -> bool:
    """Whether the entry around a block describes what models typically do, not this model's code."""
    entry = report.entry_at(block.line)
    start = entry.line if entry else max(1, block.line - 6)
    return bool(_GENERIC_ENTRY.search("\n".join(report.lines[start - 1:block.line - 1])))


_COMMENT_LINE = re.compile(r"^\s*(#|//|--|/\*|<!--)")


def _comment_label(line: str) -> str:
    """The first line of a block when it is a comment (`// WRONG: typical output`), else ""."""
    return line if _COMMENT_LINE.match(line) else ""


# "MODEL_RESPONSE is missing this:" labels code the model did not write.
_NOT_WRITTEN = re.compile(r"\b(missing|lack\w*|absent|omitted|did not|didn't|does not|should (?:have|be)|needs?|"
                          r"instead|expected)\b", re.I)
_FIX_WORD = re.compile(r"\b(ideal|fix(?:ed)?|correct(?:ed)?|after)\b", re.I)


def by_model(block: CodeBlock) -> bool:
    """Whether the report says the model wrote this block (not only that it is wrong, nor that it lacks it)."""
    first = next((line for line in block.text.split("\n") if line.strip()), "")
    label = _comment_label(first) if _MODEL_AUTHOR.search(_comment_label(first)) else (block.label or "")
    return bool(_MODEL_AUTHOR.search(label)) and not _NOT_WRITTEN.search(label) and not mixed(block)


def mixed(block: CodeBlock) -> bool:
    """A block that holds the model's code and the fix, each under its own comment: neither side alone."""
    comments = [line for line in block.text.split("\n")[1:] if _comment_label(line)]
    return any(_MODEL_AUTHOR.search(c) for c in comments) or \
        any(_FIX_WORD.search(c) and not _MODEL_AUTHOR.search(c) for c in comments) and block.role == MODEL


def checkable_inline(code: InlineCode, report: Report) -> bool:
    """An inline span that quotes code, on a line that states it plainly."""
    text = code.text.strip()
    if len(text) < 12 or not re.search(r"[(=:{\[]", text) or _COMMAND.match(text) or "..." in text:
        return False
    bare = re.sub(r"\"[^\"]*\"|'[^']*'", "", text)
    if _PROSE_WORDS.search(bare) or re.search(r"error|exception|failed|warning|denied|expected", text, re.I):
        return False  # a message or a sentence, not code
    if re.match(r"[A-Z_][A-Z0-9_]*=|[A-Z][a-z]+(?: [a-z]+)*: ", text):
        return False  # an environment setting (`PYTHONPATH=...`) or a labelled message (`Expected pattern: ...`)
    if not _IDENT.search(text) or len(re.findall(r"[\w$]+", text)) < 2 or re.fullmatch(r"[\w./-]+", text):
        return False
    return not _INLINE_CONTEXT_SKIP.search(report.line_text(code.line).replace(f"`{code.text}`", " "))


def first_lines(text: str) -> str:
    """A quote in one line, for the evidence field."""
    return " / ".join(line.strip() for line in text.split("\n") if line.strip())[:160]


def _groups(report: Report) -> list[list[CodeBlock]]:
    """Code blocks grouped by entry (else by section), in order."""
    if report.entries:
        return [e.code for e in report.entries if e.code]
    groups: dict[int, list[CodeBlock]] = {}
    for block in report.code_blocks:
        head = report.section_of(block.line)
        groups.setdefault(head.line if head else 0, []).append(block)
    return list(groups.values())


def pairs(report: Report) -> Iterator[tuple[CodeBlock, CodeBlock]]:
    """(model's code, its fix): each fix block with the model block just before it in its entry."""
    for blocks in _groups(report):
        last_model = None
        for block in blocks:
            if block.role == MODEL:
                last_model = block
            elif block.role == FIX and last_model is not None:
                yield last_model, block
                last_model = None


# -- rules -------------------------------------------------------------------------------------

_MR_TEXT = "lib/MODEL_RESPONSE.md"
_EX_MODEL = ("```typescript\nimport * as s3 from 'aws-cdk-lib/aws-s3';\n\nexport class TapStack extends cdk.Stack {\n"
             "  constructor(scope: Construct, id: string) {\n    super(scope, id);\n"
             "    const bucket = new s3.Bucket(this, 'Logs', {\n      encryption: s3.BucketEncryption.S3_MANAGED,\n"
             "      versioned: false,\n    });\n  }\n}\n```\n")
_EX_FINAL = ("import * as s3 from 'aws-cdk-lib/aws-s3';\n\nexport class TapStack extends cdk.Stack {\n"
             "  constructor(scope: Construct, id: string) {\n    super(scope, id);\n"
             "    const key = new kms.Key(this, 'LogsKey', { enableKeyRotation: true });\n"
             "    const bucket = new s3.Bucket(this, 'Logs', {\n      encryptionKey: key,\n"
             "      encryption: s3.BucketEncryption.KMS,\n      versioned: true,\n    });\n  }\n}\n")


def _report(model_code: str, fix_code: str, extra: str = "") -> str:
    return ("# Model Failures\n\n### 1. Bucket encryption\n\n**Impact Level**: High\n\n"
            f"**MODEL_RESPONSE Issue**:\n\n```typescript\n{model_code}```\n\n"
            f"**IDEAL_RESPONSE Fix**:\n\n```typescript\n{fix_code}```\n{extra}")


def _task(report: str, final: str = _EX_FINAL, ideal: str | None = None) -> dict[str, str]:
    ideal_text = ideal if ideal is not None else f"# Ideal\n\n## lib/tap-stack.ts\n\n```typescript\n{final}```\n"
    return {"lib/MODEL_FAILURES.md": report, _MR_TEXT: "# Model response\n\n" + _EX_MODEL,
            "lib/IDEAL_RESPONSE.md": ideal_text, "lib/tap-stack.ts": final}


_GOOD_REPORT = _report("const bucket = new s3.Bucket(this, 'Logs', {\n  encryption: s3.BucketEncryption.S3_MANAGED,  // weak\n"
                       "  // ...\n});\n",
                       "const bucket = new s3.Bucket(this, \"Logs\", {\n  encryptionKey: key,\n"
                       "  encryption: s3.BucketEncryption.KMS,\n  versioned: true,\n});\n")


@register
class EvidenceNotInModelResponse(Rule):
    id = "MF301"
    name = "evidence-not-in-model-response"
    kind = "EVIDENCE_NOT_IN_MODEL_RESPONSE"
    level = Level.ERROR
    summary = "Code the report presents as the model's original does not occur in lib/MODEL_RESPONSE.md."
    why = ("A failure report teaches the gap between what the model wrote and what was right. When the code "
           "shown as the model's is not in MODEL_RESPONSE.md (invented, paraphrased, or taken from a later "
           "version), the lesson is about a mistake the model never made. Quotes are matched after removing "
           "comments, whitespace and elisions; the finding shows how much of the quote was found and where.")
    bad = _task(_report("const site = new s3.Bucket(this, 'Site', {\n  publicReadAccess: true,\n"
                        "  websiteIndexDocument: 'index.html',\n});\n",
                        "const bucket = new s3.Bucket(this, 'Logs', {\n  encryptionKey: key,\n});\n"))
    good = _task(_GOOD_REPORT)

    def check(self, task, config):
        ev = evidence_of(task)
        if task.model_response is None:
            return
        report = task.report
        for block in report.code_blocks:
            if block.role != MODEL or not by_model(block) or not checkable(block) or generic_entry(report, block):
                continue
            m = match_block(block.text, block.lang, ev.model)
            if m.total < 2 or m.score >= ABSENT:
                continue
            # Found in the final code instead: a label the parser misread, or code the fix kept.
            if ev.match_final(block.text, block.lang).score >= PRESENT:
                continue
            yield self.finding(
                task.report_path, block.first_code_line,
                f"Code shown as the model's ({_label(block)}) is not in {MODEL_RESPONSE}: {m.found} of {m.total} "
                f"lines found; closest: {m.describe()}.",
                evidence=first_lines(block.text), end_line=block.end_line - 1)
        for code in report.inline_code:
            if code.role != MODEL or not checkable_inline(code, report):
                continue
            m = match_inline(code.text, ev.model)
            if m.score < 0.5 and ev.match_final_inline(code.text).score < 1.0:
                yield self.finding(
                    task.report_path, code.line,
                    f"`{code.text}` is shown as the model's code but is not in {MODEL_RESPONSE} "
                    f"({m.found} of {m.total} names found).", evidence=code.text)


def _label(block: CodeBlock) -> str:
    """The label the role was read from, short: its last bold field or last words."""
    parts = [p.strip(" :#-") for p in re.split(r"\*\*", block.label or "") if p.strip(" :#-")]
    label = parts[-1] if parts else ""
    return f'"{label[:50]}"' if label else "labelled so"


@register
class EvidenceNotInFinal(Rule):
    id = "MF302"
    name = "evidence-not-in-final"
    kind = "EVIDENCE_NOT_IN_FINAL"
    level = Level.ERROR
    summary = "Code the report presents as the fix occurs neither in IDEAL_RESPONSE.md nor in the final sources."
    why = ("The fix half of a failure is what the model should learn to write. A fix that is in neither "
           "IDEAL_RESPONSE.md nor the final code was never deployed or tested: it may not even work. Quotes are "
           "matched after removing comments, whitespace and elisions; the finding shows the closest match.")
    bad = _task(_report("const bucket = new s3.Bucket(this, 'Logs', {\n  encryption: s3.BucketEncryption.S3_MANAGED,\n});\n",
                        "const bucket = new s3.Bucket(this, 'Logs', {\n  objectLockEnabled: true,\n"
                        "  objectLockDefaultRetention: s3.ObjectLockRetention.governance(cdk.Duration.days(90)),\n"
                        "  serverAccessLogsPrefix: 'access/',\n});\n"))
    good = _task(_GOOD_REPORT)

    def check(self, task, config):
        ev = evidence_of(task)
        report = task.report
        not_applied = {fix.line for _, fix, _ in ev.not_applied}
        for block in report.code_blocks:
            if block.role != FIX or block.line in not_applied or not checkable(block) or generic_entry(report, block) \
                    or mixed(block):
                continue
            m = ev.match_final(block.text, block.lang)
            if m.total < 2 or m.score >= ABSENT:
                continue
            if match_block(block.text, block.lang, ev.model).score >= PRESENT:
                continue  # the model's code shown as context, or a label read the wrong way
            yield self.finding(
                task.report_path, block.first_code_line,
                f"Fix ({_label(block)}) is in neither {IDEAL_RESPONSE} nor the final files: {m.found} of {m.total} "
                f"lines found; closest: {m.describe()}.",
                evidence=first_lines(block.text), end_line=block.end_line - 1)
        for code in report.inline_code:
            if code.role != FIX or not checkable_inline(code, report):
                continue
            m = ev.match_final_inline(code.text)
            if m.score < 0.5 and match_inline(code.text, ev.model).score < 1.0:
                yield self.finding(
                    task.report_path, code.line,
                    f"`{code.text}` is shown as the fix but is in neither {IDEAL_RESPONSE} nor the final files "
                    f"({m.found} of {m.total} names found).", evidence=code.text)


def _specific(norm: str) -> bool:
    """A line that sets something (`retention=Duration.days(7)`), not structure (`tags={`, `Parameters:`)."""
    return len(norm) >= 10 and not norm.endswith(("{", "[", "(", ":", "=", "({", "[{", "=>")) and bool(re.search(r"[:=(]", norm))


def _changed_lines(a: CodeBlock, b: CodeBlock) -> list[tuple[str, int]]:
    """Specific lines of `a` (normalised, with their 0-based line in the block) that `b` lacks."""
    other = {n for n, _, _ in normalise(b.text, b.lang)}
    return [(n, i) for n, i, elided in normalise(a.text, a.lang) if n not in other and not elided and _specific(n)]


def _not_applied(task: Task, ev: Evidence) -> Iterator[tuple[CodeBlock, CodeBlock, tuple[str, int]]]:
    """(model block, fix block, (path, line) of the wrong code) for fixes the final code lacks while it
    still holds every line the fix changed."""
    if not ev.has_code:
        return
    for model, fix in pairs(task.report):
        if not (checkable(model) and checkable(fix)):
            continue
        wrong = _changed_lines(model, fix)
        right = _changed_lines(fix, model)
        if not wrong or not right or sum(len(n) for n, _ in wrong) < 15:
            continue
        hits = [ev.in_code(n) for n, _ in wrong]
        if not all(hits):
            continue
        found_right = sum(1 for n, _ in right if ev.in_code(n, tests=True))
        if found_right / len(right) >= ABSENT:
            continue
        yield model, fix, hits[max(range(len(wrong)), key=lambda k: len(wrong[k][0]))]


@register
class FixNotApplied(Rule):
    id = "MF303"
    name = "fix-not-applied"
    kind = "FIX_NOT_APPLIED"
    level = Level.ERROR
    summary = "The final code still holds the code the report calls wrong, and lacks the fix it claims."
    why = ("A report that says a mistake was fixed, over final code that still has it, is false twice: the "
           "deployed code keeps the defect and the training pair claims a correction that never happened. "
           "Only the lines that differ between the wrong and the fixed snippet are compared.")
    bad = _task(_report("const bucket = new s3.Bucket(this, 'Logs', {\n  encryption: s3.BucketEncryption.S3_MANAGED,\n"
                        "  versioned: false,\n});\n",
                        "const bucket = new s3.Bucket(this, 'Logs', {\n  encryption: s3.BucketEncryption.KMS_MANAGED,\n"
                        "  versioned: true,\n});\n"),
                final=_EX_FINAL.replace("      encryption: s3.BucketEncryption.KMS,\n      versioned: true,\n",
                                        "      encryption: s3.BucketEncryption.S3_MANAGED,\n      versioned: false,\n"))
    good = _task(_GOOD_REPORT)

    def check(self, task, config):
        for model, fix, (path, line) in evidence_of(task).not_applied:
            wrong = max(_changed_lines(model, fix), key=lambda w: len(w[0]))  # the most telling line
            quoted_at = model.first_code_line + wrong[1]
            shown = task.files[path].split("\n")[line - 1].strip()
            yield self.finding(
                task.report_path, fix.first_code_line,
                f"Fix not applied: {task.display(path)}:{line} still has `{shown[:80]}` (the wrong code quoted at "
                f"line {quoted_at}) and none of the fix's changed lines are in the final files.",
                evidence=first_lines(fix.text), end_line=fix.end_line - 1)


# -- cited files and lines -----------------------------------------------------------------------

def _named_anywhere(task: Task, path: str) -> bool:
    """Whether a file of the task has that name (in any case), or another file of the task names it: the
    files IDEAL_RESPONSE.md creates, the ones the model's response or the prompt talk about."""
    name = posixpath.basename(path).lower()
    if any(posixpath.basename(p).lower() == name or p.lower().endswith(name) for p in task.files):
        return True
    name = posixpath.basename(path)
    return any(name in text for p, text in task.files.items() if p != task.report_path)


# A line that says a file is absent, or names it as an expectation, does not cite it as evidence.
_ABSENCE = re.compile(r"\b(never|not|no|missing|lack\w*|without|absent|instead|should|expected|expects?|rename\w*|"
                      r"moved?|delet\w*|remov\w*|didn't|doesn't|don't|wasn't|isn't|asked|requir\w*|request\w*|"
                      r"would|could|e\.g\.|example|such as|like|non-?existent|incorrect|wrong|vs\.?|versus|looked for|"
                      r"referenced|mismatch\w*|leftover|confus\w*|conventions?|naming|existed|previous|often|typical\w*|"
                      r"split|unused|obsolete|legacy|old)\b", re.I)
# Names of tools and languages that look like file names (`Node.js`), and the repository's own docs.
_NOT_A_FILE = re.compile(r"^[A-Z][\w]*\.js$|\.md(\.log)?$|^(scripts|\.claude|templates|cli|docs?|archive)/|"
                         r"(^|/)(build|synth|deploy|destroy|lint|unit-tests|integration-tests|bootstrap|get-outputs|"
                         r"setup|test|run-tests)\.sh$|(^|/)coverage[\w-]*\.json$", re.I)


def _paragraph_before(report: Report, line: int) -> str:
    """A line and the lines above it in its paragraph or list (the intro of a list of files)."""
    out = [report.line_text(line)]
    for n in range(line - 1, max(0, line - 9), -1):
        text = report.line_text(n)
        if not text.strip() or text.lstrip().startswith("#"):
            break
        out.append(text)
    return "\n".join(out)


def _generic_ref(ref: FileRef, report: Report) -> bool:
    path = ref.path or ""
    if _GENERIC_PATH.search(path) or NOT_SOURCE.search(path.lower()) or re.search(r"[{}$*<>]", path) \
            or _NOT_A_FILE.search(path.lstrip("./")):
        return True
    line = report.line_text(ref.line)
    if _ABSENCE.search(_paragraph_before(report, ref.line)):
        return True
    # Inside a command or an example (`cat lib/x.json`, "e.g. `stack.ts`").
    for span in re.findall(r"`([^`]+)`", line):
        if path in span and (_COMMAND.match(span) or " " in span.strip()):
            return True
    return bool(re.search(r"\b(e\.g\.|for example|such as|like)\b[^.]{0,40}" + re.escape(path), line, re.I))


def resolve(task: Task, path: str) -> str | None:
    """The task file a cited path means: exact, `lib/`-relative, or the only file with that name."""
    path = path.lstrip("./")
    if path in task.files:
        return path
    for cand in (f"lib/{path}", path.removeprefix(task.root + "/") if task.root else path):
        if cand in task.files:
            return cand
    same = [p for p in task.files if p.endswith("/" + path) or posixpath.basename(p) == posixpath.basename(path)]
    return same[0] if len(same) == 1 else None


@register
class FileRefMissing(Rule):
    id = "MF304"
    name = "file-ref-missing"
    kind = "FILE_REF_MISSING"
    level = Level.WARNING
    summary = "The report cites a file that neither exists in the task nor is created by IDEAL_RESPONSE.md."
    why = ("A cited file is evidence a reviewer follows. A path that exists nowhere (a log that was never "
           "committed, a module of another task, a renamed file) points at evidence no one can check. Tooling "
           "files named in passing (package.json, tsconfig.json) and paths inside commands are not citations.")
    bad = {**_task(_GOOD_REPORT + "\nSee `lib/cross_account_roles.py` and deployment.log for the failure.\n")}
    good = {**_task(_GOOD_REPORT + "\nSee `lib/tap-stack.ts` for the failure.\n")}

    def check(self, task, config):
        report = task.report
        seen = set()
        for ref in report.refs:
            if not ref.path or ref.path in seen or _generic_ref(ref, report):
                continue
            seen.add(ref.path)
            if resolve(task, ref.path) or _named_anywhere(task, ref.path):
                continue
            yield self.finding(task.report_path, ref.line,
                               f"`{ref.path}` is cited but is not in the task and no file of it names it.",
                               evidence=report.line_text(ref.line).strip()[:200])


def _cited_code(report: Report, ref: FileRef) -> tuple[str, str, str | None] | None:
    """(text, lang, role) of what a line citation points at: inline code on its line, else the next
    code block within a few lines in the same entry."""
    for code in report.inline_code:
        if code.line == ref.line and len(code.text) >= 12 and re.search(r"[(=:{\[]", code.text) \
                and (not ref.path or ref.path not in code.text):
            return code.text, "", code.role
    entry = report.entry_at(ref.line)
    limit = entry.end_line if entry else ref.line + 8
    for block in report.code_blocks:
        if ref.line < block.line <= min(limit, ref.line + 8):
            return (block.text, block.lang, block.role) if checkable(block) else None
    return None


def _line_ref_path(report: Report, ref: FileRef) -> str | None:
    """The file a line citation is about: its own path, else the path cited just before it on its line."""
    if ref.path:
        return ref.path
    before = [r for r in report.refs if r.line == ref.line and r.path and r.text != ref.text
              and report.line_text(ref.line).find(r.text) < report.line_text(ref.line).find(ref.text)]
    return before[-1].path if before else None


def _fence_starts(text: str) -> list[int]:
    """1-based lines of opening fences in a markdown file."""
    out, open_ = [], False
    for n, line in enumerate(text.split("\n"), 1):
        if re.match(r"^\s{0,3}(```|~~~)", line):
            if not open_:
                out.append(n)
            open_ = not open_
    return out


@register
class LineRefWrong(Rule):
    id = "MF305"
    name = "line-ref-wrong"
    kind = "LINE_REF_WRONG"
    level = Level.WARNING
    summary = "A cited line or range of a file does not hold the code the report quotes there."
    why = ("Line numbers let a reviewer check a claim in seconds; wrong ones send them to unrelated code and "
           "make the claim look invented. The quoted code is located in the cited file; when it is found "
           "clearly elsewhere, the finding says which lines hold it.")
    bad = _task(_GOOD_REPORT.replace("**MODEL_RESPONSE Issue**:", "**MODEL_RESPONSE Issue** (lib/MODEL_RESPONSE.md lines 30-31):"))
    good = _task(_GOOD_REPORT.replace("**MODEL_RESPONSE Issue**:", "**MODEL_RESPONSE Issue** (lib/MODEL_RESPONSE.md lines 9-12):"))

    def check(self, task, config):
        report = task.report
        ev = evidence_of(task)
        for ref in report.refs:
            if not ref.start:
                continue
            cited = _line_ref_path(report, ref)
            path = resolve(task, cited) if cited else None
            if path is None or path == task.report_path:
                continue
            quote = _cited_code(report, ref)
            if quote is None:
                continue
            text, lang, role = quote
            is_md = path.endswith(".md")
            # The model's code cited in a final file (or a fix in the model's response) names lines of
            # another version of that file: nothing to compare.
            if (role == MODEL and not path.endswith("MODEL_RESPONSE.md")) or (role == FIX and "MODEL_RESPONSE" in path):
                continue
            hay = ev.file(path)
            block_quote = "\n" in text.strip()
            m = match_block(text, lang, hay) if block_quote else match_inline(text, hay)
            if m.path is None or m.score < (LOCATED if block_quote else 1.0):
                continue
            start, end = ref.start, max(ref.end or ref.start, ref.start)
            if self._holds(text, lang, block_quote, hay, path, start, end):
                continue
            if is_md and any(self._holds(text, lang, block_quote, hay, path, f + start, f + end)
                             for f in _fence_starts(task.files[path])):
                continue  # lines counted from the start of a code block
            cited_text = task.files[path].split("\n")
            held = cited_text[start - 1].strip()[:80] if start <= len(cited_text) else f"(the file has {len(cited_text)} lines)"
            span = f"{start}-{end}" if end != start else f"{start}"
            yield self.finding(task.report_path, ref.line,
                               f"{task.display(path)}:{span} does not hold the quoted code; it is at "
                               f"{task.display(path)}:{m.line}-{m.end_line}.",
                               evidence=f"line {start}: {held}")

    @staticmethod
    def _holds(text: str, lang: str, block_quote: bool, hay: Haystack, path: str, start: int, end: int) -> bool:
        window = hay.window(path, start - 3, end + 3)
        if not block_quote:
            return match_inline(text, window).score >= 1.0
        # Any quoted line in the cited range counts: a citation may name only part of a quote
        # ("lines 40-41, 366"), and only a range that holds none of it is clearly wrong.
        return match_block(text, lang, window).found >= 1


# -- security downgrades -------------------------------------------------------------------------

@register
class SecurityDowngrade(Rule):
    id = "MF306"
    name = "security-downgrade"
    kind = "SECURITY_DOWNGRADE"
    level = Level.ERROR
    summary = "A change presented as a fix removes or weakens a security control (encryption, IAM scope, ingress, logging)."
    why = ("A training pair whose 'fix' drops KMS encryption, widens IAM to `*`, grants AdministratorAccess, "
           "opens ingress to 0.0.0.0/0 or turns off logging, deletion protection or versioning teaches the model "
           "to make infrastructure less secure. The model's snippet and its fix are compared control by control; "
           "prose such as \"removed encryption for simplicity\" is flagged too.")
    bad = _task(_report("const bucket = new s3.Bucket(this, 'Logs', {\n  encryption: s3.BucketEncryption.KMS,\n"
                        "  encryptionKey: key,\n  versioned: true,\n});\n",
                        "const bucket = new s3.Bucket(this, 'Logs', {\n  encryption: s3.BucketEncryption.S3_MANAGED,\n"
                        "  versioned: true,\n});\n"))
    good = _task(_GOOD_REPORT)

    def check(self, task, config):
        report = task.report
        for model, fix in pairs(report):
            if not (checkable(model) and checkable(fix)):
                continue
            found = downgrades(model.text, fix.text)
            if found:
                d = found[0]
                change = (f"`{d.before[:60]}` becomes `{d.after[:60]}`" if d.before and d.after else
                          f"`{d.before[:60]}` is dropped" if d.before else f"adds `{d.after[:60]}`")
                more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
                yield self.finding(task.report_path, fix.first_code_line,
                                   f"The fix weakens {d.control}: {change}{more}.",
                                   evidence="; ".join(x.control for x in found), end_line=fix.end_line - 1)
        if not prose_hint(report.text):
            return  # no entry can say it (the prose test looks for the same hints in part of this text)
        for entry in report.entries:
            code = {n for b in entry.code for n in range(b.line, b.end_line + 1)}
            text = "\n".join(line for n, line in enumerate(report.lines[entry.line - 1:entry.end_line], entry.line)
                             if n not in code)
            said = prose_downgrade(text)
            if said:
                line = entry.line + next(i for i, t in enumerate(report.lines[entry.line - 1:entry.end_line])
                                         if said.split()[0] in t)
                yield self.finding(task.report_path, line, f"The report says a security control was removed: \"{said}\".",
                                   evidence=said)


# -- IDEAL_RESPONSE in sync with the final code ----------------------------------------------------

def _clean(text: str) -> list[str]:
    """Lines with endings normalised and trailing whitespace dropped, without leading/trailing blank lines."""
    lines = list(map(str.rstrip, one_newline(text).split("\n")))
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def sync_files(task: Task) -> list[str]:
    """The final IaC files IDEAL_RESPONSE.md must show: sources under lib/ but generated template twins."""
    return [p for p in task.source_paths if p.startswith("lib/") and p not in task.template_twins]


_FENCE_RUNS = (("```", re.compile("`+")), ("~~~", re.compile("~+")))


def _fences(text: str) -> list[tuple[int, str]]:
    """(start of the line, fence) of each line that opens with a fence (`^ {0,3}(`{3,}|~{3,})`), in
    order. Found from the fence characters, far rarer than line starts; the start of the line is
    looked for back to the previous candidate only, so a long line of backticks stays linear."""
    found = []
    for marker, run in _FENCE_RUNS:
        k, line_start, scanned = text.find(marker), 0, 0
        while k >= 0:
            newline = text.rfind("\n", scanned, k)
            if newline >= 0:
                line_start = newline + 1
            end = run.match(text, k).end()
            if k - line_start <= 3 and text.startswith(" " * (k - line_start), line_start):
                found.append((line_start, text[k:end]))
            k, scanned = text.find(marker, end), end
    found.sort()
    return found


@dataclass
class FencedBlock:
    first_line: int  # 1-based line of the first code line
    lines: list[str]  # cleaned (see _clean)
    above: str  # the fence line and up to three lines above it (names the file)

    @cached_property
    def text(self) -> str:
        return "\n".join(self.lines)

    @cached_property
    def stripped(self) -> set[str]:
        return set(map(str.strip, self.lines))

    @cached_property
    def code(self) -> list[str]:
        """The non-blank lines, stripped."""
        return list(filter(None, map(str.strip, self.lines)))


def fenced_blocks(text: str) -> list[FencedBlock]:
    """The fenced code blocks of a markdown file."""
    text = one_newline(text)
    out, opening = [], None
    counted, head = 0, 0  # newlines before offset `counted`: counted on from block to block
    for at, fence in _fences(text):
        if opening is None:
            opening = at, fence
        elif fence[0] == opening[1][0] and len(fence) >= len(opening[1]):
            open_at = opening[0]
            head += text.count("\n", counted, open_at)
            counted = open_at
            above_start = open_at
            for _ in range(3):
                above_start = text.rfind("\n", 0, max(0, above_start - 1)) + 1
            body_start = text.find("\n", open_at)
            body = text[body_start + 1:at] if 0 <= body_start < at else ""
            out.append(FencedBlock(head + 2, _clean(body), text[above_start:body_start]))
            opening = None
    return out


@register
class IdealSync(Rule):
    id = "MF307"
    name = "ideal-sync"
    kind = "IDEAL_SYNC"
    level = Level.ERROR
    summary = "A final source file does not appear verbatim as a code block of IDEAL_RESPONSE.md."
    why = ("IDEAL_RESPONSE.md is the answer the model is trained on; the final files are what was deployed and "
           "tested. When they differ, the model learns code that was never tested. Each source file under lib/ "
           "must appear as one code block, identical after normalising line endings and trailing whitespace "
           "(and leading/trailing blank lines). The repository's own check passes if any single line matches.")
    bad = _task(_GOOD_REPORT, ideal="# Ideal\n\n## lib/tap-stack.ts\n\n```typescript\n"
                + _EX_FINAL.replace("versioned: true", "versioned: false") + "```\n")
    good = _task(_GOOD_REPORT)

    def check(self, task, config):
        if task.ideal_response is None:
            return
        blocks = evidence_of(task).ideal_blocks
        texts = {b.text for b in blocks}
        for path in sync_files(task):
            want = _clean(task.files[path])
            if len(want) < 3 or "\n".join(want) in texts:
                continue
            wanted = list(map(str.strip, want))
            named = [b for b in blocks if posixpath.basename(path) in b.above]
            best = max(named or blocks, key=lambda b: _overlap(wanted, b), default=None)
            if best is None or (not named and _overlap(wanted, best) < 0.5):
                yield self.finding(IDEAL_RESPONSE, 1, f"{task.display(path)} ({len(want)} lines) is not in "
                                   f"{IDEAL_RESPONSE}: no code block holds it.", evidence=want[0][:160])
                continue
            start, got = best.first_line, best.lines
            if _without_label(got, path) == _without_label(want, path):
                continue
            k = next((i for i, (a, b) in enumerate(zip(want, got)) if a != b), min(len(want), len(got)))
            theirs = got[k] if k < len(got) else "(block ends)"
            ours = want[k] if k < len(want) else "(file ends)"
            how = " (indentation or spacing only)" if theirs.split() == ours.split() else ""
            yield self.finding(IDEAL_RESPONSE, start + min(k, len(got)),
                               f"The code block for {task.display(path)} differs from the file at its line {k + 1}{how}: "
                               f"`{theirs.strip()[:60]}` here, `{ours.strip()[:60]}` in the file.",
                               evidence=f"{path}:{k + 1}: {ours.rstrip()[:150]!r}")


_LABEL_COMMENT = re.compile(r"^\s*(#|//|--|/\*)\s*(?P<name>[\w./-]+)\s*(\*/)?\s*$")


def _without_label(lines: list[str], path: str) -> list[str]:
    """The block without a first line that only names the file (`# provider.tf`, `// lib/tap-stack.ts`):
    a label many IDEAL_RESPONSE.md files put in their blocks, not code."""
    m = _LABEL_COMMENT.match(lines[0]) if lines else None
    if m and posixpath.basename(m.group("name")) == posixpath.basename(path):
        return _clean("\n".join(lines[1:]))
    return lines


def _overlap(wanted: list[str], block: FencedBlock) -> float:
    """Share of the file's (stripped) lines that the block has."""
    return sum(map(block.stripped.__contains__, wanted)) / max(1, len(wanted))


# -- provenance -----------------------------------------------------------------------------------

def _code_of(blocks: list[FencedBlock]) -> list[str]:
    return [line for b in blocks for line in b.code]


@register
class Provenance(Rule):
    id = "MF308"
    name = "provenance"
    kind = "PROVENANCE"
    level = Level.WARNING
    summary = "MODEL_RESPONSE.md looks overwritten: its code equals the ideal or final code, or it claims to work."
    why = ("MODEL_RESPONSE.md must stay the model's original answer; the report's value is the gap between it "
           "and the ideal. When it holds the same code as IDEAL_RESPONSE.md or the final files, or says "
           "\"Working code\" or \"All tests pass\", it was most likely replaced by a later, corrected version.")
    bad = {**_task(_GOOD_REPORT), _MR_TEXT: "# Model response\n\n## Working code\n\nAll 12 tests pass.\n\n```typescript\n" + _EX_FINAL + "```\n"}
    good = _task(_GOOD_REPORT)

    def check(self, task, config):
        text = task.model_response
        if not text:
            return
        low = text.lower()
        if "working code" in low or "tests pass" in low or "test pass" in low:
            lines = text.split("\n")
            for m in _WORKING_CLAIM.finditer(text):
                n = text.count("\n", 0, m.start()) + 1
                if _CONDITIONAL.search(" ".join(lines[max(0, n - 2):n])):
                    continue
                yield self.finding(MODEL_RESPONSE, n, f"MODEL_RESPONSE.md says \"{(m.group(1) or m.group(2)).strip()}\": "
                                   "text written after the model's answer was tested.", evidence=lines[n - 1].strip()[:200])
                break
        # Cheap tests first: the longest line of the other code must be in MODEL_RESPONSE.md at all.
        ideal = _code_of(evidence_of(task).ideal_blocks)
        if len(ideal) >= 40 and max(ideal, key=len) in text:
            mine = _code_of(fenced_blocks(text))
            if mine == ideal:
                yield self.finding(MODEL_RESPONSE, 1, f"The code of MODEL_RESPONSE.md ({len(mine)} lines) is identical "
                                   f"to {IDEAL_RESPONSE}'s: the model's original looks overwritten.")
                return
        texts = [task.files[p] for p in task.source_paths]
        if texts and all(max(t.split("\n"), key=len).strip() in text for t in texts):
            sources = [x.strip() for t in texts for x in t.split("\n") if x.strip()]
            mine = _code_of(fenced_blocks(text))
            if len(sources) >= 40 and sorted(mine) == sorted(sources):
                yield self.finding(MODEL_RESPONSE, 1, f"The code of MODEL_RESPONSE.md ({len(mine)} lines) is identical "
                                   "to the final source files: the model's original looks overwritten.")
