"""Parser coverage on the real reports: how often entries, severities, numbers and code roles are found.

    .venv/bin/python bench/parser_coverage.py [--corpus DIR] [--seeds DIR] [--list no-entries|no-severity|no-role]

Reads `lib/MODEL_FAILURES.md` of every PR in the corpus plus the seed reports and prints:
the share of reports with at least one entry, the share of entries with a severity (and whether it
came from a field or the section), with a number and with a category, the share of code blocks inside
entries that have a role, and the entry shapes. `--list` prints the reports (or entries) that lack
the given thing, for reading them.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.report import parse_report  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared"
REPORT = "lib/MODEL_FAILURES.md"
# A report that states severities somewhere: a Severity/Impact field, a `[HIGH]` tag or a severity section.
STATES_SEVERITY = re.compile(
    r"(?im)(?:severity|impact level|priority)\W{0,6}(?:critical|high|medium|low)\b|\[(?:critical|high|medium|low)\]|"
    r"^#+\W*(?:critical|high|medium|low)\b[^\n]{0,20}(?:failures?|issues?|severity|priority)"
)


def reports(corpus: Path, seeds: Path):
    """(name, text) of every report: the corpus PRs, then the seeds."""
    for path in sorted(corpus.glob("*.json")):
        pr = json.loads(path.read_text(encoding="utf-8"))
        for name, text in pr["files"].items():
            if name == REPORT or name.endswith("/" + REPORT):
                yield f"{pr['task']}:{name}", text
    for path in sorted(seeds.glob("*.txt")):
        yield f"seeds/{path.name}", path.read_text(encoding="utf-8", errors="replace")


def pct(part: int, whole: int) -> str:
    return f"{part:5d} / {whole:5d} = {100 * part / max(whole, 1):5.1f}%"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=str(SHARED / "corpus" / "prs"))
    ap.add_argument("--seeds", default=str(SHARED / "seeds"))
    ap.add_argument("--list", choices=("no-entries", "no-severity", "no-role", "no-number"), default=None)
    args = ap.parse_args()

    n_reports = with_entries = n_entries = with_sev = with_num = with_cat = 0
    n_code = code_role = sev_reports = sev_complete = 0
    sources, shapes, roles = Counter(), Counter(), Counter()
    start = time.perf_counter()
    for name, text in reports(Path(args.corpus), Path(args.seeds)):
        report = parse_report(text)
        n_reports += 1
        with_entries += bool(report.entries)
        if STATES_SEVERITY.search(text):
            sev_reports += 1
            sev_complete += bool(report.entries) and all(e.severity for e in report.entries)
        if args.list == "no-entries" and not report.entries:
            print(f"NO ENTRIES {name} ({len(report.lines)} lines)")
        for e in report.entries:
            n_entries += 1
            shapes[e.shape] += 1
            with_sev += e.severity is not None
            sources[e.severity_source] += 1
            with_num += e.number is not None
            with_cat += e.category is not None
            if args.list == "no-severity" and e.severity is None:
                print(f"NO SEVERITY {name}:{e.line}: {e.title[:90]}")
            if args.list == "no-number" and e.number is None:
                print(f"NO NUMBER {name}:{e.line}: {e.title[:90]}")
            for c in e.code:
                n_code += 1
                code_role += c.role is not None
                roles[c.role] += 1
                if args.list == "no-role" and c.role is None:
                    print(f"NO ROLE {name}:{c.line}: label {c.label[:90]!r}")
    elapsed = time.perf_counter() - start
    print(f"reports:                      {n_reports}  (parsed in {elapsed:.1f} s)")
    print(f"reports with >= 1 entry:      {pct(with_entries, n_reports)}")
    print(f"entries:                      {n_entries}  (shapes: {dict(shapes.most_common())})")
    from_where = ", ".join(f"{k} {v}" for k, v in sources.most_common() if k)
    print(f"entries with a severity:      {pct(with_sev, n_entries)}  ({from_where})")
    print(f"reports stating severities:   {pct(sev_reports, n_reports)}  "
          f"(of them, with every entry's severity read: {pct(sev_complete, sev_reports)})")
    print(f"entries with a number:        {pct(with_num, n_entries)}")
    print(f"entries with a category:      {pct(with_cat, n_entries)}")
    print(f"code blocks in entries with a role: {pct(code_role, n_code)}  "
          f"({', '.join(f'{k} {v}' for k, v in roles.most_common() if k)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
