"""Consistency rules: numbers and statements in a report that disagree with the report itself.

Each finding cites the line of the claim and shows both sides: what is stated, what the report's own
body gives, and which entries or lines were counted. Only like is compared with like (a count of
issues with the issues the parser sees, a percentage with its own parts); when a claim cannot be
checked with certainty it is left alone.
"""

from __future__ import annotations

import re
from collections import Counter

from bot import census
from bot.findings import Level
from bot.report import claims as C
from bot.report.model import SEVERITIES
from bot.rules import Rule, register
from bot.scoring import Rubric, evaluate

REPORT = "lib/MODEL_FAILURES.md"


def _report(text: str, **extra: str) -> dict[str, str]:
    return {REPORT: text, **extra}


# --- MF201 counts -------------------------------------------------------------------------------

def _severity_tally(entries, attr: str) -> dict[str, list]:
    out: dict[str, list] = {s: [] for s in SEVERITIES}
    for e in entries:
        sev = getattr(e, attr)
        if sev in out:
            out[sev].append(e)
    return out


@register
class CountMismatch(Rule):
    id = "MF201"
    name = "count-mismatch"
    kind = "COUNT_MISMATCH"
    level = Level.ERROR
    summary = ("A stated count (total, per severity, per category, items listed, tests, resources) disagrees with the "
               "entries of the report or with the task's files.")
    why = ("Summaries are what reviewers and the scoring step read: \"3 Critical, 2 High\" over entries whose own "
           "Impact Levels say 1 Critical and 3 High, or \"Category B: 3 fixes\" over four entries marked Category B, "
           "misstate the training value of the task. The finding lists the entries that were counted, by number and "
           "line, so the count can be redone in seconds. Counts of tests (\"45 unit tests\", \"Unit Tests: 32 passing\") "
           "are compared with the test cases of the unit or integration test files, and counts of resources with the "
           "final CloudFormation template or Terraform code, only where the files fix the number without a run: "
           "`it.each`, skipped, looped or parametrised tests, conditions, `count`/`for_each`, modules and CDK or Pulumi "
           "programs are not counted, and statements about MODEL_RESPONSE, the past or a partial run are left alone.")
    bad = _report("# Model Failures\n\n## Critical Failures\n\n### 1. Open bucket\n\n**Impact Level**: Critical\n\n"
                  "### 2. No encryption\n\n**Impact Level**: Critical\n\n## Summary\n\n"
                  "- **Total failures**: 1 Critical, 1 High\n")
    good = _report("# Model Failures\n\n## Critical Failures\n\n### 1. Open bucket\n\n**Impact Level**: Critical\n\n"
                   "### 2. No encryption\n\n**Impact Level**: Critical\n\n## Summary\n\n"
                   "- **Total failures**: 2 Critical, 0 High\n")

    def check(self, task, config):
        report = task.report
        entries = C.failure_entries(report)
        if entries:
            yield from self._severities(report, entries)
            yield from self._totals(report, entries)
            yield from self._categories(report, entries)
        claims = C.suite_counts(report)
        if claims:
            yield from self._tests(task, report, [c for c in claims if c.thing == "tests"])
            yield from self._resources(task, report, [c for c in claims if c.thing == "resources"])

    def _severities(self, report, entries):
        # Severities the entries state themselves; those inherited from a section only when no entry states one.
        stated_own = [e for e in entries if C.own_severity(e)]
        basis = stated_own or [e for e in entries if e.severity]
        if not basis:
            return
        by_sev = _severity_tally(basis, "severity")
        for group in C.severity_counts(report):
            # More entries of a severity than stated is a contradiction; fewer only when the claim covers
            # as many entries as there are (otherwise the parser may have missed some).
            covers_all = sum(c.number.value for c in group) == len(entries) == len(basis)
            wrong = [c for c in group if c.number.value < len(by_sev[c.severity])
                     or (c.number.value > len(by_sev[c.severity]) and covers_all)]
            if not wrong:
                continue
            stated = ", ".join(f"{c.number.text} {c.severity}" for c in group)
            counted = ", ".join(f"{len(by_sev[c.severity])} {c.severity}" for c in group)
            detail = "; ".join(f"{s}: {C.entry_list(by_sev[s])}" for s in SEVERITIES if by_sev[s])
            source = "the severity each entry states" if stated_own else "the severity section of each entry"
            yield self.finding(report.path, group[0].line,
                               f"Stated {stated}, but the entries' severities give {counted}.",
                               evidence=f"counted by {source}: {detail}" + self._section_note(entries, group),
                               end_line=group[-1].line)

    @staticmethod
    def _section_note(entries, group) -> str:
        by_section = _severity_tally([e for e in entries if e.section_severity], "section_severity")
        if all(c.number.value == len(by_section[c.severity]) for c in group):
            moved = [e for e in entries if e.section_severity and e.severity != e.section_severity]
            return ("; the stated numbers match the severity sections instead, where "
                    + ", ".join(f"{C.entry_label(e)} ({e.severity}) sits under {e.section_severity}" for e in moved[:6]))
        return ""

    def _totals(self, report, entries):
        # Entries that group several issues ("1. Security Issues" with a bullet list) cannot be
        # counted against a total: only reports whose entries are single, documented failures.
        documented = [e for e in entries if C.own_severity(e) or C.has_failure_fields(e)]
        if len(entries) < 2 or len(documented) < 0.8 * len(entries):
            return
        numbered = {C.entry_number(e) for e in entries if e.number}
        ints = [int(n) for n in numbered if n and n.isdigit()]
        sections = Counter(id(e.heading.parent if e.shape == "heading" and e.heading else e.heading) for e in entries)
        plausible = {len(entries), len(report.entries), len(numbered), max(ints, default=0), *sections.values()}
        plausible |= {sum(int(c.number.value) for c in g) for g in C.severity_counts(report)}
        plausible |= {len(entries) - len(C.unresolved_entries(report))}
        for total in C.totals(report):
            if int(total.number.value) in plausible or total.number.value != int(total.number.value):
                continue
            yield self.finding(report.path, total.line,
                               f"Stated {total.number.text} {total.noun} in total, but the report documents {len(entries)} entries.",
                               evidence=f"entries counted: {C.entry_list(entries)}")

    def _categories(self, report, entries):
        labelled = [e for e in entries if e.category]
        unlabelled = len(entries) - len(labelled)
        for claim in C.category_counts(report):
            k = int(claim.number.value)
            counted = [e for e in labelled if e.category == claim.category]
            items = [it for it in claim.items if not re.match(r"^\W*category\s+[A-D]\b", it[1], re.I)]
            stated_all = sum(int(c.number.value) for c in C.category_counts(report))
            if labelled and (k < len(counted) or (k > len(counted) and not unlabelled and stated_all == len(entries))):
                yield self.finding(report.path, claim.line,
                                   f"Stated {claim.number.text} Category {claim.category} fixes, but {len(counted)} entries "
                                   f"say Category {claim.category}.",
                                   evidence=f"Category {claim.category} entries: {C.entry_list(counted)}")
            elif items and len(items) != k:
                yield self.finding(report.path, claim.line,
                                   f"Stated {claim.number.text} Category {claim.category} fixes, but {len(items)} are listed below it.",
                                   evidence="listed: " + "; ".join(f"line {n}: {t[:60]}" for n, t in items[:8]),
                                   end_line=items[-1][0])

    def _tests(self, task, report, claims):
        """"45 unit tests", "Unit Tests: 32 passing" against the test cases the test files define.
        A run's outcome counts the same set as the files only when nothing in them is skipped,
        parametrised or generated at run time: census leaves such suites uncounted."""
        files = census.test_files(task) if claims else []
        for (suite, file, value), group in _grouped(claims).items():
            named = [f for f in files if f.path.rsplit("/", 1)[-1] == file]
            if file and len(named) != 1:
                continue  # a source file ("54 tests for tap_stack.py") or one the task does not hold
            counted = [f for f in files if f.suite == (named[0].suite if named else suite) or not (suite or file)]
            on_line = all(c.suite_on_line for c in group)
            # The quick counts first: only when they too disagree are the files parsed for the exact ones.
            if not counted or not all(_test_mismatch(value, counted, named, on_line, files, count)
                                      for count in (lambda f: f.quick, lambda f: f.cases)):
                continue
            first, total = group[0], sum(f.cases for f in counted)
            what = file if file else f"the {suite} test files" if suite else "the test files"
            stated = f"{first.number.text} {suite + ' ' if suite else ''}tests{' passing' if first.run else ''}"
            counted_as = f"{named[0].cases if named else total} test cases" if suite or file else " and ".join(
                f"{sum(f.cases for f in counted if f.suite == s)} {s}" for s in (census.UNIT, census.INTEGRATION)) \
                + f" test cases ({total} in all)"
            others = [c.line for c in group[1:]]
            yield self.finding(report.path, first.line, f"Stated {stated}, but {what} define{'s' if file else ''} {counted_as}.",
                               evidence="counted " + "; ".join(f"{f.path}: {f.cases} ({census.counted_as(f.path)})"
                                                             for f in counted if f.cases)
                                        + (f"; the same count is stated on lines {', '.join(map(str, others))}" if others else ""))

    def _resources(self, task, report, claims):
        # The quick count first: only a count it disagrees with makes the templates be parsed.
        quick = census.quick_resource_count(task) if claims else None
        for (_, file, value), group in _grouped(claims).items():
            found = census.resource_count(task) if value != quick else None
            if found is None or value == found.count or (file and file not in found.what):
                continue
            first = group[0]
            others = [c.line for c in group[1:]]
            yield self.finding(report.path, first.line,
                               f"Stated {first.number.text} resources, but the final code declares {found.count}.",
                               evidence=f"counted {found.what}"
                                        + (f"; the same count is stated on lines {', '.join(map(str, others))}" if others else ""))


