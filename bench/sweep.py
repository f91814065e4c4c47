"""Corpus sweep: review every PR of ../shared/corpus/prs in one process and print the figures.

    .venv/bin/python bench/sweep.py [--corpus DIR] [--rules MF2] [--show MF201] [--limit N]

Prints PRs reviewed, errors and crashes, findings per rule and per kind, the share of PRs with each
kind, and time per PR (median, p99) and in total. `--show` prints the findings of the given rule
id prefix (for reading them), `--sample N` picks N random PRs for that.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config import Config  # noqa: E402
from bot.engine import review_tasks  # noqa: E402
from bot.rules import all_rules  # noqa: E402
from bot.task import split_tasks  # noqa: E402

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "prs"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    ap.add_argument("--rules", default="", help="only rules whose id starts with this")
    ap.add_argument("--show", default="", help="print findings of rules whose id starts with this")
    ap.add_argument("--sample", type=int, default=0, help="with --show: only N random PRs")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    paths = sorted(Path(args.corpus).glob("*.json"))
    if args.limit:
        paths = paths[: args.limit]
    off = frozenset(r.id for r in all_rules() if not r.id.startswith(args.rules))
    config = Config(off=off)
    shown = set(random.Random(args.seed).sample(range(len(paths)), min(args.sample, len(paths)))) if args.sample else None

    per_rule, per_kind, prs_with_kind, prs_with_rule = Counter(), Counter(), Counter(), Counter()
    times, errors, crashes = [], 0, 0
    start = time.perf_counter()
    for i, path in enumerate(paths):
        pr = json.loads(path.read_text(encoding="utf-8"))
        t0 = time.perf_counter()
        try:
            tasks = split_tasks(pr["files"], config.report_glob)
            review = review_tasks(tasks, config)
        except Exception:
            crashes += 1
            print(f"CRASH {pr['task']}:\n{traceback.format_exc()}", file=sys.stderr)
            continue
        times.append(time.perf_counter() - t0)
        errors += len(review.errors)
        for e in review.errors:
            print(f"ERROR {pr['task']}: {e.path}: {e.message}", file=sys.stderr)
        for f in review.findings:
            per_rule[f.rule] += 1
            per_kind[f.kind] += 1
        for k in {f.kind for f in review.findings}:
            prs_with_kind[k] += 1
        for r in {f.rule for f in review.findings}:
            prs_with_rule[r] += 1
        if args.show and (shown is None or i in shown):
            for f in review.findings:
                if f.rule.startswith(args.show):
                    print(f"{pr['task']} {f.path}:{f.line}: {f.rule} {f.message}\n    evidence: {f.evidence[:300]!r}")
    total = time.perf_counter() - start
    n = len(times)
    print(f"PRs reviewed: {n}  errors: {errors}  crashes: {crashes}")
    if times:
        times.sort()
        p99 = times[min(n - 1, int(n * 0.99))]
        print(f"time per PR: median {statistics.median(times) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
              f"max {times[-1] * 1000:.1f} ms; total {total:.1f} s")
    print("findings per rule (findings / PRs):")
    names = {r.id: r.name for r in all_rules()}
    for rule, count in sorted(per_rule.items()):
        print(f"  {rule} {names.get(rule, ''):<32} {count:6d} / {prs_with_rule[rule]:4d} PRs")
    print("PRs with each kind:")
    for kind, count in prs_with_kind.most_common():
        print(f"  {kind:<34} {count:4d} ({100 * count / max(n, 1):.1f}%)  findings {per_kind[kind]}")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
