"""What a review posts on a pull request, and posting it idempotently.

- One check run named `mfbot` on the head SHA (`external_id` = "owner/repo#number"): created, or
  PATCHed when a run of ours already exists on that SHA (a re-run after a crash). Up to 50
  annotations go with that request; the rest are appended by PATCHing the same run, 50 at a time.
  Summary and text stay within 65,535 characters (cut with a note, never a 422).
- One review with inline comments, only for findings whose lines lie in the diff and carry at
  least one added line; each comment ends with a hidden fingerprint, so a re-run skips comments
  already posted. A finding with a replacement gets a `suggestion` block.
- One sticky summary comment per PR, found by its first line `<!-- mfbot:summary -->`, edited in
  place; not touched when its text would not change.
Everything quoted from the PR goes through bot.escape.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from bot import escape
from bot.diff import Hunk, commentable
from bot.engine import Review
from bot.findings import Finding, Level
from bot.github import Client, Snapshot
from bot.report.claims import fmt, totals

SUMMARY_MARKER = "<!-- mfbot:summary -->"
FINGERPRINT = re.compile(r"<!-- mfbot:fp=([0-9a-f]{16}) -->\s*\Z")
OUTPUT_LIMIT = 65_535  # check run summary / text
COMMENT_LIMIT = 65_536  # issue, review and review comment bodies
ANNOTATIONS_PER_REQUEST = 50
MAX_REVIEW_COMMENTS = 30  # more in one review trips GitHub's abuse detection; the rest stay in the check run
TRUNCATED = "\n\n… (cut to fit GitHub's limit; all findings are annotations of this check run)"
_LEVEL = {Level.ERROR: "failure", Level.WARNING: "warning", Level.NOTICE: "notice"}


@dataclass
class Outcome:
    """Everything a review will post, built without any GitHub call."""

    conclusion: str
    title: str
    summary: str
    text: str = ""
    annotations: list[dict] = field(default_factory=list)
    comments: list[dict] = field(default_factory=list)  # review comments, fingerprint in the body
    sticky: str | None = None  # summary comment body; None = post none


def fingerprint(f: Finding) -> str:
    """Stable across pushes that only move the line: rule, file, message and evidence."""
    return hashlib.sha256(f"{f.rule}\0{f.path}\0{f.message}\0{f.evidence}".encode()).hexdigest()[:16]


def conclusion_of(review: Review, fail_on: Level | None) -> str:
    if review.fails(fail_on):
        return "failure"
    return "neutral" if review.findings or review.errors else "success"


def annotation(f: Finding) -> dict:
    """Annotations are plain text (GitHub does not render Markdown in them)."""
    data = {"path": f.path, "start_line": max(f.line, 1), "end_line": max(f.end_line or f.line, f.line, 1),
            "annotation_level": _LEVEL[f.level], "message": escape.shorten(f.message, 4000),
            "title": escape.shorten(f"{f.rule} {f.kind}", 255)}
    if f.evidence:
        data["raw_details"] = escape.shorten(f.evidence, 4000)
    return data


def comment_body(f: Finding, rule_url: Callable[[str], str] | None = None) -> str:
    head = f"**{f.rule}** · {f.kind.lower().replace('_', ' ')} · {f.level}"
    parts = [head, escape.inline(f.message, 2000)]
    if f.evidence:
        parts.append("Evidence:\n" + escape.fence(escape.shorten(f.evidence, 3000)))
    if f.replacement is not None:
        parts.append(escape.suggestion(f.replacement))
    marker = f"\n\n<!-- mfbot:fp={fingerprint(f)} -->"
    return escape.shorten("\n\n".join(parts), COMMENT_LIMIT - len(marker)) + marker


def review_comments(findings: list[Finding], hunks: dict[str, list[Hunk]], posted: set[str]) -> list[dict]:
    """Inline comments for findings on changed lines that were not posted before."""
    out = []
    for f in findings:
        end = max(f.end_line or f.line, f.line)
        if f.line < 1 or not commentable(hunks.get(f.path, []), f.line, end) or fingerprint(f) in posted:
            continue
        c = {"path": f.path, "line": end, "side": "RIGHT", "body": comment_body(f)}
        if end > f.line:
            c.update(start_line=f.line, start_side="RIGHT")
        out.append(c)
        posted = posted | {fingerprint(f)}
    return out[:MAX_REVIEW_COMMENTS]


def posted_fingerprints(snapshot: Snapshot) -> set[str]:
    return {m.group(1) for body in snapshot.review_bodies if (m := FINGERPRINT.search(body))}


def _table(review: Review) -> str:
    counts = Counter((f.kind, f.level) for f in review.findings)
    if not counts:
        return ""
    rows = ["| kind | error | warning | notice |", "|---|---:|---:|---:|"]
    for kind in sorted({k for k, _ in counts}):
        rows.append(f"| {kind} | " + " | ".join(str(counts[(kind, lv)] or "") for lv in
                                               (Level.ERROR, Level.WARNING, Level.NOTICE)) + " |")
    return "\n".join(rows)


def _figures(review: Review) -> str:
    """Per report: the total it states (if any) against the entries the parser counted."""
    rows = ["| report | total it states | entries parsed | by severity | findings |", "|---|---:|---:|---|---:|"]
    per_path = Counter(f.path for f in review.findings)
    for task in review.tasks:
        report = task.report
        stated = next((fmt(t.number.value) for t in totals(report)), "—")  # the rules' own reading
        sev = Counter((e.severity or "unstated").lower() for e in report.entries)
        sev_text = ", ".join(f"{n} {escape.inline(s, 30)}" for s, n in sev.most_common()) or "—"
        prefix = task.display("")
        found = sum(n for p, n in per_path.items() if not prefix or p.startswith(prefix))
        rows.append(f"| {escape.code(task.display(task.report_path), table=True)} | {stated} | {len(report.entries)} | "
                    f"{sev_text} | {found} |")
    return "\n".join(rows)


def _finding_lines(review: Review) -> str:
    lines = [f"- {escape.code(f'{f.path}:{f.line}')} **{f.rule}** ({f.level}) {escape.inline(f.message, 600)}"
             for f in review.findings]
    lines += [f"- {escape.code(e.path)} **error** {escape.inline(e.message, 600)}" for e in review.errors]
    return "\n".join(lines)


def headline(review: Review) -> str:
    n, levels = len(review.findings), Counter(f.level for f in review.findings)
    if not n and not review.errors:
        return f"No findings in {len(review.tasks)} report{'s' * (len(review.tasks) != 1)}"
    parts = [f"{levels[lv]} {lv}" for lv in sorted(Level, reverse=True) if levels[lv]]
    if review.errors:
        parts.append(f"{len(review.errors)} not reviewed")
    return f"{n} finding{'s' * (n != 1)}" + (f" ({', '.join(parts)})" if parts else "")


def build_outcome(review: Review, fail_on: Level | None, sha: str, inline: list[dict]) -> Outcome:
    conclusion = conclusion_of(review, fail_on)
    title = headline(review)
    summary = "\n\n".join(p for p in (_table(review), _figures(review)) if p)
    text = _finding_lines(review)
    sticky = "\n\n".join(p for p in (
        SUMMARY_MARKER, f"### mfbot: {title}", f"Reviewed commit {escape.code(sha[:12])}; conclusion **{conclusion}**.",
        summary,
        "Findings on changed lines are review comments (with a suggested change where one is known); "
        "all findings are annotations of the `mfbot` check run." if review.findings else "") if p)
    return Outcome(conclusion, title, _fit(summary, OUTPUT_LIMIT), _fit(text, OUTPUT_LIMIT),
                   [annotation(f) for f in review.findings], inline, _fit(sticky, COMMENT_LIMIT))


def skipped_outcome(reason: str, conclusion: str = "skipped", title: str = "No MODEL_FAILURES report") -> Outcome:
    return Outcome(conclusion, title, _fit(escape.block(reason), OUTPUT_LIMIT))


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - len(TRUNCATED)] + TRUNCATED


@dataclass
class Target:
    owner: str
    repo: str
    number: int
    sha: str

    @property
    def base(self) -> str:
        return f"/repos/{self.owner}/{self.repo}"

    @property
    def external_id(self) -> str:
        return f"{self.owner}/{self.repo}#{self.number}"


class Stale(Exception):
    """The pull request head moved on: a newer job publishes instead."""


def publish(client: Client, target: Target, outcome: Outcome, snapshot: Snapshot,
            current: Callable[[], bool] = lambda: True) -> int:
    """Post the outcome; returns the check run id. `current()` is asked before every write."""
    def guard():
        if not current():
            raise Stale(f"{target.external_id} moved on from {target.sha[:12]}")

    guard()
    run_id = _check_run(client, target, outcome, snapshot.check_run_ids[:1])
    for i in range(ANNOTATIONS_PER_REQUEST, len(outcome.annotations), ANNOTATIONS_PER_REQUEST):
        guard()
        client.request("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}", f"{target.base}/check-runs/{run_id}",
                       body={"output": {"title": outcome.title, "summary": outcome.summary,
                                        "annotations": outcome.annotations[i:i + ANNOTATIONS_PER_REQUEST]}})
    if outcome.comments:
        guard()
        client.request("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
                       f"{target.base}/pulls/{target.number}/reviews",
                       body={"commit_id": target.sha, "event": "COMMENT", "comments": outcome.comments,
                             "body": f"mfbot: {len(outcome.comments)} finding(s) on changed lines of "
                                     f"{target.sha[:12]}. All findings are in the `mfbot` check run."})
    guard()
    _sticky(client, target, outcome.sticky, snapshot)
    return run_id


def _check_run(client: Client, target: Target, outcome: Outcome, existing: list[int]) -> int:
    body = {"name": client.settings.check_name, "head_sha": target.sha, "external_id": target.external_id,
            "status": "completed", "conclusion": outcome.conclusion,
            "output": {"title": outcome.title, "summary": outcome.summary or outcome.title,
                       "annotations": outcome.annotations[:ANNOTATIONS_PER_REQUEST]}}
    if outcome.text:
        body["output"]["text"] = outcome.text
    if existing:
        body.pop("head_sha")
        _, data = client.request("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}",
                                 f"{target.base}/check-runs/{existing[0]}", body=body)
    else:
        _, data = client.request("POST", "/repos/{owner}/{repo}/check-runs", f"{target.base}/check-runs", body=body)
    return int(data["id"])


def _sticky(client: Client, target: Target, body: str | None, snapshot: Snapshot) -> None:
    mine = [c for c in snapshot.comments if c["body"].startswith(SUMMARY_MARKER)]
    if body is None and not mine:
        return
    body = body or f"{SUMMARY_MARKER}\n\n### mfbot: no MODEL_FAILURES report in {escape.code(target.sha[:12])} any more."
    if mine:
        if mine[0]["body"].strip() != body.strip():
            client.request("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}",
                           f"{target.base}/issues/comments/{mine[0]['id']}", body={"body": body})
    else:
        client.request("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments",
                       f"{target.base}/issues/{target.number}/comments", body={"body": body})