def _test_mismatch(value: int, counted, named, suite_on_line: bool, files, count) -> bool:
    """Whether a stated number of tests is none of the numbers it may be of without contradiction:
    the whole set it names, any of its files or its files of one suite, language or folder (a report
    may mean one framework's tests), and for a file it names also the file's suite (the author
    credited the file with the suite's count). A suite known only from the section heading may also
    be the count of all tests. `count` gives a file's count (None: not countable, no mismatch)."""
    cases: dict[str, int | None] = {}
    for f in counted + ([g for g in files if g not in counted] if not suite_on_line else []):
        cases[f.path] = count(f)
        if cases[f.path] is None:
            return False  # the first file a run may count differently settles it: no need to read the others
    if not any(cases[f.path] for f in counted):
        return False
    allowed = {sum(cases[f.path] for f in counted), *(cases[f.path] for f in counted)}
    for key in (lambda f: f.suite, lambda f: f.path.rsplit(".", 1)[-1], lambda f: f.path.split("/", 1)[0]):
        groups: dict[str, int] = {}
        for f in counted:
            groups[key(f)] = groups.get(key(f), 0) + cases[f.path]
        allowed |= set(groups.values())
    if named:
        allowed = {cases[named[0].path], sum(cases[f.path] for f in counted)}
    if not suite_on_line:
        allowed.add(sum(cases.values()))
    return value not in allowed


