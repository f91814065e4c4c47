"""The report's claims about itself, with their lines: counts, scores, formulas, percentages, statements.

Pure functions over a parsed Report. Claims are read from prose only (never from code blocks), and
every claim keeps the column span of the number it states so that a rule can rewrite that number.
The parser (bot/report/parser.py) is used as it is; what it does not provide is derived here:
`failure_entries` drops the entries it finds in non-failure sections (enhancements, justifications,
lessons), and list items under a claim are read from the raw lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterator

from bot.report.model import Entry, Heading, Report

# A number as written: 1,726 / 8.5 / 13. Not part of a word, a version or a date.
_N = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\w]|\.\d|,\d{3})"
NUM = r"(?<![\w.,/-])" + _N
_NUM_RX = re.compile(NUM)
_EMPH = r"[*_`]*"


@dataclass(frozen=True)
class Num:
    """A number in a line: its value, its text and its columns (0-based, end exclusive)."""

    value: float
    text: str
    start: int
    end: int

    @property
    def decimals(self) -> int:
        return len(self.text.split(".", 1)[1]) if "." in self.text else 0


def num(m: re.Match, group: str | int = 0) -> Num:
    text = m.group(group)
    return Num(float(text.replace(",", "")), text, m.start(group), m.end(group))


def fmt(value: float, decimals: int = 0) -> str:
    """`value` written with `decimals` places, half up (`12.5` -> `13`)."""
    exact = Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return f"{exact:,}" if abs(value) >= 10_000 else str(exact)


def close(stated: float, exact: float, decimals: int) -> bool:
    """Honest rounding: `stated` is `exact` rounded up or down to the places the text shows."""
    unit = 10 ** -decimals
    return abs(stated - exact) < unit - 1e-9


def replace_span(line: str, start: int, end: int, text: str) -> str:
    return line[:start] + text + line[end:]


# --- prose --------------------------------------------------------------------------------------

def _memo(report: Report, key: str, make):
    """Per-report memo: every claim function walks the same lines."""
    cache = report.__dict__.setdefault("_claims_cache", {})
    if key not in cache:
        cache[key] = make()
    return cache[key]


def per_report(fn):
    """Cache a claim function's result on the report: several rules read the same claims."""
    def wrapper(report: Report):
        return _memo(report, fn.__name__, lambda: fn(report))
    wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
    return wrapper


def number_lines(report: Report) -> list[tuple[int, str]]:
    """The prose lines that hold a digit: the only ones a numeric claim can stand on."""
    return _memo(report, "numbers", lambda: [(n, t) for n, t in prose_lines(report) if _DIGIT.search(t)])


_DIGIT = re.compile(r"\d")


def _prose_rows(report: Report) -> list[tuple[int, str, str | None]]:
    """`prose_lines` with each line lowercased once, for the cheap word tests of `_may_hold`
    (None for a line with non-ASCII characters: that one always goes to the regular expression)."""
    return _memo(report, "prose_rows", lambda: [(n, t, t.lower() if t.isascii() else None)
                                                for n, t in prose_lines(report)])


def _number_rows(report: Report) -> list[tuple[int, str, str | None]]:
    """`number_lines` as `_prose_rows`."""
    return _memo(report, "number_rows", lambda: [row for row in _prose_rows(report) if _DIGIT.search(row[1])])


def _may_hold(low: str | None, words: tuple[str, ...]) -> bool:
    """Whether a case-insensitive pattern that needs one of `words` can match the line `low`.

    A necessary condition only, to skip the pattern on most lines. Non-ASCII lines (None) always
    pass: under re.I, `K` (Kelvin) and `ſ` match k and s, which `str.lower` does not give."""
    return low is None or any(w in low for w in words)


def _matches(report: Report, rx: re.Pattern, words: tuple[str, ...] = (),
             symbol: str = "") -> Iterator[tuple[int, re.Match]]:
    """(line number, match) of every match of `rx` in the prose lines with a digit that hold `symbol`
    ("%", as written) or else one of `words` (lower case); `m.string` is the line. The loop every
    numeric claim is read with."""
    for n, line, low in _number_rows(report):
        if (symbol in line) if symbol else _may_hold(low, words):
            for m in rx.finditer(line):
                yield n, m


def code_lines(report: Report) -> frozenset[int]:
    return _memo(report, "code", lambda: frozenset(n for c in report.code_blocks for n in range(c.line, c.end_line + 1)))


def prose_lines(report: Report) -> list[tuple[int, str]]:
    """(line number, text) of every line outside code blocks, inline code blanked."""
    skip = code_lines(report)
    return _memo(report, "prose", lambda: [(n, _blank_code(t)) for n, t in enumerate(report.lines, 1)
                                           if n not in skip and t.strip()])


def _blank_code(line: str) -> str:
    if "`" not in line:
        return line
    return _CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line)


_CODE_SPAN = re.compile(r"(`+)(.+?)\1")


def plain(text: str) -> str:
    """Text without emphasis, list bullets, heading marks or table pipes."""
    text = re.sub(r"[*_`]+", "", text)
    return re.sub(r"^\s*(?:#+|[-*+]|\d+[.)]|>)\s*", "", text).replace("|", " ").strip()


def section_titles(report: Report, line: int) -> list[str]:
    """The titles of the sections around `line`, innermost first."""
    sec = report.section_of(line)
    return [h.text for h in ([sec] + sec.ancestors())] if sec else []


def _enclosing_titles(report: Report, line: int) -> list[str]:
    """Section titles around a line; for a heading line, those of the sections above it."""
    sec = report.section_of(line)
    titles = section_titles(report, line)
    return titles[1:] if sec is not None and sec.line == line else titles


def lead_label(report: Report, line: int, reach: int = 4) -> str:
    """A bold label that opens the block a line sits in (`**Before Enhancement**:`), if any."""
    for n in range(line - 1, max(0, line - reach) - 1, -1):
        text = report.line_text(n).strip()
        if not text or text.startswith("#"):
            break
        if re.match(r"^\*\*[^*]+\*\*\s*:?\s*$|^[^-*|].{0,60}:\s*$", text):
            return plain(text)
    return ""


# --- entries ------------------------------------------------------------------------------------

_NOT_FAILURE_SECTION = re.compile(
    r"\b(enhancements?|features? added|new features|justification|lessons?|learnings?|takeaways?|"
    r"recommendations?|best practices|strengths|what went (?:well|right)|worked well|results after|what (?:the )?model (?:did|got) right|"
    r"conclusion|summary|overview|training (?:value|quality)|knowledge gaps|next steps|improvements? (?:made|in)|"
    r"additional improvements|key (?:insights|improvements)|positive|correct(?:ly)? implemented)\b",
    re.I,
)

_TITLE_NUMBER = re.compile(r"^\W*(?:(?:issue|failure|fix|error|problem|bug|finding|defect|gap|mistake)\s*#?\s*)?"
                           r"([A-Z]{0,2}-?\d+(?:\.\d+)*)(?![\w])", re.I)
