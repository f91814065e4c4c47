"""The parsed shape of a MODEL_FAILURES report. Lines are 1-based and inclusive."""

from __future__ import annotations

from dataclasses import dataclass, field

SEVERITIES = ("Critical", "High", "Medium", "Low")

# Code roles: what the report says a snippet is.
MODEL = "model"  # the model's original (wrong) code
FIX = "fix"  # the corrected / ideal code
OUTPUT = "output"  # an error message, log or command output the report quotes (neither model nor fix)


@dataclass
class Heading:
    level: int
    text: str
    line: int
    end_line: int  # last line of the section (before the next heading of the same or higher level)
    parent: "Heading | None" = field(default=None, repr=False)

    def ancestors(self) -> list["Heading"]:
        out, node = [], self.parent
        while node is not None:
            out.append(node)
            node = node.parent
        return out


@dataclass
class CodeBlock:
    text: str
    lang: str
    line: int  # line of the opening fence
    end_line: int  # line of the closing fence (or last line when unterminated)
    role: str | None = None  # MODEL, FIX, OUTPUT or None
    label: str = ""  # the text the role was read from

    @property
    def first_code_line(self) -> int:
        return self.line + 1


@dataclass
class InlineCode:
    text: str
    line: int
    role: str | None = None
    label: str = ""


@dataclass
class FileRef:
    """A cited file and/or line range: `lib/x.ts`, `MODEL_RESPONSE.md (lines 97-99)`, `(Line 36)`."""

    path: str | None
    start: int | None
    end: int | None
    line: int  # where the citation stands in the report
    text: str


@dataclass
class Entry:
    """One documented failure of the model."""

    title: str
    line: int
    end_line: int
    shape: str  # "heading", "bold", "table", "list"
    number: str | None = None  # "1", "A1", "3.2"
    severity: str | None = None
    severity_line: int | None = None
    # "field" (a Severity/Impact field or table column), "title" (`[HIGH] ...`, `... (Critical)`),
    # "table" (the row naming this entry in a summary table) or "section" (`## Critical Failures`)
    severity_source: str | None = None
    section_severity: str | None = None  # severity of the enclosing section, if any
    category: str | None = None
    fields: dict[str, tuple[str, int]] = field(default_factory=dict)  # bold label -> (value, line)
    code: list[CodeBlock] = field(default_factory=list)
    inline: list[InlineCode] = field(default_factory=list)
    refs: list[FileRef] = field(default_factory=list)
    heading: Heading | None = field(default=None, repr=False)


@dataclass
class Report:
    path: str
    text: str
    lines: list[str]
    headings: list[Heading]
    entries: list[Entry]
    code_blocks: list[CodeBlock]
    inline_code: list[InlineCode]
    refs: list[FileRef]

    def line_text(self, line: int) -> str:
        return self.lines[line - 1] if 0 < line <= len(self.lines) else ""

    def section_of(self, line: int) -> Heading | None:
        """The innermost heading whose section holds `line`."""
        best = None
        for h in self.headings:
            if h.line <= line <= h.end_line and (best is None or h.level >= best.level):
                best = h
        return best

    def entry_at(self, line: int) -> Entry | None:
        best = None
        for e in self.entries:
            if e.line <= line <= e.end_line and (best is None or e.line >= best.line):
                best = e
        return best
