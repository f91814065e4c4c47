"""Arbitrary and adversarial Markdown: the parser and the engine never raise, and take linear time.

Timing is checked as a ratio: the same input shape at n and 4n must cost well under the 16x a
quadratic algorithm would (best of three runs, CPU time), never against an absolute budget.
"""

from __future__ import annotations

import gc
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.report import parse_report
from tests.conftest import review_files

REPORT = "lib/MODEL_FAILURES.md"

# Pieces real reports are made of, so that generated text reaches the parser's entry logic.
FRAGMENTS = [
    "# ", "## ", "### ", "#### ", "**", "*", "_", "`", "```", "```ts", "~~~", "> ", "- ", "* ", "1. ", "2) ",
    "|", "| --- |", "\n", "\n\n", "  ", "    ", "\t", "\\", "Issue 3", "A1:", "### 1. ", "**1. Title**",
    "**Severity**: ", "**Impact Level**: ", "Impact: ", "Critical", "High", "medium", "LOW", "[HIGH]",
    "Category B", "MODEL_RESPONSE", "IDEAL_RESPONSE", "Before:", "After:", "Fix", "Problem", "Root Cause",
    "Summary", "Lessons Learned", "lib/tap-stack.ts:12-30", "Lines 4-9", "(Line 3)", "L7", "https://x.io/a.md",
    "😀", "â€™", "\x00", "\ufffd", "\r\n", "\r", "<!-- x -->", "<details>", "---", "===", "word ", "9/10",
]

markdownish = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=8), max_size=120).map("".join)


def check_invariants(text: str) -> None:
    report = parse_report(text)
    n = len(report.lines)
    for h in report.headings:
        assert 1 <= h.line <= h.end_line <= n
    previous_end = 0
    for e in report.entries:
        assert previous_end < e.line <= e.end_line <= n, (e.line, e.end_line, n)
        previous_end = e.end_line
        assert all(e.line <= c.line <= e.end_line for c in e.code)
        assert all(e.line <= r.line <= e.end_line for r in e.refs)
        assert e.severity in (None, "Critical", "High", "Medium", "Low")
        assert e.category in (None, "A", "B", "C", "D")
    for c in report.code_blocks:
        assert 1 <= c.line <= c.end_line <= n
    for i in report.inline_code:
        assert 1 <= i.line <= n


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_arbitrary_text(text):
    check_invariants(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(markdownish)
def test_markdown_like_text(text):
    check_invariants(text)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(markdownish)
def test_engine_on_markdown_like_reports(text):
    review = review_files({REPORT: text, "lib/MODEL_RESPONSE.md": text[:200], "lib/tap-stack.ts": "const x = 1;\n"})
    assert not review.errors, review.errors


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400))
def test_invalid_utf8_read_with_replacement(data):
    check_invariants(data.decode("utf-8", errors="replace"))


# --- adversarial shapes, each a function of a size n ----------------------------------------------

def deep_list(n):
    return "- " * n + "x\n"


def deep_quote(n):
    return "> " * n + "x\n"


def indented_list(n):
    # Each item one level deeper: the input grows as n^2, so n stays small.
    return "".join("  " * i + "- item\n" for i in range(n))