_NOT_ENTRY_TITLE = re.compile(r"\b(summary|overview|quality|score|assessment|conclusion|lessons?|justification|"
                              r"statistics|metrics|status|results?|category\s+[A-D]|complexity|total|base|"
                              r"calculation|training|coverage|deployment attempts?|platform|language|region|provider|task|"
                              r"author|date|success(?:ful(?:ly)?)?|deployment\s+(?:summary|details))\b", re.I)

# Severity sources in which an entry states its own severity (not inherited from its section or a summary).
OWN_SEVERITY = ("field", "title")


def own_severity(e: Entry) -> str | None:
    return e.severity if e.severity_source in OWN_SEVERITY else None
_FAILURE_WORD = re.compile(r"\b(fix|fixes|fixed|failures?|issues?|errors?|problems?|bugs?|defects?|mistakes?)\b", re.I)


@per_report
def failure_entries(report: Report) -> list[Entry]:
    """The entries that document failures: not those the parser finds in enhancement lists,
    justifications or lessons learned."""
    out = []
    for e in report.entries:
        if e.shape == "bold" and e.heading is not None and _TITLE_NUMBER.match(e.heading.text):
            continue  # list points inside a numbered section the parser did not take as an entry
        titles = [h.text for h in heading_chain(e)]
        if any(_NOT_FAILURE_SECTION.search(t) and not _FAILURE_WORD.search(t) for t in titles):
            continue
        if e.shape in ("heading", "bold") and _NOT_ENTRY_TITLE.search(e.title) and not _TITLE_NUMBER.match(e.title):
            continue  # an unnumbered "## Quality Assessment" or "**Category C**: 4 fixes" taken for an entry
        out.append(e)
    return out


def heading_chain(e: Entry) -> list[Heading]:
    if e.heading is None:
        return []
    chain = [e.heading] if e.shape != "heading" else []
    return chain + e.heading.ancestors()


def entry_number(e: Entry) -> str | None:
    """The entry's number as written, dotted sub-numbers included ("2.2"; the parser keeps "2").
    Bold list entries keep the parser's number (it is the list item's)."""
    if e.shape != "heading":
        return e.number
    m = _TITLE_NUMBER.match(e.title)
    return m.group(1) if m else e.number


@dataclass(frozen=True)
class NumberedHeading:
    number: str
    level: int
    line: int
    title: str
    parent_line: int  # line of the enclosing section's heading (0: none)
    style: str = ""  # the word before the number ("fix" in "Fix #3"), "" for "3."


_SECTION_TITLE = re.compile(r"^\W*\d+[.)]?\s*(summary|overview|introduction|conclusion|lessons?|recommendations?|"
                            r"next steps|references|appendix)\b", re.I)


@per_report
def heading_numbers(report: Report) -> set[str]:
    """Every number a heading of the report carries, in any section."""
    return {m.group(1).upper() for h in report.headings for m in [_TITLE_NUMBER.match(h.text)] if m}


@per_report
def numbered_headings(report: Report) -> list[NumberedHeading]:
    """Headings that number failures ("### 3. Missing KMS key", "## Issue 4: ..."), outside sections
    of other things (enhancements, lessons, summaries)."""
    out = []
    for h in report.headings:
        m = _TITLE_NUMBER.match(h.text)
        style = re.match(r"^\W*([a-z]*)", h.text, re.I).group(1).lower() if m else ""
        if h.level == 1 or not m or _SECTION_TITLE.match(h.text):
            continue
        if any(_NOT_FAILURE_SECTION.search(a.text) and not _FAILURE_WORD.search(a.text) for a in h.ancestors()):
            continue
        out.append(NumberedHeading(m.group(1), h.level, h.line, h.text, h.parent.line if h.parent else 0, style))
    return out


_FAILURE_FIELD = re.compile(r"^(impact|severity|issue|problem|fix|root cause|model[_ ]response|ideal[_ ]response|"
                            r"error|solution|category|what went wrong|failure|before|after)", re.I)


def has_failure_fields(e: Entry) -> bool:
    return any(_FAILURE_FIELD.match(k) for k in e.fields)


def documented(e: Entry) -> bool:
    """An entry that is a failure write-up: numbered, with its own severity or with failure fields
    (not a "## Verdict" section the parser took for an entry)."""
    return bool(e.number or own_severity(e) or has_failure_fields(e))


def failure_entry_at(report: Report, line: int) -> Entry | None:
    e = report.entry_at(line)
    return e if e is not None and documented(e) and e in failure_entries(report) else None


def entry_label(e: Entry) -> str:
    return f"#{e.number} (line {e.line})" if e.number else f"line {e.line}"


def entry_list(entries: list[Entry], limit: int = 12) -> str:
    shown = ", ".join(entry_label(e) for e in entries[:limit])
    return shown + (f" and {len(entries) - limit} more" if len(entries) > limit else "") if entries else "none"


# --- list items under a claim -------------------------------------------------------------------

_ITEM = re.compile(r"^(\s*)(?:[-*+]|\d+[.)])\s+(.*)$")


def list_after(report: Report, line: int) -> list[tuple[int, str]]:
    """The items of the list that starts right below `line` (one blank line allowed), at the
    indentation of its first item; nested items are not counted."""
    n, items, indent = line + 1, [], None
    own = _ITEM.match(report.line_text(line))
    floor = len(own.group(1)) if own else -1  # a claim that is itself an item owns only deeper items
    if report.line_text(n).strip() == "":
        n += 1
    skip = code_lines(report)
    while n <= len(report.lines) and n not in skip:
        text = report.line_text(n)
        m = _ITEM.match(text)
        if m and len(m.group(1)) <= floor:
            break
        if m and (indent is None or len(m.group(1)) == indent):
            indent = len(m.group(1))
            items.append((n, m.group(2).strip()))
        elif m and len(m.group(1)) > (indent or 0):
            pass
        elif text.startswith(" " * ((indent or 0) + 2)) and text.strip() and items:
            pass  # continuation of an item
        else:
            break
        n += 1
    return items


# --- counts -------------------------------------------------------------------------------------

_SEV = r"(critical|high|medium|moderate|low)"
_SEV_WORD = {"critical": "Critical", "high": "High", "medium": "Medium", "moderate": "Medium", "low": "Low"}
COUNTABLE = r"(?:issues?|failures?|fixes|fix|findings?|problems?|defects?|bugs?|mistakes?|errors?|corrections?|improvements?)"


@dataclass(frozen=True)
class SeverityCount:
    line: int
    severity: str
    number: Num


@dataclass(frozen=True)
class Total:
    line: int
    number: Num
    noun: str
    fixed: bool  # "18 issues fixed", "Total fixes": the count is of fixes made


@dataclass(frozen=True)
class CategoryCount:
    line: int
    category: str  # "A".."D"
    number: Num
    items: tuple[tuple[int, str], ...] = ()


_SEV_PAIR = re.compile(rf"(?<![\w.])(\d+)\s+{_EMPH}{_SEV}\b(?!\s*[-/]\s*(?:severity|priority|impact)?\s*(?:fix|change|item))", re.I)
_SEV_LABEL = re.compile(rf"^\s*(?:[-*+]\s+)?{_EMPH}{_SEV}(?:\s+(?:severity|priority|impact))?(?:\s+{COUNTABLE})?{_EMPH}"
                        rf"\s*(?:\([^)]*\))?\s*{_EMPH}\s*:\s*{_EMPH}\s*(\d+)\b(?!\s*[/%.]\d?)", re.I)
