"""Corpus sweep: review every PR of ../shared/corpus/prs in one process and print the figures.

    .venv/bin/python bench/sweep.py [--corpus DIR] [--rules MF2] [--show MF201] [--sample N] [--limit N]
                                    [--rule-times]

Prints PRs reviewed, errors and crashes, findings per rule and per kind, the share of PRs with each
kind, and time per PR (median, p99) and in total, as wall-clock and as CPU time (the machine is
shared, so CPU time is the steadier figure); the time to parse the reports is shown apart.
Before the sweep it times a fixed pure-Python loop (`machine reference`): the machine is shared and
its speed drifts (by 1.5x within hours on the development machine), and the loop's time says which
phase a sweep ran in. `--show` prints the findings of the given rule id prefix (for reading them), `--sample N` picks N
random PRs for that. `--rule-times` also prints the CPU time each rule spends, slowest first.
For the IaC rules it also prints on how many PRs each fires standalone and as a claim check
(MF481-483 findings name the IaC rule they ran).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import statistics
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config import Config  # noqa: E402
from bot.engine import enabled_rules, review_tasks  # noqa: E402
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
    ap.add_argument("--rule-times", action="store_true", help="print the CPU time spent in each rule")
    args = ap.parse_args()

    paths = sorted(Path(args.corpus).glob("*.json"))
    if args.limit:
        paths = paths[: args.limit]
    off = frozenset(r.id for r in all_rules() if not r.id.startswith(args.rules))
    config = Config(off=off)
    rule_cpu: Counter = Counter()
    if args.rule_times:
        for rule in enabled_rules(config):
            _time_rule(rule, rule_cpu)
    shown = set(random.Random(args.seed).sample(range(len(paths)), min(args.sample, len(paths)))) if args.sample else None

    per_rule, per_kind, prs_with_kind, prs_with_rule = Counter(), Counter(), Counter(), Counter()
    prs_with_claim: Counter = Counter()  # (IaC rule, claim-check rule) -> PRs
    wall, cpu, parse_cpu = [], [], 0.0
    tasks_seen, errors, crashes = 0, 0, 0
    reference = _machine_reference()
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    for i, path in enumerate(paths):
        pr = json.loads(path.read_text(encoding="utf-8"))
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            tasks = split_tasks(pr["files"], config.report_glob)
            p0 = time.process_time()
            for task in tasks:
                task.report  # noqa: B018 - parse now, to time the parser apart from the rules
            parse_cpu += time.process_time() - p0
            review = review_tasks(tasks, config)
        except Exception:
            crashes += 1
            print(f"CRASH {pr['task']}:\n{traceback.format_exc()}", file=sys.stderr)
            continue
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        tasks_seen += len(tasks)
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
        for pair in {_claim_check(f) for f in review.findings} - {None}:
            prs_with_claim[pair] += 1
        if args.show and (shown is None or i in shown):
            for f in review.findings:
                if f.rule.startswith(args.show):
                    print(f"{pr['task']} {f.path}:{f.line}: {f.rule} {f.message}\n    evidence: {f.evidence[:300]!r}")
    total_wall, total_cpu = time.perf_counter() - start_wall, time.process_time() - start_cpu
    n = len(wall)
    print(f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}; machine reference loop: {reference:.2f} s CPU")
    print(f"PRs reviewed: {n}  tasks: {tasks_seen}  errors: {errors}  crashes: {crashes}")
    if n:
        print(f"time per PR, wall: {_spread(wall)}")
        print(f"time per PR, CPU:  {_spread(cpu)}")
        print(f"total (one process, reading the JSON included): wall {total_wall:.1f} s, CPU {total_cpu:.1f} s; "
              f"of which parsing reports: CPU {parse_cpu:.1f} s")
    print("findings per rule (findings / PRs):")
    names = {r.id: r.name for r in all_rules()}
    for rule, count in sorted(per_rule.items()):
        print(f"  {rule} {names.get(rule, ''):<34} {count:6d} / {prs_with_rule[rule]:4d} PRs")
    print("findings per kind, and the share of PRs with each kind:")
    for kind, count in prs_with_kind.most_common():
        print(f"  {kind:<34} {per_kind[kind]:6d} findings  {count:4d} PRs ({100 * count / max(n, 1):.1f}%)")
    iac = {r for r in prs_with_rule if r.startswith("MF4") and r < CLAIM_RULES[0]} | {r for r, _ in prs_with_claim}
    if iac:
        print("IaC rules, PRs fired on standalone and as claim checks (" + ", ".join(CLAIM_RULES) + "):")
        for rule in sorted(iac):
            claims = "  ".join(f"{c} {prs_with_claim[(rule, c)]:3d}" for c in CLAIM_RULES)
            print(f"  {rule} {names.get(rule, ''):<34} standalone {prs_with_rule[rule]:4d}   {claims}")
    if args.rule_times:
        print("CPU time per rule (slowest first):")
        for rule, seconds in rule_cpu.most_common():
            print(f"  {rule} {names.get(rule, ''):<34} {seconds:7.2f} s")
    return 1 if crashes or errors else 0


CLAIM_RULES = ("MF481", "MF482", "MF483")
_RULE_IN_MESSAGE = re.compile(r"\b(MF4[0-7]\d)\b")


def _claim_check(f) -> tuple[str, str] | None:
    """(the IaC rule a claim check ran, the claim-check rule) for MF481-483 findings: their message names it."""
    if f.rule not in CLAIM_RULES:
        return None
    m = _RULE_IN_MESSAGE.search(f.message)
    return (m.group(1), f.rule) if m else None


def _machine_reference() -> float:
    """CPU seconds of a fixed loop of dict updates and int-to-str conversions (interpreter work like the
    engine's): the same on every run of this Python, so its time measures the machine's current speed."""
    t0 = time.process_time()
    counts: dict[int, int] = {}
    for i in range(3_000_000):
        counts[i % 1000] = counts.get(i % 1000, 0) + len(str(i))
    return time.process_time() - t0


def _spread(times: list[float]) -> str:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (f"median {statistics.median(ordered) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
            f"max {ordered[-1] * 1000:.1f} ms")


def _time_rule(rule, totals: Counter) -> None:
    """Wrap one rule instance's `check` so that its CPU time adds up in `totals` (measurement only)."""
    check = rule.check

    def timed(task, config):
        start = time.process_time()
        try:
            return list(check(task, config))
        finally:
            totals[rule.id] += time.process_time() - start

    rule.check = timed


if __name__ == "__main__":
    sys.exit(main())
