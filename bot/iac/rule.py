"""The base of the IaC rules: detection on parsed files, context filters, and the Rule glue.

A rule's `detect` finds raw hits in any set of files (the final sources or the model's code
fences); `allowed` then applies the task's context (PROMPT.md, settings) to standalone findings.
The claim checks (bot/rules/iac_claims.py) call `detect` directly on both code versions.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Callable, ClassVar, Iterable, Iterator

from bot.iac.files import SourceFile, final_files
from bot.iac.values import COND, FALLBACK, V
from bot.rules import Rule

if TYPE_CHECKING:
    from bot.config import Config
    from bot.task import Task

SETTINGS_FAMILY = "iac"


@dataclass(frozen=True)
class Hit:
    """A defect found in code: where, what (resource, attribute, fix) and the code line."""

    path: str
    line: int
    message: str
    evidence: str = ""
    replacement: str | None = None
    tag: str = ""  # the variant found (`retain`, `deletion-protection`, `aes256`): context filters and claims use it


def unconditional(node: V) -> bool:
    """Not inside a ternary/if/Fn::If branch and not an env-lookup default."""
    return not node.flags & (COND | FALLBACK)


class Context:
    """What rules may consult besides the code: PROMPT.md, the task's package pins, settings."""

    def __init__(self, task: "Task", config: "Config"):
        self.task = task
        self.config = config
        self.prompt = task.prompt or ""

    @property
    def is_iac(self) -> bool:
        """Analysis tasks hold scripts that inspect AWS accounts (their `AdministratorAccess` or
        `encrypted: False` are data they look for), not infrastructure code."""
        platform = str((self.task.metadata or {}).get("platform", "")).lower()
        return not platform.startswith("analysis")

    def setting(self, key: str, default):
        return self.config.setting(SETTINGS_FAMILY, key, default)

    def prompt_has(self, literal: str) -> bool:
        return bool(literal) and literal.lower() in self.prompt.lower()

    @cached_property
    def pulumi_aws_major(self) -> int | None:
        """The major version of the Pulumi AWS provider the task pins, if it pins one."""
        for path, text in self.task.files.items():
            name = path.rsplit("/", 1)[-1]
            if name == "package.json":
                try:
                    deps = json.loads(text)
                except ValueError:
                    continue
                if isinstance(deps, dict):
                    for section in ("dependencies", "devDependencies"):
                        spec = (deps.get(section) or {}).get("@pulumi/aws") if isinstance(deps.get(section), dict) else None
                        if isinstance(spec, str):
                            m = re.search(r"(\d+)", spec)
                            if m:
                                return int(m.group(1))
            elif name.startswith("requirements") or name in ("Pipfile", "pyproject.toml", "setup.py"):
                m = re.search(r"pulumi[-_]aws\s*[\"']?\s*(?:[=<>~^!]=?|==)\s*[\"']?v?(\d+)", text)
                if m:
                    return int(m.group(1))
            elif name == "go.mod":
                m = re.search(r"github\.com/pulumi/pulumi-aws/sdk(?:/v(\d+))?\s+v(\d+)", text)
                if m:
                    return int(m.group(1) or m.group(2))
        return None


class IacRule(Rule):
    """An IaC rule. Standalone findings only on changed lines in the App (`scope = "changed"`)."""

    scope = "changed"
    platforms: ClassVar[tuple[str, ...]] = ("cfn", "tf", "source")
    security: ClassVar[bool] = False  # a defect that weakens security: a new one after a "fix" is a downgrade
    # Substrings a file must contain (any of them) for the rule to look at it: files without them are
    # never parsed for this rule. Plain substring tests, not regexes: they cost microseconds.
    trigger: ClassVar[tuple[str, ...]] = ()
    # A pattern the file text must also match (a literal the defect cannot exist without, such as the
    # 12 digits of an account id), or a function of the text saying so faster than a pattern can: a
    # second cheap filter that keeps most files from being parsed.
    needs: ClassVar[re.Pattern | Callable[[str], bool] | None] = None

    def triggered(self, f: SourceFile) -> bool:
        """Cached per file: the claim checks ask again for the same files."""
        seen = f.__dict__.get("_triggered")
        if seen is None:
            seen = f.__dict__["_triggered"] = {}
        hit = seen.get(self.id)
        if hit is None:
            text = f.text
            hit = seen[self.id] = (not self.trigger or any(t in text for t in self.trigger)) and self._needs_met(text)
        return hit

    def _needs_met(self, text: str) -> bool:
        needs = self.needs
        if needs is None:
            return True
        if isinstance(needs, re.Pattern):
            return needs.search(text) is not None
        return needs(text)

    def detect(self, files: Iterable[SourceFile], ctx: Context) -> Iterator[Hit]:
        for f in files:
            if f.convertible and self.triggered(f) and f.platform in self.platforms and f.root is not None:
                yield from self.file_hits(f, ctx)

    def file_hits(self, f: SourceFile, ctx: Context) -> list[Hit]:
        """`detect_file`, remembered per file: the claim checks run the same rule on the same files
        again. A file belongs to one task, so only the config can differ between calls."""
        done = f.__dict__.get("_hits")
        if done is None:
            done = f.__dict__["_hits"] = {}
        config, hits = done.get(self.id, (None, None))
        if hits is None or config is not ctx.config:
            hits = list(self.detect_file(f, ctx))
            done[self.id] = (ctx.config, hits)
        return hits

    def detect_file(self, f: SourceFile, ctx: Context) -> Iterator[Hit]:
        raise NotImplementedError

    def allowed(self, hit: Hit, ctx: Context) -> bool:
        """Context filter for standalone findings (PROMPT.md, settings)."""
        return True

    def enabled(self, ctx: Context) -> bool:
        return ctx.is_iac

    def check(self, task: "Task", config: "Config"):
        ctx = Context(task, config)
        if not self.enabled(ctx):
            return
        files = final_files(task)
        if task.changed is not None:  # the App: only files the pull request changed
            files = [f for f in files if task.changed.get(f.path)]
        for hit in self.detect(files, ctx):
            if self.allowed(hit, ctx):
                yield self.finding(hit.path, hit.line, hit.message, hit.evidence, replacement=hit.replacement)

    def hit(self, f: SourceFile, node: V, message: str, tag: str = "", replacement: str | None = None) -> Hit:
        return Hit(f.path, node.line, message, f.line_text(node.line)[:200], replacement, tag)