_SEV_TABLE = re.compile(rf"^\s*\|\s*{_EMPH}{_SEV}{_EMPH}\s*\|\s*{_EMPH}(\d+){_EMPH}\s*\|", re.I)
_SEV_WORDS = ("critical", "high", "medium", "moderate", "low")  # one of them is in every severity count
_NOT_SEV_COUNT = re.compile(r"\b(attempts?|iterations?|rounds?|tests?|alarms?|resources?|alerts?|priority\s+\d|category)\b",
                            re.I)


@per_report
def severity_counts(report: Report) -> list[list[SeverityCount]]:
    """Stated counts per severity, grouped by the statement they belong to: one line with several
    ("3 Critical, 2 High, 1 Medium"), or consecutive lines of a list or table ("- **High**: 2")."""
    groups: list[list[SeverityCount]] = []
    last_line = -10
    for n, line, low in _number_rows(report):
        if not _may_hold(low, _SEV_WORDS) or _is_before(line) or _NOT_SEV_COUNT.search(line):
            continue
        pairs = [SeverityCount(n, _SEV_WORD[m.group(2).lower()], num(m, 1)) for m in _SEV_PAIR.finditer(line)]
        if len(pairs) >= 2 and _counts_failures(report, n, line):
            groups.append(pairs)
            continue
        m = _SEV_LABEL.match(line) or _SEV_TABLE.match(line)
        if m and _counts_failures(report, n, line):
            claim = SeverityCount(n, _SEV_WORD[m.group(1).lower()], num(m, 2))
            if groups and last_line == n - 1 and len(groups[-1]) and groups[-1][-1].line == n - 1:
                groups[-1].append(claim)
            else:
                groups.append([claim])
            last_line = n
    return [g for g in groups if len({c.severity for c in g}) == len(g)]


def _counts_failures(report: Report, n: int, line: str) -> bool:
    """A count of failures: said so on the line, or in a summary / failure section."""
    if _COUNTABLE_RX.search(line):
        return True
    context = " ".join(section_titles(report, n)[:2]) + " " + lead_label(report, n)
    return bool(_COUNT_CONTEXT.search(context))


_COUNTABLE_RX = re.compile(COUNTABLE, re.I)
_COUNT_CONTEXT = re.compile(rf"summary|{COUNTABLE}|severity|breakdown|distribution|statistics", re.I)


_TOTAL = re.compile(
    rf"\btotal\s+(?:number\s+of\s+)?(?:\w+\s+)?(?P<noun>{COUNTABLE})(?:\s+(?:fixed|found|identified|documented|resolved|"
    rf"addressed|categorized|applied))?{_EMPH}\s*(?:\([^)]*\))?\s*[:=]\s*{_EMPH}\s*(?P<n>\d+)\b"
    rf"(?!\s*(?:/|%|\.\d|-\s*\d|\+|\w*\s*(?:critical|high|medium|moderate|low)\b|"
    rf"(?:categories|types|areas|groups|services|resources|files|tests|checks)\b))"
    rf"|(?<![\w.])(?P<n2>\d+)\s+(?:total\s+)?(?P<noun2>{COUNTABLE})\s+(?P<fx>fixed|resolved|addressed|corrected)\b"
    rf"|\((?P<n3>\d+)\s+total(?:\s+{COUNTABLE})?\)(?=.*$)",
    re.I,
)


@per_report
def totals(report: Report) -> list[Total]:
    """"Total Issues Fixed: 18", "**Total failures**: 5", "18 issues fixed", "(14 total)"."""
    out = []
    for n, m in _matches(report, _TOTAL, ("total", "fixed", "resolved", "addressed", "corrected")):
        line = m.string
        if _is_before(line) or "+" in line and re.search(r"\d\s*\+\s*\d", line):
            continue  # a count before the fixes, or a sum
        g = "n" if m.group("n") else "n2" if m.group("n2") else "n3"
        if g == "n3" and not re.search(rf"\b{COUNTABLE}\b", line[max(0, m.start() - 60):m.start()], re.I):
            continue  # "(3 total)" counts what the words before it name: only failures are checked
        noun = (m.group("noun") or m.group("noun2") or "issues").lower()
        fixed = bool(m.group("fx")) or noun.startswith("fix") or bool(re.search(r"\bfixed|resolved\b", m.group(0), re.I))
        out.append(Total(n, num(m, g), noun, fixed))
    return out


_CATEGORY = re.compile(
    rf"^\s*(?:[-*+]\s+|#+\s+)?{_EMPH}category\s+(?P<cat>[A-D])\b{_EMPH}(?:\s*\([^)]*\))?{_EMPH}(?:\s+(?:fixes|issues))?"
    rf"{_EMPH}\s*[:\-–]\s*{_EMPH}\s*(?P<n>\d+)\s*{_EMPH}\s*(?:{COUNTABLE}|total)?\b(?!\s*[/%])",
    re.I,
)


@per_report
def category_counts(report: Report) -> list[CategoryCount]:
    """"**Category A** (Significant): 2 fixes" and the items listed under it."""
    return [CategoryCount(n, m.group("cat").upper(), num(m, "n"), tuple(list_after(report, n)))
            for n, m in _matches(report, _CATEGORY, ("category",)) if not _is_before(m.string)]


# --- counts of tests and resources --------------------------------------------------------------

@dataclass(frozen=True)
class SuiteCount:
    """"45 unit tests", "Unit Tests: 32 passing", "creates 23 resources": a count of things the
    task's files let one count."""

    line: int
    number: Num
    thing: str  # "tests" or "resources"
    suite: str  # for tests: "unit", "integration" or "" (not said)
    suite_on_line: bool  # the line names the suite (not only its section)
    run: bool  # stated as a run's outcome ("32 passing"), not as the cases written
    file: str  # the one file the line names ("test_tap_stack.py"), "" when none


_TEST_NOUN = r"(?:tests?|test\s+cases?|test\s+methods?|test\s+functions?)"
# "8 test files", "3 test suites", "2 test infrastructure issues": counts of something else.
_NOT_TEST_NOUN = (r"(?!\s+(?:files?|suites?|classes|infrastructure|issues?|failures?|errors?|scenarios?|categories|"
                  r"modules?|runs?|groups?|areas?|types?|stacks?|environments?))")
_SUITE_WORD = r"(?P<suite>unit|integration|int|e2e|end-to-end)"
_COUNT_ADJ = (r"(?:comprehensive|total|live|real|automated|passing|passed|individual|detailed|thorough|dynamic|jest|"
              r"pytest|junit|separate|distinct|extensive|robust|successful)")
