"""Prometheus metrics: one registry per Metrics object, `/metrics` on the app, GitHub calls counted
from PyGithub's own per-response record."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import responses
from flask import Flask
from github import Auth, Github
from prometheus_client.parser import text_string_to_metric_families

from bot.findings import Level
from bot.metrics import Metrics, init_app, metrics_of, serve_worker_metrics, track_github, untrack_github
from tests.github_kit import (SHA, context, github, make_settings,  # noqa: F401 (github: a fixture)
                               post_delivery, task_files)


def samples(metrics: Metrics) -> dict[tuple, float]:
    """(sample name, sorted labels) -> value, parsed back from the exposition format."""
    out = {}
    for family in text_string_to_metric_families(metrics.render().decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_each_metrics_object_has_its_own_registry():
    a, b = Metrics(), Metrics()
    a.webhook("pull_request", "queued")
    assert samples(a)[("mfbot_webhooks_received_total", (("event", "pull_request"), ("outcome", "queued")))] == 1
    assert ("mfbot_webhooks_received_total", (("event", "pull_request"), ("outcome", "queued"))) not in samples(b)


def test_metrics_endpoint_serves_the_exposition_format():
    app = Flask(__name__)
    metrics = init_app(app)
    assert metrics_of(app) is metrics
    metrics.signature_failure()
    metrics.webhook("issue_comment", "ignored")
    metrics.track_queue(lambda: 7)
    resp = app.test_client().get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/plain; version=")
    got = {(s.name, tuple(sorted(s.labels.items()))): s.value
           for f in text_string_to_metric_families(resp.get_data(as_text=True)) for s in f.samples}
    assert got[("mfbot_webhook_signature_failures_total", ())] == 1
    assert got[("mfbot_queue_depth", ())] == 7


def test_a_broken_queue_reads_minus_one_instead_of_failing_the_scrape():
    metrics = Metrics()

    def down():
        raise ConnectionError("redis down")
    metrics.track_queue(down)
    assert samples(metrics)[("mfbot_queue_depth", ())] == -1


def test_review_duration_and_findings_by_rule():
    metrics = Metrics()
    found = [SimpleNamespace(rule="MF101", level=Level.ERROR), SimpleNamespace(rule="MF101", level=Level.ERROR),
             SimpleNamespace(rule="MF205", level=Level.WARNING)]
    metrics.review(1.7, "published", found)
    s = samples(metrics)
    assert s[("mfbot_review_duration_seconds_count", (("outcome", "published"),))] == 1
    assert s[("mfbot_review_duration_seconds_bucket", (("le", "2.0"), ("outcome", "published")))] == 1
    assert s[("mfbot_review_duration_seconds_bucket", (("le", "1.0"), ("outcome", "published")))] == 0
    assert s[("mfbot_findings_total", (("level", "error"), ("rule", "MF101")))] == 2
    assert s[("mfbot_findings_total", (("level", "warning"), ("rule", "MF205")))] == 1


def test_github_response_uses_endpoint_templates_and_reads_the_rate_limit():
    metrics = Metrics()
    metrics.github_response("GET", "/repos/acme/widgets/pulls/12/files?page=2", 200,
                            {"X-RateLimit-Remaining": "4999", "X-RateLimit-Resource": "core"})
    metrics.github_response("POST", "/api/graphql", 502, {})
    s = samples(metrics)
    assert s[("mfbot_github_api_calls_total",
              (("endpoint", "GET /repos/{owner}/{repo}/pulls/{id}/files"), ("status", "200")))] == 1
    assert s[("mfbot_github_api_calls_total", (("endpoint", "POST /graphql"), ("status", "502")))] == 1
    assert s[("mfbot_github_rate_limit_remaining", (("resource", "core"),))] == 4999


@pytest.fixture
def counted():
    metrics = Metrics()
    handler = track_github(metrics)
    yield metrics
    untrack_github(handler)


@responses.activate
def test_every_pygithub_response_is_counted_without_touching_call_sites(counted):
    # PyGithub addresses api.github.com with an explicit port.
    responses.get("https://api.github.com:443/repos/acme/widgets/pulls/3/files", json=[], status=200,
                  headers={"x-ratelimit-remaining": "4321", "x-ratelimit-resource": "core"})
    responses.post("https://api.github.com:443/repos/acme/widgets/check-runs", json={"message": "Validation Failed"},
                   status=422)
    gh = Github(auth=Auth.Token("ghs_" + "x" * 36), retry=None, seconds_between_requests=None,
                seconds_between_writes=None)
    gh.requester.requestJsonAndCheck("GET", "/repos/acme/widgets/pulls/3/files")
    with pytest.raises(Exception):
        gh.requester.requestJsonAndCheck("POST", "/repos/acme/widgets/check-runs", input={"name": "mfbot"})
    s = samples(counted)
    assert s[("mfbot_github_api_calls_total",
              (("endpoint", "GET /repos/{owner}/{repo}/pulls/{id}/files"), ("status", "200")))] == 1
    assert s[("mfbot_github_api_calls_total",
              (("endpoint", "POST /repos/{owner}/{repo}/check-runs"), ("status", "422")))] == 1
    assert s[("mfbot_github_rate_limit_remaining", (("resource", "core"),))] == 4321


def test_pygithub_debug_records_stay_out_of_the_application_log(counted):
    import io
    import logging

    from bot.logs import configure_logging

    stream, level = io.StringIO(), logging.getLogger().level
    handler = configure_logging("DEBUG", stream)
    try:
        logging.getLogger("github.Requester").debug("%s %s://%s%s %s %s ==> %i %s %s", "GET", "https", "h",
                                                    "/repos/a/b", {}, None, 200, {}, "RESPONSE BODY")
        logging.getLogger("github.Requester").warning("PyGithub notice")
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(level)
    assert "RESPONSE BODY" not in stream.getvalue()
    assert "PyGithub notice" in stream.getvalue()  # its own warnings still reach the log
    assert samples(counted)[("mfbot_github_api_calls_total",
                             (("endpoint", "GET /repos/{owner}/{repo}"), ("status", "200")))] == 1


def test_untracking_restores_the_logger():
    import logging

    handler = track_github(Metrics())
    untrack_github(handler)
    logger = logging.getLogger("github.Requester")
    assert handler not in logger.handlers and logger.propagate


# -- wired into the App's factory -----------------------------------------------------------------

@pytest.fixture
def app(tmp_path):
    from bot.app import create_app

    return create_app(make_settings(tmp_path))


def test_the_app_counts_deliveries_by_event_and_outcome(app):
    client = app.test_client()
    assert post_delivery(client, "pull_request.opened", delivery="d-1").status_code == 202
    assert post_delivery(client, "pull_request.opened", delivery="d-1").status_code == 200  # redelivery
    assert post_delivery(client, "pull_request.opened", secret="wrong").status_code == 401
    assert post_delivery(client, "pull_request.opened", secret=None, event="made-up-" + "x" * 50).status_code == 401
    assert post_delivery(client, "ping").status_code == 200
    s = samples(metrics_of(app))
    count = lambda event, outcome: s.get(("mfbot_webhooks_received_total",
                                          (("event", event), ("outcome", outcome))), 0)
    assert count("pull_request", "queued") == 1
    assert count("pull_request", "duplicate") == 1
    assert count("pull_request", "bad_signature") == 1
    assert count("other", "bad_signature") == 1  # an unsigned request cannot invent label values
    assert count("ping", "ping") == 1
    assert s[("mfbot_webhook_signature_failures_total", ())] == 2
    assert s[("mfbot_queue_depth", ())] == 1  # the queued review waits: no worker runs here


def test_the_app_serves_metrics(app):
    resp = app.test_client().get("/metrics")
    assert resp.status_code == 200 and b"mfbot_queue_depth" in resp.data


def test_several_processes_add_up_in_multiprocess_mode(tmp_path):
    # gunicorn --workers N: each process writes its values to PROMETHEUS_MULTIPROC_DIR and /metrics adds them.
    import os
    import subprocess
    import sys
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "made-on-start"))
    code = ("from bot.metrics import Metrics; m = Metrics(); m.webhook('pull_request', 'queued'); "
            "import sys; sys.stdout.write(m.render().decode())")
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert 'mfbot_webhooks_received_total{event="pull_request",outcome="queued"} 2.0' in out


# -- the worker side: a real review job against the App tests' FakeGitHub -------------------------


def test_a_review_job_records_duration_findings_and_github_calls(github, tmp_path, counted):
    from bot.review import Job, run_job

    github.add_pull(2, SHA, task_files(garbled=2))
    result = run_job(Job("review", 1, "Codertocat", "Hello-World", number=2, sha=SHA),
                     context(make_settings(tmp_path), metrics=counted))
    assert result.status == "published"
    s = samples(counted)
    assert s[("mfbot_review_duration_seconds_count", (("outcome", "published"),))] == 1
    assert s[("mfbot_findings_total", (("level", "error"), ("rule", "MF101")))] == 2
    calls = {dict(k[1])["endpoint"]: v for k, v in s.items() if k[0] == "mfbot_github_api_calls_total"}
    assert calls["POST /app/installations/{id}/access_tokens"] == 1
    assert calls["GET /repos/{owner}/{repo}/pulls/{id}/files"] == 1
    assert calls["POST /graphql"] == 1
    assert calls["POST /repos/{owner}/{repo}/check-runs"] == 1


def test_a_worker_serves_its_metrics_on_its_own_port():
    import urllib.request

    metrics = Metrics()
    metrics.review(0.3, "published")
    server, thread = serve_worker_metrics(metrics, 0, "127.0.0.1")
    try:
        body = urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/metrics", timeout=5).read().decode()
    finally:
        server.shutdown()
    assert 'mfbot_review_duration_seconds_count{outcome="published"} 1.0' in body
