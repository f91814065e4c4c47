"""Parse a MODEL_FAILURES report with markdown-it-py, keeping source line numbers.

Reports come in many shapes (`### 1. Title` + bold fields, `#### Issue 3`, `**1. Title**` paragraphs,
`1. **Title**` list items, sections of unnumbered sub-headings, issue tables, plain numbered lists).
The parser finds the individual failures ("entries") in all of them, reads each entry's severity,
category, cited files and code, and labels every code snippet with the role the report gives it
(the model's code or the fix).

Entries are found in tiers, strongest first, so that a report's real structure wins over
incidental formatting:
1. headings that are numbered (`### 1.`, `#### Issue 3`), prefixed (`### Change: ...`), tagged
   (`### [HIGH] ...`) or that carry entry fields (`**Impact Level**`, `### Root Cause`), and numbered
   bold titles (`**1. Title**`, `1. **Title**:`); a numbered heading that holds numbered headings is a
   container, not an entry;
2. the sub-headings of a failure section (`## Critical Issues` -> `### Removal Policy`);
3. only when tiers 1-2 found nothing: issue table rows, then unnumbered bold titles
   (`- **No VPC created**: ...`), then entries that each open with the same field (`**Issue**: ...`),
   then top-level numbered list items, in failure sections.
Sections such as Summary, Lessons Learned, Recommendations or "What the model did well" never hold
entries; beside numbered entries, context sections and a second run of numbers (a recap) are not
entries either. A summary table never adds entries beside headings (it would count every failure
twice): it only lends its severity column to the entries it names (severity_source "table").

Severity comes from a Severity / Impact Level / Impact field (bold, plain or a `### Impact`
sub-heading), else a title tag (`[HIGH]`, `(Critical)`, `Critical Change:`), else a summary table,
else the enclosing section (`## Critical Failures`, `### 🔴 High Severity Issues`).

setext headings (`Title` over `===`), link reference definitions and HTML blocks are not parsed:
no report uses the first two, and text inside `<details>` is better read as Markdown.

Performance: markdown-it runs its block parser only, with each chain of block rules turned into one
rule that tries only the rules a line's first character can start, and lighter tokens (`block_tokens`);
code spans are read by a linear scanner, and every regular expression applied to a line is linear in
the line's length.
"""

from __future__ import annotations

import bisect
import functools
import re
from itertools import accumulate

from markdown_it import MarkdownIt
from markdown_it.rules_block.state_block import StateBlock

from bot.report.model import FIX, MODEL, OUTPUT, CodeBlock, Entry, FileRef, Heading, InlineCode, Report

# Block structure only: the inline parser (emphasis, links) is the slow half of markdown-it and the
# report model needs only code spans, which `_code_spans` reads linearly.
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"maxNesting": 20}).enable("table").disable(
        ["inline", "text_join", "lheading", "reference", "html_block"])


# The characters a block rule's line can start with (first non-blank): on any other line the rule
# returns False at once, with no side effect, so it need not be called.
_FIRST_CHARS = {"fence": "`~", "blockquote": ">", "hr": "*-_", "list": "*-+0123456789", "heading": "#"}


def _skip_unless_delimiter_row(rule):
    """The table rule, not called when the next line cannot be a delimiter row (`|---|`): the rule
    returns False at once for a next line that starts with anything but `|`, `-` or `:`."""
    def guarded(state, start: int, end: int, silent: bool) -> bool:
        nxt = start + 1
        if nxt < end:
            pos = state.bMarks[nxt] + state.tShift[nxt]
            if pos < state.eMarks[nxt] and state.src[pos] not in "|-:":
                return False
        return rule(state, start, end, silent)
    return guarded


def _skip_unless_indented(rule):
    """The indented-code rule, not called on a line indented less than four columns (it returns
    False at once there)."""
    def guarded(state, start: int, end: int, silent: bool) -> bool:
        if state.sCount[start] - state.blkIndent < 4:
            return False
        return rule(state, start, end, silent)
    return guarded


def _skip_unless_repeated_marker(rule):
    """The thematic-break rule (`***`, `- - -`), not called unless the line's next character after
    the first, spaces and tabs skipped, is the same: it returns False at once otherwise (`- item`)."""
    def guarded(state, start: int, end: int, silent: bool) -> bool:
        pos = state.bMarks[start] + state.tShift[start]
        marker = state.src[pos:pos + 1]
        if marker and state.src[pos + 1:state.eMarks[start]].lstrip(" \t")[:1] != marker:
            return False
        return rule(state, start, end, silent)
    return guarded


def _skip_unless_bullet_spaced(rule):
    """The list rule, not called on a line whose `*`, `-` or `+` is followed by anything but a space,
    a tab or the end of the line (`**Bold**`, `---`): it returns False at once there."""
    def guarded(state, start: int, end: int, silent: bool) -> bool:
        pos = state.bMarks[start] + state.tShift[start]
        if state.src[pos:pos + 1] in ("*", "-", "+") and pos + 1 < state.eMarks[start] \
                and state.src[pos + 1] not in " \t":
            return False
        return rule(state, start, end, silent)
    return guarded


def _first_char_dispatch(rules):
    """One rule for a chain of (name, rule): it calls, in the chain's order, only the rules that can
    start with the line's first non-blank character. markdown-it calls each rule of a chain on every
    line, and those of the terminator chains again on each line of every paragraph, list item and
    blockquote; most calls would return False at once."""
    chars = set("".join(_FIRST_CHARS.get(name, "") for name, _ in rules))
    by_char = {c: tuple(fn for name, fn in rules if name not in _FIRST_CHARS or c in _FIRST_CHARS[name])
               for c in chars}
    by_char[""] = tuple(fn for _, fn in rules)  # the end of the text: every rule decides for itself
    others = tuple(fn for name, fn in rules if name not in _FIRST_CHARS)

    def dispatch(state, start: int, end: int, silent: bool) -> bool:
        pos = state.bMarks[start] + state.tShift[start]
        for rule in by_char.get(state.src[pos:pos + 1], others):
            if rule(state, start, end, silent):
                return True
        return False
    return dispatch


_CHAINS = ("paragraph", "reference", "blockquote", "list")  # markdown-it's terminator chains


def _dispatching_markdown() -> MarkdownIt:
    """`_markdown()` with each chain of block rules (the main one and the terminator chains) turned
    into one `_first_char_dispatch`: the same tokens, a fraction of the calls (tests/test_parser.py
    compares the two). The chains are the lists markdown-it compiled and iterates: edited in place."""
    md = _markdown()
    ruler = md.block.ruler
    guards = {"table": _skip_unless_delimiter_row, "code": _skip_unless_indented, "hr": _skip_unless_repeated_marker,
              "list": _skip_unless_bullet_spaced}
    named = {fn: (name, guards[name](fn) if name in guards else fn)  # every enabled rule, in order
             for fn, name in zip(ruler.getRules(""), ruler.get_active_rules())}
    for chain in ("", *_CHAINS):
        rules = ruler.getRules(chain)
        rules[:] = [_first_char_dispatch([named[fn] for fn in rules])]
    return md


