"""Prometheus metrics. One `Metrics` object (with its own registry) per application or worker
process: nothing global, so tests create their own and read it back.

- The web process: `init_app(app, metrics)` serves `GET /metrics` and keeps the object in
  `app.extensions["mfbot.metrics"]` (`metrics_of(app)`).
- A worker process (`mfbot worker`): `serve_worker_metrics(metrics, port)` exposes the same
  metrics on their own port (`MFBOT_METRICS_PORT`), since its reviews happen outside the web process.
- GitHub calls are counted where PyGithub already reports every response (its `github.Requester`
  debug record), so no call site has to remember to count: `track_github(metrics)`.
- Several processes behind one port (gunicorn --workers N): set PROMETHEUS_MULTIPROC_DIR to an empty
  folder shared by them (before start); every process then writes its values there and `/metrics`
  adds them up (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import logging
import os
from typing import Callable, Iterable

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.logs import WEBHOOK_ENDPOINT, webhook_outcome
from bot.manifest import EVENTS, endpoint_template

EXTENSION = "mfbot.metrics"
REVIEW_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)


class Metrics:
    """Every metric mfbot exports, registered in a registry of its own."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # an emptyDir /tmp hides the folder the image made
            os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.webhooks = Counter("mfbot_webhooks_received", "Webhook deliveries by event and outcome (queued, "
                                "duplicate, ignored, ping, bad_signature, bad_request, too_large, "
                                "queue_unavailable, error).", ["event", "outcome"], registry=r)
        self.signature_failures = Counter("mfbot_webhook_signature_failures",
                                          "Deliveries rejected for a missing or bad X-Hub-Signature-256.", registry=r)
        self.queue_depth = Gauge("mfbot_queue_depth", "Jobs waiting in the queue (read at scrape time).",
                                 multiprocess_mode="mostrecent", registry=r)
        self._depth: Callable[[], int] | None = None
        self.review_seconds = Histogram("mfbot_review_duration_seconds", "One review job, from dequeue to "
                                        "published results, by outcome.", ["outcome"], buckets=REVIEW_BUCKETS,
                                        registry=r)
        self.github_calls = Counter("mfbot_github_api_calls", "GitHub API responses by endpoint template and "
                                    "HTTP status.", ["endpoint", "status"], registry=r)
        self.rate_limit_remaining = Gauge("mfbot_github_rate_limit_remaining", "x-ratelimit-remaining of the "
                                          "last GitHub response, by rate-limit resource.", ["resource"],
                                          multiprocess_mode="mostrecent", registry=r)
        self.findings = Counter("mfbot_findings", "Findings published, by rule and level.", ["rule", "level"],
                                registry=r)

    # -- what the App's modules call -----------------------------------------------------------
    def webhook(self, event: str, outcome: str) -> None:
        self.webhooks.labels(event or "unknown", outcome).inc()

    def signature_failure(self) -> None:
        self.signature_failures.inc()

    def track_queue(self, depth: Callable[[], int]) -> None:
        """Read the queue length when Prometheus scrapes (a broken queue reads as -1, not a 500)."""
        self._depth = depth

    def review(self, seconds: float, outcome: str, findings: Iterable = ()) -> None:
        """One finished review: its duration and the findings it published (objects with rule and level)."""
        self.review_seconds.labels(outcome).observe(seconds)
        for f in findings:
            self.findings.labels(f.rule, str(f.level)).inc()

    def github_response(self, method: str, url: str, status: int, headers: dict | None = None) -> None:
        self.github_calls.labels(endpoint_template(method, url), str(status)).inc()
        headers = {k.lower(): v for k, v in (headers or {}).items()}
        remaining = headers.get("x-ratelimit-remaining")
        if remaining is not None and str(remaining).isdigit():
            self.rate_limit_remaining.labels(headers.get("x-ratelimit-resource", "core")).set(int(remaining))

    def render(self) -> bytes:
        if self._depth is not None:
            try:
                self.queue_depth.set(self._depth())
            except Exception:  # the scrape must not fail because the queue is down; `mfbot doctor` says why
                self.queue_depth.set(-1)
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)


# -- the web process ---------------------------------------------------------------------------

blueprint = Blueprint("mfbot_metrics", __name__)


@blueprint.get("/metrics")
def metrics_endpoint() -> Response:
    return Response(metrics_of(current_app).render(), mimetype=CONTENT_TYPE_LATEST)


def init_app(app: Flask, metrics: Metrics | None = None, queue_depth: Callable[[], int] | None = None) -> Metrics:
    """Attach metrics to an app built by the factory, serve them at `/metrics` and count every
    webhook delivery by event and outcome from the receiver's answer."""
    metrics = metrics or Metrics()
    if queue_depth is not None:
        metrics.track_queue(queue_depth)
    app.extensions[EXTENSION] = metrics
    app.register_blueprint(blueprint)

    @app.after_request
    def _count_webhook(response):
        if request.endpoint == WEBHOOK_ENDPOINT:
            event = request.headers.get("X-GitHub-Event", "")
            # Unsigned requests choose their own headers: only known events become label values.
            event = event if event in EVENTS or event == "ping" else "other"
            outcome = webhook_outcome(response.status_code, response.get_json(silent=True) if response.is_json else None)
            metrics.webhook(event, outcome)
            if outcome == "bad_signature":
                metrics.signature_failure()
        return response
    return metrics


def metrics_of(app: Flask) -> Metrics:
    return app.extensions[EXTENSION]


def serve_worker_metrics(metrics: Metrics, port: int, addr: str = "0.0.0.0"):
    """Expose a worker's metrics on their own port; returns (server, thread)."""
    from prometheus_client import start_http_server

    return start_http_server(port, addr=addr, registry=metrics.registry)


# -- GitHub calls, counted at the one place PyGithub sees them all ------------------------------

class GitHubResponseCounter(logging.Handler):
    """Counts PyGithub's per-response debug record ("verb scheme://host url headers input ==> status
    response-headers body"). It reads the record's arguments and never formats or prints the record."""

    def __init__(self, metrics: Metrics) -> None:
        super().__init__(logging.DEBUG)
        self.metrics = metrics

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.INFO:  # PyGithub's own notices still reach the application log
            logging.getLogger("github").handle(record)
            return
        args = record.args
        if isinstance(args, tuple) and len(args) == 9 and "==>" in str(record.msg):
            verb, _scheme, _host, url, _req_headers, _input, status, resp_headers, _output = args
            self.metrics.github_response(str(verb), str(url), int(status or 0), dict(resp_headers or {}))


_GITHUB_LOGGER = "github.Requester"


def track_github(metrics: Metrics) -> GitHubResponseCounter:
    """Count every PyGithub response of this process into `metrics` (replacing an earlier tracker;
    `untrack_github` undoes)."""
    handler = GitHubResponseCounter(metrics)
    logger = logging.getLogger(_GITHUB_LOGGER)
    for old in [h for h in logger.handlers if isinstance(h, GitHubResponseCounter)]:
        logger.removeHandler(old)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    # PyGithub's debug records hold response bodies: keep them out of the application's own log.
    logger.propagate = False
    return handler


def untrack_github(handler: GitHubResponseCounter) -> None:
    logger = logging.getLogger(_GITHUB_LOGGER)
    logger.removeHandler(handler)
    if not any(isinstance(h, GitHubResponseCounter) for h in logger.handlers):
        logger.setLevel(logging.NOTSET)
        logger.propagate = True
