"""What gets posted: limits, diff-only comments, fingerprints, suggestions, the sticky summary."""

from __future__ import annotations

import json

from bot.diff import added_lines, commentable, parse_patch
from bot.engine import Review, ReviewError
from bot.findings import Finding, Level
from bot.publish import (COMMENT_LIMIT, OUTPUT_LIMIT, SUMMARY_MARKER, annotation, build_outcome, comment_body,
                         conclusion_of, fingerprint, posted_fingerprints, review_comments)
from bot.github import Snapshot
from bot.task import Task
from tests.github_api import api

PATCH = "@@ -1,3 +1,4 @@\n ctx one\n-old\n+new two\n+new three\n ctx four\n@@ -20,2 +21,2 @@\n ctx 21\n+new 22"


def finding(line=2, end=None, level=Level.ERROR, message="Garbled text.", replacement=None, path="lib/x.md", evidence="e"):
    return Finding("MF101", "MOJIBAKE", level, path, line, message, evidence, end, replacement)


def test_patch_hunks_and_added_lines():
    hunks = parse_patch(PATCH)
    assert [(h.start, h.end) for h in hunks] == [(1, 4), (21, 22)]
    assert added_lines(hunks) == {2, 3, 22}
    assert parse_patch(None) == []
    assert commentable(hunks, 2, 3) and commentable(hunks, 1, 2) and not commentable(hunks, 1, 1)
    assert not commentable(hunks, 3, 21)  # spans two hunks: GitHub would reject the whole review
    assert not commentable(hunks, 30, 30)


def test_only_lines_in_the_diff_get_comments_and_multi_line_ones_use_start_line():
    hunks = {"lib/x.md": parse_patch(PATCH)}
    findings = [finding(2), finding(2, 3, message="two lines"), finding(10, message="outside"), finding(2, path="other.md")]
    comments = review_comments(findings, hunks, set())
    assert [(c["path"], c.get("start_line"), c["line"], c["side"]) for c in comments] == [
        ("lib/x.md", None, 2, "RIGHT"), ("lib/x.md", 2, 3, "RIGHT")]


def test_posted_fingerprints_are_not_posted_again():
    f = finding(2)
    snapshot = Snapshot(review_bodies=[comment_body(f), "someone else's comment <!-- mfbot:fp=0000000000000000 --> later"])
    assert posted_fingerprints(snapshot) == {fingerprint(f)}
    assert review_comments([f], {"lib/x.md": parse_patch(PATCH)}, posted_fingerprints(snapshot)) == []


def test_fingerprint_survives_a_moved_line_but_not_a_new_message():
    assert fingerprint(finding(2)) == fingerprint(finding(40))
    assert fingerprint(finding(2)) != fingerprint(finding(2, message="other"))


def test_comment_body_escapes_and_suggests():
    f = finding(message="@octocat see <b>this</b>", evidence="```\nbreak out\n```", replacement="fixed line")
    body = comment_body(f)
    assert "@\u200boctocat" in body and "<b>" not in body
    assert "````\n```\nbreak out\n```\n````" in body
    assert "```suggestion\nfixed line\n```" in body
    assert body.rstrip().endswith(f"<!-- mfbot:fp={fingerprint(f)} -->")


def test_annotations_use_githubs_levels_and_plain_text():
    assert [annotation(finding(level=lv))["annotation_level"] for lv in (Level.ERROR, Level.WARNING, Level.NOTICE)] == \
        ["failure", "warning", "notice"]
    a = annotation(finding(5, 3))
    assert (a["start_line"], a["end_line"]) == (5, 5)


def review_of(findings, errors=()):
    task = Task("", {"lib/MODEL_FAILURES.md": "# Model Failures\n\n**Total failures**: 3\n\n### 1. A\n\n**Severity:** High\n"})
    return Review([task], list(findings), list(errors))


def test_conclusions():
    assert conclusion_of(review_of([finding(level=Level.ERROR)]), Level.ERROR) == "failure"
    assert conclusion_of(review_of([finding(level=Level.WARNING)]), Level.ERROR) == "neutral"
    assert conclusion_of(review_of([]), Level.ERROR) == "success"
    assert conclusion_of(review_of([], [ReviewError("lib/MODEL_FAILURES.md", "binary")]), Level.ERROR) == "neutral"
    assert conclusion_of(review_of([finding(level=Level.ERROR)]), None) == "neutral"


def test_summary_states_figures_and_the_table():
    outcome = build_outcome(review_of([finding(), finding(3, level=Level.WARNING, message="m2")]), Level.ERROR, "a" * 40, [])
    assert "| MOJIBAKE | 1 | 1 |  |" in outcome.summary
    assert "| `lib/MODEL_FAILURES.md` | 3 | 1 | 1 high | 2 |" in outcome.summary
    assert outcome.sticky.startswith(SUMMARY_MARKER + "\n")
    assert outcome.title == "2 findings (1 error, 1 warning)"


def test_huge_outputs_are_cut_to_githubs_limits_and_stay_schema_valid():
    many = [finding(i, message=f"finding {i} " + "x" * 900) for i in range(1, 400)]
    outcome = build_outcome(review_of(many), Level.ERROR, "a" * 40, [])
    assert len(outcome.text) <= OUTPUT_LIMIT and outcome.text.endswith("all findings are annotations of this check run)")
    assert len(outcome.sticky) <= COMMENT_LIMIT
    body = {"name": "mfbot", "head_sha": "a" * 40, "status": "completed", "conclusion": outcome.conclusion,
            "output": {"title": outcome.title, "summary": outcome.summary, "text": outcome.text,
                       "annotations": outcome.annotations[:50]}}
    assert api().check_request("POST", "https://api.github.com/repos/o/r/check-runs", json.dumps(body)) == []
    body["output"]["annotations"] = outcome.annotations[:51]
    assert api().check_request("POST", "https://api.github.com/repos/o/r/check-runs", json.dumps(body)) != []


def test_a_huge_finding_still_fits_a_comment():
    body = comment_body(finding(message="m" * 100_000, evidence="e" * 100_000))
    assert len(body) <= COMMENT_LIMIT
