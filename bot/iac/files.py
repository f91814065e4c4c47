"""The IaC code of a task, parsed once and shared by every rule: the final sources and the code
fences of MODEL_RESPONSE.md, each as a `SourceFile` with its tree and its `V` value tree (JSON,
Terraform and YAML are read straight into values, without a tree, unless the reader is unsure), the
value nodes in walk order and indexes into them.

The parsed files are cached on the Task object, so the rules of a review parse each file once.
"""

from __future__ import annotations

import gc
import re
from dataclasses import dataclass
from functools import cached_property
from itertools import chain
from typing import TYPE_CHECKING, Iterable, Iterator

from bot.iac import langs
from bot.iac.convert import CONVERTERS, convert, json_values
from bot.iac.hcl import hcl_values
from bot.iac.yaml_reader import yaml_values
from bot.iac.values import OBJ, STR, TPL, V, norm

if TYPE_CHECKING:
    from bot.task import Task

MODEL_RESPONSE = "lib/MODEL_RESPONSE.md"
CFN_HINT = re.compile(r"AWS::|AWSTemplateFormatVersion|Resources")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([\w+#.-]*)")
_CACHE_ATTR = "_iac_cache"
# Value trees read straight from the text, without a syntax tree (None: unsure, the tree decides).
_READERS = {"json": json_values, "hcl": hcl_values, "yaml": yaml_values}


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

    @property
    def convertible(self) -> bool:
        """Whether the language has a value model (Go, Java have none: no need to parse for one)."""
        return self.lang in CONVERTERS

    @cached_property
    def root(self) -> V | None:
        if not self.convertible:
            return None
        reader = _READERS.get(self.lang)
        if reader is not None:
            value = _without_gc(reader, self.text, self.offset)
            if value is not None:
                return value
        tree = self.tree
        if tree is None:
            return None
        return _without_gc(convert, tree, self.lang, self.offset)

    @cached_property
    def nodes(self) -> list[tuple[V, str]]:
        """Every value node with its enclosing key (in `V.walk` order), computed once and shared by the rules."""
        return self._walked[0]

    @cached_property
    def strings(self) -> list[tuple[V, str]]:
        nodes = self.nodes
        return _without_gc(lambda: [nodes[i] for i in self.positions(kinds=(STR, TPL))])

    def positions(self, kinds: Iterable[str] = (), under: Iterable[str] = (), holding: Iterable[str] = ()) -> list[int]:
        """Indexes into `nodes`, in walk order, of the nodes of `kinds`, the nodes whose enclosing key is
        one of `under` and the objects with an item under one of `holding` (keys as `norm` gives them).
        A rule that can fire only on such nodes looks at them instead of at every node."""
        by_kind = self._walked[1]
        found = [by_kind.get(k, ()) for k in kinds]
        if under:
            found += [at for key, at in self._by_key.items() if norm(key) in under]
        if holding:
            found += [at for key, at in self._by_item_key.items() if norm(key) in holding]
        if len(found) == 1 and not holding:  # one list, already in order and without repeats
            return list(found[0])
        return sorted(set(chain.from_iterable(found)))

    @cached_property
    def _walked(self) -> tuple[list[tuple[V, str]], dict[str, list[int]]]:
        return _without_gc(_walk, self.root)

    @cached_property
    def _by_key(self) -> dict[str, list[int]]:
        """Positions in `nodes` by enclosing key."""
        return _without_gc(_group, ((key, i) for i, (_, key) in enumerate(self.nodes)))

    @cached_property
    def _by_item_key(self) -> dict[str, list[int]]:
        """Positions in `nodes` of the objects by the keys of their items (an object twice under a repeated key)."""
        nodes = self.nodes
        return _without_gc(_group, ((k, i) for i in self._walked[1].get(OBJ, ()) for k, _ in nodes[i][0].items))

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

    @property
    def parsed(self) -> bool:
        """Whether the value tree is built already: a rule may then skip its text prefilter."""
        return "root" in self.__dict__

    def line_text(self, line: int) -> str:
        lines = self.lines
        i = line - self.offset - 1
        return lines[i].strip() if 0 <= i < len(lines) else ""


def _walk(root: V | None) -> tuple[list[tuple[V, str]], dict[str, list[int]]]:
    """`list(root.walk())` and the positions in it by kind."""
    nodes = list(root.walk()) if root is not None else []
    return nodes, _group((node.kind, i) for i, (node, _) in enumerate(nodes))


def _group(pairs: Iterable[tuple[str, int]]) -> dict[str, list[int]]:
    """Positions grouped by key, each list in the order given."""
    grouped: dict[str, list[int]] = {}
    for key, i in pairs:
        at = grouped.get(key)
        if at is None:
            grouped[key] = [i]
        else:
            at.append(i)
    return grouped


def _without_gc(build, *args):
    """`build(*args)` with Python's cycle collector paused, the result then filed with the old objects.
    Value trees and their indexes are acyclic (freed by reference counting alone) but large: left
    among the young objects, each was scanned by the next young collections and counted towards full
    ones (0.8 s of the IaC family's CPU time in the corpus sweep, 0.1 s filed this way)."""
    if not gc.isenabled():
        return build(*args)
    gc.disable()
    try:
        return build(*args)
    finally:
        # Together: every live object to the oldest generation, unscanned, and the young-object count
        # reset. Cyclic garbage among them is still found, by the next full collection. (This undoes
        # a process-wide gc.freeze(); the project makes none.)
        gc.freeze()
        gc.unfreeze()
        gc.enable()


def _cache(task: "Task") -> dict:
    cache = task.__dict__.get(_CACHE_ATTR)
    if cache is None:
        cache = {}
        task.__dict__[_CACHE_ATTR] = cache
    return cache


def final_files(task: "Task") -> list[SourceFile]:
    """The task's final IaC sources that a grammar can read: no tests, no generated template twins and
    no runtime code."""
    cache = _cache(task)
    if "final" not in cache:
        files = _files_of(task, [p for p in task.source_paths if p not in task.template_twins])
        cache["final"] = [f for f in files if not is_runtime_code(f.lang, f.text)]
    return cache["final"]


# Code that runs against AWS instead of declaring it: a Lambda handler, or a script using an AWS SDK, that
# imports no IaC framework. Its `region_name="us-east-1"` and `FunctionName=...` are calls, not resource
# definitions, and the IaC rules' advice (`Stack.of(this).region`, a suffix on the name) does not apply.
# (The same reason keeps analysis tasks out of the IaC rules.) 3 MB of the corpus's final sources.
# Substring tests: a pattern would cost a scan of every line of every file.
_IAC_FRAMEWORK = ("aws_cdk", "aws-cdk", "cdktf", "pulumi", "constructs")
_SDK = ("import boto3", "from boto3", "import botocore", "from botocore", "@aws-sdk/", "'aws-sdk", '"aws-sdk')
_HANDLER = re.compile(r"def[ \t]+\w*handler[ \t]*\([ \t]*event\b|\bexports\.handler[ \t]*="
                      r"|export[ \t]+(?:const|let|(?:async[ \t]+)?function)[ \t]+handler\b")
_CODE_LANGS = frozenset({"python", "typescript", "tsx", "javascript"})


def is_runtime_code(lang: str, text: str) -> bool:
    if lang not in _CODE_LANGS or any(word in text for word in _IAC_FRAMEWORK):
        return False
    return any(word in text for word in _SDK) or ("handler" in text and _HANDLER.search(text) is not None)


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
