"""Webhook acknowledgement latency and throughput, with gunicorn as deployed (Procfile: 2 workers x 4 threads).

The load generator runs in its own process and sends signed `pull_request.opened` deliveries
(each with a new X-GitHub-Delivery, one TCP connection per delivery as GitHub does) on an open-loop
schedule of RATE requests/s for DURATION s. Latency is measured from each request's scheduled send
time to the end of the answer, so a server that falls behind shows it (no coordinated omission).
No worker runs: this is the receive -> verify -> dedupe -> enqueue path. Afterwards /healthz must
report every accepted delivery as pending in the queue.

    .venv/bin/python bench/webhook_load.py --rate 200 --duration 20 [--queue sqlite|redis]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.review_e2e import free_port, start_queue, start_web, wait_http  # noqa: E402
from tests.github_kit import SECRET, private_key, signature  # noqa: E402

PAYLOAD = ROOT / "tests/data/github/webhooks/pull_request.opened.json"


def generate(port: int, rate: float, duration: float, threads: int, out) -> None:
    """The load generator (a separate process): returns [(latency_s, status)] through `out`."""
    body = PAYLOAD.read_bytes()
    headers = {"X-GitHub-Event": "pull_request", "X-Hub-Signature-256": signature(body),
               "Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/bench"}
    total = int(rate * duration)
    start = time.perf_counter() + 0.5
    results: list[tuple[float, int]] = []
    lock, counter = threading.Lock(), iter(range(total))

    def run():
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            status = 0
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("POST", "/webhook", body=body, headers=dict(headers, **{"X-GitHub-Delivery": str(uuid.uuid4())}))
                resp = conn.getresponse()
                resp.read()
                status = resp.status
                conn.close()
            except OSError:
                status = -1
            with lock:
                results.append((time.perf_counter() - due, status))

    pool = [threading.Thread(target=run) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    out.send((results, time.perf_counter() - start))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rate", type=float, default=200)
    ap.add_argument("--duration", type=float, default=20)
    ap.add_argument("--threads", type=int, default=64)
    ap.add_argument("--queue", choices=["sqlite", "redis"], default="sqlite")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="mfbot-load-"))
    queue_url, redis_proc = start_queue(args.queue, tmp)
    port = free_port()
    env = dict(os.environ, GITHUB_APP_ID="4242", GITHUB_PRIVATE_KEY=private_key(), GITHUB_WEBHOOK_SECRET=SECRET,
               MFBOT_QUEUE=queue_url)
    web = start_web(port, env)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz")
        parent, child = multiprocessing.Pipe()
        gen = multiprocessing.get_context("spawn").Process(
            target=generate, args=(port, args.rate, args.duration, args.threads, child))
        gen.start()
        results, elapsed = parent.recv()
        gen.join()
        with __import__("urllib.request").request.urlopen(f"http://127.0.0.1:{port}/healthz") as r:
            health = json.loads(r.read())
    finally:
        web.terminate()
        web.wait(10)
        if redis_proc:
            redis_proc.terminate()
        shutil.rmtree(tmp, ignore_errors=True)

    latencies = sorted(lat for lat, status in results if status == 202)
    statuses = Counter(status for _, status in results)
    q = statistics.quantiles(latencies, n=100)
    print(f"gunicorn 2 workers x 4 threads, queue={args.queue}, {args.rate:.0f} req/s for {args.duration:.0f} s "
          f"({len(results)} deliveries, load generator in another process, {os.cpu_count()} CPUs shared)")
    print(f"answers: {dict(statuses)}; throughput {len(latencies) / elapsed:.1f} acknowledged/s")
    print(f"ack latency: p50 {statistics.median(latencies) * 1000:.1f} ms, p90 {q[89] * 1000:.1f} ms, "
          f"p99 {q[98] * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms")
    print(f"queue after the run: {health}")
    return 0 if statuses.get(202) == len(results) and health.get("pending") == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
