"""Structured logs: one JSON object per line, one line per event (a webhook delivery, a review job),
with the fields an operator searches by, and never a secret.

    configure_logging()                       # once per process (mfbot serve / worker / the app factory)
    with logged_event(log, "review", delivery=d, repository="o/r", pr=7, head_sha=sha) as ev:
        ...
        ev["outcome"] = "published"           # one line at the end, with duration_ms

`RedactFilter` sits on the handler, so it also cleans records from libraries (PyGithub, huey,
gunicorn) that reach it: tokens, JWTs, PEM keys, `secret=...` pairs and passwords in URLs.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Iterator, TextIO

# The fields of an event line, in this order first.
FIELDS = ("event", "action", "delivery", "repository", "pr", "head_sha", "installation", "duration_ms", "outcome")
REDACTED = "[REDACTED]"

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}
_SECRET_KEY = re.compile(r"secret|token|password|passwd|private[_-]?key|api[_-]?key|authorization|credential|pem",
                         re.I)
_PATTERNS = [
    # a PEM block, or its start when the rest was cut off
    (re.compile(r"-----BEGIN [A-Z0-9 ]*(?:PRIVATE KEY|CERTIFICATE)-----.*?(?:-----END [A-Z0-9 ]*-----|\Z)", re.S),
     REDACTED),
    (re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9_]{16,}|github_pat_[A-Za-z0-9_]{16,})"), REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"), REDACTED),  # JWT
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), REDACTED),
    (re.compile(r"\b(Bearer|token|Basic)\s+[A-Za-z0-9._~+/=-]{8,}", re.I), rf"\1 {REDACTED}"),
    (re.compile(r"(\w+://[^/\s:@]*:)[^@\s/]+@"), rf"\1{REDACTED}@"),  # password in a URL
    (re.compile(r"""((?:secret|token|password|passwd|private[_-]?key|api[_-]?key)["']?\s*[:=]\s*["']?)[^\s"',;&}]+""",
                re.I), rf"\1{REDACTED}"),
]


# Every pattern above needs one of these (lower-cased); most log text has none, and substring tests
# are far cheaper than running the patterns on every field of every line.
_HINTS = ("-----begin", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "eyj", "akia", "asia", "bearer",
          "token", "basic", "://", "secret", "passw", "private", "key")


def redact(text: str) -> str:
    low = text.lower()
    if not any(hint in low for hint in _HINTS):
        return text
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


@lru_cache(maxsize=1024)
def _secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key))


def _clean(key: str, value: Any) -> Any:
    if _secret_key(key) and value not in (None, ""):
        return REDACTED
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _clean(str(k), v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(key, v) for v in value]
    return value


class RedactFilter(logging.Filter):
    """Rewrites each record in place: the message is formatted and redacted, extras are cleaned."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD:
                setattr(record, key, _clean(key, value))
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        extras = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        out.update({k: extras.pop(k) for k in FIELDS if k in extras})
        out.update(extras)
        if record.exc_info:
            record.exc_text = record.exc_text or self.formatException(record.exc_info)
        if record.exc_text:
            out["error"] = record.exc_text
        return json.dumps(out, default=str, ensure_ascii=False)


def configure_logging(level: str | None = None, stream: TextIO | None = None, fmt: str | None = None) -> logging.Handler:
    """Send the root logger to one redacting handler (JSON unless MFBOT_LOG_FORMAT=text).
    Calling it again replaces the handler it installed before rather than adding a second one."""
    level = (level or os.environ.get("LOG_LEVEL") or "INFO").upper()
    fmt = (fmt or os.environ.get("MFBOT_LOG_FORMAT") or "json").lower()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name("mfbot")
    handler.addFilter(RedactFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "mfbot"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler


@contextmanager
def logged_event(logger: logging.Logger, message: str, **fields: Any) -> Iterator[dict[str, Any]]:
    """Log one line when the block ends, with `fields`, whatever the block added to the yielded dict,
    `duration_ms`, and `outcome` ("ok" unless set; "error" with the traceback if the block raised)."""
    state: dict[str, Any] = dict(fields)
    state.setdefault("outcome", "ok")
    start = time.perf_counter()
    try:
        yield state
    except BaseException:
        state["outcome"] = "error"
        state["duration_ms"] = round((time.perf_counter() - start) * 1000, 1)
        logger.error(message, exc_info=True, extra=state)
        raise
    state["duration_ms"] = round((time.perf_counter() - start) * 1000, 1)
    logger.info(message, extra=state)


# -- the web process: one line per webhook delivery ---------------------------------------------

WEBHOOK_ENDPOINT = "webhooks.webhook"  # Flask endpoint of POST /webhook (bot/webhooks.py)
_webhook_log = logging.getLogger("mfbot.webhook")


def webhook_outcome(status: int, answer: dict | None) -> str:
    """What happened to a delivery, from the receiver's answer (bot/webhooks.py `_answer`)."""
    answer = answer or {}
    if status == 202:
        return "queued"
    if status == 200:
        return next((word for key, word in (("duplicate", "duplicate"), ("ignored", "ignored"), ("pong", "ping"))
                     if key in answer), "ok")
    return {401: "bad_signature", 413: "too_large", 503: "queue_unavailable"}.get(
        status, "bad_request" if status < 500 else "error")


def init_app(app) -> None:
    """Log one line per webhook delivery: event, action, delivery id, repository, PR, duration, outcome.
    The receiver may leave the parsed payload in `flask.g.mfbot_payload` for repository and PR."""
    from flask import g, request

    @app.before_request
    def _start() -> None:
        g.mfbot_started = time.perf_counter()

    @app.after_request
    def _log(response):
        if request.endpoint != WEBHOOK_ENDPOINT:
            return response
        payload = getattr(g, "mfbot_payload", None) or {}
        answer = response.get_json(silent=True) if response.is_json else None
        fields = {
            "event": request.headers.get("X-GitHub-Event", ""),
            "action": payload.get("action"),
            "delivery": request.headers.get("X-GitHub-Delivery", ""),
            "repository": (payload.get("repository") or {}).get("full_name"),
            "pr": _pr_number(payload),
            "head_sha": _head_sha(payload),
            "installation": (payload.get("installation") or {}).get("id"),
            "duration_ms": round((time.perf_counter() - getattr(g, "mfbot_started", time.perf_counter())) * 1000, 1),
            "outcome": webhook_outcome(response.status_code, answer),
            "status": response.status_code,
        }
        if isinstance(answer, dict) and answer.get("ignored"):
            fields["reason"] = answer["ignored"]
        _webhook_log.info("webhook", extra={k: v for k, v in fields.items() if v not in (None, "")})
        return response


def _pr_number(payload: dict) -> int | None:
    if "pull_request" in payload:
        return payload.get("number") or payload["pull_request"].get("number")
    issue = payload.get("issue") or {}
    if issue.get("pull_request"):
        return issue.get("number")
    for key in ("check_run", "check_suite"):
        pulls = (payload.get(key) or {}).get("pull_requests") or []
        if pulls:
            return pulls[0].get("number")
    return None


def _head_sha(payload: dict) -> str | None:
    if "pull_request" in payload:
        return ((payload["pull_request"] or {}).get("head") or {}).get("sha")
    for key in ("check_run", "check_suite"):
        if payload.get(key):
            return payload[key].get("head_sha")
    return None
