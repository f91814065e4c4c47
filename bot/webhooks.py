"""`POST /webhook`: verify, deduplicate, route, enqueue, answer within milliseconds.

Order of checks (each failure is a clear answer and no work):
  413 body over 25 MB -> 401 missing or bad `X-Hub-Signature-256` (HMAC-SHA256 of the raw body, any
  of the configured secrets, constant-time) -> 400 no event header -> `ping` answered -> 400 not JSON
  -> 200 "ignored" for events/actions without a handler, or that a handler declines -> 400 no delivery id
  -> 200 "duplicate" for a delivery id seen before -> 202 with the queued job ids.

Handlers are small functions registered per event and action, bedevere-style:

    @router.register("pull_request", "opened", "synchronize")
    def review_pull_request(payload) -> Job: ...

They only read the payload and return Jobs (or raise Ignored with a reason); all GitHub calls happen
in the worker.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Callable, Iterable

from flask import Blueprint, current_app, g, jsonify, request

from bot.review import Job, job_from_payload, number_from_external_id

MAX_BODY = 25 * 1024 * 1024  # GitHub does not deliver payloads over 25 MB
RECHECK = re.compile(r"^[ \t]*/recheck[ \t]*$", re.M)
_FENCED = re.compile(r"^[ \t]*(`{3,}|~{3,}).*?(^[ \t]*\1[ \t]*$|\Z)", re.M | re.S)

Handler = Callable[[dict], "Job | list[Job]"]


class Ignored(Exception):
    """A delivery we understand but do not act on; the message says why."""


class Router:
    def __init__(self) -> None:
        self._handlers: dict[tuple[str, str | None], list[Handler]] = {}

    def register(self, event: str, *actions: str) -> Callable[[Handler], Handler]:
        """Register for `event` with any of `actions` (none: every action)."""
        def decorator(fn: Handler) -> Handler:
            for action in actions or (None,):
                self._handlers.setdefault((event, action), []).append(fn)
            return fn
        return decorator

    def handlers(self, event: str, action: str | None) -> list[Handler]:
        return self._handlers.get((event, action), []) + (self._handlers.get((event, None), []) if action else [])

    def dispatch(self, event: str, payload: dict) -> list[Job]:
        """Jobs for a delivery, in registration order; raises Ignored when nothing is to be done."""
        handlers = self.handlers(event, payload.get("action"))
        if not handlers:
            action = payload.get("action")
            raise Ignored(f"no handler for {event}" + (f".{action}" if action else ""))
        jobs, reasons = [], []
        for handler in handlers:
            try:
                out = handler(payload)
            except Ignored as exc:
                reasons.append(str(exc))
                continue
            jobs.extend(out if isinstance(out, list) else [out])
        if not jobs:
            raise Ignored("; ".join(reasons))
        return jobs


router = Router()


def _installation_job(kind: str, payload: dict, **fields) -> Job:
    if not (payload.get("installation") or {}).get("id"):
        raise Ignored("no installation in the payload: mfbot acts on GitHub App deliveries only")
    return job_from_payload(kind, payload, **fields)


@router.register("pull_request", "opened", "reopened", "synchronize", "ready_for_review")
def review_pull_request(payload: dict) -> Job:
    pr = payload["pull_request"]
    return _installation_job("review", payload, number=int(payload.get("number") or pr["number"]),
                             sha=pr["head"]["sha"])


@router.register("issue_comment", "created")
def recheck_command(payload: dict) -> Job:
    issue, comment = payload["issue"], payload["comment"]
    if not issue.get("pull_request"):
        raise Ignored("comment on an issue, not on a pull request")
    user = comment.get("user") or {}
    if user.get("type") == "Bot" or comment.get("performed_via_github_app"):
        raise Ignored("comment written by a bot")
    if not RECHECK.search(_FENCED.sub("", comment.get("body") or "")):
        raise Ignored("no /recheck line in the comment")
    if issue.get("state") != "open":
        raise Ignored("pull request is closed")
    return _installation_job("recheck", payload, number=int(issue["number"]), comment_id=int(comment["id"]),
                             user=user.get("login"), author=(issue.get("user") or {}).get("login"))


@router.register("check_run", "rerequested")
def rerun_check_run(payload: dict) -> Job:
    run = payload["check_run"]
    return _rerequest(payload, run["head_sha"], run.get("pull_requests") or [], run.get("external_id"))


@router.register("check_suite", "rerequested")
def rerun_check_suite(payload: dict) -> Job:
    suite = payload["check_suite"]
    return _rerequest(payload, suite["head_sha"], suite.get("pull_requests") or [], None)


def _rerequest(payload: dict, sha: str, pulls: list[dict], external_id: str | None) -> Job:
    # Fork PRs arrive with an empty pull_requests array: use our external_id, else the worker
    # asks which PRs hold the commit.
    number = pulls[0]["number"] if pulls else number_from_external_id(external_id)
    return _installation_job("rerequest", payload, number=number, sha=sha)


# --- HTTP ------------------------------------------------------------------------------------------

blueprint = Blueprint("webhooks", __name__)


def signature_ok(body: bytes, header: str | None, secrets: Iterable[str]) -> bool:
    """`sha256=<hex>` over the raw body with any of the secrets (rotation); constant-time compare."""
    if not header or not header.startswith("sha256="):
        return False
    given = header[len("sha256="):].strip().lower()
    ok = False
    for secret in secrets:  # no early exit: the time taken does not tell which secret matched
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        ok |= hmac.compare_digest(expected, given)
    return ok


def _answer(status: int, **data):
    return jsonify(data), status


@blueprint.post("/webhook")
def webhook():
    services = current_app.extensions["mfbot"]
    if (request.content_length or 0) > MAX_BODY:
        return _answer(413, error=f"body over {MAX_BODY // (1024 * 1024)} MB")
    body = request.get_data(cache=False)  # raises 413 past MAX_CONTENT_LENGTH for chunked bodies
    header = request.headers.get("X-Hub-Signature-256")
    if not header:
        return _answer(401, error="missing X-Hub-Signature-256: set the App's webhook secret")
    if not signature_ok(body, header, services.settings.webhook_secrets):
        return _answer(401, error="bad X-Hub-Signature-256: the body was not signed with the webhook secret")
    event = request.headers.get("X-GitHub-Event", "")
    if not event:
        return _answer(400, error="missing X-GitHub-Event")
    if event == "ping":
        return _answer(200, pong=True)
    try:
        payload = json.loads(body)
    except ValueError:
        return _answer(400, error="body is not JSON (set the webhook content type to application/json)")
    if not isinstance(payload, dict):
        return _answer(400, error="body is not a JSON object")
    g.mfbot_payload = payload  # repository and PR for the per-delivery log line (bot.logs.init_app)
    try:
        jobs = router.dispatch(event, payload)
    except Ignored as exc:
        return _answer(200, ignored=str(exc))
    except (KeyError, TypeError, ValueError) as exc:
        return _answer(400, error=f"{event} payload lacks a field mfbot needs: {exc}")
    delivery = request.headers.get("X-GitHub-Delivery", "")
    if not delivery:
        return _answer(400, error="missing X-GitHub-Delivery")
    return _enqueue(services.queue, delivery, jobs)


def _enqueue(queue, delivery: str, jobs: list[Job]):
    for job in jobs:
        job.delivery = delivery
    heads = {job.pr_key: job.sha for job in jobs if job.kind == "review"}
    try:
        accepted = queue.accept(delivery, [job.to_dict() for job in jobs], heads)
    except Exception as exc:  # the queue is down: GitHub shows a failed delivery that can be redelivered
        current_app.logger.exception("enqueue failed for delivery %s", delivery)
        return _answer(503, error=f"queue unavailable: {type(exc).__name__}")
    if not accepted:
        return _answer(200, duplicate=delivery)
    return _answer(202, queued=[j.id for j in jobs])
