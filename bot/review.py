"""The worker side: one job reviews one pull request head, or handles a `/recheck` or a re-run request.

A typical review costs 5 GitHub calls after the (cached) token:
  1. GET  /repos/{o}/{r}/pulls/{n}/files?per_page=100     changed files and patches
  2. POST /graphql                                         the report, its sibling files, the changed IaC
                                                           files, .github/mfbot.yml of the default branch,
                                                           the PR head/state, our earlier check run,
                                                           summary and comment fingerprints
  3. POST /repos/{o}/{r}/check-runs                        completed, with the first 50 annotations
                                                           (PATCH of our existing run on a re-run)
  4. POST /repos/{o}/{r}/pulls/{n}/reviews                 new inline comments (skipped when none)
  5. POST /repos/{o}/{r}/issues/{n}/comments               the sticky summary (PATCH when it exists,
                                                           skipped when unchanged)
More only for > 100 changed files, > 80 fetched files, files over GraphQL's 512 kB text limit,
> 50 findings, or a custom `report_glob` that picks other reports.
"""

from __future__ import annotations

import logging
import posixpath
import re
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from bot.config import CONFIG_PATH, DEFAULT_REPORT_GLOB, Config, ConfigError
from bot.diff import Hunk, added_lines, parse_patch
from bot.engine import review_tasks
from bot.iac import cfnlint
from bot.github import Client, GitHubError, RateLimited, Snapshot, Transient, TokenCache, read_snapshot
from bot.publish import (Stale, Target, build_outcome, posted_fingerprints, publish, review_comments,
                         skipped_outcome)
from bot.settings import Settings
from bot.task import (AWS_REGION, IDEAL_RESPONSE, MAX_FILE_BYTES, METADATA, MODEL_RESPONSE, PROMPT, TEST_PATH,
                      is_source, report_paths, split_tasks, task_root_of)

log = logging.getLogger("mfbot.review")

FILES_ROUTE = "/repos/{owner}/{repo}/pulls/{pull_number}/files"
MAX_FILES = 3000  # GitHub lists at most 3,000 files of a pull request
SIBLINGS = (MODEL_RESPONSE, IDEAL_RESPONSE, PROMPT, METADATA, AWS_REGION)
MAX_ATTEMPTS = 5
WRITE_PERMISSIONS = {"admin", "maintain", "write"}


@dataclass
class Job:
    """A queue message. Holds ids only: tokens are minted by the worker, never queued."""

    kind: str  # "review", "recheck" or "rerequest"
    installation_id: int
    owner: str
    repo: str
    number: int | None = None
    sha: str | None = None
    comment_id: int | None = None
    user: str | None = None  # who asked (recheck)
    author: str | None = None  # PR author (recheck)
    delivery: str | None = None
    attempt: int = 0
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def pr_key(self) -> str:
        return f"{self.owner}/{self.repo}#{self.number}"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Job":
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass
class Context:
    """What a worker shares between jobs."""

    settings: Settings
    tokens: TokenCache
    head: Callable[[str], str | None] = lambda key: None  # latest head SHA seen for "o/r#n"
    set_head: Callable[[str, str], None] = lambda key, sha: None
    once: Callable[[str], bool] = lambda key: True  # True the first time a key is seen
    sleep: Callable[[float], None] | None = None
    metrics: Any = None  # the worker process's bot.metrics.Metrics (review duration, findings by rule)


@dataclass
class Result:
    status: str  # published, stale, skipped, denied, retry, failed
    detail: str = ""
    retry_in: float | None = None
    calls: list[tuple[str, str]] = field(default_factory=list)
    check_run_id: int | None = None
    findings: list = field(default_factory=list)  # what the review published, for metrics


def run_job(job: Job, ctx: Context) -> Result:
    """Run a job; GitHub trouble worth retrying comes back as `retry_in` for the queue to schedule."""
    started = time.perf_counter()
    client = Client(ctx.settings, ctx.tokens, job.installation_id, **({"sleep": ctx.sleep} if ctx.sleep else {}))
    try:
        try:
            result = _dispatch(job, ctx, client)
        except GitHubError as exc:
            if exc.status != 401:
                raise
            client.refresh_token()  # revoked or expired early: one more try with a new token
            result = _dispatch(job, ctx, client)
    except Stale as exc:
        result = Result("stale", str(exc))
    except RateLimited as exc:
        result = _retry(job, exc.wait, str(exc))
    except Transient as exc:
        result = _retry(job, 30 * 2 ** job.attempt, str(exc))
    except GitHubError as exc:
        result = Result("failed", str(exc))
    result.calls = client.calls
    seconds = time.perf_counter() - started
    # One structured line per job: bot/logs.py turns the extra fields into JSON keys.
    log.info("job %s %s %s: %s %s (%d GitHub calls)", job.id, job.kind, job.pr_key, result.status,
             result.detail, len(client.calls), extra={
                 "kind": job.kind, "job": job.id, "delivery": job.delivery, "repository": f"{job.owner}/{job.repo}",
                 "pr": job.number, "head_sha": job.sha, "installation": job.installation_id,
                 "duration_ms": round(seconds * 1000, 1), "outcome": result.status, "github_calls": len(client.calls)})
    if ctx.metrics is not None:
        ctx.metrics.review(seconds, result.status, result.findings)
    return result


