"""Parse a MODEL_FAILURES report with markdown-it-py, keeping source line numbers.

Reports come in many shapes (`### 1. Title` + bold fields, `#### Issue 3`, `**1. Title**` paragraphs,
table rows). The parser finds the individual failures ("entries") in all of them and labels every
code snippet with the role the report gives it (the model's code or the fix).
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

from bot.report.model import FIX, MODEL, CodeBlock, Entry, FileRef, Heading, InlineCode, Report

_MD = MarkdownIt("commonmark", {"maxNesting": 40}).enable("table")

SEVERITY_RE = re.compile(r"\b(critical|high|medium|moderate|low|minor|major|severe)\b", re.I)
_SEVERITY_WORD = {
    "critical": "Critical", "severe": "Critical", "high": "High", "major": "High",
    "medium": "Medium", "moderate": "Medium", "low": "Low", "minor": "Low",
}
SEVERITY_FIELDS = ("impact level", "severity", "impact", "priority", "severity level", "criticality")
CATEGORY_RE = re.compile(r"\bcategory\s*[:\-]?\s*\(?([A-D])\b", re.I)

# Labels that give a snippet its role. The last label before a snippet wins ("Fix ... Before:").
MODEL_LABEL = re.compile(
    r"\b(model[_ ]?response|model'?s?\s+(?:code|response|output|version|implementation)|generated|"
    r"before|wrong|incorrect|original|issue|problem|broken|bad|failing|failed|buggy|"
    r"what the model (?:did|wrote|generated)|model (?:used|wrote|generated|had))\b|❌",
    re.I,
)
FIX_LABEL = re.compile(
    r"\b(ideal[_ ]?response|ideal|after|fix(?:ed)?|corrected|correct|solution|resolution|"
    r"resolved|good|working|final|updated|improved|proper)\b|✅",
    re.I,
)

_ENTRY_TITLE = re.compile(
    r"^\s*(?:(?:issue|failure|fix|error|problem|bug|finding|defect|gap|mistake)\s*#?\s*(?P<n1>[A-Z]?\d+(?:\.\d+)*)"
    r"|(?P<n2>[A-Z]{0,2}-?\d+(?:\.\d+)*)[.):]|(?P<n3>[A-Z]\d+)\b)",
    re.I,
)
# Section names that are never a failure entry themselves.
_NOT_ENTRY = re.compile(
    r"^\W*(?:\d+[.)]\s*)?(summary|overview|conclusion|lessons?|recommendation|training|table of contents|"
    r"introduction|context|executive|statistics|key (?:takeaways|learnings)|references?|appendix|"
    r"deployment status|validation|test results|metrics|score|next steps|background|scope|notes?)\b",
    re.I,
)
# Sub-headings that are fields of the entry above them ("### Problem", "### Fix Applied").
_FIELD_HEADING = re.compile(
    r"^\W*(problem|fix|fixes|root cause|impact|issue|solution|resolution|error|error message|"
    r"correct(?:ed)? (?:implementation|code|approach)|model(?:_response)? (?:code|issue|response)|"
    r"ideal(?:_response)? (?:fix|code|response|solution)|before|after|why|what|how|lesson|"
    r"prevention|evidence|symptoms?|location|training value|description|expected|actual|"
    r"original|fixed|wrong|incorrect|example|details|analysis|changes?|result)\b",
    re.I,
)
_ENTRY_FIELD = re.compile(
    r"\*\*\s*(impact level|severity|model[_ ]response issue|root cause|ideal[_ ]response fix|problem|issue|"
    r"fix applied|failure)\s*:?\s*\*\*",
    re.I,
)
_BOLD_FIELD = re.compile(r"^\s*(?:[-*+]\s+)?\*\*([^*\n]{1,80}?)\s*:?\s*\*\*\s*:?\s*(.*)$")
_BOLD_ENTRY = re.compile(
    r"^\s*(?:(?P<ln>\d+)[.)]\s+)?\*\*\s*(?P<title>(?:(?:issue|failure|fix|error|problem|bug|finding)\s*#?\s*"
    r"[A-Z]?\d+(?:\.\d+)*|[A-Z]?\d+(?:\.\d+)*[.):])[^*\n]*)\*\*|^\s*(?P<ln2>\d+)[.)]\s+\*\*(?P<title2>[^*\n]{3,})\*\*",
    re.I,
)
_TABLE_ISSUE_COL = re.compile(r"\b(issue|failure|problem|finding|error|bug|defect|gap|what went wrong)\b", re.I)
_TABLE_COUNT_COL = re.compile(r"\b(count|number|total|#|qty)\b", re.I)
_FAILURE_SECTION = re.compile(r"\b(fail|issue|fix|error|problem|bug|defect|gap|mistake|critical|high|medium|low)", re.I)

_PATH = r"(?:[\w.@-]+/)*[\w.@-]+\.(?:tsx?|jsx?|mjs|py|go|java|tf|tfvars|hcl|ya?ml|json|md|log|txt|sh|cfg|toml)\b"
_RANGE = r"(?P<a>\d+)(?:\s*(?:-|–|to)\s*L?(?P<b>\d+))?"
_REF_PATH = re.compile(
    rf"(?P<path>{_PATH})(?::L?{_RANGE}|\s*\(?\s*lines?\s+{_RANGE.replace('?P<a>', '?P<a2>').replace('?P<b>', '?P<b2>')})?",
    re.I,
)
_REF_LINES = re.compile(rf"\b(?:lines?|L)\s*{_RANGE}\b", re.I)
_URL = re.compile(r"https?://\S+")


def severity_word(text: str) -> str | None:
    m = SEVERITY_RE.search(text or "")
    return _SEVERITY_WORD[m.group(1).lower()] if m else None


def code_role(label: str) -> str | None:
    """MODEL or FIX from a label; the label standing last in the text wins."""
    last_model = max((m.end() for m in MODEL_LABEL.finditer(label)), default=-1)
    last_fix = max((m.end() for m in FIX_LABEL.finditer(label)), default=-1)
    if last_model < 0 and last_fix < 0:
        return None
    # "IDEAL_RESPONSE Fix" / "MODEL_RESPONSE Issue": the response name decides, not the trailing word.
    if re.search(r"ideal[_ ]?response", label, re.I) and not re.search(r"model[_ ]?response", label, re.I):
        return FIX
    if re.search(r"model[_ ]?response", label, re.I) and not re.search(r"ideal[_ ]?response", label, re.I):
        return MODEL
    return MODEL if last_model > last_fix else FIX


def parse_report(text: str, path: str = "lib/MODEL_FAILURES.md") -> Report:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd")
    lines = text.split("\n")
    tokens = _MD.parse(text)
    headings = _headings(tokens, len(lines))
    code_blocks, inline, tables = _code_and_tables(tokens, lines)
    code_lines = {n for c in code_blocks for n in range(c.line, c.end_line + 1)}
    refs = _refs(lines, code_lines)
    entries = _entries(lines, headings, tables, code_lines)
    for entry in entries:
        entry.code = [c for c in code_blocks if entry.line <= c.line <= entry.end_line]
        entry.inline = [i for i in inline if entry.line <= i.line <= entry.end_line]
        entry.refs = [r for r in refs if entry.line <= r.line <= entry.end_line]
    return Report(path, text, lines, headings, entries, code_blocks, inline, refs)


def _inline_text(tok) -> str:
    return tok.content if tok is not None else ""


def _headings(tokens, nlines: int) -> list[Heading]:
    heads: list[Heading] = []
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.map:
            level = int(tok.tag[1])
            heads.append(Heading(level, _inline_text(tokens[i + 1]).strip(), tok.map[0] + 1, nlines))
    stack: list[Heading] = []
    for h in heads:
        while stack and stack[-1].level >= h.level:
            stack.pop().end_line = h.line - 1
        h.parent = stack[-1] if stack else None
        stack.append(h)
    return heads


def _code_and_tables(tokens, lines: list[str]):
    blocks: list[CodeBlock] = []
    inline: list[InlineCode] = []
    tables: list[list[tuple[int, list[str]]]] = []
    row: list[str] | None = None
    for i, tok in enumerate(tokens):
        if tok.type in ("fence", "code_block") and tok.map:
            start, end = tok.map[0] + 1, tok.map[1]
            label = _label_before(lines, start)
            first = tok.content.lstrip("\n").split("\n", 1)[0]
            role = None
            if re.match(r"^\s*(#|//|--|/\*|<!--)", first):
                role = code_role(first)
                label = first.strip() if role else label
            role = role or code_role(label)
            blocks.append(CodeBlock(tok.content, (tok.info or "").strip().split(" ")[0].lower(), start, end, role, label))
        elif tok.type == "inline" and tok.map and tok.children:
            line0 = tok.map[0] + 1
            offset = 0
            label = _label_of_line(lines, line0)
            for child in tok.children:
                if child.type in ("softbreak", "hardbreak"):
                    offset += 1
                    label = _label_of_line(lines, line0 + offset)
                elif child.type == "code_inline":
                    inline.append(InlineCode(child.content, line0 + offset, code_role(label), label))
        elif tok.type == "table_open":
            tables.append([])
        elif tok.type == "tr_open" and tables:
            row = []
            tables[-1].append((tok.map[0] + 1 if tok.map else 0, row))
        elif tok.type == "inline" and row is not None and tokens[i - 1].type in ("th_open", "td_open"):
            row.append(tok.content.strip())
        elif tok.type == "table_close":
            row = None
    return blocks, inline, tables


def _label_before(lines: list[str], fence_line: int) -> str:
    """The text just above a fence: up to two non-blank lines, not crossing another fence."""
    out: list[str] = []
    n = fence_line - 2
    while n >= 0 and len(out) < 2:
        s = lines[n].strip()
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
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    m = _BOLD_FIELD.match(text)
    if m:
        return m.group(1)
    return text.split("`", 1)[0]


def _refs(lines: list[str], code_lines: set[int]) -> list[FileRef]:
    refs: list[FileRef] = []
    for n, raw in enumerate(lines, 1):
        if n in code_lines:
            continue
        text = _URL.sub(" ", raw)
        spans = []
        for m in _REF_PATH.finditer(text):
            a = m.group("a") or m.group("a2")
            b = m.group("b") or m.group("b2")
            refs.append(FileRef(m.group("path"), _int(a), _int(b) or _int(a), n, m.group(0)))
            spans.append(m.span())
        for m in _REF_LINES.finditer(text):
            if any(s <= m.start() < e for s, e in spans):
                continue
            a, b = _int(m.group("a")), _int(m.group("b"))
            refs.append(FileRef(None, a, b or a, n, m.group(0)))
    return refs


def _int(s: str | None) -> int | None:
    return int(s) if s and len(s) < 9 else None


def _entries(lines, headings: list[Heading], tables, code_lines: set[int]) -> list[Entry]:
    entries = _heading_entries(lines, headings, code_lines)
    covered = [(e.line, e.end_line) for e in entries]
    bold = [e for e in _bold_entries(lines, headings, code_lines)
            if not any(a <= e.line <= b for a, b in covered)]
    entries += bold
    if not entries:
        entries = _table_entries(tables, headings)
    entries.sort(key=lambda e: e.line)
    for e in entries:
        _fill_fields(e, lines, headings, code_lines)
    return entries


def _has_entry_fields(lines, start: int, end: int, code_lines: set[int]) -> bool:
    return any(_ENTRY_FIELD.search(lines[n - 1]) for n in range(start, min(end, start + 60) + 1) if n not in code_lines)


def _heading_entries(lines, headings: list[Heading], code_lines) -> list[Entry]:
    candidates: list[Heading] = []
    for h in headings:
        title = h.text
        if h.level == 1 or _NOT_ENTRY.match(title):
            continue
        numbered = bool(_ENTRY_TITLE.match(title))
        if _FIELD_HEADING.match(title) and not numbered:
            continue
        direct_end = h.end_line
        for other in headings:
            if other.line > h.line and other.parent is h and not _FIELD_HEADING.match(other.text):
                direct_end = other.line - 1
                break
        if numbered or _has_entry_fields(lines, h.line + 1, direct_end, code_lines):
            candidates.append(h)
    # Keep the innermost candidates: a numbered section that holds numbered entries is a container.
    leaf = [h for h in candidates if not any(o is not h and h in o.ancestors() for o in candidates)]
    out = []
    for h in leaf:
        m = _ENTRY_TITLE.match(h.text)
        number = (m.group("n1") or m.group("n2") or m.group("n3")) if m else None
        out.append(Entry(h.text, h.line, h.end_line, "heading", number, heading=h))
    return out


def _bold_entries(lines, headings: list[Heading], code_lines) -> list[Entry]:
    out: list[Entry] = []
    for n, text in enumerate(lines, 1):
        if n in code_lines:
            continue
        m = _BOLD_ENTRY.match(text)
        if not m:
            continue
        sec = _section(headings, n)
        if sec is not None and _NOT_ENTRY.match(sec.text) and not _FAILURE_SECTION.search(sec.text):
            continue
        title = (m.group("title") or m.group("title2") or "").strip()
        nm = _ENTRY_TITLE.match(title)
        number = m.group("ln") or m.group("ln2") or (nm and (nm.group("n1") or nm.group("n2") or nm.group("n3")))
        end = sec.end_line if sec else len(lines)
        out.append(Entry(title, n, end, "bold", number, heading=sec))
    for a, b in zip(out, out[1:]):
        if b.line <= a.end_line:
            a.end_line = b.line - 1
    return out


def _table_entries(tables, headings: list[Heading]) -> list[Entry]:
    out: list[Entry] = []
    for rows in tables:
        if len(rows) < 2:
            continue
        header = rows[0][1]
        if any(_TABLE_COUNT_COL.search(c) for c in header):
            continue
        issue_col = next((i for i, c in enumerate(header) if _TABLE_ISSUE_COL.search(c)), None)
        if issue_col is None:
            continue
        sev_col = next((i for i, c in enumerate(header) if re.search(r"severity|impact|priority", c, re.I)), None)
        for line, cells in rows[1:]:
            if issue_col >= len(cells) or not cells[issue_col]:
                continue
            e = Entry(cells[issue_col], line, line, "table", heading=_section(headings, line))
            if cells and re.fullmatch(r"[A-Z]?\d+(?:\.\d+)*", cells[0]):
                e.number = cells[0]
            if sev_col is not None and sev_col < len(cells) and severity_word(cells[sev_col]):
                e.severity, e.severity_line, e.severity_source = severity_word(cells[sev_col]), line, "field"
            out.append(e)
    return out


def _section(headings: list[Heading], line: int) -> Heading | None:
    best = None
    for h in headings:
        if h.line <= line <= h.end_line and (best is None or h.level >= best.level):
            best = h
    return best


def _fill_fields(e: Entry, lines, headings: list[Heading], code_lines) -> None:
    for n in range(e.line, e.end_line + 1):
        if n in code_lines:
            continue
        m = _BOLD_FIELD.match(lines[n - 1])
        if m:
            e.fields.setdefault(m.group(1).strip().rstrip(":").strip(), (m.group(2).strip(), n))
    for name, (value, n) in e.fields.items():
        if name.lower() in SEVERITY_FIELDS and e.severity is None:
            sev = _leading_severity(value)
            if sev:
                e.severity, e.severity_line, e.severity_source = sev, n, "field"
        if name.lower() == "category" and e.category is None:
            m = re.match(r"\s*\(?([A-D])\b", value)
            if m:
                e.category = m.group(1).upper()
    if e.severity is None:
        m = re.search(r"[\[(]\s*(critical|high|medium|low)\s*[\])]|^\W*(critical|high|medium|low)\s*[:\-]", e.title, re.I)
        if m:
            e.severity, e.severity_line, e.severity_source = _SEVERITY_WORD[(m.group(1) or m.group(2)).lower()], e.line, "field"
    anchor = e.heading.parent if (e.shape == "heading" and e.heading) else e.heading
    while anchor is not None:
        sev = _section_severity(anchor.text)
        if sev and e.section_severity is None:
            e.section_severity = sev
        m = CATEGORY_RE.search(anchor.text)
        if m and e.category is None:
            e.category = m.group(1).upper()
        anchor = anchor.parent
    if e.severity is None and e.section_severity:
        e.severity, e.severity_line, e.severity_source = e.section_severity, e.heading.line if e.heading else e.line, "section"
    if e.category is None:
        m = CATEGORY_RE.search(e.title)
        if m:
            e.category = m.group(1).upper()


def _leading_severity(value: str) -> str | None:
    m = re.match(r"^\W*(critical|high|medium|moderate|low|minor|major|severe)\b", value, re.I)
    return _SEVERITY_WORD[m.group(1).lower()] if m else None


def _section_severity(title: str) -> str | None:
    """"## Critical Failures", "### High Severity Issues", "## 🔴 Medium Priority" -> severity."""
    m = re.match(
        r"^\W*(?:\d+[.)]\s*)?(critical|high|medium|moderate|low|minor)\b(?:[\s-]*(?:severity|priority|impact))?"
        r"[\s-]*(?:failures?|issues?|problems?|fixes|findings|errors|bugs|defects|severity|priority|impact)?\W*(?:\(.*\))?\s*$",
        title,
        re.I,
    )
    return _SEVERITY_WORD[m.group(1).lower()] if m else None

