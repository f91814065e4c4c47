"""The App's web process: a Flask application factory (gunicorn: `gunicorn 'bot.app:create_app()'`).

`create_app(settings, queue)` builds everything from its arguments; nothing is global, so tests
make as many apps as they like. Blueprints and extensions are registered in `register()`: add new
endpoints (e.g. `/metrics`) there.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, jsonify

from bot import webhooks
from bot.queue import Queue
from bot.settings import Settings


@dataclass
class Services:
    """What request handlers need, at `app.extensions["mfbot"]`."""

    settings: Settings
    queue: Queue


def create_app(settings: Settings | None = None, queue: Queue | None = None) -> Flask:
    if settings is None:  # a real process configured from the environment (gunicorn): JSON logs
        from bot.logs import configure_logging
        configure_logging()
    settings = settings or Settings.from_env()
    app = Flask("mfbot")
    app.config["MAX_CONTENT_LENGTH"] = webhooks.MAX_BODY
    app.extensions["mfbot"] = Services(settings, queue or Queue(settings.queue_url, settings.job_lease))
    register(app)
    return app


def register(app: Flask) -> None:
    """Every blueprint and extension of the App."""
    app.register_blueprint(webhooks.blueprint)
    app.add_url_rule("/healthz", "healthz", healthz)
    # Observability and App registration (deploy engineer): /metrics, one log line per delivery,
    # GET /manifest/callback for the manifest flow.
    from bot import logs, manifest, metrics
    metrics.init_app(app, queue_depth=app.extensions["mfbot"].queue.pending)
    logs.init_app(app)
    app.register_blueprint(manifest.blueprint)


def healthz():
    queue = current_app.extensions["mfbot"].queue
    try:
        pending = queue.pending()
    except Exception as exc:  # the queue's storage is unreachable
        return jsonify(ok=False, queue=queue.backend, error=type(exc).__name__), 503
    return jsonify(ok=True, queue=queue.backend, pending=pending)


# --- processes: `mfbot worker` and `mfbot serve` ----------------------------------------------------

def start_worker(settings: Settings, queue: Queue | None = None, blocking: bool = True, metrics=None):
    """Run review jobs from the queue. blocking=False returns (consumer, stop_event) for embedding.
    `metrics`: the process's bot.metrics.Metrics (under `mfbot serve`, the web app's own)."""
    import threading

    from bot import metrics as prometheus
    from bot.review import queue_handler

    queue = queue or Queue(settings.queue_url, settings.job_lease)
    metrics = metrics or prometheus.Metrics()
    prometheus.track_github(metrics)
    metrics.track_queue(queue.pending)
    if settings.metrics_port:  # `mfbot worker` reviews outside the web process: its own /metrics port
        prometheus.serve_worker_metrics(metrics, settings.metrics_port)
    queue.handler = queue_handler(settings, queue, metrics)
    stop = threading.Event()
    consumer = queue.run_workers(settings.workers, stop, blocking=blocking)
    return consumer, stop


def serve(settings: Settings) -> None:
    """gunicorn with one worker process whose threads answer webhooks, plus the job workers in it."""
    from gunicorn.app.base import BaseApplication

    class App(BaseApplication):
        def load_config(self):
            for key, value in {"bind": f"0.0.0.0:{settings.port}", "workers": 1, "threads": 8,
                               "post_worker_init": self._start_jobs, "worker_exit": self._stop_jobs}.items():
                self.cfg.set(key, value)

        def load(self):
            return create_app(settings)

        @staticmethod
        def _start_jobs(worker):
            # In the worker process, after the fork: threads do not survive a fork.
            from bot.metrics import metrics_of
            worker.mfbot_jobs = start_worker(settings, blocking=False, metrics=metrics_of(worker.wsgi))

        @staticmethod
        def _stop_jobs(server, worker):
            consumer, stop = getattr(worker, "mfbot_jobs", (None, None))
            if consumer is not None:
                stop.set()
                consumer.stop(graceful=True)

    App().run()
