"""The durable job queue: huey on SQLite (embedded default) or Redis (any number of workers).

Why huey: it is the one maintained task queue with both an embedded SQLite backend and Redis
behind the same API (`SqliteHuey` / `RedisHuey`), a small dependency, delayed tasks (used to honour
GitHub's Retry-After without sleeping in a worker) and a thread-based consumer. rq and dramatiq
need Redis (dramatiq also RabbitMQ) even for a one-machine install; celery needs a broker and is
far larger than two task types warrant.

Huey removes a task from storage when a worker takes it, so a worker killed mid-job would lose it.
The `Ledger` closes that gap: every job is recorded with a deadline when it is enqueued; a worker
that starts it moves the deadline to now + lease and keeps renewing it (heartbeat) while the job
runs; finishing deletes the record. `recover()`, run by every worker at start and then every few
seconds, re-enqueues jobs whose deadline passed: their worker died (or the task was lost between
dequeue and start). A job that finds no record was already finished and is skipped, so a recovered
duplicate costs nothing. Review jobs are idempotent on GitHub's side as well (see bot.publish).

The ledger also holds delivery ids (a redelivered webhook is acknowledged once), the latest head
SHA seen per pull request (a job for an older head does not publish) and one-time flags.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from huey import RedisHuey
from huey.api import Huey
from huey.storage import SqliteStorage

log = logging.getLogger("mfbot.queue")

DELIVERY_TTL = 30 * 86400  # GitHub lets one redeliver deliveries of the past 30 days
HEAD_TTL = 30 * 86400
QUEUED_GRACE = 900.0  # a queued job not started within this long is assumed lost and re-enqueued
Handler = Callable[[dict], "float | None"]  # returns seconds after which to run the job again, or None


def sqlite_path(url: str) -> str:
    path = url[len("sqlite:///"):]
    if not path:
        raise ValueError("MFBOT_QUEUE=sqlite:///path: the path is empty")
    return path


def _durable_enough(conn: sqlite3.Connection) -> None:
    # WAL + synchronous=NORMAL: a commit survives the crash or kill of any mfbot process (it is in
    # the WAL before the call returns); only an OS crash or power cut can lose the last commits.
    # FULL would fsync every commit and cap the receiver at a few dozen deliveries per second.
    conn.execute("pragma synchronous=NORMAL")


class _SqliteStorage(SqliteStorage):
    def _create_connection(self):
        conn = super()._create_connection()
        _durable_enough(conn)
        return conn


class SqliteLedger:
    """Ledger tables in the queue's own SQLite file (one connection per thread)."""

    PRUNE_EVERY = 3600.0

    def __init__(self, path: str):
        self.path = path
        self._local = threading.local()
        self._pruned = 0.0
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db:
            db.executescript("""
                create table if not exists mfbot_delivery (id text primary key, at real not null);
                create table if not exists mfbot_head (pr text primary key, sha text not null, at real not null);
                create table if not exists mfbot_job (id text primary key, job text not null, deadline real not null,
                                                       started integer not null default 0);
                create table if not exists mfbot_once (key text primary key, at real not null);""")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
        db.execute("pragma journal_mode=wal")
        _durable_enough(db)
        return db

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = self._connect()
        return db

    def _run(self, sql: str, *args) -> sqlite3.Cursor:
        return self._db().execute(sql, args)

    def claim_delivery(self, delivery: str) -> bool:
        now = time.time()
        if now - self._pruned > self.PRUNE_EVERY:
            self._pruned = now
            self._run("delete from mfbot_delivery where at < ?", now - DELIVERY_TTL)
        return self._run("insert or ignore into mfbot_delivery values (?, ?)", delivery, now).rowcount == 1

    def release_delivery(self, delivery: str) -> None:
        self._run("delete from mfbot_delivery where id = ?", delivery)

    def accept(self, delivery: str, heads: dict[str, str], jobs: list[tuple[str, str, float]]) -> bool:
        """Claim the delivery, record the heads and jobs: one transaction, False when seen before."""
        db, now = self._db(), time.time()
        db.execute("begin immediate")
        try:
            if db.execute("insert or ignore into mfbot_delivery values (?, ?)", (delivery, now)).rowcount != 1:
                db.execute("rollback")
                return False
            db.executemany("insert or replace into mfbot_head values (?, ?, ?)", [(pr, sha, now) for pr, sha in heads.items()])
            db.executemany("insert or replace into mfbot_job values (?, ?, ?, 0)", jobs)
            db.execute("commit")
        except BaseException:
            db.execute("rollback")
            raise
        return True

    def set_head(self, pr: str, sha: str) -> None:
        self._run("insert or replace into mfbot_head values (?, ?, ?)", pr, sha, time.time())

    def head(self, pr: str) -> str | None:
        row = self._run("select sha from mfbot_head where pr = ?", pr).fetchone()
        return row[0] if row else None

    def once(self, key: str) -> bool:
        return self._run("insert or ignore into mfbot_once values (?, ?)", key, time.time()).rowcount == 1

    def track(self, job_id: str, job: str, deadline: float) -> None:
        self._run("insert or replace into mfbot_job values (?, ?, ?, 0)", job_id, job, deadline)

    def start(self, job_id: str, deadline: float) -> bool:
        return self._run("update mfbot_job set deadline = ?, started = 1 where id = ?", deadline, job_id).rowcount == 1

    def renew(self, job_id: str, deadline: float) -> None:
        self._run("update mfbot_job set deadline = ? where id = ?", deadline, job_id)

    def done(self, job_id: str) -> None:
        self._run("delete from mfbot_job where id = ?", job_id)

    def take_expired(self, now: float, deadline: float) -> list[str]:
        """Jobs past their deadline, each handed to exactly one caller (its deadline moved on)."""
        rows = self._run("select id, job, deadline from mfbot_job where deadline < ?", now).fetchall()
        return [job for job_id, job, old in rows
                if self._run("update mfbot_job set deadline = ?, started = 0 where id = ? and deadline = ?",
                             deadline, job_id, old).rowcount == 1]


