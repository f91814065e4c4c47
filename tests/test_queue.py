"""The durable queue on SQLite and on a real Redis: delivery, retries, recovery, a killed worker."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis

from bot.app import create_app
from bot.queue import Queue
from tests.github_kit import SHA, fake_github, make_settings, post_delivery, private_key, task_files

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_server():
    """A real redis-server on a free loopback port, without persistence."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed, but CI=true requires the Redis queue tests to run")
        pytest.skip("redis-server is not installed: the Redis queue tests are skipped (apt-get install redis-server)")
    port = _free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    conn = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            conn.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(params=["sqlite", "redis"])
def queue_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'queue.db'}"
    base = request.getfixturevalue("redis_server")
    db = abs(hash(request.node.name)) % 15 + 1
    redis.Redis.from_url(f"{base}/{db}").flushdb()
    return f"{base}/{db}"


def wait_for(predicate, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Workers:
    """In-process consumer threads running `handler` for a Queue."""

    def __init__(self, queue: Queue, handler, workers: int = 2):
        queue.handler = handler
        self.stop = threading.Event()
        self.consumer = queue.run_workers(workers, self.stop, blocking=False)

    def close(self):
        self.stop.set()
        self.consumer.stop(graceful=True)


def job(n: int = 1, **extra) -> dict:
    return {"id": f"job-{n}", "kind": "review", "number": n, **extra}


def test_jobs_run_once_and_leave_no_record(queue_url):
    queue, done = Queue(queue_url, lease=2), []
    workers = Workers(queue, lambda j: done.append(j["id"]))
    try:
        for n in range(5):
            queue.enqueue(job(n))
        wait_for(lambda: len(done) == 5, what="five jobs")
    finally:
        workers.close()
    assert sorted(done) == [f"job-{n}" for n in range(5)]
    assert queue.ledger.take_expired(time.time() + 10_000, 0) == []  # nothing left to recover


def test_a_job_asking_for_a_retry_runs_again_later(queue_url):
    queue, attempts = Queue(queue_url, lease=2), []

    def handler(j):
        attempts.append(j.get("attempt", 0))
        return 0.3 if len(attempts) == 1 else None
    workers = Workers(queue, handler)
    try:
        started = time.monotonic()
        queue.enqueue(job())
        wait_for(lambda: len(attempts) == 2, what="the retry")
        assert time.monotonic() - started >= 0.3
    finally:
        workers.close()
    assert attempts == [0, 1]


def test_a_crashing_job_is_dropped_and_the_worker_goes_on(queue_url):
    queue, done = Queue(queue_url, lease=2), []

    def handler(j):
        if j["number"] == 1:
            raise RuntimeError("boom")
        done.append(j["number"])
    workers = Workers(queue, handler)
    try:
        queue.enqueue(job(1))
        queue.enqueue(job(2))
        wait_for(lambda: done == [2], what="the second job")
    finally:
        workers.close()


def test_a_lost_job_is_recovered_exactly_once(queue_url):
    """A job whose worker vanished: its record outlives the deadline; two recoverers, one re-run."""
    first, second = Queue(queue_url, lease=2), Queue(queue_url, lease=2)
    first.ledger.track("job-7", '{"id": "job-7", "kind": "review", "number": 7}', time.time() - 1)
    assert first.recover() + second.recover() == 1
    assert [t.args[0]["id"] for t in first.huey.pending()] == ["job-7"]


def test_a_finished_job_delivered_again_is_skipped(queue_url):
    queue, done = Queue(queue_url, lease=2), []
    queue.handler = lambda j: done.append(j["id"])
    queue._execute(job(3))  # never enqueued, so no record: a duplicate of a finished job
    assert done == []


def test_delivery_ids_and_heads(queue_url):
    ledger = Queue(queue_url).ledger
    assert ledger.claim_delivery("d-1") and not ledger.claim_delivery("d-1")
    ledger.release_delivery("d-1")
    assert ledger.claim_delivery("d-1")
    assert ledger.head("o/r#1") is None
    ledger.set_head("o/r#1", "a" * 40)
    ledger.set_head("o/r#1", "b" * 40)
    assert ledger.head("o/r#1") == "b" * 40
    assert ledger.once("k") and not ledger.once("k")


def test_redis_queue_is_shared_between_processes_and_machines(redis_server):
    """Two Queue objects = two processes: one enqueues (web), the other's workers run the job."""
    url = f"{redis_server}/15"
    redis.Redis.from_url(url).flushdb()
    web, worker, done = Queue(url), Queue(url, lease=2), []
    workers = Workers(worker, lambda j: done.append(j["id"]))
    try:
        web.enqueue(job(11))
        wait_for(lambda: done == ["job-11"], what="the job on the other queue")
    finally:
        workers.close()


# --- a real worker process killed in the middle of a review ------------------------------------------

def _worker_process(settings, queue_url: str) -> subprocess.Popen:
    env = dict(os.environ, GITHUB_APP_ID=str(settings.app_id), GITHUB_PRIVATE_KEY=private_key(),
               GITHUB_API_URL=settings.api_url, MFBOT_QUEUE=queue_url, MFBOT_JOB_LEASE="2", MFBOT_WORKERS="1")
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_a_worker_killed_mid_review_is_replaced_and_publishes_exactly_once(queue_url, tmp_path):
    github = fake_github()
    github.add_pull(2, SHA, task_files(garbled=2))
    base, shutdown = github.serve()
    arrived, release = threading.Event(), threading.Event()

    def block_first_summary(request):
        # The first worker hangs on its last write (check run and review have landed) until it is
        # killed; its request then never reaches the stand-in's state.
        if not arrived.is_set():
            arrived.set()
            release.wait(30)
            raise ConnectionAbortedError("client went away")
    github.hook("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", block_first_summary)
    settings = make_settings(tmp_path, api_url=base, queue_url=queue_url)
    app = create_app(settings, Queue(queue_url, lease=2)).test_client()
    assert post_delivery(app, "pull_request.opened").status_code == 202
    first = _worker_process(settings, queue_url)
    second = None
    try:
        assert arrived.wait(30), "the first worker never reached the summary"
        assert len(github.runs_for(SHA)) == 1 and len(github.reviews) == 1  # landed before the kill
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        second = _worker_process(settings, queue_url)
        wait_for(lambda: github.summaries(2), timeout=30, what="the re-run to publish")
        time.sleep(0.5)  # anything duplicated would land now
    finally:
        release.set()
        for proc in (first, second):
            if proc and proc.poll() is None:
                proc.terminate()
                proc.wait(10)
        shutdown()
    assert len(github.runs_for(SHA)) == 1
    assert len(github.summaries(2)) == 1
    assert len(github.reviews) == 1 and len(github.review_comments(2)) == 2
    assert github.calls("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}")  # the re-run reused the run
    assert github.violations == []


def test_mfbot_serve_answers_webhooks_and_reviews_in_one_process(tmp_path):
    """The embedded default: `mfbot serve` = gunicorn + workers on the SQLite queue."""
    github = fake_github()
    github.add_pull(2, SHA, task_files(garbled=1))
    base, shutdown = github.serve()
    port = _free_port()
    env = dict(os.environ, GITHUB_APP_ID="4242", GITHUB_PRIVATE_KEY=private_key(), GITHUB_API_URL=base,
               GITHUB_WEBHOOK_SECRET="It's a Secret to Everybody", PORT=str(port))
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        import urllib.request

        from tests.github_kit import headers, payload_bytes
        wait_for(lambda: _get(f"http://127.0.0.1:{port}/healthz"), timeout=30, what="mfbot serve to listen")
        body = payload_bytes("pull_request.opened")
        request = urllib.request.Request(f"http://127.0.0.1:{port}/webhook", data=body, method="POST",
                                         headers=headers("pull_request", body))
        assert urllib.request.urlopen(request, timeout=10).status == 202
        wait_for(lambda: github.summaries(2), timeout=30, what="the review")
    finally:
        proc.terminate()
        proc.wait(15)
        shutdown()
    assert (tmp_path / "mfbot-queue.db").exists()  # the default queue, in the working directory
    assert len(github.runs_for(SHA)) == 1 and github.violations == []


def _get(url: str) -> bool:
    import urllib.request
    try:
        return urllib.request.urlopen(url, timeout=1).status == 200
    except OSError:
        return False
