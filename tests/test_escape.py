"""Untrusted text cannot ping, inject HTML, render links/images or escape its code block."""

from __future__ import annotations

import re

from hypothesis import given, settings, strategies as st
from markdown_it import MarkdownIt

from bot import escape

md = MarkdownIt("gfm-like") if "gfm-like" in MarkdownIt().options.get("presets", {}) else MarkdownIt("commonmark").enable("table")
MENTION = re.compile(r"(?<![\w`])@[A-Za-z0-9]")  # what GitHub would turn into a ping


def rendered(markdown: str) -> str:
    return md.render(markdown)


def test_mentions_issue_refs_and_urls_are_defanged():
    out = escape.inline("ping @octocat and @org/team, see #12, GH-3, https://evil.example/x and www.evil.example")
    assert not MENTION.search(out)
    assert "@\u200boctocat" in out and "#\u200b12" in out and "GH-\u200b3" in out
    assert "https://" not in out and "www." not in out
    assert out.replace("\u200b", "").replace("\\", "").startswith("ping @octocat")


def test_html_links_and_images_do_not_render():
    out = escape.inline('<img src=x onerror=alert(1)> [click](https://evil) ![i](https://evil/i.png) <!-- mfbot:summary -->')
    html = rendered(out)
    assert "<img" not in html and "<a " not in html and "<!--" not in html
    assert "&lt;img" in html


def test_line_start_syntax_is_neutral():
    for text in ("# heading", "> quote", "- item", "1. item", "+ item", "=== "):
        html = rendered(escape.inline(text))
        assert html.startswith("<p>"), (text, html)


def test_table_cells_stay_in_their_cell():
    for cell in (escape.inline("a | b"), escape.code("a | b", table=True)):
        html = rendered(f"| h | i |\n|---|---|\n| {cell} | x |")
        assert html.count("<td>") == 2, html


def test_code_span_keeps_text_verbatim():
    for text in ("a `b` c", "`edge`", "x``y"):
        assert rendered(escape.code(text)) == f"<p><code>{text}</code></p>\n"
    assert escape.code("@octocat") == "`@octocat`"  # mentions do not ping inside code
    assert escape.code("") == "` `"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("`~ \na@#<>[]()!x")), max_size=60))
def test_a_fence_cannot_be_broken_out_of(text):
    tokens = md.parse(escape.fence(text, "ts"))
    fences = [t for t in tokens if t.type == "fence"]
    assert len(fences) == 1 and len(tokens) == 1
    assert fences[0].content.rstrip("\n") == text.rstrip("\n")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_inline_text_never_renders_markup(text):
    html = rendered(escape.inline(text))
    assert "<a " not in html and "<img" not in html and "<code>" not in html and "<em>" not in html
    assert not MENTION.search(html)


def test_suggestion_is_verbatim():
    assert escape.suggestion("const a = `@x`;\n") == "```suggestion\nconst a = `@x`;\n```"
    assert escape.suggestion("```\ninner\n```").startswith("````suggestion\n")


def test_shorten():
    assert escape.shorten("abcdef", 4) == "abc…"
    assert escape.shorten("abc", 4) == "abc"
