"""End-to-end review time: signed webhook -> gunicorn -> queue -> `mfbot worker` -> completed check run,
against a local stand-in GitHub API (tests/fakegithub.py) answering every call after 50 ms.

Each corpus PR becomes a pull request of the stand-in (all its files added); reviews run one at a
time so the figure is the latency one PR sees. Also reports the GitHub calls of each review (the
installation token is minted once and cached, so it is counted separately) and any request or answer
that breaks GitHub's schema.

    .venv/bin/python bench/review_e2e.py --prs 40 --latency 0.05 [--queue sqlite|redis]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakegithub import FakeGitHub  # noqa: E402
from tests.github_kit import SECRET, private_key, signature  # noqa: E402

CORPUS = "/work/shared/corpus/prs/*.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def start_redis() -> tuple[str, subprocess.Popen]:
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    return f"redis://127.0.0.1:{port}/0", proc


def start_queue(kind: str, tmp: Path) -> tuple[str, subprocess.Popen | None]:
    """The queue URL for `kind`, and the redis-server process to stop afterwards (None for SQLite)."""
    if kind == "redis":
        return start_redis()
    return f"sqlite:///{tmp / 'queue.db'}", None


def start_web(port: int, env: dict) -> subprocess.Popen:
    """gunicorn as deployed (the Procfile's web process) on a loopback port."""
    gunicorn = Path(sys.executable).parent / "gunicorn"
    return subprocess.Popen([str(gunicorn), "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4",
                             "--log-level", "warning", "bot.app:create_app()"], cwd=ROOT, env=env,
                            stderr=subprocess.DEVNULL)  # the JSON log lines are still written, then discarded


def pr_payload(number: int, sha: str) -> bytes:
    data = json.loads((ROOT / "tests/data/github/webhooks/pull_request.opened.json").read_text())
    data["number"] = data["pull_request"]["number"] = number
    data["pull_request"]["head"]["sha"] = sha
    return json.dumps(data).encode()


def deliver(port: int, body: bytes) -> int:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/webhook", data=body, method="POST", headers={
        "X-GitHub-Event": "pull_request", "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": signature(body), "Content-Type": "application/json"})
    return urllib.request.urlopen(req, timeout=10).status


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--prs", type=int, default=40)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--queue", choices=["sqlite", "redis"], default="sqlite")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    paths = sorted(glob.glob(CORPUS))
    random.Random(args.seed).shuffle(paths)
    github = FakeGitHub(owner="Codertocat", repo="Hello-World", latency=args.latency)
    api_url, shutdown = github.serve()
    tmp = Path(tempfile.mkdtemp(prefix="mfbot-e2e-"))
    queue_url, redis_proc = start_queue(args.queue, tmp)
    port = free_port()
    env = dict(os.environ, GITHUB_APP_ID="4242", GITHUB_PRIVATE_KEY=private_key(), GITHUB_WEBHOOK_SECRET=SECRET,
               GITHUB_API_URL=api_url, MFBOT_QUEUE=queue_url, MFBOT_WORKERS="1")
    web = start_web(port, env)
    worker = subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"], cwd=ROOT, env=env,
                              stderr=subprocess.DEVNULL)
    times, calls, per_route, outcomes, pickup, engine = [], [], Counter(), Counter(), [], []
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz")
        for n, path in enumerate(paths[: args.prs], start=1):
            files = json.load(open(path))["files"]
            sha = f"{n:040x}"
            github.add_pull(n, sha, files)
            before = len(github.log)
            started = time.monotonic()
            assert deliver(port, pr_payload(n, sha)) == 202
            deadline = started + 120
            while not (github.runs_for(sha) and (github.summaries(n) or github.runs_for(sha)[0]["conclusion"] == "skipped")):
                if time.monotonic() > deadline:
                    raise SystemExit(f"PR {n} ({path}) not reviewed within 120 s")
                time.sleep(0.005)
            times.append(time.monotonic() - started)
            mine = [r for r in github.log[before:] if not r.template.startswith("/app/")]
            pickup.append(mine[0].at - started)
            graphql = [r for r in mine if r.template == "/graphql"]
            first_write = next((r for r in mine if r.method != "GET" and r.template != "/graphql"), None)
            if graphql and first_write:
                engine.append(first_write.at - graphql[-1].at - args.latency)
            calls.append(len(mine))
            per_route.update(f"{r.method} {r.template}" for r in mine)
            outcomes[github.runs_for(sha)[0]["conclusion"]] += 1
    finally:
        for proc in (web, worker):
            proc.terminate()
            proc.wait(10)
        if redis_proc:
            redis_proc.terminate()
        shutdown()
        shutil.rmtree(tmp, ignore_errors=True)

    q = statistics.quantiles(times, n=100)
    print(f"{len(times)} corpus PRs, queue={args.queue}, stand-in latency {args.latency * 1000:.0f} ms per call")
    print(f"webhook -> completed check run + summary: p50 {statistics.median(times) * 1000:.0f} ms, "
          f"p90 {q[89] * 1000:.0f} ms, max {max(times) * 1000:.0f} ms")
    print(f"  of which: webhook -> worker's first GitHub call p50 {statistics.median(pickup) * 1000:.0f} ms; "
          f"engine (GraphQL answer -> first write) p50 {statistics.median(engine) * 1000:.0f} ms, "
          f"max {max(engine) * 1000:.0f} ms")
    print(f"GitHub calls per review after the token: min {min(calls)}, median {statistics.median(calls):.0f}, "
          f"max {max(calls)}; distribution {dict(sorted(Counter(calls).items()))}")
    print(f"installation tokens minted: {len(github.tokens)} (cached for the run)")
    print(f"conclusions: {dict(outcomes)}")
    print("calls by route:")
    for route, count in per_route.most_common():
        print(f"  {count:5d}  {route}")
    print(f"schema violations: {len(github.violations)}")
    for v in github.violations[:10]:
        print("  ", v[:300])
    return 0


if __name__ == "__main__":
    sys.exit(main())