def _grouped(claims) -> dict[tuple, list]:
    """Claims of one count of one set, in line order: one finding for a number repeated in the summary."""
    out: dict[tuple, list] = {}
    for c in claims:
        out.setdefault((c.suite, c.file, int(c.number.value)), []).append(c)
    return out


_NUMBERED_HEADING_LINE = re.compile(r"^\s{0,3}#{2,6}\s*\W*(?:[a-z]+\s*#?\s*)?\d+[.):]", re.I)


@C.per_report
def _unparsed_numbered_headings(report) -> list[int]:
    """Lines that read as a numbered heading ("## 3.") but that the parser did not take as one."""
    headings = {h.line for h in report.headings}
    return [n for n, text in enumerate(report.lines, 1)
            if "#" in text and n not in headings and _NUMBERED_HEADING_LINE.match(text)]


# --- MF202 arithmetic ---------------------------------------------------------------------------

@register
class Arithmetic(Rule):
    id = "MF202"
    name = "arithmetic"
    kind = "ARITHMETIC"
    level = Level.ERROR
    summary = "A stated computation is wrong: a sum, a cap followed by another value, a percentage of its parts, a change."
    why = ("Numbers in a report are read as facts: `8 + 1 + 3 + 1 = 13` capped at 10 and then \"Final: 9/10\", or "
           "\"850 -> 1,726 lines (73% increase)\" (it is 103%), tell the reader the author did not check them, and "
           "they feed the score. Honest rounding to the precision the text shows is accepted. The suggestion is the "
           "line with the number recomputed.")
    bad = _report("# Model Failures\n\n## Scope\n\nThe fix grew the stack from 850 -> 1,726 lines (73% increase).\n\n"
                  "**Calculation**: 8 + 1 + 2 = 12\n")
    good = _report("# Model Failures\n\n## Scope\n\nThe fix grew the stack from 850 -> 1,726 lines (103% increase).\n\n"
                   "**Calculation**: 8 + 1 + 2 = 11\n")

    def check(self, task, config):
        report = task.report
        yield from self._formulas(report)
        yield from self._caps(report)
        yield from filter(None, self._ratios(report))
        yield from filter(None, self._changes(report))
        yield from filter(None, self._parts(report))
        yield from self._breakdowns(report)
        yield from self._score_deltas(report)

    def _fix(self, report, line: int, numbers: list[tuple[C.Num, str]]) -> str:
        text = report.line_text(line)
        for n, new in sorted(numbers, key=lambda p: -p[0].start):
            text = C.replace_span(text, n.start, n.end, new)
        return text

    def _formulas(self, report):
        for f in C.formulas(report):
            exact = f.value
            d = f.result.decimals
            ok = f.result.value == exact if d == 0 and all(t.decimals == 0 for _, t in f.terms) else \
                abs(f.result.value - exact) <= 0.5 * 10 ** -d + 1e-9
            if ok:
                continue
            right = C.fmt(exact, d)
            yield self.finding(report.path, f.line, f"`{f.text.strip('*_ ')}` is wrong: the terms add up to {right}.",
                               evidence=f"stated {f.result.text}, computed {right}",
                               replacement=self._fix(report, f.line, [(f.result, right)]))

    def _caps(self, report):
        finals = C.scores(report)
        for cap in C.caps(report):
            if cap.value.value <= cap.cap.value:
                continue
            after = [s for s in finals if s.role == C.FINAL and not s.is_range and
                     (s.line == cap.line and s.number.start > cap.cap.end or cap.line < s.line <= cap.line + 6)]
            if not after or after[0].number.value == cap.result:
                continue
            s = after[0]
            right = C.fmt(cap.result, s.number.decimals)
            yield self.finding(report.path, s.line,
                               f"{cap.value.text} capped at {cap.cap.text} is {right}, but the final value says {s.number.text}.",
                               evidence=f"line {cap.line}: {cap.value.text} capped at {cap.cap.text}; "
                                        f"line {s.line}: {s.number.text}",
                               replacement=self._fix(report, s.line, [(s.number, right)]))

    def _wrong_percent(self, report, line: int, stated: C.Num, exact: float, message, evidence: str):
        """The finding for a percentage that is not `exact` rounded to the places it shows (None when it
        is); `message` makes the text from the right figure, the suggestion puts that figure in."""
        if C.close(stated.value, exact, stated.decimals):
            return None
        right = C.fmt(exact, stated.decimals)
        return self.finding(report.path, line, message(right), evidence=evidence,
                            replacement=self._fix(report, line, [(stated, right)]))

    def _ratios(self, report):
        for r in C.ratios(report):
            if r.whole.value:
                exact = 100 * r.part.value / r.whole.value
                yield self._wrong_percent(report, r.line, r.percent, exact,
                                          lambda right: f"{r.part.text}/{r.whole.text} is {right}%, not {r.percent.text}%.",
                                          f"{r.part.text} / {r.whole.text} = {exact:.2f}%")

    def _changes(self, report):
        for c in C.changes(report):
            if c.before.value == 0:
                continue
            change = (c.after.value - c.before.value) / c.before.value * 100
            word = "increase" if change >= 0 else "decrease"
            evidence = f"({c.after.text} - {c.before.text}) / {c.before.text} = {change:+.1f}%"
            if change * c.direction > 0:
                yield self._wrong_percent(report, c.line, c.percent, abs(change),
                                          lambda right: f"{c.before.text} -> {c.after.text} is a {right}% {word}, "
                                                        f"not {c.percent.text}%.", evidence)
            else:
                yield self.finding(report.path, c.line, f"{c.before.text} -> {c.after.text} is a "
                                   f"{C.fmt(abs(change), c.percent.decimals)}% {word}, but the text calls it the opposite.",
                                   evidence=evidence)

    def _parts(self, report):
        stated_totals = {t.number.value for t in C.totals(report)}
        for group in C.part_groups(report):
            # The parts make a whole when their percentages add up to 100 or their counts to a stated total.
            whole = sum(p.count.value for p in group)
            if not whole or (abs(sum(p.percent.value for p in group) - 100) > len(group) and whole not in stated_totals):
                continue
            for p in group:
                yield self._wrong_percent(report, p.line, p.percent, 100 * p.count.value / whole,
                                          lambda right: f"{p.count.text} of {C.fmt(whole)} is {right}%, not {p.percent.text}%.",
                                          f"parts on lines {group[0].line}-{group[-1].line} add up to {C.fmt(whole)}")

    def _score_deltas(self, report):
        """"from 3/10 to 9/10 ... +6 points": the difference of the nearest before and final scores above it."""
        scores = [x for x in C.scores(report) if not x.is_range]
        for pc in C.point_changes(report):
            near = [x for x in scores if pc.line - 30 <= x.line <= pc.line and x.number.end <= (
                pc.delta.start if x.line == pc.line else 10 ** 6)]
            before = [x for x in near if x.role == C.BEFORE]
            after = [x for x in near if x.role == C.FINAL and (not before or x.line >= before[-1].line)]
            if not before or not after:
                continue
            b, a = before[-1], after[-1]
            diff = a.number.value - b.number.value
            if pc.sign * pc.delta.value == diff:
                continue
            right = C.fmt(abs(diff), max(a.number.decimals, b.number.decimals))
            yield self.finding(report.path, pc.line,
                               f"{b.number.text} -> {a.number.text} is a change of {diff:+g} points, not "
                               f"{'-' if pc.sign < 0 else '+'}{pc.delta.text}.",
                               evidence=f"line {b.line}: {b.number.text}; line {a.line}: {a.number.text}",
                               replacement=self._fix(report, pc.line, [(pc.delta, right)]))

    def _breakdowns(self, report):
        groups = {g[0].line: g for g in C.severity_counts(report) if len({c.line for c in g}) == 1}
        for total in C.totals(report):
            g = groups.get(total.line)
            if g is None:
                continue
            parts = sum(int(c.number.value) for c in g)
            if parts != total.number.value:
                shown = " + ".join(f"{c.number.text} {c.severity}" for c in g)
                yield self.finding(report.path, total.line,
                                   f"The breakdown {shown} adds up to {parts}, not {total.number.text}.",
                                   evidence=f"stated total {total.number.text}, sum of the parts {parts}",
                                   replacement=self._fix(report, total.line, [(total.number, str(parts))]))