_MD = _dispatching_markdown()


class _Token:
    """A block token: what markdown-it's block rules set and this parser reads. markdown-it's own
    `Token` is a dataclass of thirteen fields, a fifth of the parse to make; a report has thousands."""

    map: list[int] | None = None
    content = ""
    markup = ""
    info = ""
    hidden = False
    block = True

    def __init__(self, ttype: str, tag: str, nesting: int):
        self.type, self.tag, self.nesting = ttype, tag, nesting


class _BlockState(StateBlock):
    def __init__(self, src: str, md: MarkdownIt, env: dict, tokens: list):
        """`StateBlock` with its line markers read by string methods, not character by character."""
        super().__init__("", md, env, tokens)  # every other field as markdown-it sets it
        self.src = src
        lines = src.split("\n")
        if not lines[-1].strip(" \t"):
            lines.pop()  # markdown-it gives a last line that has no "\n" and is blank no marker
        starts = list(accumulate((len(line) + 1 for line in lines), initial=0))
        self.bMarks = [*starts[:-1], len(src)]  # and one past the last line, as markdown-it keeps
        self.eMarks = [*(b + len(line) for b, line in zip(self.bMarks, lines)), len(src)]
        self.tShift = [*(len(line) - len(line.lstrip(" \t")) for line in lines), 0]
        self.sCount = [*(_indent_columns(line[:shift]) for line, shift in zip(lines, self.tShift)), 0]
        self.bsCount = [0] * (len(lines) + 1)
        self.lineMax = len(lines)

    def push(self, ttype: str, tag: str, nesting: int) -> _Token:
        """`StateBlock.push`, making a `_Token`."""
        token = _Token(ttype, tag, nesting)
        if nesting < 0:
            self.level -= 1  # closing tag
        token.level = self.level
        if nesting > 0:
            self.level += 1  # opening tag
        self.tokens.append(token)
        return token


def _indent_columns(indent: str) -> int:
    """Columns of a line's leading spaces and tabs (tab stops every four columns)."""
    if "\t" not in indent:
        return len(indent)
    column = 0
    for ch in indent:
        column += 4 - column % 4 if ch == "\t" else 1
    return column


def block_tokens(text: str) -> list[_Token]:
    """The block tokens of a text whose line ends are "\\n" and that holds no NUL: markdown-it's block
    parser alone (the core chain's other steps, normalising and inline parsing, have nothing to do)."""
    tokens: list[_Token] = []
    if text:
        state = _BlockState(text, _MD, {}, tokens)
        _MD.block.tokenize(state, state.line, state.lineMax)
    return tokens

SEVERITY_RE = re.compile(r"\b(critical|high|medium|moderate|low|minor|major|severe)\b", re.I)
_SEVERITY_WORD = {
    "critical": "Critical", "severe": "Critical", "high": "High", "major": "High",
    "medium": "Medium", "moderate": "Medium", "low": "Low", "minor": "Low",
}
_SEV = r"(critical|high|medium|moderate|low|minor|major|severe)"
SEVERITY_FIELDS = ("impact level", "severity", "impact", "priority", "severity level", "criticality",
                   "risk level", "risk", "impact severity", "severity/impact")
CATEGORY_RE = re.compile(r"\bcategory\s*[:\-]?\s*\(?([A-D])\b(?!['’]\w)", re.I)

# Labels that give a snippet its role. The last label before a snippet wins ("Fix ... Before:").
MODEL_LABEL = re.compile(
    r"\b(model[_ ]?response|model'?s?\s+(?:code|response|output|version|implementation|approach)|generated|"
    r"before|wrong|incorrect|original|issue|problem|broken|bad|failing|failed|buggy|current|invalid|"
    r"fails|example failure|what the model (?:did|wrote|generated)|model (?:used|wrote|generated|had))\b|❌",
    re.I,
)
FIX_LABEL = re.compile(
    r"\b(ideal[_ ]?response|ideal|after|fix(?:ed)?|corrected|correct|solution|resolution|"
    r"resolved|good|working|final|updated|improved|proper|remediation|recommended|should be|valid|better|expected)\b|✅",
    re.I,
)

