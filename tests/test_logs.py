"""Structured logs: one JSON line per event with the fields operators search by, and no secrets."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.logs import REDACTED, configure_logging, logged_event, redact
from tests.github_kit import (SHA, context, github, make_settings,  # noqa: F401 (github: a fixture)
                               payload_bytes, post_delivery, task_files)

PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx7\nabc\n-----END RSA PRIVATE KEY-----"


@pytest.fixture
def log_lines():
    """Route the root logger to a JSON handler on a buffer; yields a function returning parsed lines."""
    stream, root = io.StringIO(), logging.getLogger()
    level = root.level
    handler = configure_logging("INFO", stream, "json")
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


def test_one_line_per_event_with_the_standard_fields(log_lines):
    log = logging.getLogger("mfbot.test")
    with logged_event(log, "review", delivery="d-1", repository="acme/widgets", pr=7, head_sha="a" * 40) as ev:
        ev["outcome"] = "published"
        ev["findings"] = 3
    (line,) = log_lines()
    assert line["msg"] == "review" and line["level"] == "info" and line["logger"] == "mfbot.test"
    assert {k: line[k] for k in ("delivery", "repository", "pr", "head_sha", "outcome", "findings")} == {
        "delivery": "d-1", "repository": "acme/widgets", "pr": 7, "head_sha": "a" * 40, "outcome": "published",
        "findings": 3}
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["ts"].endswith("+00:00")


def test_a_failing_event_logs_one_error_line_with_the_traceback(log_lines):
    log = logging.getLogger("mfbot.test")
    with pytest.raises(RuntimeError):
        with logged_event(log, "review", delivery="d-2"):
            raise RuntimeError("GitHub said no")
    (line,) = log_lines()
    assert line["level"] == "error" and line["outcome"] == "error"
    assert "RuntimeError: GitHub said no" in line["error"]


@pytest.mark.parametrize("secret", [
    "ghs_16C7e42F292c6912E7710c838347Ae178B4a",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
    "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxMjMifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ",
    "AKIAIOSFODNN7EXAMPLE",
    PEM,
])
def test_tokens_and_keys_never_reach_the_log(log_lines, secret):
    log = logging.getLogger("mfbot.test")
    log.info("calling GitHub with %s", secret, extra={"detail": f"auth was {secret}"})
    (line,) = log_lines()
    assert secret not in json.dumps(line)
    assert REDACTED in line["msg"] and REDACTED in line["detail"]


def test_secret_named_fields_and_pairs_are_redacted(log_lines):
    log = logging.getLogger("mfbot.test")
    log.warning("bad config webhook_secret=hunter2 password: 'pa55' url redis://:s3cret@redis:6379/0",
                extra={"webhook_secret": "hunter2", "headers": {"Authorization": "Bearer abcdefghij"},
                       "repository": "acme/widgets"})
    (line,) = log_lines()
    text = json.dumps(line)
    assert "hunter2" not in text and "pa55" not in text and "s3cret" not in text and "abcdefghij" not in text
    assert line["webhook_secret"] == REDACTED and line["headers"]["Authorization"] == REDACTED
    assert line["repository"] == "acme/widgets"  # ordinary fields pass untouched
    assert "redis://:[REDACTED]@redis:6379/0" in line["msg"]


def test_secrets_in_a_traceback_are_redacted(log_lines):
    log = logging.getLogger("mfbot.test")
    try:
        raise ValueError("token ghs_16C7e42F292c6912E7710c838347Ae178B4a rejected")
    except ValueError:
        log.exception("mint failed")
    (line,) = log_lines()
    assert "ghs_16C7" not in line["error"] and "ValueError" in line["error"]


def test_library_records_are_redacted_too(log_lines):
    logging.getLogger("huey").error("connect failed for redis://:topsecret@queue:6379/0")
    (line,) = log_lines()
    assert "topsecret" not in line["msg"]


def test_ordinary_text_is_left_alone():
    text = "review of acme/widgets#7 at 0123abcd took 1.2 s: 3 findings (MF101 mojibake)"
    assert redact(text) == text


def test_configuring_twice_keeps_one_handler(log_lines):
    stream = io.StringIO()
    handler = configure_logging("INFO", stream)
    ours = [h for h in logging.getLogger().handlers if h.get_name() == "mfbot"]
    assert ours == [handler]


def test_text_format_for_humans():
    stream, root = io.StringIO(), logging.getLogger()
    level = root.level
    handler = configure_logging("INFO", stream, "text")
    try:
        logging.getLogger("mfbot.test").info("hello %s", "ghp_abcdefghijklmnopqrstuvwxyz0123456789")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    assert "INFO mfbot.test: hello [REDACTED]" in stream.getvalue()


def test_the_app_logs_one_line_per_delivery(log_lines, tmp_path):
    from bot.app import create_app

    app = create_app(make_settings(tmp_path))
    payload = json.loads(payload_bytes("pull_request.opened"))
    assert post_delivery(app.test_client(), "pull_request.opened", delivery="abc-123").status_code == 202
    app.test_client().get("/healthz")  # not a delivery: no line
    lines = [line for line in log_lines() if line["logger"] == "mfbot.webhook"]
    assert len(lines) == 1
    line = lines[0]
    assert line["event"] == "pull_request" and line["action"] == "opened" and line["delivery"] == "abc-123"
    assert line["repository"] == payload["repository"]["full_name"]
    assert line["pr"] == payload["number"] and line["head_sha"] == payload["pull_request"]["head"]["sha"]
    assert line["outcome"] == "queued" and line["status"] == 202 and line["duration_ms"] >= 0


def test_an_ignored_delivery_says_why(log_lines, tmp_path):
    from bot.app import create_app

    app = create_app(make_settings(tmp_path))
    assert post_delivery(app.test_client(), "issue_comment.created.on-issue").status_code == 200
    (line,) = [line for line in log_lines() if line["logger"] == "mfbot.webhook"]
    assert line["outcome"] == "ignored" and "not on a pull request" in line["reason"]


def test_a_review_job_logs_one_line_with_its_pull_request(log_lines, github, tmp_path):
    from bot.review import Job, run_job

    github.add_pull(2, SHA, task_files(garbled=2))
    job = Job("review", 1, "Codertocat", "Hello-World", number=2, sha=SHA, delivery="d-77")
    assert run_job(job, context(make_settings(tmp_path))).status == "published"
    (line,) = [line for line in log_lines() if line["logger"] == "mfbot.review"]
    assert {k: line[k] for k in ("delivery", "repository", "pr", "head_sha", "outcome", "kind", "github_calls")} == {
        "delivery": "d-77", "repository": "Codertocat/Hello-World", "pr": 2, "head_sha": SHA,
        "outcome": "published", "kind": "review", "github_calls": 5}
    assert line["duration_ms"] > 0
    assert "ghs_" not in json.dumps(line)
