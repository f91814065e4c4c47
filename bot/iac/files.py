"""The IaC code of a task, parsed once and shared by every rule: the final sources and the code
fences of MODEL_RESPONSE.md, each as a `SourceFile` with its tree and its `V` value tree.

The parsed files are cached on the Task object, so the rules of a review parse each file once.
"""

from __future__ import annotations

import gc
import re
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Iterator

from bot.iac import langs
from bot.iac.convert import CONVERTERS, convert
from bot.iac.values import OBJ, STR, TPL, V

if TYPE_CHECKING:
    from bot.task import Task

MODEL_RESPONSE = "lib/MODEL_RESPONSE.md"
CFN_HINT = re.compile(r"AWS::|AWSTemplateFormatVersion|Resources")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([\w+#.-]*)")
_CACHE_ATTR = "_iac_cache"


@dataclass(eq=False)
class SourceFile:
    """One piece of code: a file, or a fenced block of a markdown file (then `offset` is the line
    of the fence, so node lines are lines of `path`)."""

    path: str
    lang: str
    text: str
    offset: int = 0

    @cached_property
    def tree(self):
        return langs.parse(self.text, self.lang)

    @cached_property
    def root(self) -> V | None:
        if self.lang not in CONVERTERS:  # Go, Java: no value model, so no need to parse for one
            return None
        tree = self.tree
        if tree is None:
            return None
        with _collector_paused():
            return convert(tree, self.lang, self.offset)

    @cached_property
    def nodes(self) -> list[tuple[V, str]]:
        """Every value node with its enclosing key, computed once and shared by the rules."""
        if self.root is None:
            return []
        with _collector_paused():
            return list(self.root.walk())

    @cached_property
    def strings(self) -> list[tuple[V, str]]:
        with _collector_paused():  # many new tuples: see _collector_paused
            return [(n, k) for n, k in self.nodes if n.kind in (STR, TPL)]

    @cached_property
    def platform(self) -> str:
        """"cfn" (a CloudFormation template), "tf", "source" (CDK/CDKTF/Pulumi code) or "data"."""
        if self.lang == "hcl":
            return "tf"
        if self.lang in ("yaml", "json"):
            return "cfn" if CFN_HINT.search(self.text) and self.resources_obj() is not None else "data"
        return "source"

    def resources_obj(self) -> V | None:
        root = self.root
        if root is None or root.kind != OBJ:
            return None
        res = root.get("Resources")
        if res is None or res.kind != OBJ:
            return None
        for _, r in res.items:
            t = r.get("Type") if r.kind == OBJ else None
            if t is not None and t.kind == STR and "::" in t.text:
                return res
        return None

    @cached_property
    def lines(self) -> list[str]:
        return self.text.split("\n")

    def line_text(self, line: int) -> str:
        lines = self.lines
        i = line - self.offset - 1
        return lines[i].strip() if 0 <= i < len(lines) else ""


@contextmanager
def _collector_paused():
    """Pause Python's cycle collector while a value tree is built. The trees are acyclic (freed by
    reference counting alone), but their many small objects made the collector rescan the heap over
    and over: a third of the IaC family's CPU time. Restores the previous state; nesting-safe."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _cache(task: "Task") -> dict:
    cache = task.__dict__.get(_CACHE_ATTR)
    if cache is None:
        cache = {}
        task.__dict__[_CACHE_ATTR] = cache
    return cache


def final_files(task: "Task") -> list[SourceFile]:
    """The task's final IaC sources (no tests) that a grammar can read."""
    cache = _cache(task)
    if "final" not in cache:
        cache["final"] = _files_of(task, task.source_paths)
    return cache["final"]


def test_files(task: "Task") -> list[SourceFile]:
    cache = _cache(task)
    if "tests" not in cache:
        cache["tests"] = _files_of(task, task.test_paths)
    return cache["tests"]


def _files_of(task: "Task", paths: list[str]) -> list[SourceFile]:
    out = []
    for path in paths:
        lang = langs.language_for_path(path)
        text = task.files.get(path)
        if lang and text and langs.language(lang) is not None:
            out.append(SourceFile(path, lang, text))
    return out


def model_files(task: "Task") -> list[SourceFile]:
    """The code fences of MODEL_RESPONSE.md: the model's code as it was generated."""
    cache = _cache(task)
    if "model" not in cache:
        cache["model"] = fenced_blocks(task.files.get(MODEL_RESPONSE) or "", MODEL_RESPONSE)
    return cache["model"]


def fenced_blocks(markdown: str, path: str) -> list[SourceFile]:
    """Fenced code blocks in a language a grammar reads; `path` and lines are the markdown file's."""
    out = []
    for lang, text, fence_line in iter_fences(markdown):
        name = langs.language_for_fence(lang) or _guess_language(text)
        if name and text.strip() and langs.language(name) is not None:
            out.append(SourceFile(path, name, text, fence_line))
    return out


def iter_fences(markdown: str) -> Iterator[tuple[str, str, int]]:
    """(info word, code, line of the opening fence) for each fenced block."""
    lines = markdown.split("\n")
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, lang, start = m.group(1), m.group(2), i
        i += 1
        body = []
        while i < len(lines) and not (lines[i].lstrip().startswith(fence[0] * len(fence))
                                      and not lines[i].strip().strip(fence[0])):
            body.append(lines[i])
            i += 1
        i += 1
        yield lang, "\n".join(body), start + 1


def _guess_language(text: str) -> str | None:
    head = text.lstrip()[:400]
    if head.startswith("{") and '"' in head:
        return "json"
    if re.search(r"^(AWSTemplateFormatVersion|Resources):", head, re.M):
        return "yaml"
    if re.search(r'^(resource|variable|provider|terraform|module|data) "', head, re.M):
        return "hcl"
    return None


def snippet_files(task: "Task", blocks) -> list[SourceFile]:
    """Code blocks of the task's report (bot.report CodeBlock) as SourceFiles, each parsed once."""
    cache = _cache(task).setdefault("snippets", {})
    out = []
    for block in blocks:
        key = (block.line, block.end_line)
        if key not in cache:
            name = langs.language_for_fence(block.lang or "") or _guess_language(block.text)
            ok = name and block.text.strip() and langs.language(name) is not None
            cache[key] = SourceFile(task.report_path, name, block.text, block.line) if ok else None
        if cache[key] is not None:
            out.append(cache[key])
    return out