_ENTRY_WORDS = r"issue|failure|fix|error|problem|bug|finding|defect|gap|mistake|attempt|change|flaw|fault|item"
# A numbered entry title: "1. Title", "A1: Title", "3.2) Title", "1 - Title", "Issue 3", "Failure #2 -".
_ENTRY_TITLE = re.compile(
    rf"^\W{{0,8}}(?:(?:[A-Za-z]+\s+){{0,2}}?(?:{_ENTRY_WORDS})\s*#?\s*(?P<n1>[A-Z]?\d+(?:\.\d+)*)\b(?!\.\d)"
    r"|(?P<n4>[A-Z]?\d+(?:\.\d+)+)\s|(?P<n2>[A-Z]{0,2}-?\d+(?:\.\d+)*)(?:[.):]|\s+[-–—]\s)|\((?P<n3>[A-Z]|\d+)\)\s)",
    re.I,
)
# An unnumbered title that names itself an entry: "Change: ...", "Critical Issue - ...".
_PREFIXED_TITLE = re.compile(
    rf"^\W{{0,8}}(?:{_SEV}\s+)?(?:issue|failure|problem|error|bug|mistake|gap|defect|flaw|change|finding)\s*[:\-–—]\s*\S",
    re.I,
)
# Sections that never hold failure entries. `_NOT_ENTRY` is matched at the start of a title (after
# its number); `_NOT_ENTRY_ANY` anywhere in an unnumbered title or an enclosing section's title.
_NOT_ENTRY_ANYWHERE = (
    r"summary|overview|conclusions?|lessons?(?: learned)?|recommendations?|table of contents|statistics|"
    r"key (?:takeaways|learnings)|takeaways|next steps|appendix|references|"
    r"scores?|scoring|metrics|test results|testing results|validation results|deployment (?:status|results)|"
    r"recommended|what went well|(?:did|done|worked) well|strengths|positives?|what worked|successes|notes"
)
_NOT_ENTRY = re.compile(
    rf"^\W*(?:\d+[.)]\s*)?(?:{_NOT_ENTRY_ANYWHERE}|training|introduction|context|executive|background|scope|"
    r"note|reference|positive|knowledge gaps?|impact assessment|total|counts?|breakdown|"
    r"(?:original |prompt )?requirements?)\b",
    re.I,
)
_NOT_ENTRY_ANY = re.compile(rf"\b(?:{_NOT_ENTRY_ANYWHERE})\b", re.I)
# A title that says there is nothing: "High-Severity Issues: 0", "[PASS] Zero Low Priority Failures".
_EMPTY_TITLE = re.compile(r"\bzero\b|:\s*(?:0|none)\W*$|\[pass\]|^\W*(?:no|none)\b", re.I)
# Sub-sections of a failure section that review rather than list failures ("### Overall Assessment").
_NOT_WEAK = re.compile(
    r"\b(?:assessment|observations?|considerations|readiness|validation|verification|comparison|compliance|"
    r"best practices|status|results?|coverage)\b",
    re.I,
)
# A section whose sub-sections are failures.
_CONTAINER = re.compile(
    r"\b(fail\w*|issues?|problems?|errors?|bugs?|defects?|gaps?|mistakes?|flaws?|deficienc\w*|shortcomings?|"
    r"weakness\w*|fixes|fixed|corrections?|changes|improvements|differences|discrepanc\w*|violations?|"
    r"omissions?|findings|concerns|faults?|went wrong)\b",
    re.I,
)
# Sub-headings and bold labels that are fields of the entry around them ("### Problem", "**Fix**:").
_FIELD_WORDS = (
    r"problem|issue|fix|fixes|solution|resolution|root cause|impact|before|after|error (?:message|output|details)|"
    r"evidence|symptoms?|prevention|lessons?|training value|expected|actual|original|why|how to fix|"
    r"what happened|what went wrong|what was wrong|what was fixed|deeper impact|remediation|severity|"
    r"impact level|description|explanation|details|location|example|reason|recommendation|"
    r"correct(?:ed)? (?:implementation|code|version|approach|configuration)|"
    r"(?:incorrect|fixed|wrong|original|broken) (?:implementation|code|version|approach|configuration)|"
    r"model(?:[_ ]response)?(?:\.md)?|ideal(?:[_ ]response)?(?:\.md)?|implemented fix|applied fix|fix applied"
)
# A field word and at most three more words, or a parenthesis/colon: "### Root Cause Analysis",
# "### Before (MODEL_RESPONSE)"; not "### Incorrect IAM Policy for Lambda Execution".
_FIELD_HEADING = re.compile(rf"^\W*(?:the\s+)?(?:{_FIELD_WORDS})\b(?:\s+[^\s:(\[]+){{0,3}}\W*(?:[:(\[].*)?$", re.I)
# Field labels that mark a section as a failure entry when they stand in its own body.
_ENTRY_FIELD = re.compile(
    r"^\s*(?:[-*+]\s+)?\*\*\s*(?:impact level|severity|model[_ ]response(?:\.md)?(?: issue| failure| code)?|"
    r"ideal[_ ]response(?:\.md)?(?: fix| code)?|root cause|problem|issue|original issue|fix applied|failure|"
    r"resolution|solution|model failure|error(?: type| message)?|what went wrong|what was wrong|before|after|"
    r"evidence of model failure|fix|fixed|requirement)\b[^*\n]{0,40}\*\*",
    re.I,
)
_FIELD_SUBHEADING = re.compile(
    r"^\W*(?:the\s+)?(?:problem|issue|fix|fix applied|solution|root cause|resolution|impact|before|after|error|"
    r"model[_ ]response|ideal[_ ]response|correct(?:ed)? implementation|what went wrong)\b",
    re.I,
)
_BOLD_FIELD = re.compile(r"^\s*(?:[-*+]\s+)?\*\*([^*\n]{1,80}?)\s*:?\s*\*\*\s*:?\s*(.*)$")
_PLAIN_FIELD = re.compile(
    rf"^\s*(?:[-*+]\s+)?(?:\*\*|__)?(severity|impact level|impact|priority|risk level|criticality|category)"
    rf"(?:\*\*|__)?\s*[:\-–]\s*(?:\*\*|__)?\s*(.*)$",
    re.I,
)
_NUM_BOLD_ENTRY = re.compile(
    r"^\s{0,3}(?:[-*+]\s+)?(?:(?P<ln>\d+)[.)]\s+)?\*\*\*?\s*(?P<title>[^*\n]{2,300})\*\*\*?\s*(?P<rest>.*)$"
)
_BOLD_LINE = re.compile(r"^(?:[-*+]\s+)?\*\*(?P<title>[^*\n]{3,150})\*\*\s*(?P<rest>.*)$")
_TABLE_ISSUE_COL = re.compile(
    r"\b(issue|failure|problem|finding|error|bug|defect|gap|what went wrong|model response|description)\b", re.I)
_TABLE_COUNT_COL = re.compile(r"^\W*(count|number|total|qty|#)\W*$|\b(count|total)\b", re.I)
_TABLE_SEV_COL = re.compile(r"severity|impact|priority|criticality", re.I)
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_EMPHASIS = re.compile(r"\*\*|__|(?<!\w)[*_]|[*_](?!\w)")

_PATH = r"(?<![\w.@/-])(?:[\w.@-]+/)*[\w.@-]+\.(?:tsx?|jsx?|mjs|py|go|java|tf|tfvars|hcl|ya?ml|json|md|log|txt|sh|cfg|toml)\b"
_RANGE = r"(?P<a>\d+)(?:\s*(?:-|–|to)\s*L?(?P<b>\d+))?"
_REF_PATH = re.compile(
    rf"(?P<path>{_PATH})(?::L?{_RANGE}|\s*\(?\s*lines?\s+{_RANGE.replace('?P<a>', '?P<a2>').replace('?P<b>', '?P<b2>')})?",
    re.I,
)
_REF_LINES = re.compile(rf"\b(?:lines?|L)\s*{_RANGE}\b", re.I)
# What every path of `_REF_PATH` holds: a quick test that spares most lines the full pattern.
_REF_EXT = re.compile(r"\.(?:tsx?|jsx?|mjs|py|go|java|tf|tfvars|hcl|ya?ml|json|md|log|txt|sh|cfg|toml)\b", re.I)
_URL = re.compile(r"https?://\S+")
_DIGIT = re.compile(r"\d")
_COMMENT = re.compile(r"^\s*(#|//|--|/\*|<!--)")


def severity_word(text: str) -> str | None:
    m = SEVERITY_RE.search(text or "")
    return _SEVERITY_WORD[m.group(1).lower()] if m else None


# Quoted output: "**Error Message**:", "Deployment error:", "This produces output like:".
OUTPUT_LABEL = re.compile(
    r"\b(error(?:s)?(?: message(?:s)?| output| log| encountered| details)?|(?:deployment|synth|runtime|validation|"
    r"build|test|lint) errors?|output|logs?|stack ?trace|traceback|console|terminal)\s*(?:like|was|is)?\W*$",
    re.I,
)


