"""The rule framework. One module per rule family; every rule registers itself with `@register`.

A rule has a stable id (`MF101`), a short name, a kind (the defect class), a default level, a one-line
summary, and the material of its doc page: why it matters and a failing and a passing example task
(path -> text). The examples are executable: a test checks that each rule fires on its failing example
and not on its passing one, so the docs cannot drift from the code.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, ClassVar, Iterable

from bot.findings import Finding, Level

if TYPE_CHECKING:
    from bot.config import Config
    from bot.task import Task


class Rule:
    id: ClassVar[str]
    name: ClassVar[str]
    kind: ClassVar[str]
    level: ClassVar[Level]
    summary: ClassVar[str]  # one line: what it finds
    why: ClassVar[str]  # why it matters, a short paragraph
    bad: ClassVar[dict[str, str]]  # a task (path -> text) on which the rule fires
    good: ClassVar[dict[str, str]]  # the same task, mended: the rule stays silent
    settings: ClassVar[dict[str, str]] = {}  # `settings.<family>.<key>` -> what it does (doc page)
    # "report": findings anywhere; "changed": in the App, only on lines the pull request changed.
    scope: ClassVar[str] = "report"

    def check(self, task: "Task", config: "Config") -> Iterable[Finding]:
        raise NotImplementedError

    def finding(self, path: str, line: int, message: str, evidence: str = "", end_line: int | None = None,
                replacement: str | None = None) -> Finding:
        """A finding of this rule; `path` is relative to the task folder."""
        return Finding(self.id, self.kind, self.level, path, line, message, evidence,
                       end_line if end_line and end_line > line else None, replacement)


_REGISTRY: dict[str, Rule] = {}
_LOADED = False


def register(cls: type[Rule]) -> type[Rule]:
    for attr in ("id", "name", "kind", "level", "summary", "why", "bad", "good"):
        if not hasattr(cls, attr):
            raise TypeError(f"rule {cls.__name__} lacks {attr}")
    clash = [r for r in _REGISTRY.values() if r.id == cls.id or r.name == cls.name]
    if clash and type(clash[0]).__qualname__ != cls.__qualname__:
        raise ValueError(f"rule {cls.id} {cls.name} clashes with {clash[0].id} {clash[0].name}")
    _REGISTRY[cls.id] = cls()
    return cls


def all_rules() -> list[Rule]:
    """Every rule, by id. Importing the family modules registers them."""
    global _LOADED
    if not _LOADED:
        for mod in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{mod.name}")
        _LOADED = True
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def get_rule(key: str) -> Rule | None:
    for rule in all_rules():
        if key in (rule.id, rule.name):
            return rule
    return None
