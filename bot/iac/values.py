"""One value model for every platform: a CloudFormation template, a Terraform body and a CDK/CDKTF/
Pulumi program all become trees of `V` nodes (objects, arrays, strings, calls, references), each
with its line and flags that say whether it sits in a conditional or an env fallback.

Rules are written against this model, so one rule covers `Action: "*"` in YAML, `actions = ["*"]`
in HCL and `actions: ['*']` in TypeScript alike.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Iterator

# kinds
OBJ, ARR, STR, TPL, NUM, BOOL, NULL, REF, CALL, ALT, BLOCK = (
    "obj", "arr", "str", "tpl", "num", "bool", "null", "ref", "call", "alt", "block")
# flags
COND = 1  # in a branch of a ternary, an `if` or `Fn::If`: the value is not unconditional
FALLBACK = 2  # the default of an env lookup (`process.env.X || '123'`, `os.getenv("X", "123")`)
SPREAD = 4  # an object with `...rest` / `**kwargs`: absent keys may come from elsewhere


class V:
    """A value node. `items` holds (key, V) pairs for objects (keys may repeat: HCL blocks) and V
    for arrays, call arguments, alternatives and blocks. `text` is the literal value of strings,
    numbers and booleans and the source text of references; `name` the callee of a call or the
    type of an HCL block; `labels` an HCL block's labels; `recv` the receiver call of a chained call."""

    __slots__ = ("kind", "line", "end", "text", "items", "name", "flags", "labels", "recv")

    def __init__(self, kind: str, line: int, end: int, text: str = "", items: list | None = None,
                 name: str = "", flags: int = 0, labels: tuple[str, ...] = (), recv: "V | None" = None):
        self.kind, self.line, self.end, self.text = kind, line, end, text
        self.items = items if items is not None else ()  # leaves share one untracked empty tuple
        self.name, self.flags, self.labels, self.recv = name, flags, labels, recv

    def __repr__(self) -> str:
        return f"V({self.kind}, line {self.line}, {self.name or self.text[:30]!r})"

    @property
    def conditional(self) -> bool:
        return bool(self.flags & COND)

    def pairs(self) -> list[tuple[str, "V"]]:
        return self.items if self.kind == OBJ else []

    def get(self, *keys: str) -> "V | None":
        """The first value under any of `keys`, compared by `norm` (so `BucketName`, `bucket_name`
        and `bucketName` are one key)."""
        if self.kind != OBJ:
            return None
        if len(keys) == 1:  # the common case, without building a set per call
            want = norm(keys[0])
            for k, v in self.items:
                if norm(k) == want:
                    return v
            return None
        wanted = {norm(k) for k in keys}
        for k, v in self.items:
            if norm(k) in wanted:
                return v
        return None

    def get_all(self, *keys: str) -> list["V"]:
        wanted = {norm(k) for k in keys}
        return [v for k, v in self.pairs() if norm(k) in wanted]

    def children(self) -> Iterator["V"]:
        if self.kind == OBJ:
            for _, v in self.items:
                yield v
        else:
            yield from self.items
        if self.recv is not None:
            yield self.recv

    def walk(self, key: str = "") -> Iterator[tuple["V", str]]:
        """Every node below and including this one, with its enclosing key (the nearest object
        key above it; array items inherit their array's key)."""
        stack: list[tuple[V, str]] = [(self, key)]
        pop = stack.pop
        while stack:
            node, k = pop()
            yield node, k
            items = node.items
            if node.kind == OBJ:
                if items:
                    stack += [(v, kk) for kk, v in reversed(items)]
            else:
                if items:
                    stack += [(v, k) for v in reversed(items)]
                if node.recv is not None:
                    stack.append((node.recv, k))

    def strings(self) -> Iterator["V"]:
        for node, _ in self.walk():
            if node.kind in (STR, TPL):
                yield node

    def elements(self) -> list["V"]:
        """An array's items, or the value itself: `Action: "*"` and `Action: ["*"]` read alike."""
        return list(self.items) if self.kind == ARR else [self]

    def str_values(self) -> list[str]:
        return [e.text for e in self.elements() if e.kind in (STR, TPL)]

    def is_true(self) -> bool:
        return self.kind == BOOL and self.text.lower() == "true"

    def is_false(self) -> bool:
        return self.kind == BOOL and self.text.lower() == "false"

    def py(self) -> Any:
        """Plain Python data (later keys win), as PyYAML / json would load it."""
        if self.kind == OBJ:
            return {k: v.py() for k, v in self.items}
        if self.kind == ARR:
            return [v.py() for v in self.items]
        if self.kind == NUM:
            return _number(self.text)
        if self.kind == BOOL:
            return self.text.lower() in ("true", "yes", "on")
        if self.kind == NULL:
            return None
        return self.text


_NORM = re.compile(r"[_\-\s]")


@lru_cache(maxsize=4096)
def norm(key: str) -> str:
    return _NORM.sub("", key).lower()


def _number(text: str) -> int | float | str:
    t = text.replace("_", "")
    try:
        if re.fullmatch(r"[-+]?0x[0-9a-fA-F]+", t):
            return int(t, 16)
        if re.fullmatch(r"[-+]?0o?[0-7]+", t) and len(t.lstrip("+-")) > 1:
            return int(t.replace("0o", "0"), 8)
        return int(t)
    except ValueError:
        pass
    low = t.lower()
    if low in (".inf", "+.inf"):
        return float("inf")
    if low == "-.inf":
        return float("-inf")
    if low == ".nan":
        return float("nan")
    try:
        return float(t)
    except ValueError:
        return text