@functools.lru_cache(maxsize=4096)
def code_role(label: str) -> str | None:
    """MODEL, FIX or OUTPUT from a label; the label standing last in the text wins."""
    role = _code_role(label)
    if role is None and OUTPUT_LABEL.search(label[-200:]):
        return OUTPUT
    return role


_IDEAL_RESPONSE = re.compile(r"ideal[_ ]?response", re.I)
_MODEL_RESPONSE = re.compile(r"model[_ ]?response", re.I)


def _code_role(label: str) -> str | None:
    last_model = max((m.end() for m in MODEL_LABEL.finditer(label)), default=-1)
    last_fix = max((m.end() for m in FIX_LABEL.finditer(label)), default=-1)
    if last_model < 0 and last_fix < 0:
        return None
    # "IDEAL_RESPONSE Fix" / "MODEL_RESPONSE Issue": the response name decides, not the trailing word.
    ideal = _IDEAL_RESPONSE.search(label)
    model = _MODEL_RESPONSE.search(label)
    if ideal and not model:
        return FIX
    if model and not ideal:
        return MODEL
    return MODEL if last_model > last_fix else FIX


@functools.lru_cache(maxsize=4096)
def clean_title(text: str) -> str:
    """Heading or bold text without Markdown markup: `## **1\\. Title**` -> `1. Title`.

    Titles are cut at 1,000 characters: no real title is longer, and it bounds the matching work.
    """
    text = _ESCAPE.sub(r"\1", text.strip()[:1000])
    text = _EMPHASIS.sub("", text.lstrip("#").strip())
    return text.strip().rstrip(":").strip()


def parse_report(text: str, path: str = "lib/MODEL_FAILURES.md") -> Report:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd")
    lines = text.split("\n")
    tokens = block_tokens(text)
    headings, code_blocks, inline, tables, items = _walk(tokens, lines)
    _nest(headings)
    doc = _Doc(lines, headings)
    doc.code_lines = {n for c in code_blocks for n in range(c.line, c.end_line + 1)}
    refs = _refs(lines, doc.code_lines)
    entries = _entries(doc, tables, items)
    _attach(entries, code_blocks, inline, refs, doc)
    return Report(path, text, lines, headings, entries, code_blocks, inline, refs)


class _Doc:
    """Lines and headings with a fast innermost-section lookup."""

    def __init__(self, lines: list[str], headings: list[Heading]):
        self.lines = lines
        self.headings = headings
        self.starts = [h.line for h in headings]
        self.code_lines: set[int] = set()

    def section(self, line: int) -> Heading | None:
        """Innermost heading holding `line`: the last heading at or before it (sections nest)."""
        i = bisect.bisect_right(self.starts, line) - 1
        return self.headings[i] if i >= 0 else None

    def excluded(self, line: int) -> bool:
        """Whether `line` stands in a Summary / Lessons Learned / ... section (or one inside it)."""
        sec = self.section(line)
        return sec is not None and (_NOT_ENTRY.match(clean_title(sec.text)) is not None or _excluded_chain(sec))

    def failure_section(self, line: int) -> bool:
        """Whether `line` stands where failures are listed: not excluded, and in a failure section,
        a level-1 section or before any heading."""
        sec = self.section(line)
        if sec is None:
            return True
        if self.excluded(line) or _NOT_ENTRY_ANY.search(clean_title(sec.text)):
            return False
        return sec.level == 1 or any(_is_container(h) for h in (sec, *sec.ancestors()))


def _excluded_chain(h: Heading) -> bool:
    """An enclosing section (below the document title) is a Summary, Lessons Learned, ..."""
    return any(a.level > 1 and _NOT_ENTRY_ANY.search(clean_title(a.text)) for a in h.ancestors())


def _is_container(h: Heading) -> bool:
    title = clean_title(h.text)
    return bool(_CONTAINER.search(title) or _section_severity(title)) and not _NOT_ENTRY_ANY.search(title)


def _nest(heads: list[Heading]) -> None:
    """Each heading's parent and the end of its section."""
    stack: list[Heading] = []
    for h in heads:
        while stack and stack[-1].level >= h.level:
            stack.pop().end_line = h.line - 1
        h.parent = stack[-1] if stack else None
        stack.append(h)


class _Item:
    """A top-level list item: its first line's text and the lines it spans."""

    __slots__ = ("line", "end_line", "ordered", "text")

    def __init__(self, line: int, end_line: int, ordered: bool):
        self.line, self.end_line, self.ordered, self.text = line, end_line, ordered, None


def _walk(tokens, lines: list[str]):
    """Headings, code blocks, inline code, table rows and top-level list items, in one pass over the tokens."""
    heads: list[Heading] = []
    heading: Heading | None = None  # opened, its text is the next token's
    blocks: list[CodeBlock] = []
    inline: list[InlineCode] = []
    tables: list[list[tuple[int, list[str]]]] = []
    items: list[_Item] = []
    row: list[str] | None = None
    lists: list[bool] = []  # open lists, innermost last: ordered?
    quotes = 0
    for tok in tokens:
        kind = tok.type
        if kind not in _WALKED:
            continue  # paragraph, heading, cell, ... open/close: most tokens
        if heading is not None:
            heading.text = tok.content.strip()
            heads.append(heading)
            heading = None
        if kind in ("fence", "code_block") and tok.map:
            blocks.append(_code_block(tok, lines))
        elif kind == "heading_open" and tok.map:
            heading = Heading(int(tok.tag[1]), "", tok.map[0] + 1, len(lines))
        elif kind == "inline" and tok.map:
            if "`" in tok.content:
                _inline_code(tok.content, tok.map[0] + 1, lines, inline)
            if row is not None:
                row.append(tok.content.strip())
            elif items and items[-1].text is None and len(lists) == 1:
                items[-1].text = tok.content.split("\n", 1)[0].strip()
        elif kind in ("bullet_list_open", "ordered_list_open"):
            lists.append(kind == "ordered_list_open")
        elif kind in ("bullet_list_close", "ordered_list_close") and lists:
            lists.pop()
        elif kind == "list_item_open" and len(lists) == 1 and not quotes and tok.map:
            items.append(_Item(tok.map[0] + 1, tok.map[1], lists[-1]))
        elif kind == "blockquote_open":
            quotes += 1
        elif kind == "blockquote_close":
            quotes -= 1
        elif kind == "table_open":
            tables.append([])
        elif kind == "tr_open" and tables:
            row = []
            tables[-1].append((tok.map[0] + 1 if tok.map else 0, row))
        elif kind == "tr_close":
            row = None
    return heads, blocks, inline, tables, items


_WALKED = frozenset(("heading_open", "fence", "code_block", "inline", "bullet_list_open", "ordered_list_open",
                     "bullet_list_close", "ordered_list_close", "list_item_open", "blockquote_open", "blockquote_close",
                     "table_open", "tr_open", "tr_close"))