class RedisLedger:
    """Ledger keys next to huey's in the same Redis database."""

    def __init__(self, conn, prefix: str = "mfbot"):
        self.r = conn
        self.p = prefix

    def claim_delivery(self, delivery: str) -> bool:
        return bool(self.r.set(f"{self.p}:delivery:{delivery}", 1, nx=True, ex=DELIVERY_TTL))

    def release_delivery(self, delivery: str) -> None:
        self.r.delete(f"{self.p}:delivery:{delivery}")

    def accept(self, delivery: str, heads: dict[str, str], jobs: list[tuple[str, str, float]]) -> bool:
        if not self.claim_delivery(delivery):
            return False
        pipe = self.r.pipeline()
        for pr, sha in heads.items():
            pipe.set(f"{self.p}:head:{pr}", sha, ex=HEAD_TTL)
        for job_id, job, deadline in jobs:
            pipe.hset(f"{self.p}:jobs", job_id, job)
            pipe.zadd(f"{self.p}:deadlines", {job_id: deadline})
        pipe.execute()
        return True

    def set_head(self, pr: str, sha: str) -> None:
        self.r.set(f"{self.p}:head:{pr}", sha, ex=HEAD_TTL)

    def head(self, pr: str) -> str | None:
        value = self.r.get(f"{self.p}:head:{pr}")
        return value.decode() if value is not None else None

    def once(self, key: str) -> bool:
        return bool(self.r.set(f"{self.p}:once:{key}", 1, nx=True, ex=DELIVERY_TTL))

    def track(self, job_id: str, job: str, deadline: float) -> None:
        pipe = self.r.pipeline()
        pipe.hset(f"{self.p}:jobs", job_id, job)
        pipe.zadd(f"{self.p}:deadlines", {job_id: deadline})
        pipe.execute()

    def start(self, job_id: str, deadline: float) -> bool:
        return bool(self.r.zadd(f"{self.p}:deadlines", {job_id: deadline}, xx=True, ch=True)) or \
            self.r.zscore(f"{self.p}:deadlines", job_id) is not None

    def renew(self, job_id: str, deadline: float) -> None:
        self.r.zadd(f"{self.p}:deadlines", {job_id: deadline}, xx=True)

    def done(self, job_id: str) -> None:
        pipe = self.r.pipeline()
        pipe.zrem(f"{self.p}:deadlines", job_id)
        pipe.hdel(f"{self.p}:jobs", job_id)
        pipe.execute()

    def take_expired(self, now: float, deadline: float) -> list[str]:
        out = []
        for job_id, old in self.r.zrangebyscore(f"{self.p}:deadlines", 0, now, withscores=True):
            # Only the caller whose compare-and-set moves the deadline re-enqueues the job.
            token = f"{self.p}:recover:{job_id.decode()}:{old}"
            if self.r.set(token, 1, nx=True, ex=3600):
                self.r.zadd(f"{self.p}:deadlines", {job_id: deadline}, xx=True)
                job = self.r.hget(f"{self.p}:jobs", job_id)
                if job is not None:
                    out.append(job.decode())
        return out


