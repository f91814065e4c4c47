"""Untrusted text (anything quoted from a pull request) made safe for comments and check runs.

GitHub renders our Markdown as if the bot wrote it, so text from a PR must not:
- ping people or teams (`@user`, `@org/team`) or cross-reference issues (`#12`, `GH-12`);
- render HTML (`<img>`, `<details>`, comments that could forge our hidden markers);
- render links, images or autolinked URLs that would look like the bot's own;
- break out of a code block we put it in (a fence is always longer than any run inside).

Running text: a zero-width space (U+200B) after `@`, `#` and in `://` / `www.` stops GitHub's
reference and autolink filters while the text still reads the same; HTML and Markdown punctuation
are escaped. Code spans and blocks render nothing (no mentions, links or HTML), so their content is
kept verbatim (copy-paste and suggestions stay exact); only their delimiters are chosen safely.
"""

from __future__ import annotations

import re

ZWSP = "\u200b"
_MARKDOWN = re.compile(r"([\\`*_\[\]()!|~{}])")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_MENTION = re.compile(r"@(?=[A-Za-z0-9_-])")
_ISSUE_REF = re.compile(r"(#|\bGH-)(?=\d)", re.I)
_URL = re.compile(r"(?<=[A-Za-z])://|\bwww\.", re.I)
_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d+[.)])", re.M)
_BACKTICKS = re.compile(r"`+")
_LANG = re.compile(r"[^\w+#.-]")


def _defang(text: str) -> str:
    """Break mentions, issue references and autolinks."""
    text = _MENTION.sub("@" + ZWSP, text)
    text = _ISSUE_REF.sub(lambda m: m.group(1) + ZWSP, text)
    return _URL.sub(lambda m: m.group(0)[:-1] + ZWSP + m.group(0)[-1], text)


def inline(text: str, limit: int = 500) -> str:
    """One line of untrusted text for running Markdown (messages, table cells)."""
    text = shorten(" ".join(str(text).split()), limit)
    text = "".join(_HTML.get(c, c) for c in text)
    text = _MARKDOWN.sub(r"\\\1", text)
    text = _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)
    return _defang(text)


def block(text: str) -> str:
    """Several lines of untrusted text for running Markdown, line breaks kept."""
    return "  \n".join(inline(line, 10_000) for line in str(text).split("\n"))


def code(text: str, limit: int = 200, table: bool = False) -> str:
    """Untrusted text as an inline code span on one line: nothing inside renders.
    `table=True` for a table cell, where GFM splits cells even inside code unless `|` is escaped."""
    text = shorten(" ".join(str(text).split()), limit)
    if not text:
        return "` `"
    ticks = "`" * (max((len(r) for r in _BACKTICKS.findall(text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    if table:
        text = text.replace("|", "\\|")
    return f"{ticks}{pad}{text}{pad}{ticks}"


def fence(text: str, lang: str = "") -> str:
    """A fenced code block that the text cannot close: the fence is longer than any backtick run
    inside (a `~~~` line cannot close a backtick fence)."""
    longest = max((len(r) for r in _BACKTICKS.findall(text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{_LANG.sub('', lang)}\n{text.rstrip(chr(10))}\n{ticks}"


def suggestion(replacement: str) -> str:
    """A GitHub suggested change: applying it replaces the commented lines with `replacement`."""
    return fence(replacement, "suggestion")


def shorten(text: str, limit: int, note: str = "…") -> str:
    """Cut to at most `limit` characters, ending with `note` when something was cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - len(note), 0)] + note
