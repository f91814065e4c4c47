"""Run the rules over tasks: levels and switches from the configuration, inline suppressions,
changed-line scoping, and errors that never stop the other tasks."""

from __future__ import annotations

import dataclasses
import re
import traceback
from dataclasses import dataclass, field

from bot.config import Config
from bot.findings import Finding, Level
from bot.rules import Rule, all_rules
from bot.task import Task

_IGNORE = re.compile(r"mfbot:\s*ignore\b([^\n>]*)", re.I)
_RULE_ID = re.compile(r"MF\d{3}", re.I)


@dataclass
class ReviewError:
    path: str
    message: str

    def to_dict(self) -> dict:
        return {"path": self.path, "message": self.message}


@dataclass
class Review:
    """The outcome of reviewing some tasks."""

    tasks: list[Task] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    errors: list[ReviewError] = field(default_factory=list)

    def fails(self, fail_on: Level | None) -> bool:
        return fail_on is not None and any(f.level >= fail_on for f in self.findings)


def enabled_rules(config: Config) -> list[Rule]:
    return [r for r in all_rules() if not ({r.id, r.name, r.kind} & config.off)]


def level_for(rule: Rule, config: Config) -> Level:
    for key in (rule.id, rule.name, rule.kind):
        if key in config.levels:
            return config.levels[key]
    return rule.level


def review_tasks(tasks: list[Task], config: Config) -> Review:
    review = Review(tasks=list(tasks))
    rules = enabled_rules(config)
    for task in tasks:
        ignores = Suppressions(task)
        for path, why in sorted(task.skipped.items()):
            if path == task.report_path:
                review.errors.append(ReviewError(task.display(path), f"report not reviewed: {why}"))
        for rule in rules:
            try:
                found = list(rule.check(task, config))
            except Exception as exc:  # a broken rule must not cost the other rules or tasks
                where = traceback.extract_tb(exc.__traceback__)[-1]
                review.errors.append(ReviewError(
                    task.display(task.report_path),
                    f"rule {rule.id} failed on this task ({type(exc).__name__}: {exc} at "
                    f"{where.filename.rsplit('/', 1)[-1]}:{where.lineno}); other rules ran"))
                continue
            level = level_for(rule, config)
            for f in found:
                if rule.scope == "changed" and not task.is_changed(f.path, f.line):
                    continue
                if ignores.cover(f):
                    continue
                path = task.display(f.path)
                if path != f.path or level != f.level:  # most findings stand as the rule made them
                    f = dataclasses.replace(f, path=path, level=level)
                review.findings.append(f)
    review.findings = sorted(set(review.findings), key=Finding.sort_key)
    return review


class Suppressions:
    """The `mfbot: ignore` comments of one task's files. A file is looked at once, on the first
    finding in it: most files have none, and a task may have thousands of findings."""

    def __init__(self, task: Task):
        self.task = task
        self._lines: dict[str, list[str] | None] = {}  # path -> its lines, None when it names no mfbot

    def _lines_of(self, path: str) -> list[str] | None:
        if path not in self._lines:
            text = self.task.files.get(path)
            marked = text and any(word in text for word in ("mfbot", "MFBOT", "Mfbot"))
            self._lines[path] = text.split("\n") if marked else None
        return self._lines[path]

    def cover(self, f: Finding) -> bool:
        """`mfbot: ignore MF123` (or a bare `mfbot: ignore`) on the finding's line or the line above."""
        lines = self._lines_of(f.path)
        if lines is None:
            return False
        for n in (f.line, f.line - 1):
            if 0 < n <= len(lines):
                for m in _IGNORE.finditer(lines[n - 1]):
                    ids = {i.upper() for i in _RULE_ID.findall(m.group(1))}
                    if not ids or f.rule in ids:
                        return True
        return False