class Queue:
    """Enqueue jobs (web side) and run them (worker side) on huey plus the ledger."""

    def __init__(self, url: str, lease: float = 120.0, name: str = "mfbot"):
        self.url = url
        self.lease = lease
        self.huey: Huey
        if url.startswith("sqlite:///"):
            path = sqlite_path(url)
            self.huey = Huey(name, storage_class=_SqliteStorage, filename=path, results=False, utc=True)
            self.ledger = SqliteLedger(path)
        else:
            self.huey = RedisHuey(name, url=url, results=False, utc=True)
            self.ledger = RedisLedger(self.huey.storage.conn, prefix=name)
        self.handler: Handler | None = None
        self._task = self.huey.task(name="mfbot.run")(self._execute)

    @property
    def backend(self) -> str:
        return urlsplit(self.url).scheme

    def enqueue(self, job: dict, delay: float = 0) -> str:
        """Record the job, then hand it to huey. The record makes it survive a worker crash."""
        self.ledger.track(job["id"], json.dumps(job), time.time() + delay + QUEUED_GRACE)
        if delay > 0:
            self._task.schedule(args=(job,), delay=delay)
        else:
            self._task(job)
        return job["id"]

    def accept(self, delivery: str, jobs: list[dict], heads: dict[str, str]) -> bool:
        """A webhook delivery: its id, the heads it announces and its jobs in one ledger write, then
        the jobs to huey. False when the delivery was seen before. If huey fails, nothing is kept,
        so GitHub's redelivery can succeed later."""
        deadline = time.time() + QUEUED_GRACE
        if not self.ledger.accept(delivery, heads, [(j["id"], json.dumps(j), deadline) for j in jobs]):
            return False
        try:
            for job in jobs:
                self._task(job)
        except Exception:
            self.ledger.release_delivery(delivery)
            for job in jobs:
                self.ledger.done(job["id"])
            raise
        return True

    def pending(self) -> int:
        return self.huey.pending_count() + self.huey.scheduled_count()

    def _execute(self, job: dict) -> None:
        if self.handler is None:
            raise RuntimeError("this Queue has no handler: only workers run jobs")
        if not self.ledger.start(job["id"], time.time() + self.lease):
            log.info("job %s already finished; skipping the duplicate", job["id"])
            return
        stop = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(job["id"], stop), daemon=True)
        beat.start()
        retry_in = None
        try:
            retry_in = self.handler(job)
        except Exception:
            log.exception("job %s crashed; not retried", job["id"])
        finally:
            stop.set()
            beat.join()
        if retry_in is not None:
            self.enqueue(dict(job, attempt=job.get("attempt", 0) + 1), delay=retry_in)
        else:
            self.ledger.done(job["id"])

    def _heartbeat(self, job_id: str, stop: threading.Event) -> None:
        while not stop.wait(self.lease / 3):
            self.ledger.renew(job_id, time.time() + self.lease)

    def recover(self) -> int:
        """Re-enqueue jobs whose worker died; returns how many."""
        jobs = self.ledger.take_expired(time.time(), time.time() + QUEUED_GRACE)
        for raw in jobs:
            job = json.loads(raw)
            log.warning("job %s (%s %s) outlived its lease: running it again", job["id"], job.get("kind"),
                        job.get("number"))
            self._task(job)
        return len(jobs)

    def run_workers(self, workers: int, stop: threading.Event, blocking: bool = True):
        """Start a huey consumer with `workers` threads plus the recovery loop.

        blocking=True runs until SIGINT/SIGTERM (huey's signal handling; for `mfbot worker`);
        blocking=False returns the started consumer (for `mfbot serve` and tests); set `stop` and call
        `consumer.stop(graceful=True)` to end it.
        """
        # SIGTERM (what Heroku, systemd and Kubernetes send) lets running reviews finish for up to 25 s;
        # a review cut off after that, or by SIGKILL, is re-run by recover() once its lease lapses.
        consumer = self.huey.create_consumer(workers=workers, worker_type="thread", periodic=False,
                                             initial_delay=0.05, max_delay=0.25, check_worker_health=True,
                                             graceful_signal="TERM", shutdown_timeout=25)
        threading.Thread(target=self._recovery_loop, args=(stop,), daemon=True, name="mfbot-recovery").start()
        if blocking:
            try:
                consumer.run()
            finally:
                stop.set()
            return None
        consumer.scheduler.start()
        for _, proc in consumer.worker_threads:
            proc.start()
        return consumer

    def _recovery_loop(self, stop: threading.Event) -> None:
        interval = max(min(self.lease / 2, 30.0), 0.5)
        while True:
            try:
                self.recover()
            except Exception:
                log.exception("recovering expired jobs failed")
            if stop.wait(interval):
                return