# A count not part of a ratio, range, version, sum or approximation: "45", "45/45" (all of them).
_COUNT = r"(?<![\w.,/$~+#≈-])(?:(?P<x>\d+)\s*/\s*)?(?P<n>\d+)(?![\w.,%+/]|\s*[-–]\s*\d)"
_TEST_COUNT = re.compile(rf"{_COUNT}\s+(?:{_COUNT_ADJ}\s+){{0,2}}(?:{_SUITE_WORD}\s+)?(?:{_COUNT_ADJ}\s+)?{_TEST_NOUN}\b{_NOT_TEST_NOUN}",
                         re.I)
_RESOURCE_COUNT = re.compile(rf"{_COUNT}\s+(?:(?:aws|cloudformation|cfn|terraform|total|infrastructure)\s+){{0,2}}"
                             rf"resources\b", re.I)
# "Unit Tests: 47 passed", "**Total Resources**: 51": a label, then the count alone or with its verb.
_LABEL = re.compile(r"^\s*(?:[-+>|#]+\s*|\d+[.)]\s+)*(?P<label>[A-Za-z][\w /&()-]{0,40}?)\s*:\s*(?P<body>.*)$")
# "47/47" alone may be a score out of 47: a ratio needs its verb.
_LABELLED_COUNT = re.compile(rf"(?:pass(?:ed)?\s*[-(]?\s*|\(\s*)?(?:all\s+)?{_COUNT}\s*"
                             rf"(?=(?:tests?\s+)?(?:passed|passing|pass)\b|(?(x)(?!)|(?:$|[(,;])))", re.I)
# Labels that name what the count is of: "Unit Tests", "Tests Passed", "Total Resources" (not "Test Issues").
_TEST_LABEL = re.compile(r"(?:\btests?(?:\s+(?:run|passed|passing|executed|created|results?))?|\btesting|\btest\s+"
                         r"(?:results?|suite|summary))\s*(?:\([^)]*\))?$", re.I)
_RESOURCE_LABEL = re.compile(r"(?:\bresources?(?:\s+(?:created|deployed|defined|provisioned|total))?|\bresource\s+count)"
                             r"\s*(?:\([^)]*\))?$", re.I)
# Labels under which a count is the whole (a breakdown line "NAT Gateways: 3/3 tests" is not).
_WHOLE_LABEL = {
    "tests": re.compile(r"\b(?:tests?|testing|total|results?|status|summary|success|outcome|passing|passed|"
                        r"quality|coverage)\b", re.I),
    "resources": re.compile(r"\b(?:resources?|total|results?|status|summary|success|outcome|deployment|infrastructure|"
                            r"stack|template|synth\w*)\b", re.I),
}
_PAREN_OK = re.compile(r"(?:tests?|testing|suite|pass(?:ed|ing)?|coverage|results?|resources?|deployed|created|"
                       r"synth\w*|stack|template|success(?:ful)?)\W*$", re.I)
# Words before the count that make it a part, an increment or an estimate, not the whole.
_PART_BEFORE = re.compile(r"(?:\bof|\bout\s+of|\bfrom|\bto|\bthan|\bover|\babout|\baround|\bapprox\w*|\badditional|"
                          r"\badd(?:ed|ing|s)?|\banother|\bnew|\bmore|\bextra|\bonly|\bjust|\bfirst|\bremaining|\bfix(?:ed|ing)?|"
                          r"\bupdat(?:ed|ing)|\brewr\w+|\bremov\w+|\bskipped|\blast|\bnext|\beach|\bper|~|\+|≈)\s*$", re.I)
# Words after the count that scope it to a part: "for optimize.py", "of type", "with tags".
_PART_AFTER = re.compile(r"^\s*(?:for|in|on|of|from|per|with|without|that|which|under)\b(?!\s+(?:all|total|the\s+"
                         r"(?:whole|entire|full|stack|template|suite)))", re.I)
# Statements about the past, a plan, another state or failures: not counts of the final code.
_NOT_FINAL_COUNT = re.compile(r"\b(?:before|initial(?:ly)?|original(?:ly)?|previous(?:ly)?|prior|model[_ ]response|was|"
                              r"were|had|would|should|could|need(?:s|ed)?|must|requir\w+|target|minimum|expected|goal|"
                              r"add(?:ed|ing)|new|more|additional|expand\w*|increas\w*|reduc\w*|remov\w*|fix(?:ed|ing)|"
                              r"fail\w*|broken|skip\w*|pending|todo|missing|instead|only|from|attempt\w*|iteration|"
                              r"planned|estimated|approx\w*|about|around|over|up\s+to|at\s+least|"
                              r"if|when|until|once|destroy\w*|to\s+(?:create|change|add|import))\b|→|->|=>|~|≈", re.I)
# A necessary condition for a count of tests or resources, cheaper than the patterns: "45 unit tests", "Tests: ...".
_MAY_COUNT = re.compile(r"\d[\s*_/\d]*(?:[a-z-]+\s+){0,3}[*_]*(?:test|resource)|(?:tests?|testing|resources?)\b[^:\n]{0,40}:")
_SOME_FAILED = re.compile(r"\bfail\w*|\bpartial\w*|\bskipped\b", re.I)
_ZERO_BAD = re.compile(r"\b0\s+(?:failed|failing|failures?|errors?|skipped|pending)\b", re.I)
_FILE_TOKEN = re.compile(r"[\w./-]*\w\.(?:tsx?|jsx?|mjs|py|go|java)\b")
_DECOR = re.compile(r"[*`]|[^\x00-\x7f]")


@per_report
def suite_counts(report: Report) -> list[SuiteCount]:
    """Counts of test cases or resources the report states about the final code: "45 unit tests",
    "Unit Tests: 32 passing", "All 95 tests passing", "creates 23 resources", "Total Resources: 51".
    Left out: parts ("12 of 14", "S3 validation (4 tests)", "3 more tests"), estimates ("50+", "~45"),
    counts about the past or a plan ("MODEL_RESPONSE had 8 tests", "expanded to 20"), failures, and
    lines inside failure entries or sections about the state before the fixes."""
    out = []
    for n, line, low in _number_rows(report):
        # `_may_hold` written out: this loop sees every line with a digit
        tests, resources = (True, True) if low is None else ("test" in low, "resource" in low)
        if not (tests or resources) or not _MAY_COUNT.search(low or line.lower()):
            continue
        if line.lstrip().startswith("|") and line.count("|") > 3:
            continue  # a row of a table with several columns: often the model's figure beside the fix's
        text = _DECOR.sub(" ", line)  # same columns, without emphasis and check marks
        found = [(m, "tests") for m in (_TEST_COUNT.finditer(text) if tests else ())]
        found += [(m, "resources") for m in (_RESOURCE_COUNT.finditer(text) if resources else ())]
        label = _LABEL.match(text)
        if label:
            lm = _LABELLED_COUNT.match(text, label.start("body"))
            for thing, rx in (("tests", _TEST_LABEL), ("resources", _RESOURCE_LABEL)):
                if lm and rx.search(label.group("label")) and not any(m.start("n") == lm.start("n") for m, _ in found):
                    found.append((lm, thing))
        if not found or _NOT_FINAL_COUNT.search(_ZERO_BAD.sub(" ", line)) or not final_state(report, n):
            continue
        for m, thing in found:
            claim = _suite_count(report, n, text, m, thing, label)
            if claim is not None:
                out.append(claim)
    return out