def _code_block(tok, lines: list[str]) -> CodeBlock:
    start, end = tok.map[0] + 1, tok.map[1]
    label = _label_before(lines, start)
    first = tok.content.lstrip("\n").split("\n", 1)[0]
    role = None
    if _COMMENT.match(first[:200]):
        role = code_role(first[:200])
        label = first.strip()[:200] if role else label
    role = role or code_role(label)
    if role is None:
        field = _field_label_above(lines, start)
        if field and (role := code_role(field)):
            label = field
    lang = (tok.info or "").strip().split(" ")[0].lower()
    return CodeBlock(tok.content, lang, start, end, role, label)


def _field_label_above(lines: list[str], fence_line: int) -> str:
    """The nearest bold field label above a fence (`**MODEL_RESPONSE Issue**:` then a bullet list,
    then the code), not crossing another fence or a heading."""
    for n in range(fence_line - 2, max(-1, fence_line - 18), -1):
        s = lines[n].lstrip()[:300]
        if s.startswith(("```", "~~~", "#")):
            return ""
        if s.startswith("**") and (m := _BOLD_FIELD.match(s)):
            return m.group(1)
    return ""


def _code_spans(text: str):
    """(content, offset) of each CommonMark code span, in linear time.

    A run of n backticks opens a span closed by the next run of exactly n backticks; a run with
    no such partner is literal text. `after[k]` is the index of the next run of the same length.
    """
    runs: list[tuple[int, int]] = []  # (start, length)
    i, n = 0, len(text)
    while True:
        i = text.find("`", i)
        if i < 0:
            break
        j = i
        while j < n and text[j] == "`":
            j += 1
        if not (i > 0 and text[i - 1] == "\\"):
            runs.append((i, j - i))
        i = j
    after: list[int] = [-1] * len(runs)
    last: dict[int, int] = {}
    for k in range(len(runs) - 1, -1, -1):
        after[k] = last.get(runs[k][1], -1)
        last[runs[k][1]] = k
    k = 0
    while k < len(runs):
        close = after[k]
        if close < 0:
            k += 1
            continue
        start, length = runs[k]
        body = text[start + length: runs[close][0]].replace("\n", " ")
        if len(body) > 2 and body.startswith(" ") and body.endswith(" ") and body.strip():
            body = body[1:-1]
        yield body, start
        k = close + 1


def _inline_code(content: str, line0: int, lines: list[str], out: list[InlineCode]) -> None:
    if "`" not in content:
        return
    offset, line_no = 0, line0
    label_line, label, role = 0, "", None
    for body, start in _code_spans(content):
        line_no += content.count("\n", offset, start)
        offset = start
        if line_no != label_line:  # one label per line, however many spans it holds
            label_line, label = line_no, _label_of_line(lines, line_no)
            role = code_role(label)
        out.append(InlineCode(body, line_no, role, label))


def _label_before(lines: list[str], fence_line: int) -> str:
    """The text just above a fence: up to two non-blank lines, not crossing another fence."""
    out: list[str] = []
    n = fence_line - 2
    while n >= 0 and len(out) < 2 and fence_line - n < 40:
        s = lines[n].strip()[:300]
        if s.startswith(("```", "~~~")):
            break
        if s:
            out.append(s)
            if s.startswith("#"):
                break
        n -= 1
    return " ".join(reversed(out))


def _label_of_line(lines: list[str], line: int) -> str:
    """The bold field label of a line (`**Fix**: ...`), else the line up to its first code span."""
    text = (lines[line - 1] if 0 < line <= len(lines) else "")[:2000]
    m = _BOLD_FIELD.match(text)
    if m:
        return m.group(1)
    return text.split("`", 1)[0]


def _refs(lines: list[str], code_lines: set[int]) -> list[FileRef]:
    refs: list[FileRef] = []
    for n, raw in enumerate(lines, 1):
        if n in code_lines or not raw:
            continue
        text = _URL.sub(" ", raw) if "://" in raw else raw
        spans = []
        for m in (_REF_PATH.finditer(text) if "." in text and _REF_EXT.search(text) else ()):
            a = m.group("a") or m.group("a2")
            b = m.group("b") or m.group("b2")
            refs.append(FileRef(m.group("path"), _int(a), _int(b) or _int(a), n, m.group(0)))
            spans.append(m.span())
        for m in (_REF_LINES.finditer(text) if _DIGIT.search(text) else ()):
            if any(s <= m.start() < e for s, e in spans):
                continue
            a, b = _int(m.group("a")), _int(m.group("b"))
            refs.append(FileRef(None, a, b or a, n, m.group(0)))
    return refs


def _int(s: str | None) -> int | None:
    return int(s) if s and len(s) < 9 else None


# ---------------------------------------------------------------------------------------------
# Entries


def _entries(doc: _Doc, tables, items: list[_Item]) -> list[Entry]:
    strong, weak = _heading_entries(doc)
    bold = _numbered_bold_entries(doc)
    # A failure section ("## 1. Critical Issues", "### Security Gaps") yields to numbered bold entries
    # inside it; any other heading entry keeps them as its own sub-items.
    strong = [h for h in strong if not _yields_to_bold(h, bold, doc)]
    bold = [b for b in bold if not _inside(b.line, strong)]
    weak = [w for w in weak if not _count_inside(w, bold)]
    if strong or bold:
        # Beside real entries, other sections are context ("## CloudFormation Analysis") or recaps
        # ("## Lint Issues Resolved"); only a severity section's or an entry section's unnumbered
        # sub-headings are failures too.
        weak = [w for w in weak if w.heading.parent.level > 1 and (
            _section_severity(clean_title(w.heading.parent.text)) or _count_inside(_span(w.heading.parent), strong + bold))]
        strong, bold = _drop_recaps(strong), _drop_recaps(bold)
    entries = strong + bold + weak
    if not entries:
        entries = (_table_entries(doc, tables) or _bold_line_entries(doc) or _field_led_entries(doc)
                   or _list_entries(doc, items))
    entries.sort(key=lambda e: e.line)
    _trim_ends(entries, doc)
    for e in entries:
        _fill_fields(e, doc)
    if any(e.shape != "table" and e.severity_source in (None, "section") for e in entries):
        _severity_from_tables(entries, _table_entries(doc, tables, anywhere=True))
    return entries


def _severity_from_tables(entries: list[Entry], rows: list[Entry]) -> None:
    """A summary table (`| # | Issue | Severity |`) gives its severity to the entry it names, by
    number or by title; the rows themselves are not entries (that would count each failure twice)."""
    by_number = {r.number: r for r in rows if r.number and r.severity}
    by_title = {_title_key(r.title): r for r in rows if r.severity}
    for e in entries:
        if e.severity_source not in (None, "section") or e.shape == "table":
            continue  # the entry's own statement wins; the table names it more closely than its section
        row = by_title.get(_title_key(e.title)) or (by_number.get(e.number) if e.number else None)
        if row is not None and row.severity != e.severity:  # agreeing with the section adds nothing
            e.severity, e.severity_line, e.severity_source = row.severity, row.line, "table"