def _retry(job: Job, wait: float, why: str) -> Result:
    if job.attempt + 1 >= MAX_ATTEMPTS:
        return Result("failed", f"gave up after {MAX_ATTEMPTS} attempts: {why}")
    return Result("retry", why, retry_in=wait)


def _dispatch(job: Job, ctx: Context, client: Client) -> Result:
    if job.kind == "review":
        return review_head(client, ctx, Target(job.owner, job.repo, job.number, job.sha))
    if job.kind == "recheck":
        return recheck(client, ctx, job)
    if job.kind == "rerequest":
        return rerequest(client, ctx, job)
    return Result("failed", f"unknown job kind {job.kind!r}")


# --- commands --------------------------------------------------------------------------------------

def recheck(client: Client, ctx: Context, job: Job) -> Result:
    """`/recheck` from the PR author or a user with write access: react, then review the head."""
    base = f"/repos/{job.owner}/{job.repo}"
    if job.user != job.author and permission(client, job.owner, job.repo, job.user) not in WRITE_PERMISSIONS:
        if ctx.once(f"denied:{job.pr_key}:{job.user}"):
            client.request("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments",
                           f"{base}/issues/{job.number}/comments",
                           body={"body": f"Thanks! Only the author of this pull request or people with write "
                                         f"access can ask mfbot to `/recheck` it; a maintainer can do it for you."})
        return Result("denied", f"{job.user} may not /recheck")
    client.request("POST", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
                   f"{base}/issues/comments/{job.comment_id}/reactions", body={"content": "+1"})
    _, pr = client.request("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", f"{base}/pulls/{job.number}")
    if pr.get("state") != "open":
        return Result("skipped", "pull request is closed")
    sha = pr["head"]["sha"]
    ctx.set_head(job.pr_key, sha)
    return review_head(client, ctx, Target(job.owner, job.repo, job.number, sha))


def permission(client: Client, owner: str, repo: str, user: str | None) -> str:
    """admin/maintain/write/triage/read/none; any error (404: not a collaborator) means none."""
    if not user:
        return "none"
    try:
        _, data = client.request("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission",
                                 f"/repos/{owner}/{repo}/collaborators/{user}/permission")
    except GitHubError as exc:
        if isinstance(exc, (RateLimited, Transient)) or exc.status == 401:
            raise
        return "none"
    return data.get("role_name") if data.get("role_name") == "maintain" else data.get("permission", "none")


def rerequest(client: Client, ctx: Context, job: Job) -> Result:
    """The check run's Re-run button: `pull_requests` is empty for forks, so find the PR by commit."""
    number = job.number
    if number is None:
        _, pulls = client.request("GET", "/repos/{owner}/{repo}/commits/{commit_sha}/pulls",
                                  f"/repos/{job.owner}/{job.repo}/commits/{job.sha}/pulls")
        open_pulls = [p for p in pulls if p.get("state") == "open"]
        if not open_pulls:
            return Result("skipped", f"no open pull request has commit {job.sha[:12]}")
        number = open_pulls[0]["number"]
    return review_head(client, ctx, Target(job.owner, job.repo, number, job.sha))


# --- the review --------------------------------------------------------------------------------------

@dataclass
class Changes:
    files: list[dict]
    hunks: dict[str, list[Hunk]]
    changed: dict[str, set[int]]
    capped: bool


def list_changes(client: Client, target: Target) -> Changes:
    files = list(client.pages(FILES_ROUTE, f"{target.base}/pulls/{target.number}/files"))
    live = [f for f in files if f.get("status") != "removed"]
    hunks = {f["filename"]: parse_patch(f.get("patch")) for f in live}
    changed = {path: added_lines(h) for path, h in hunks.items()}
    return Changes(live, hunks, changed, len(files) >= MAX_FILES)


def wanted_paths(changed: list[str], glob: str) -> list[str]:
    """Reports matching the glob, each task's sibling files, and the changed IaC/test files of each task."""
    reports = report_paths(changed, glob)
    roots = {task_root_of(r) for r in reports}
    out = set(reports)
    for root in roots:
        out.update(posixpath.join(root, s) if root else s for s in SIBLINGS)
        out.update(p for p in changed if (not root or p.startswith(root + "/")) and _is_code(p))
    return sorted(out)


def _is_code(path: str) -> bool:
    return is_source(path) or bool(TEST_PATH.search(path))