def _suite_count(report: Report, n: int, text: str, m, thing: str, label) -> SuiteCount | None:
    """The count the match `m` states on line `n` (`text`: the line without emphasis), or None when
    it is a part, a line of a breakdown or a passing count beside failures."""
    if m.group("x") and m.group("x") != m.group("n"):
        return None  # "32/34 passing": a part
    start = m.start("x") if m.group("x") else m.start("n")
    if _PART_BEFORE.search(text[:start]) or _PART_AFTER.search(text[m.end():]):
        return None
    if label and start >= label.start("body") and not _WHOLE_LABEL[thing].search(label.group("label")) \
            and not (thing == "tests" and m.groupdict().get("suite")):
        return None  # "- NAT Gateways: 3/3 tests passing": one line of a breakdown
    opened = text.rfind("(", 0, start)
    if opened > text.rfind(")", 0, start) and not _PAREN_OK.search(text[:opened]):
        return None  # "S3 lifecycle validation (4 tests)": the count of one part
    files = {f.rsplit("/", 1)[-1] for f in _FILE_TOKEN.findall(report.line_text(n))}  # inline code included
    if len(files) > 1:
        return None
    on_line = _suite_word(m.groupdict().get("suite")) or _suite_word(text[:start]) if thing == "tests" else ""
    suite = on_line or (_section_suite(report, n) if thing == "tests" else "")
    after = text[m.end():m.end() + 15].lower()
    run = "pass" in m.group(0).lower() or bool(re.match(r"^\W*(?:tests?\s+)?pass", after)) or \
        bool(label and "pass" in label.group("label").lower())
    if run and any(_SOME_FAILED.search(_ZERO_BAD.sub(" ", report.line_text(k))) for k in range(n - 3, n + 4)):
        return None  # "Passing: 43" next to "Failing: 1": the passing ones are not the whole suite
    return SuiteCount(n, Num(float(m.group("n")), m.group("n"), m.start("n"), m.end("n")), thing, suite, bool(on_line),
                      run, files.pop() if files else "")


def _suite_word(text: str | None) -> str:
    """"unit" or "integration" when the text names exactly one of them."""
    if not text:
        return ""
    said = {"unit" if w.lower() == "unit" else "integration"
            for w in re.findall(r"\b(unit|integration|int|e2e|end-to-end)\b", text, re.I)}
    return said.pop() if len(said) == 1 else ""


def _section_suite(report: Report, n: int) -> str:
    """The suite the innermost section or the block's label is about ("### Integration Tests")."""
    titles = section_titles(report, n)[:1] + [lead_label(report, n)]
    return _suite_word(" ".join(t for t in titles if re.search(r"\btest", t, re.I)))


# --- scores -------------------------------------------------------------------------------------

FINAL, BEFORE, BASE, OTHER = "final", "before", "base", "other"

_SCORE_FORMS = re.compile(
    r"(?P<a>(?<![\w.])\d+(?:\.\d+)?)(?P<range>\s*[-–]\s*\d+(?:\.\d+)?)?\s*[*_]*\s*/\s*10(?!\d|[.,]\d|\s*\d)"
    r"|^[\s*_>#`-]*SCORE:\s*(?P<b>-?\d+(?:\.\d+)?)"
    r"|(?i:training[_ ]quality)\"?\s*[:=]\s*(?P<c>-?\d+(?:\.\d+)?)\b(?!\s*[-/%]|\.\d)"
)
_TQ_LABEL = re.compile(r"training[ _-]?(?:quality|value)|final\s+(?:adjusted\s+)?(?:training\s+quality\s+)?score|"
                       r"overall\s+(?:training\s+quality\s+)?score|^\W*(?:final\s+|overall\s+)?score\b|\bSCORE:", re.I)
_OTHER_SCORE = re.compile(r"lint|pylint|eslint|security|compliance|complexity|code quality|readiness|pillar|coverage|"
                          r"\bcost|observability|performance|reliability|maintainab|architecture|modularity|"
                          r"best practices|documentation|\btests?\b|confidence|severity|\brisk|prompt|impact|"
                          r"requirements?|rating of|difficulty|per[- ]fix|deduction|penalt", re.I)
_BEFORE = re.compile(r"\b(before|original(?:ly)?|initial(?:ly)?|previous(?:ly)?|prior|starting|baseline|"
                     r"model[_ ]response|model(?:'s)?\s+(?:quality|score|analysis)|old|first\s+(?:attempt|iteration|pass)|pre-?fix|without|was|were|from|"
                     r"iteration\s+1)\b", re.I)
_BASE = re.compile(r"\bbase\b", re.I)
_TARGET = re.compile(r"target|threshold|goal|minimum|required|needed|≥|>=|at least|expected|to reach|to achieve|"
                     r"would|could|potential|max(?:imum)?\b|up to|exceed|above|below|\bover\b|\bunder\b|\bnot\b|"
                     r"\bwhy\b|instead|than\b", re.I)


@dataclass(frozen=True)
class Score:
    line: int
    number: Num
    role: str  # FINAL, BEFORE, BASE or OTHER
    label: str
    form: str  # "/10", "SCORE:", "training_quality"
    is_range: bool = False


def _is_before(text: str) -> bool:
    return bool(_BEFORE_WORD.search(text))


_BEFORE_WORD = re.compile(r"\b(before|original(?:ly)?|initial(?:ly)?|previous(?:ly)?|prior)\b", re.I)


@per_report
def scores(report: Report) -> list[Score]:
    """Training-quality scores the report states, each with its role: the final score, a score
    before the fixes (`from 3/10 to 9/10`, "Original MODEL_RESPONSE Score"), the base of the
    rubric, or another score."""
    out = []
    for n, line, low in _number_rows(report):
        if "/" not in line and "SCORE:" not in line and not _may_hold(low, ("training",)):
            continue  # none of the three forms can match
        matches = list(_SCORE_FORMS.finditer(line))
        for i, m in enumerate(matches):
            group = "a" if m.group("a") else "b" if m.group("b") else "c"
            label = plain(line[:m.start()])
            form = {"a": "/10", "b": "SCORE:", "c": "training_quality"}[group]
            role = _score_role(report, n, line, m, label, form, i, matches)
            if role is None:
                continue
            out.append(Score(n, num(m, group), role, label, form, bool(m.group("range"))))
    return out