def _title_key(title: str) -> str:
    return re.sub(r"\W+", " ", _NUMBER_PREFIX.sub("", title, count=1)).strip().lower()


def _yields_to_bold(h: Entry, bold: list[Entry], doc: _Doc) -> bool:
    """A heading that names a failure section ("## 1. Critical Issues") yields to the numbered bold
    entries inside it, unless it is itself an entry with fields before them (then they are its points)."""
    inner = [b.line for b in bold if h.line < b.line <= h.end_line]
    return (len(inner) >= 2 and _is_container(h.heading)
            and not _has_entry_fields(h.heading, doc, min(inner) - 1))


def _span(h: Heading) -> Entry:
    return Entry(h.text, h.line, h.end_line, "heading")


def _drop_recaps(entries: list[Entry]) -> list[Entry]:
    """A second run of numbers (`### 1.` again) outside any failure section is a recap
    ("## Operational Impact" -> "### 1. Critical Infrastructure Failures"), not more failures."""
    seen: set[str] = set()
    out = []
    for e in sorted(entries, key=lambda x: x.line):
        section = e.heading if e.shape != "heading" else (e.heading.parent if e.heading else None)
        if e.number and e.number in seen and not _in_failure_chain(section):
            continue
        if e.number:
            seen.add(e.number)
        out.append(e)
    return out


def _in_failure_chain(section: Heading | None) -> bool:
    """`section` or a section around it (below the document title) names failures or a severity."""
    chain = [section, *section.ancestors()] if section is not None else []
    return any(a.level > 1 and _is_container(a) for a in chain)


def _inside(line: int, entries: list[Entry]) -> bool:
    return any(e.line <= line <= e.end_line for e in entries)


def _count_inside(outer: Entry, entries: list[Entry]) -> int:
    return sum(outer.line < e.line <= outer.end_line for e in entries)


@functools.lru_cache(maxsize=4096)  # titles repeat across entries and reports
def _title_number(title: str) -> str | None:
    m = _ENTRY_TITLE.match(title)
    return (m.group("n1") or m.group("n4") or m.group("n2") or m.group("n3")) if m else None


def _heading_entries(doc: _Doc) -> tuple[list[Entry], list[Entry]]:
    """(strong, weak) heading entries; see the module docstring for the tiers."""
    kids: dict[int, list[Heading]] = {}
    for h in doc.headings:
        if h.parent is not None:
            kids.setdefault(id(h.parent), []).append(h)
    numbered_h1 = sum(h.level == 1 and _ENTRY_TITLE.match(clean_title(h.text)) is not None
                      for h in doc.headings) >= 2
    rank = {id(h): _heading_rank(h, doc, kids.get(id(h), []), numbered_h1) for h in doc.headings}
    # A sub-part of a stronger entry ("### 1. X" > "#### Issue: Y") is not an entry of its own.
    kept = [h for h in doc.headings
            if rank[id(h)] and not any(rank[id(a)] > rank[id(h)] for a in h.ancestors())]
    # A candidate that holds another kept candidate is their container ("## 1. Security" > "### 1.1").
    containers = {id(a) for h in kept for a in h.ancestors()}
    strong: list[Entry] = []
    weak: list[Entry] = []
    for h in kept:
        if id(h) in containers:
            continue
        title = clean_title(h.text)
        entry = Entry(title, h.line, _end_with_field_siblings(h, doc), "heading", _title_number(title), heading=h)
        (strong if rank[id(h)] >= 2 else weak).append(entry)
    return strong, weak


@functools.lru_cache(maxsize=4096)  # titles repeat across entries and reports
def _is_field_heading(title: str) -> bool:
    """`### Problem`, `#### Root Cause Analysis`; not `#### Issue 4: Open security group`."""
    return bool(_FIELD_HEADING.match(title)) and not _ENTRY_TITLE.match(title) and not _PREFIXED_TITLE.match(title)


def _end_with_field_siblings(h: Heading, doc: _Doc) -> int:
    """An entry heading followed by field headings of its own level (`### 1. X` then `### Root Cause`)
    runs over them: they are its fields, not the next entry."""
    end = h.end_line
    i = bisect.bisect_right(doc.starts, end)
    while i < len(doc.headings):
        nxt = doc.headings[i]
        if nxt.level != h.level or nxt.line != end + 1 or not _is_field_heading(clean_title(nxt.text)):
            break
        end = nxt.end_line
        i = bisect.bisect_right(doc.starts, end)
    return end


def _heading_rank(h: Heading, doc: _Doc, kids: list[Heading], numbered_h1: bool) -> int:
    """3: numbered entry title, 2: entry by its prefix/tag/fields, 1: sub-heading of a failure
    section, 0: not an entry."""
    title = clean_title(h.text)
    if not title or _NOT_ENTRY.match(title) or _EMPTY_TITLE.search(title) or _excluded_chain(h):
        return 0
    if _ENTRY_TITLE.match(title) and (h.level > 1 or numbered_h1):
        return 3
    if h.level == 1:
        return 0
    severity_section = _section_severity(title)
    if not severity_section and (_PREFIXED_TITLE.match(title) or _title_severity(title)):
        return 2
    if _FIELD_HEADING.match(title):
        return 0
    if not severity_section:
        if _NOT_ENTRY_ANY.search(title):
            return 0
        if _has_entry_fields(h, doc, kids[0].line - 1 if kids else h.end_line) or any(_FIELD_SUBHEADING.match(clean_title(k.text)) for k in kids):
            return 2
    return 1 if h.parent is not None and _is_container(h.parent) and not _NOT_WEAK.search(title) else 0


def _has_entry_fields(h: Heading, doc: _Doc, end: int) -> bool:
    """Whether the heading's own body (up to line `end`) carries entry field labels."""
    for n in range(h.line + 1, min(end, h.line + 60) + 1):
        if "**" in doc.lines[n - 1] and n not in doc.code_lines and _ENTRY_FIELD.match(doc.lines[n - 1][:300]):
            return True
    return False


_NUMBER_PREFIX = re.compile(r"^\W*(?:[A-Z]{0,2}-?\d+(?:\.\d+)*[.):]?\s*)?", re.I)