def review_head(client: Client, ctx: Context, target: Target) -> Result:
    current = lambda: ctx.head(f"{target.owner}/{target.repo}#{target.number}") in (None, target.sha)
    if not current():
        return Result("stale", f"head moved on from {target.sha[:12]}")
    changes = list_changes(client, target)
    paths = [f["filename"] for f in changes.files]
    snap = read_snapshot(client, target.owner, target.repo, target.number, target.sha,
                         wanted_paths(paths, DEFAULT_REPORT_GLOB), config_path=CONFIG_PATH)
    if snap.state is None:
        return Result("skipped", f"no pull request #{target.number} in {target.owner}/{target.repo}")
    if snap.head_sha and snap.head_sha != target.sha:
        return Result("stale", f"head is {snap.head_sha[:12]}, not {target.sha[:12]}")
    if snap.state and snap.state != "OPEN":
        return Result("skipped", f"pull request is {snap.state.lower()}")
    try:
        config = _config(snap)
    except ConfigError as exc:
        outcome = skipped_outcome(f"{exc}\n\nFix {CONFIG_PATH} on the default branch, then comment /recheck.",
                                  "failure", f"Configuration error in {CONFIG_PATH}")
        return _published(client, target, outcome, snap, current)
    if config.report_glob != DEFAULT_REPORT_GLOB:
        extra = [p for p in wanted_paths(paths, config.report_glob) if p not in snap.blobs]
        if extra:
            snap.blobs.update(read_snapshot(client, target.owner, target.repo, target.number, target.sha, extra,
                                            with_pr=False).blobs)
    files, skipped = _texts(client, target, snap)
    tasks = split_tasks(files, config.report_glob, changes.changed, skipped)
    if not tasks:
        note = f"No changed file matches `{config.report_glob}`, so there is nothing to review."
        if changes.capped:
            note += f" GitHub lists only the first {MAX_FILES} files of a pull request."
        return _published(client, target, skipped_outcome(note), snap, current)
    review = review_tasks(tasks, config)
    review.findings += cfnlint.review_findings(tasks, config)  # optional deep tier (MF490), after the engine
    inline = review_comments(review.findings, changes.hunks, posted_fingerprints(snap))
    outcome = build_outcome(review, config.fail_on, target.sha, inline)
    result = _published(client, target, outcome, snap, current)
    result.findings = review.findings
    return result


def _published(client, target, outcome, snap, current) -> Result:
    run_id = publish(client, target, outcome, snap, current)
    return Result("published", f"{outcome.conclusion}: {outcome.title}", check_run_id=run_id)


def _config(snap: Snapshot) -> Config:
    """The default branch's configuration, as Probot apps read theirs: a pull request cannot switch
    rules off for itself; a change to the file applies once it is merged."""
    blob = snap.config
    if blob is None or blob.missing:
        return Config()
    if blob.text is None:
        raise ConfigError(f"{CONFIG_PATH}: not a text file")
    return Config.from_yaml(blob.text, CONFIG_PATH)


def _texts(client: Client, target: Target, snap: Snapshot) -> tuple[dict[str, str], dict[str, str]]:
    """File texts for the engine, and why others were not read (binary, too large)."""
    files, skipped = {}, {}
    for path, blob in snap.blobs.items():
        if blob.missing:
            continue
        if blob.binary:
            skipped[path] = "binary file"
        elif blob.size > MAX_FILE_BYTES:
            skipped[path] = f"{blob.size / 1e6:.1f} MB, over the {MAX_FILE_BYTES / 1e6:.0f} MB limit"
        elif blob.truncated:
            text = client.raw_file(target.owner, target.repo, path, target.sha)
            if "\x00" in text[:8192]:
                skipped[path] = "binary file"
            else:
                files[path] = text.lstrip("\ufeff")
        else:
            files[path] = blob.text.lstrip("\ufeff")
    return files, skipped


def job_from_payload(kind: str, payload: dict[str, Any], **extra) -> Job:
    """A Job from the fields every App delivery carries."""
    repo = payload["repository"]
    return Job(kind, int(payload["installation"]["id"]), repo["owner"]["login"], repo["name"], **extra)


_EXTERNAL_ID = re.compile(r"^[\w.-]+/[\w.-]+#(\d+)$")


def number_from_external_id(external_id: str | None) -> int | None:
    m = _EXTERNAL_ID.match(external_id or "")
    return int(m.group(1)) if m else None


def queue_handler(settings: Settings, queue, metrics=None) -> Callable[[dict], float | None]:
    """The function a worker's Queue runs for each job: returns seconds until a retry, or None."""
    ctx = Context(settings, TokenCache(settings), head=queue.ledger.head, set_head=queue.ledger.set_head,
                  once=queue.ledger.once, metrics=metrics)

    def handle(data: dict) -> float | None:
        return run_job(Job.from_dict(data), ctx).retry_in
    return handle