def _score_role(report, n, line, m, label, form, i, matches) -> str | None:
    before_text = line[:m.start()]
    if form == "/10":
        # The label is what stands before the number on this line (or the heading of a table row).
        tq = _TQ_LABEL.search(label) or (not label.strip() and _TQ_LABEL.search(lead_label(report, n))) or \
            (re.search(r"model[_ ]response|ideal[_ ]response|original|improved|overall|before|after", label, re.I)
             and re.search(r"training[ _-]?quality", " ".join(_enclosing_titles(report, n)[:1]), re.I))
        if not tq:
            return None
        clause = re.split(r"[.;!?]\s|\|", label)[-1] if label else ""
        if _OTHER_SCORE.search(clause) and not re.search(r"training", clause, re.I):
            return None
    if _TARGET.search(line[max(0, m.start() - 25):m.start()]) or _TARGET.search(label[-25:]):
        return None
    # "from 3/10 to 9/10", "7/10 → 8.5/10": the first is before, the last is the result.
    later = [o for o in matches[i + 1:] if o.group("a")]
    if later and re.search(r"→|->|\bto\b", line[m.end():later[0].start()]):
        return BEFORE
    if re.search(r"\bfrom\s*[*_]*\s*$", before_text, re.I):
        return BEFORE
    earlier = [o for o in matches[:i] if o.group("a")]
    if earlier and re.search(r"→|->|\bto\b", line[earlier[-1].end():m.start()]):
        return FINAL  # the result of "from 4/10 to 8/10"
    if failure_entry_at(report, n) is not None:
        return OTHER  # a rating of one entry ("Training Value: 8/10" per failure), not the report's score
    context = " ".join([label, lead_label(report, n), *section_titles(report, n)[:1]])
    if re.search(r"\b(after|ideal|final|revised|updated|improved|fixed implementation|current)\b", label, re.I):
        return FINAL
    if _BASE.search(label):
        return BASE
    if _BEFORE.search(context):
        return BEFORE
    if re.search(r"\biteration\s*\d|\bturn\s*\d|\bround\s*\d|\bexample\b", context, re.I):
        return OTHER
    return FINAL


def final_scores(report: Report) -> list[Score]:
    return [s for s in scores(report) if s.role == FINAL and not s.is_range]


# --- formulas, caps, percentages ----------------------------------------------------------------

@dataclass(frozen=True)
class Formula:
    line: int
    terms: tuple[tuple[int, Num], ...]  # (sign, number)
    result: Num
    text: str

    @property
    def value(self) -> float:
        return sum(sign * t.value for sign, t in self.terms)


_TERM = rf"\$?{NUM}%?"
_FORMULA = re.compile(
    rf"(?<![\w.*×x/^])(?P<expr>{_TERM}(?:\s*[+\-−]\s*{_EMPH}{_TERM}{_EMPH})+)\s*=\s*{_EMPH}\s*(?P<res>-?\$?{NUM}%?)(?!\s*[*×x/^]\s*\d)"
)


@per_report
def formulas(report: Report) -> list[Formula]:
    """Stated sums: `8 + 1 + 3 + 1 = 13`, `10 - 4 = **6/10**`, `$20 + $15 = $35`."""
    out = []
    for n, m in _matches(report, _FORMULA, symbol="="):
        line = m.string
        expr = m.group("expr")
        if re.search(r"[*×x/^]\s*$", line[:m.start()]):
            continue  # a product or quotient: only sums and differences are read
        if re.search(r"\d\s*[-−]\s*\d", expr) and re.search(r"\d{4}-\d\d|\d+-\d+\s*(?:%|/)", m.group(0)):
            continue  # dates and ranges, not subtractions
        terms, sign = [], 1
        for t in re.finditer(rf"([+\-−])|(?P<n>{NUM})", expr):
            if t.group(1):
                sign = 1 if t.group(1) == "+" else -1
            else:
                terms.append((sign, Num(float(t.group("n").replace(",", "")), t.group("n"),
                                        m.start("expr") + t.start("n"), m.start("expr") + t.end("n"))))
        rm = _NUM_RX.search(line, m.start("res"))
        if rm is None or len(terms) < 2:
            continue
        res = num(rm)
        if m.group("res").lstrip("$").startswith("-"):
            res = Num(-res.value, "-" + res.text, res.start - 1, res.end)
        out.append(Formula(n, tuple(terms), res, m.group(0)))
    return out


@dataclass(frozen=True)
class Cap:
    line: int
    value: Num  # the uncapped value
    cap: Num

    @property
    def result(self) -> float:
        return min(self.value.value, self.cap.value)


_CAP = re.compile(rf"(?P<v>{NUM}){_EMPH}\s*(?:/\s*10)?\s*[(,]?\s*(?:→|->|=>|,|;|—|-)?\s*{_EMPH}\(?\s*"
                  rf"(?:capped|clamped|limited|cap)\s+(?:at|to)\s+(?:a\s+)?(?:max(?:imum)?\s+(?:of\s+)?)?(?P<c>{NUM})", re.I)


@per_report
def caps(report: Report) -> list[Cap]:
    """"13 → Capped at 10", "12 (capped at 10)"."""
    return [Cap(n, num(m, "v"), num(m, "c")) for n, m in _matches(report, _CAP, ("cap", "clamped", "limited"))]


@dataclass(frozen=True)
class Ratio:
    line: int
    part: Num
    whole: Num
    percent: Num


_RATIO = re.compile(rf"(?P<x>{NUM})\s*/\s*(?P<y>{_N})(?:\s+[a-zA-Z][\w-]*){{0,3}}\s*[*_]*\s*\(\s*[*_]*(?P<z>{NUM})\s*%\s*[*_]*\)"
                    rf"|(?P<z2>{NUM})\s*%\s*[*_]*\s*\(\s*(?P<x2>{NUM})\s*/\s*(?P<y2>{_N})(?:\s+[a-zA-Z][\w-]*){{0,3}}\s*\)"
                    rf"|(?P<x3>{NUM})\s+(?:of|out of)\s+(?P<y3>{NUM})(?:\s+[a-zA-Z][\w-]*){{0,3}}\s*\(\s*(?P<z3>{NUM})\s*%\s*\)")


@per_report
def ratios(report: Report) -> list[Ratio]:
    """"40/46 resources (87%)", "87% (40/46)", "8 of 12 (67%)"."""
    out = []
    for n, m in _matches(report, _RATIO, symbol="%"):
        k = "" if m.group("x") else "2" if m.group("x2") else "3"
        out.append(Ratio(n, num(m, "x" + k), num(m, "y" + k), num(m, "z" + k)))
    return out


@dataclass(frozen=True)
class Change:
    line: int
    before: Num
    after: Num
    percent: Num
    direction: int  # +1 increase, -1 decrease


_UP = r"increase|increased|more|growth|larger|bigger|higher|up|gain|improvement"
_DOWN = r"decrease|decreased|reduction|reduced|less|fewer|smaller|lower|down|drop|saving|savings|cut|faster|shorter"
_ARROW = rf"(?P<a>{NUM})\s*(?:[a-zA-Z]+\s+)?(?:→|->|=>|to)\s*(?P<b>{NUM})"
_CHANGE = re.compile(
    rf"{_ARROW}(?:\s+[a-zA-Z][\w-]*){{0,3}}\s*\(\s*[+-]?(?P<p>{NUM})\s*%\s*(?P<d>{_UP}|{_DOWN})\b"
    rf"|[+-]?(?P<p2>{NUM})\s*%\s*(?:[a-zA-Z-]+\s+){{0,2}}(?P<d2>{_UP}|{_DOWN})\b(?:\s+[a-zA-Z][\w-]*){{0,3}}\s*\(\s*"
    rf"(?:[a-zA-Z]+\s+)?(?P<a2>{NUM})\s*(?:[a-zA-Z]+\s+)?(?:→|->|=>|to)\s*(?P<b2>{NUM})",
    re.I,
)