# --- MF203 scores -------------------------------------------------------------------------------

_COMPLEXITY = re.compile(r"complexity[\w ()/-]{0,30}?[*_]*\s*:\s*[*_]*\s*(?P<v>[+-]\d+)(?![.\d])", re.I)


def stated_complexity(report) -> tuple[int, int] | None:
    """(adjustment, line) of "Complexity Bonus: +3", if the report states one."""
    found = [(int(m.group("v")), n) for n, line in C.prose_lines(report) for m in [_COMPLEXITY.search(line)] if m]
    return found[-1] if len({v for v, _ in found}) == 1 else None


def category_totals(report) -> tuple[dict[str, int], str] | None:
    """Fix counts per category: the report's own "Category A: 2 fixes" lines, else the categories
    of its entries when every failure entry has one."""
    stated: dict[str, set[int]] = {}
    for c in C.category_counts(report):
        stated.setdefault(c.category, set()).add(int(c.number.value))
    if stated:
        if any(len(v) > 1 for v in stated.values()):
            return None  # the report states two different counts: COUNT_MISMATCH's business
        counts = {k: v.pop() for k, v in stated.items()}
        return counts, "stated " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
    entries = C.failure_entries(report)
    if entries and all(e.category for e in entries):
        counts = dict(Counter(e.category for e in entries))
        return counts, "entry categories " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
    return None


