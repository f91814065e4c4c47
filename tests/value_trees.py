"""Value trees compared slot by slot: the direct readers (JSON, HCL, YAML) against the tree-sitter path."""

from __future__ import annotations

from typing import Callable

from bot.iac import langs
from bot.iac.convert import convert
from bot.iac.values import V


def differences(a: V, b: V, path: str = "root") -> list[str]:
    """Where two value trees differ: every slot, items in order (keys too), even the items' container."""
    slots = ("kind", "line", "end", "text", "name", "flags", "labels")
    out = [f"{path}.{s}: {getattr(a, s)!r} != {getattr(b, s)!r}" for s in slots if getattr(a, s) != getattr(b, s)]
    if type(a.items) is not type(b.items) or len(a.items) != len(b.items):
        return out + [f"{path}.items: {a.items!r} != {b.items!r}"]
    for i, (x, y) in enumerate(zip(a.items, b.items)):
        if a.kind == "obj":
            if x[0] != y[0]:
                out.append(f"{path}[{i}] key {x[0]!r} != {y[0]!r}")
            x, y = x[1], y[1]
        out += differences(x, y, f"{path}[{i}]")
    if (a.recv is None) != (b.recv is None):
        out.append(f"{path}.recv")
    elif a.recv is not None:
        out += differences(a.recv, b.recv, path + ".recv")
    return out


def same_as_tree(reader: Callable[[str, int], V | None], lang: str, text: str, offset: int = 0) -> V:
    """What `reader` makes of a valid text, checked equal to the tree-sitter path's value tree."""
    tree = langs.parse(text, lang)
    assert not tree.root_node.has_error, "fixture must be valid for tree-sitter"
    fast = reader(text, offset)
    assert fast is not None, "the reader gave up"
    assert differences(fast, convert(tree, lang, offset)) == []
    return fast