@per_report
def changes(report: Report) -> list[Change]:
    """"850 → 1,726 lines (73% increase)", "73% code increase (850 → 1,726 lines)"."""
    out = []
    for n, m in _matches(report, _CHANGE, symbol="%"):
        k = "" if m.group("a") else "2"
        direction = -1 if re.fullmatch(_DOWN, (m.group("d" + k) or "").lower()) else 1
        out.append(Change(n, num(m, "a" + k), num(m, "b" + k), num(m, "p" + k), direction))
    return out


@dataclass(frozen=True)
class Part:
    line: int
    count: Num
    percent: Num


_PART = re.compile(rf"(?<![/\d.])(?P<n>\d+)\s+{COUNTABLE}\s*[*_]*\s*\(\s*(?P<p>{NUM})\s*%\s*\)", re.I)


@per_report
def part_groups(report: Report) -> list[list[Part]]:
    """Consecutive lines "4 issues (22%)" / "14 issues (78%)": parts of one whole."""
    groups: list[list[Part]] = []
    for n, line in number_lines(report):
        if "%" not in line:
            continue
        found = [Part(n, num(m, "n"), num(m, "p")) for m in _PART.finditer(line)]
        if not found:
            continue
        if groups and groups[-1][-1].line >= n - 1 and len(found) == 1:
            groups[-1].extend(found)
        else:
            groups.append(found)
    return [g for g in groups if len(g) >= 2]


@dataclass(frozen=True)
class PointChange:
    line: int
    delta: Num
    sign: int


_POINTS = re.compile(rf"(?:improvement|increase|gain|change|delta|difference|raised|improved|up)\b[^.\n]{{0,20}}?"
                     rf"(?:of|by|:)?\s*[*_]*\s*(?P<sign>[+-]|−)?\s*(?P<d>{NUM})\s*points?\b", re.I)


@per_report
def point_changes(report: Report) -> list[PointChange]:
    """"Quality Improvement: +6 points", "an improvement of 4 points": a stated score difference."""
    return [PointChange(n, num(m, "d"), -1 if m.group("sign") in ("-", "−") else 1)
            for n, m in _matches(report, _POINTS, ("point",))]


# --- statements ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Statement:
    line: int
    kind: str  # see STATEMENTS
    text: str
    value: float | None = None
    qualifier: str = ""


_COVERAGE = re.compile(r"(?:(?P<k1>statements?|lines?|branch(?:es)?|functions?)\s+)?(?:test\s+|unit\s+test\s+|code\s+)?"
                       r"coverage\s*(?:of|at|:|is|=|reached|achieved)?\s*[*_]*\s*(?P<v1>\d+(?:\.\d+)?)\s*%"
                       r"|(?P<v2>\d+(?:\.\d+)?)\s*%\s*[*_]*\s*(?:(?P<k2>statements?|lines?|branch(?:es)?|functions?)\s+)?"
                       r"(?:test\s+|unit\s+test\s+|code\s+)?coverage\b", re.I)
_ZERO_DEPLOY = re.compile(r"\b(?:zero|no|0)\s+deployment\s+(?:failures|errors|issues)\b|"
                          r"\bdeployed\s+successfully\s+on\s+(?:the\s+)?first\s+attempt\b|"
                          r"\bfirst[- ]attempt\s+deployment\s+success", re.I)
_FAILED_ATTEMPT = re.compile(r"\battempt\s*#?\s*\d+\s*[*_]*\s*[:\-–—]\s*[*_]*\s*(?:failed|failure|error)\b|"
                             r"\bdeployment\s+attempt\s*#?\s*\d+\s+failed\b", re.I)
_ALL_PASS = re.compile(r"\ball\s+(?:\d+\s+)?(?:unit\s+|integration\s+)?tests?\s+(?:are\s+)?(?:now\s+)?pass(?:ed|ing)?\b|"
                       r"\b100%\s+(?:of\s+)?tests?\s+pass", re.I)
_FAILING_TESTS = re.compile(r"(?<![\w.])(?P<n>[1-9]\d*)\s+(?:unit\s+|integration\s+)?tests?\s+(?:failed|failing)\b"
                            r"|\b(?:failed|failing)(?:\s+tests?)?\s*:\s*(?P<n2>[1-9]\d*)\b", re.I)
_HISTORY = re.compile(r"\b(before|initial(?:ly)?|originally|previous(?:ly)?|prior|first|were|was|had|from|fixed|"
                      r"resolved|threshold|target|required|requirement|minimum|expected|must|should|goal|"
                      r"→|->|instead|model_response|model response|baseline|iteration|attempt\s*\d)\b", re.I)


def _coverage_kind(line: str, m: re.Match) -> str:
    """What a coverage figure measures: "" (overall), "branch", "unit", ... or "scoped" when it is
    about one file or component (never compared)."""
    if re.search(r"\w\.(?:py|ts|js|go|java)\b|\b(?:component|module|file|handler|function code|for\s+(?:the\s+)?\w+\s+code|"
                 r"excluding|except|pass\s+rate)\b", line, re.I):
        return "scoped"
    kind = (m.group("k1") or m.group("k2") or "").lower()
    kind = re.sub(r"(?:es|s)$", "", kind) if kind not in ("lines",) else "line"
    suite = re.search(r"\b(unit|integration|e2e|analysis)\b", line, re.I)
    return " ".join(x for x in (kind, suite.group(1).lower() if suite else "") if x)


_STATEMENT_WORDS = re.compile(r"coverage|deploy|attempt|tests?\b|pass", re.I)
_STATEMENT_KEYS = ("coverage", "deploy", "attempt", "test", "pass")
_TO_PERCENT = re.compile(r"\bto\s+\d+(\.\d+)?\s*%")
_TESTS_WORD = re.compile(r"\btests?\b", re.I)
_CONDITIONAL = re.compile(r"\bif\b|\bwhen\b|would", re.I)


@per_report
def statements(report: Report) -> list[Statement]:
    """Checkable statements: coverage figures, "zero deployment failures", failed attempts,
    "all tests pass", counts of failing tests. Statements about the past or about targets are left out."""
    out = []
    for n, line, low in _prose_rows(report):
        if not _may_hold(low, _STATEMENT_KEYS) or not _STATEMENT_WORDS.search(line):
            continue
        # Each pattern needs its word: the cheap word tests spare most lines most patterns.
        coverage, passes, fails = _may_hold(low, ("coverage",)), _may_hold(low, ("pass",)), _may_hold(low, ("fail",))
        history = (coverage or passes or fails) and bool(_HISTORY.search(line))
        for m in (_COVERAGE.finditer(line) if coverage and not history else ()):
            if not _TO_PERCENT.search(line):
                out.append(Statement(n, "coverage", m.group(0), float(m.group("v1") or m.group("v2")), _coverage_kind(line, m)))
        if _may_hold(low, ("deploy",)) and (m := _ZERO_DEPLOY.search(line)):
            out.append(Statement(n, "zero-deploy-failures", m.group(0)))
        m = _FAILED_ATTEMPT.search(line) if _may_hold(low, ("attempt",)) else None
        if m:
            out.append(Statement(n, "failed-attempt", m.group(0)))
        if history:
            continue  # the other statements are about the final state only
        if passes and (m := _ALL_PASS.search(line)):
            out.append(Statement(n, "all-tests-pass", m.group(0)))
        m = _FAILING_TESTS.search(line) if fails else None
        if m and _TESTS_WORD.search(line) and not _CONDITIONAL.search(line):
            out.append(Statement(n, "failing-tests", m.group(0), float(m.group("n") or m.group("n2"))))
    return out