@register
class ScoreMismatch(Rule):
    id = "MF203"
    name = "score-mismatch"
    kind = "SCORE_MISMATCH"
    level = Level.ERROR
    summary = ("Training-quality scores that disagree: two final scores, a score unlike metadata.json, a score out of "
               "0-10 or not an integer, or one the rubric does not give for the stated fixes.")
    why = ("The score decides whether a task is accepted. The repository's gate reads `SCORE:X` as an integer in "
           "bash, so `SCORE:7.5` passes a threshold of 8; metadata.json may carry another value than the report; and "
           "the score is supposed to follow from the A/B/C/D categories of the fixes. When a report states its fixes "
           "by category, the anchor rubric is recomputed (base 8, Category A +1/+2, C-only and minimal penalties, "
           "complexity capped at +2, clamp 0..10) and a stated score outside what it allows is reported.")
    settings = {
        "score.integer_only": "Report decimal scores (`8.5/10`): the anchor gate compares integers (default true).",
        "score.rubric": "Rubric numbers to recompute the score with (keys of bot.scoring.Rubric), or `off`.",
    }
    bad = _report("# Model Failures\n\n## Summary\n\n**Training Quality Score**: 8.5/10\n\n## Verdict\n\nFinal score: 9/10\n")
    good = _report("# Model Failures\n\n## Summary\n\n**Training Quality Score**: 9/10\n\n## Verdict\n\nImproved from 7/10 to 9/10.\n")

    def check(self, task, config):
        report = task.report
        finals = C.final_scores(report)
        all_scores = C.scores(report)
        for s in all_scores:
            if not 0 <= s.number.value <= 10:
                yield self.finding(report.path, s.line, f"Score {s.number.text} is outside 0-10.",
                                   evidence=f"{s.label[-60:]} {s.number.text}".strip())
        if config.setting("score", "integer_only", True):
            for s in finals:
                if s.number.value != int(s.number.value):
                    yield self.finding(report.path, s.line,
                                       f"Score {s.number.text} is not an integer: the repository's gate compares integers, "
                                       f"so a decimal score passes any threshold.",
                                       evidence=f"{s.label[-60:]} {s.number.text}".strip())
        if not finals:
            return
        final = next((s for s in reversed(finals) if re.search(r"\bfinal\b", s.label, re.I)), finals[-1])
        for s in finals:
            if s.number.value != final.number.value and s.line != final.line:
                yield self.finding(report.path, s.line,
                                   f"Two different final scores: {s.number.text} here and {final.number.text} on line {final.line}.",
                                   evidence=f"line {s.line}: {s.label[-50:]} {s.number.text}; "
                                            f"line {final.line}: {final.label[-50:]} {final.number.text}")
        yield from self._metadata(task, report, final)
        rubric = Rubric.from_setting(config.setting("score", "rubric", None))
        if rubric is not None:
            yield from self._rubric(report, final, rubric)

    def _metadata(self, task, report, final):
        meta = task.metadata or {}
        tq = meta.get("training_quality")
        if isinstance(tq, (int, float)) and not isinstance(tq, bool) and float(tq) != final.number.value:
            yield self.finding(report.path, final.line,
                               f"The report scores {final.number.text}, metadata.json says training_quality {tq}.",
                               evidence=f"line {final.line}: {final.number.text}; metadata.json: \"training_quality\": {tq}")

    def _rubric(self, report, final, rubric):
        found = category_totals(report)
        if found is None:
            return
        counts, source = found
        cx = stated_complexity(report)
        outcome = evaluate(rubric, counts, cx[0] if cx else None)
        if outcome.allows(final.number.value):
            return
        evidence = f"{source}; {outcome.steps}" + (f"; complexity stated on line {cx[1]}" if cx else "")
        if outcome.ambiguity:
            evidence += f"; {outcome.ambiguity}"
        yield self.finding(report.path, final.line,
                           f"The rubric gives {outcome.shown()} for the stated fixes, the report says {final.number.text}.",
                           evidence=evidence)