def many_headings(n):
    return "".join(f"{'#' * (1 + i % 6)} {i}. Issue {i}\n**Severity**: High\n" for i in range(n // 40))


def many_bold_entries(n):
    return "## Issues\n" + "".join(f"**{i}. Title**\n- **Impact**: Low\n" for i in range(n // 35))


def long_word_line(n):
    return "a" * n + "\n"


def long_space_line(n):
    return " " * n + "x\n"


def long_path_line(n):
    return "a/" * (n // 2) + "\n"


def long_dotted_line(n):
    return "a." * (n // 2) + "\n"


def long_backtick_line(n):
    return "`a" * (n // 2) + "\n"


def growing_backtick_runs(n):
    # Runs of 1, 2, 3, ... backticks that never close: the naive span search is quadratic here.
    out, k, size = [], 1, 0
    while size < n:
        out.append("`" * k + "x")
        size += k + 1
        k += 1
    return "".join(out) + "\n"


def long_bold_line(n):
    return "**" + "a " * (n // 2) + "\n"


def long_stars_line(n):
    return "*" * n + "\n"


def long_heading(n):
    return "### " + "Issue: " * (n // 7) + "\n"


def long_digits_line(n):
    return "Lines " + "1-" * (n // 2) + "\n"


def unterminated_fences(n):
    return "```\n" + "### 1. not a heading\n" * (n // 22)


def many_fences(n):
    return "Before:\n```ts\nx\n```\n" * (n // 20)


def huge_table(n):
    rows = n // 40
    return "| Issue | Severity | Fix |\n|---|---|---|\n" + "".join(f"| issue {i} | High | `f{i}` |\n" for i in range(rows))


def wide_table(n):
    cols = n // 4
    return "|" + " a |" * cols + "\n|" + "---|" * cols + "\n|" + " b |" * cols + "\n"


def nul_bytes(n):
    return "\x00" * n


def replacement_chars(n):
    return (b"\xff\xfe\xc3(" * (n // 4)).decode("utf-8", errors="replace")


SHAPES = [deep_list, deep_quote, many_headings, many_bold_entries, long_word_line, long_space_line, long_path_line,
          long_dotted_line, long_backtick_line, growing_backtick_runs, long_bold_line, long_stars_line, long_heading,
          long_digits_line, unterminated_fences, many_fences, huge_table, wide_table, nul_bytes, replacement_chars]


def cpu_time(fn, text: str) -> float:
    """Best of three runs, with the garbage collector paused (its full passes over the many
    objects of a large input would be measured as the parser's time)."""
    best = float("inf")
    for _ in range(3):
        gc.collect()
        gc.disable()
        try:
            start = time.process_time()
            fn(text)
            best = min(best, time.process_time() - start)
        finally:
            gc.enable()
    return best


def assert_linear(fn, shape, n: int) -> None:
    small, large = cpu_time(fn, shape(n)), cpu_time(fn, shape(4 * n))
    # Linear: ~4x. Quadratic: 16x. The constant absorbs timer resolution on tiny inputs.
    assert large <= 9 * small + 0.05, f"{shape.__name__}: {small:.3f}s at n={n}, {large:.3f}s at 4n"


@pytest.mark.parametrize("shape", SHAPES, ids=[s.__name__ for s in SHAPES])
def test_parser_time_is_linear(shape):
    check_invariants(shape(2000))
    assert_linear(parse_report, shape, 25_000)


@pytest.mark.parametrize("shape", [deep_list, deep_quote, many_headings, many_bold_entries, huge_table,
                                   long_word_line, unterminated_fences],
                         ids=lambda s: s.__name__)
def test_engine_time_is_linear(shape):
    def review(text):
        result = review_files({REPORT: text})
        assert not result.errors, result.errors

    assert_linear(review, shape, 10_000)


def test_ten_thousand_headings_and_deep_nesting():
    report = parse_report(many_headings(400_000))
    assert len(report.headings) == 10_000
    assert len(report.entries) >= 1_000
    check_invariants(deep_list(10_000))
    check_invariants(deep_quote(10_000))
    check_invariants(indented_list(300))


@pytest.mark.parametrize("shape", [long_word_line, long_space_line, long_path_line, long_dotted_line,
                                   long_bold_line, long_heading, long_digits_line], ids=lambda s: s.__name__)
def test_five_megabyte_line(shape):
    report = parse_report(shape(5_000_000))
    assert len(report.lines) == 2


def test_engine_on_adversarial_reports():
    for shape in SHAPES:
        review = review_files({REPORT: shape(5_000), "lib/MODEL_RESPONSE.md": shape(500)})
        assert not review.errors, (shape.__name__, review.errors)