def final_state(report: Report, line: int) -> bool:
    """A line that speaks of the task as delivered: outside the failure entries and not in a
    section or block about the state before the fixes or about the failures."""
    if failure_entry_at(report, line) is not None:
        return False
    sec = report.section_of(line)
    titles = [h.text for h in ([sec] + sec.ancestors() if sec else []) if h.level > 1]
    context = " ".join([*titles, lead_label(report, line)])
    return not re.search(r"\b(before|original|initial|previous|prior|model[_ ]response|iteration\s*1|"
                         r"failures?|issues?|gaps?|problems?|errors?|attempts?)\b", context, re.I)


# --- facts stated about the task (platform, language, region, ...) -------------------------------

@dataclass(frozen=True)
class Fact:
    line: int
    field: str  # "platform", "language", "region", "provider", "complexity"
    value: str  # normalised (metadata vocabulary)
    text: str  # as written


_FACT_LINE = re.compile(
    r"^\s*(?:[-*+]\s+)?[*_]*(?P<label>platform|iac\s+(?:platform|tool|framework)|framework|language|programming\s+language|"
    r"(?:aws\s+|target\s+|deployment\s+)?region|provider|complexity)[*_]*\s*:\s*[*_]*\s*(?P<value>[^\n]+)$",
    re.I,
)
PLATFORM_WORDS = [
    ("cdktf", r"\bcdktf\b|cdk\s+for\s+terraform"),
    ("cdk", r"\b(?:aws\s+)?cdk\b(?!\s*for\s+terraform|tf)"),
    ("cfn", r"\bcloudformation\b|\bcfn\b"),
    ("tf", r"\bterraform\b|\bhcl\b"),
    ("pulumi", r"\bpulumi\b"),
]
LANGUAGE_WORDS = [
    ("ts", r"\btypescript\b|\bts\b"), ("js", r"\bjavascript\b|\bjs\b"), ("py", r"\bpython\b|\bpy\b"),
    ("java", r"\bjava\b(?!script)"), ("go", r"\bgo(?:lang)?\b(?!\s+to)"), ("hcl", r"\bhcl\b"),
    ("yaml", r"\bya?ml\b"), ("json", r"\bjson\b"),
]
REGION = re.compile(r"\b(?:us|eu|ap|sa|ca|me|af|il|mx)(?:-gov)?-(?:north|south|east|west|central|northeast|southeast|"
                    r"northwest|southwest)-\d\b")


@per_report
def facts(report: Report) -> list[Fact]:
    """"**Platform**: CDK TypeScript", "Region: us-west-2", "Provider: LocalStack" (a label line in
    prose; values that name several platforms or regions are left out)."""
    out = []
    for n, line in prose_lines(report):
        m = _FACT_LINE.match(line)
        if not m or re.search(r"\b(model|original|wrong|incorrect|instead|should|must|initial|before|not)\b",
                              m.group("value"), re.I):
            continue
        if not final_state(report, n):
            continue  # a region or platform inside an entry or an attempt is not the task's
        label, value = m.group("label").lower(), m.group("value")
        if "region" in label:
            found = set(REGION.findall(value))
            if len(found) == 1:
                out.append(Fact(n, "region", found.pop(), value.strip()))
            continue
        if label in ("provider",):
            words = {w for w in ("localstack", "aws") if re.search(rf"\b{w}\b", value, re.I)}
            if len(words) == 1:
                out.append(Fact(n, "provider", words.pop(), value.strip()))
            continue
        if label == "complexity":
            w = re.match(r"^[*_\s]*(medium|hard|expert)[*_\s]*(?:\([^)]*\))?\s*$", value, re.I)
            if w:
                out.append(Fact(n, "complexity", w.group(1).lower(), value.strip()))
            continue
        if "platform" in label or "tool" in label or "framework" in label or "language" in label:
            plats = {p for p, rx in PLATFORM_WORDS if re.search(rx, value, re.I)}
            langs = {lg for lg, rx in LANGUAGE_WORDS if re.search(rx, value, re.I)}
            if "cdktf" in plats:
                plats.discard("cdk")
                plats.discard("tf")
            if "tf" in plats:
                langs.discard("hcl")
            if "language" not in label and len(plats) == 1:
                out.append(Fact(n, "platform", plats.pop(), value.strip()))
            if len(langs) == 1 and ("language" in label or len(value) < 60):
                out.append(Fact(n, "language", langs.pop(), value.strip()))
    return out


# --- unresolved items ---------------------------------------------------------------------------

UNRESOLVED_SECTION = re.compile(r"\b(known\s+issues|unresolved|outstanding|remaining\s+(?:issues|blockers|work)|"
                                r"open\s+issues|not\s+(?:yet\s+)?(?:fixed|resolved)|deployment\s+blockers|"
                                r"pending\s+(?:fixes|issues)|todo)\b", re.I)
UNRESOLVED_FIELD = re.compile(r"^(fix\s+required|status|resolution|state)$", re.I)
UNRESOLVED_VALUE = re.compile(r"\b(open|not\s+(?:yet\s+)?(?:fixed|resolved|deployed)|pending|blocked|todo|unresolved|"
                              r"will\s+be\s+fixed|to\s+be\s+fixed|still\s+fail)", re.I)


@per_report
def unresolved_entries(report: Report) -> list[tuple[Entry, int, str]]:
    """Entries the report itself says are still open: (entry, line saying so, what it says)."""
    out = []
    for e in report.entries:
        titles = [h for h in heading_chain(e)] + ([e.heading] if e.shape == "heading" and e.heading else [])
        hit = next((h for h in titles if UNRESOLVED_SECTION.search(h.text)), None)
        if hit is not None:
            out.append((e, hit.line, hit.text))
            continue
        for name, (value, n) in e.fields.items():
            if re.match(r"^fix\s+required$", name, re.I) and value:
                out.append((e, n, f"{name}: {value}"))
                break
            if UNRESOLVED_FIELD.match(name) and UNRESOLVED_VALUE.match(value.strip("*_ ")):
                out.append((e, n, f"{name}: {value}"))
                break
    return out


def words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 2 and w not in _STOP}


_STOP = frozenset("the and for with from into not are was were has have this that missing added fix fixes fixed issue "
                  "issues error errors incorrect invalid wrong".split())


def same_item(a: str, b: str) -> bool:
    """Two short descriptions of the same item: most words of the shorter occur in the longer."""
    wa, wb = words(a), words(b)
    if len(wa) < 2 or len(wb) < 2:
        return False
    small, big = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
    return len(small & big) >= max(2, 0.6 * len(small))