# --- MF204 unresolved items counted as fixed ----------------------------------------------------

_FIXED_SECTION = re.compile(r"\b(fix(?:es)?\s+applied|fixed|resolved|corrections?|fixes)\b", re.I)
_SUCCESS_HEADING = re.compile(r"\b(success(?:ful(?:ly)?)?|succeeded|passed)\b|✅", re.I)
_PARTIAL = re.compile(r"\b(partial(?:ly)?|fail\w*|block\w*|issues?|pending|not|metrics|criteria|attempts?)\b|❌|⚠", re.I)
# A resource or stack reported as failed: a ❌ bullet, CREATE_FAILED, "not deployed", "Status: FAILED".
_FAILED_LINE = re.compile(r"^\s*(?:[-*+]\s+)?❌|\b(?:CREATE|UPDATE)_FAILED\b|\bfailed\s+to\s+deploy\b|\bnot\s+deployed\b|"
                          r"\bdeployment\s+(?:failed|blocked)\b|:\s*[*_]*FAILED\b")
_DEPLOY = re.compile(r"deploy", re.I)


@register
class UnresolvedAsFixed(Rule):
    id = "MF204"
    name = "unresolved-as-fixed"
    kind = "UNRESOLVED_AS_FIXED"
    level = Level.ERROR
    summary = "An item is presented or counted as fixed while the report itself says it is still open."
    why = ("A report describes what was fixed. Counting \"Known Issues (Deployment Blockers)\" with \"Fix Required\" "
           "among the Category A fixes raises the score with work that was never done, and a deployment section "
           "headed as a success that lists failed resources hides a broken task. The finding names the item, "
           "where it is counted as fixed, and where the report says it is open.")
    bad = _report("# Model Failures\n\n## Known Issues (Deployment Blockers)\n\n### Issue 1: Duplicate state name in "
                  "state machine\n\n**Fix Required**: rename the state\n\n## Fixes by Category\n\n"
                  "**Category A** (Significant): 1 fix\n- Duplicate state name in state machine\n")
    good = _report("# Model Failures\n\n## Known Issues (Deployment Blockers)\n\n### Issue 1: Duplicate state name in "
                   "state machine\n\n**Fix Required**: rename the state\n\n## Fixes by Category\n\n"
                   "**Category A** (Significant): 0 fixes (the blocker above is still open)\n")

    def check(self, task, config):
        report = task.report
        open_items = C.unresolved_entries(report)
        yield from self._counted(report, open_items)
        yield from self._under_fixed_heading(report, open_items)
        yield from self._deployment(report)

    def _counted(self, report, open_items):
        if not open_items:
            return
        lists = [(c.line, f"Category {c.category} fixes", c.items) for c in C.category_counts(report)]
        lists += [(t.line, f"{t.noun} fixed", tuple(C.list_after(report, t.line))) for t in C.totals(report) if t.fixed]
        for line, what, items in lists:
            for n, text in items:
                for e, where, says in open_items:
                    if n != e.line and C.same_item(text, e.title):
                        yield self.finding(report.path, n,
                                           f"\"{C.plain(text)[:60]}\" is counted among the {what} (line {line}), but the "
                                           f"report says it is open: {says[:60]} (line {where}).",
                                           evidence=f"entry {C.entry_label(e)}: {e.title[:80]}")
                        break

    def _under_fixed_heading(self, report, open_items):
        for e, where, says in open_items:
            if where in (h.line for h in C.heading_chain(e)) or (e.heading and where == e.heading.line):
                continue  # open by its section: counted above when a fix list names it
            chain = [h.text for h in C.heading_chain(e)]
            fixed = next((t for t in chain if _FIXED_SECTION.search(t)), None)
            if fixed and not re.match(r"^fix\s+required", says, re.I):
                yield self.finding(report.path, where,
                                   f"Entry {C.entry_label(e)} sits under \"{fixed[:50]}\" but says \"{says[:60]}\".",
                                   evidence=f"{e.title[:80]}")

    def _deployment(self, report):
        for h in report.headings:
            if not (_DEPLOY.search(h.text) and _SUCCESS_HEADING.search(h.text)) or _PARTIAL.search(h.text) \
                    or any(e.heading is h for e in report.entries):
                continue
            code = C.code_lines(report)
            for n in range(h.line + 1, h.end_line + 1):
                text = report.line_text(n)
                if n in code or not _FAILED_LINE.search(text) or re.search(
                        r"attempt|before|initial|previous|fixed|resolved|caused|→|->|\btests?\b", text, re.I):
                    continue
                yield self.finding(report.path, h.line,
                                   f"\"{h.text[:60]}\" claims success, but its section lists a failure on line {n}.",
                                   evidence=f"line {n}: {text.strip()[:120]}", end_line=n)
                break