def _numbered_bold_entries(doc: _Doc) -> list[Entry]:
    """`**1. Title**`, `**Issue 3: ...**`, `1. **Title**:` lines outside Summary-like sections."""
    out: list[Entry] = []
    for n, text in enumerate(doc.lines, 1):
        if "**" not in text or n in doc.code_lines:
            continue
        m = _NUM_BOLD_ENTRY.match(text[:400])
        if not m:
            continue
        title = clean_title(m.group("title"))
        bare = _NUMBER_PREFIX.sub("", title, count=1)
        if m.group("ln"):
            # `1. **Title**`: a title only when the bold stands alone or ends in a colon/dash, not
            # `1. **Enable** versioning on the bucket` (a step of a fix), and not a field label.
            alone = re.match(r"\s*(?:[:\-–—]|$)", m.group("rest")) or m.group("title").rstrip().endswith(":")
            if not alone or _FIELD_HEADING.match(bare):
                continue
            number = m.group("ln")
        else:
            number = _title_number(title)
            if number is None:
                continue
        if _NOT_ENTRY.match(bare) or _section_severity(bare) or doc.excluded(n) or (doc.section(n) and _NOT_ENTRY_ANY.search(
                clean_title(doc.section(n).text))):
            continue
        out.append(Entry(title, n, n, "bold", number, heading=doc.section(n)))
    return out


def _bold_line_entries(doc: _Doc) -> list[Entry]:
    """Unnumbered bold titles (`**VPC Issue**`, `- **No VPC**: text`) with distinct, non-field labels."""
    found: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for n, text in enumerate(doc.lines, 1):
        if "**" not in text or n in doc.code_lines:
            continue
        m = _BOLD_LINE.match(text[:400])
        if not m:
            continue
        title = clean_title(m.group("title"))
        key = title.lower()
        seen[key] = seen.get(key, 0) + 1
        if _FIELD_HEADING.match(title) or _NOT_ENTRY.match(title) or not doc.failure_section(n):
            continue
        found.append((n, title))
    # A label that repeats is a field of each entry ("**Model Response:**"), not an entry.
    found = [(n, t) for n, t in found if seen[t.lower()] == 1]
    if len(found) < 2:
        return []
    return [Entry(t, n, n, "bold", None, heading=doc.section(n)) for n, t in found]


_LEAD_FIELD = re.compile(r"^\*\*\s*(issue|problem|error|failure|bug|flaw)\s*:?\s*\*\*\s*:?\s*(?P<value>\S.*)$", re.I)


def _field_led_entries(doc: _Doc) -> list[Entry]:
    """Untitled entries that each open with the same field (`**Issue**: ...`, `**Root Cause**: ...`)."""
    out = []
    for n, text in enumerate(doc.lines, 1):
        if text.startswith("**") and n not in doc.code_lines and doc.failure_section(n):
            m = _LEAD_FIELD.match(text[:400])
            if m:
                out.append(Entry(clean_title(m.group("value"))[:200], n, n, "bold", None, heading=doc.section(n)))
    return out if len(out) >= 2 else []


def _list_entries(doc: _Doc, items: list[_Item]) -> list[Entry]:
    """Top-level numbered list items in failure sections (`1. Missing KMS key` + its explanation)."""
    out = []
    for it in items:
        if not it.ordered or not it.text or not doc.failure_section(it.line):
            continue
        title = clean_title(it.text)
        m = re.match(r"^\s*(\d+)[.)]", doc.lines[it.line - 1])
        out.append(Entry(title[:300], it.line, it.line, "list", m.group(1) if m else None,
                         heading=doc.section(it.line)))
    return out if len(out) >= 2 else []


def _table_entries(doc: _Doc, tables, anywhere: bool = False) -> list[Entry]:
    """Rows of issue tables in failure sections (or in any section, to read severities from)."""
    out: list[Entry] = []
    for rows in tables:
        if len(rows) < 2 or not rows[0][0] or not (anywhere or doc.failure_section(rows[0][0])):
            continue
        header = [clean_title(c) for c in rows[0][1]]
        if any(_TABLE_COUNT_COL.search(c) for c in header):
            continue
        issue_col = next((i for i, c in enumerate(header) if _TABLE_ISSUE_COL.search(c)), None)
        if issue_col is None:
            continue
        sev_col = next((i for i, c in enumerate(header) if _TABLE_SEV_COL.search(c)), None)
        for line, cells in rows[1:]:
            if issue_col >= len(cells) or not cells[issue_col]:
                continue
            e = Entry(clean_title(cells[issue_col]), line, line, "table", heading=doc.section(line))
            first = clean_title(cells[0]) if cells else ""
            if re.fullmatch(r"#?([A-Z]?\d+(?:\.\d+)*)\.?", first):
                e.number = first.lstrip("#").rstrip(".")
            if sev_col is not None and sev_col < len(cells):
                sev = _leading_severity(clean_title(cells[sev_col]))
                if sev:
                    e.severity, e.severity_line, e.severity_source = sev, line, "field"
            out.append(e)
    return out


def _trim_ends(entries: list[Entry], doc: _Doc) -> None:
    """Bold and list entries run to the next entry or the end of their section."""
    for i, e in enumerate(entries):
        if e.shape not in ("bold", "list"):
            continue
        end = e.heading.end_line if e.heading else len(doc.lines)
        if i + 1 < len(entries):
            end = min(end, entries[i + 1].line - 1)
        e.end_line = max(e.line, end)


def _fill_fields(e: Entry, doc: _Doc) -> None:
    plain: list[tuple[str, str, int]] = []
    for n in range(e.line + (e.shape != "table"), e.end_line + 1):
        if n in doc.code_lines:
            continue
        text = doc.lines[n - 1][:500]
        m = _BOLD_FIELD.match(text) if "**" in text else None
        if m:
            label, value = m.group(1), m.group(2).strip()
            if not value and ":" in label:  # "**Severity: High**"
                label, value = label.split(":", 1)
            _add_field(e, doc, clean_title(label), value.strip(), n)
            continue
        p = _PLAIN_FIELD.match(text)
        if p:
            plain.append((p.group(1).lower(), p.group(2), n))
    _subheading_fields(e, doc)
    _read_severity(e, plain)
    _read_category(e, plain)
    _section_context(e)


def _add_field(e: Entry, doc: _Doc, label: str, value: str, line: int) -> None:
    """A field whose value stands on the next line (`**Impact:**` then `**Low** - ...`) takes that line."""
    if label in e.fields:
        return
    if not value:
        n = _next_text_line(doc, line, e.end_line)
        if n is not None:
            value, line = doc.lines[n - 1].strip()[:500], n
    e.fields[label] = (value, line)


def _next_text_line(doc: _Doc, line: int, end: int) -> int | None:
    for n in range(line + 1, min(end, line + 3) + 1):
        if n not in doc.code_lines and doc.lines[n - 1].strip():
            return n if not doc.lines[n - 1].lstrip().startswith("#") else None
    return None


def _subheading_fields(e: Entry, doc: _Doc) -> None:
    """`### Impact` / `#### Root Cause` sub-headings inside a heading entry are its fields."""
    if e.shape != "heading":
        return
    i = bisect.bisect_right(doc.starts, e.line)
    while i < len(doc.headings) and doc.headings[i].line <= e.end_line:
        h = doc.headings[i]
        title = clean_title(h.text)
        if _is_field_heading(title):
            _add_field(e, doc, title, "", h.line)
        i += 1


_LABEL_SEVERITY = re.compile(rf"^(?:{'|'.join(SEVERITY_FIELDS)})\s*[(\[]\s*{_SEV}\s*[)\]]\s*$", re.I)


def _read_severity(e: Entry, plain: list[tuple[str, str, int]]) -> None:
    if e.severity is not None:
        return
    for name, (value, n) in e.fields.items():
        key = name.lower()
        sev = _leading_severity(value, key) if key in SEVERITY_FIELDS else None
        if sev is None and (m := _LABEL_SEVERITY.match(key)):  # "**Impact (Minor)**:"
            sev = _SEVERITY_WORD[m.group(1)]
        if sev:
            e.severity, e.severity_line, e.severity_source = sev, n, "field"
            return
    for name, value, n in plain:
        if name != "category" and (sev := _leading_severity(value, name)):
            e.severity, e.severity_line, e.severity_source = sev, n, "field"
            return
    sev = _title_severity(e.title)
    if sev:
        e.severity, e.severity_line, e.severity_source = sev, e.line, "title"


def _read_category(e: Entry, plain: list[tuple[str, str, int]]) -> None:
    values = [v for k, (v, _) in e.fields.items() if k.lower() in ("category", "fix category", "failure category")]
    values += [v for name, v, _ in plain if name == "category"]
    for value in values:
        m = re.match(r"^\W*(?:category\s*)?\(?([A-D])\b(?!['’]\w)", value, re.I)
        if m:
            e.category = m.group(1).upper()
            return
    m = CATEGORY_RE.search(e.title)
    if m:
        e.category = m.group(1).upper()


def _section_context(e: Entry) -> None:
    """Severity and category of the sections the entry sits in."""
    anchor = e.heading.parent if (e.shape == "heading" and e.heading) else e.heading
    while anchor is not None:
        title = clean_title(anchor.text)
        if e.section_severity is None:
            e.section_severity = _section_severity(title)
            if e.section_severity and e.severity is None:
                e.severity, e.severity_line, e.severity_source = e.section_severity, anchor.line, "section"
        m = CATEGORY_RE.search(title)
        if m and e.category is None:
            e.category = m.group(1).upper()
        anchor = anchor.parent


_NOT_SEVERITY_NOUN = re.compile(r"\s+(?:availability|latency|throughput|performance|level|cardinality|volume)", re.I)


def _leading_severity(value: str, field: str = "severity") -> str | None:
    m = re.match(rf"^\W*{_SEV}\b", value[:200], re.I)
    if not m:
        return None
    # "Impact: High availability is lost" is prose, not a severity.
    if field == "impact" and _NOT_SEVERITY_NOUN.match(value, m.end()):
        return None
    return _SEVERITY_WORD[m.group(1).lower()]


_TITLE_SEVERITY = re.compile(
    rf"[\[(]\s*(?:(?:severity|priority|impact|risk)\s*[:=-]?\s*)?{_SEV}(?:[\s-]+(?:severity|priority|impact|risk))?\s*[\])]"
    rf"|^\W*(?:\d+[.)]\s*)?{_SEV}(?:[\s-]+(?:severity|priority|impact|risk))?\s*[:|–—-]\s"
    rf"|^\W*(?:\d+[.)]\s*)?{_SEV}(?:[\s-]+(?:severity|priority))?\s+(?:issue|failure|change|bug|error|problem|finding|defect)\b"
    rf"|[|–—-]\s*{_SEV}(?:[\s-]+(?:severity|priority|impact|risk))?\W{{0,3}}$",
    re.I,
)


@functools.lru_cache(maxsize=4096)  # titles repeat across entries and reports
def _title_severity(title: str) -> str | None:
    """`[HIGH] ...`, `... (Critical)`, `Critical: ...`, `Critical Change: ...`, `... - High`."""
    m = _TITLE_SEVERITY.search(title[:300])
    if not m:
        return None
    word = next(g for g in m.groups() if g)
    return _SEVERITY_WORD[word.lower()]


_SECTION_SEVERITY = re.compile(
    rf"^\W*(?:\d+[.)]\s*)?(?:category\s+[A-D]\W+)?{_SEV}\b(?:[\s-]*(?:severity|priority|impact|risk))?"
    r"(?:\s+[\w/&-]+){0,3}?[\s-]*(?:failures?|issues?|problems?|fixes|findings|errors|bugs|defects|gaps|"
    r"severity|priority|impact|risk|changes|corrections|mistakes|deficiencies|concerns|violations)?\W*(?:\(.*\))?\s*$",
    re.I,
)


@functools.lru_cache(maxsize=4096)  # titles repeat across entries and reports
def _section_severity(title: str) -> str | None:
    """"## Critical Failures", "### High Severity Issues", "## 🔴 Medium Priority" -> severity."""
    title = title[:200]
    m = _SECTION_SEVERITY.match(title)
    if not m:
        return None
    # "Low-Level Design" or "High Availability" is a topic; the extra words must end in a failure word.
    rest = title[m.end(1):].strip(" -:()").lower()
    if rest and not re.search(r"(failure|issue|problem|fix|finding|error|bug|defect|gap|severity|priority|impact|"
                              r"risk|change|correction|mistake|deficienc|concern|violation)", rest):
        return None
    return _SEVERITY_WORD[m.group(1).lower()]


# ---------------------------------------------------------------------------------------------
# Code, inline code and refs of each entry


def _attach(entries: list[Entry], code_blocks: list[CodeBlock], inline: list[InlineCode],
            refs: list[FileRef], doc: _Doc) -> None:
    starts = [e.line for e in entries]

    def owner(line: int) -> Entry | None:
        # Entries do not overlap: the owner is the last entry starting at or before the line.
        i = bisect.bisect_right(starts, line) - 1
        return entries[i] if i >= 0 and line <= entries[i].end_line else None

    for c in code_blocks:
        e = owner(c.line)
        if e is None:
            continue
        e.code.append(c)
        if c.role is None:
            _role_from_subheading(c, e, doc)
    for i in inline:
        if (e := owner(i.line)) is not None:
            e.inline.append(i)
    for r in refs:
        if (e := owner(r.line)) is not None:
            e.refs.append(r)


def _role_from_subheading(c: CodeBlock, e: Entry, doc: _Doc) -> None:
    """A snippet under `#### Before` / `### IDEAL_RESPONSE Fix` inside its entry takes that role."""
    sec = doc.section(c.line)
    if sec is None or sec is e.heading or sec.line <= e.line:
        return
    title = clean_title(sec.text)
    role = code_role(title)
    if role:
        c.role, c.label = role, title