# --- MF205 self-contradiction -------------------------------------------------------------------

@register
class SelfContradiction(Rule):
    id = "MF205"
    name = "self-contradiction"
    kind = "SELF_CONTRADICTION"
    level = Level.WARNING
    summary = ("Two statements of the report that cannot both hold: zero deployment failures and a failed attempt, "
               "100% coverage and a lower figure, an Impact Level unlike its section, entry numbers with gaps or duplicates.")
    why = ("A report that contradicts itself cannot be trusted on either statement, and a model trained on it "
           "learns that \"zero failures\" may follow \"Attempt 1: Failed\". The finding gives both statements and "
           "their lines; the author decides which one is true.")
    bad = _report("# Model Failures\n\n## Critical Failures\n\n### 1. Open bucket\n\n**Impact Level**: Medium\n\n"
                  "### 3. Missing key rotation\n\n**Impact Level**: Critical\n\n## Deployment\n\n- Attempt 1: Failed - "
                  "bucket policy\n- Attempt 2: Success\n\nFinal status: zero deployment failures.\n")
    good = _report("# Model Failures\n\n## Critical Failures\n\n### 1. Open bucket\n\n**Impact Level**: Critical\n\n"
                   "### 2. Missing key rotation\n\n**Impact Level**: Critical\n\n## Deployment\n\n- Attempt 1: Failed - "
                   "bucket policy\n- Attempt 2: Success\n\nFinal status: deployed on the second attempt.\n")

    def check(self, task, config):
        report = task.report
        yield from self._statements(report)
        yield from self._impact_levels(report)
        yield from self._numbering(report)

    def _statements(self, report):
        # Entries describe the model's state and sections may tell the story before the fix: only
        # statements about the final state (outside entries, not under a "before" heading) are compared.
        st = [s for s in C.statements(report) if C.final_state(report, s.line)]
        by = lambda kind: [s for s in st if s.kind == kind]  # noqa: E731
        failed = by("failed-attempt")
        for s in by("zero-deploy-failures"):
            if failed:
                yield self.finding(report.path, s.line,
                                   f"\"{s.text}\" contradicts \"{failed[0].text}\" on line {failed[0].line}.",
                                   evidence="; ".join(f"line {f.line}: {f.text}" for f in failed[:3]))
        cov = by("coverage")
        for s in cov:
            if s.value != 100 or s.qualifier == "scoped":
                continue
            lower = [o for o in cov if o.value < 100 and o.qualifier == s.qualifier]
            if lower:
                o = lower[0]
                yield self.finding(report.path, s.line,
                                   f"\"{s.text}\" contradicts {o.value:g}% {o.qualifier + ' ' if o.qualifier else ''}"
                                   f"coverage on line {o.line}.",
                                   evidence=f"line {s.line}: {s.text}; line {o.line}: {o.text}")
        failing = by("failing-tests")
        for s in by("all-tests-pass"):
            if failing:
                o = failing[0]
                yield self.finding(report.path, s.line, f"\"{s.text}\" contradicts \"{o.text}\" on line {o.line}.",
                                   evidence=f"line {s.line}: {s.text}; line {o.line}: {o.text}")

    def _impact_levels(self, report):
        for e in C.failure_entries(report):
            if C.own_severity(e) and e.section_severity and e.severity != e.section_severity \
                    and e.severity_line != e.line:
                sec = next((h for h in [e.heading, *(e.heading.ancestors() if e.heading else [])]
                            if h is not None and h.line < e.line and h.text and e.section_severity.lower() in
                            h.text.lower().replace("moderate", "medium").replace("minor", "low")), None)
                where = f"\"{sec.text}\" (line {sec.line})" if sec else f"a {e.section_severity} section"
                yield self.finding(report.path, e.severity_line or e.line,
                                   f"Entry {C.entry_label(e)} states {e.severity} but sits under {where}.",
                                   evidence=f"{e.title[:80]}: {e.severity} vs section {e.section_severity}")

    def _numbering(self, report):
        # Numbered headings, not list items (Markdown numbers those) and not only the parser's entries
        # (it may fold a duplicate into its neighbour).
        seqs: dict[tuple, list] = {}
        for h in C.numbered_headings(report):
            m = re.fullmatch(r"([A-Z]{0,2})-?(\d+)", h.number, re.I)
            if m:
                seqs.setdefault((m.group(1).upper(), h.level, h.style), []).append((int(m.group(2)), h))
        for (prefix, _, _), seq in seqs.items():
            # A numbered heading line the parser did not see between two of them: the sequence is not known.
            pairs = [(a, ea, b, eb) for (a, ea), (b, eb) in zip(seq, seq[1:]) if not self._hidden(report, ea, eb)]
            used = C.heading_numbers(report)  # a missing number used elsewhere: ordering, not a gap
            gaps = [(a, ea, b, eb) for a, ea, b, eb in pairs
                    if b > a + 1 and not used & {f"{prefix}{k}" for k in range(a + 1, b)}
                    and not self._seen(report, ea, eb, a, b)]
            if len(gaps) == 1:  # several gaps: the numbers come from elsewhere (a bug list), not a slip
                a, ea, b, eb = gaps[0]
                gap = f"{prefix}{a + 1}" if b == a + 2 else f"{prefix}{a + 1}-{prefix}{b - 1}"
                yield self.finding(report.path, eb.line, f"Entry {prefix}{b} follows {prefix}{a} (line {ea.line}): {gap} missing.",
                                   evidence=eb.title[:80])
            for a, ea, b, eb in pairs:
                if a == b and (ea.parent_line == eb.parent_line or b != 1):  # "1." again in a new section restarts
                    yield self.finding(report.path, eb.line,
                                       f"Entry number {prefix}{b} is used twice (lines {ea.line} and {eb.line}).",
                                       evidence=f"line {ea.line}: {ea.title[:60]}; line {eb.line}: {eb.title[:60]}")

    @staticmethod
    def _hidden(report, ea, eb) -> bool:
        """A "## N." line between two numbered headings that the parser did not take as a heading
        (an unbalanced fence swallowed it, for instance): the numbering seen is incomplete."""
        return any(ea.line < n < eb.line for n in _unparsed_numbered_headings(report))

    @staticmethod
    def _seen(report, ea, eb, a: int, b: int) -> bool:
        """A missing number that does stand on a heading or bold line in between (an entry the parser
        folded into another): not a gap."""
        rx = re.compile(rf"^\s*(?:#+\s*|[*_]+\s*)\W*(?:[a-z]+\s*#?\s*)?({'|'.join(str(k) for k in range(a + 1, b))})[.):\s]", re.I)
        return any(rx.match(report.line_text(n)) for n in range(ea.line + 1, eb.line))
