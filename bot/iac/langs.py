"""Tree-sitter languages from the pinned grammar wheels: loaded once, parsers and queries cached.

Nothing is downloaded at run time; a grammar that is not installed makes its language unavailable
(the files are then skipped), never an error.
"""

from __future__ import annotations

import importlib
import re
from functools import lru_cache

import tree_sitter as ts

# language -> (wheel module, function returning the grammar pointer)
_GRAMMARS = {
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "javascript": ("tree_sitter_javascript", "language"),
    "python": ("tree_sitter_python", "language"),
    "hcl": ("tree_sitter_hcl", "language"),
    "yaml": ("tree_sitter_yaml", "language"),
    "json": ("tree_sitter_json", "language"),
    "go": ("tree_sitter_go", "language"),
    "java": ("tree_sitter_java", "language"),
}

_EXTENSIONS = {
    ".ts": "typescript", ".tsx": "tsx", ".mts": "typescript", ".js": "javascript", ".mjs": "javascript",
    ".cjs": "javascript", ".jsx": "javascript", ".py": "python", ".tf": "hcl", ".hcl": "hcl",
    ".yaml": "yaml", ".yml": "yaml", ".json": "json", ".template": "yaml", ".go": "go", ".java": "java",
}

# Markdown fence words -> language.
_FENCES = {
    "ts": "typescript", "typescript": "typescript", "tsx": "tsx", "js": "javascript", "javascript": "javascript",
    "jsx": "javascript", "py": "python", "python": "python", "python3": "python", "hcl": "hcl", "tf": "hcl",
    "terraform": "hcl", "yaml": "yaml", "yml": "yaml", "json": "json", "go": "go", "golang": "go", "java": "java",
}


@lru_cache(maxsize=None)
def language(name: str) -> ts.Language | None:
    module_name, func = _GRAMMARS[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    return ts.Language(getattr(module, func)())


@lru_cache(maxsize=None)
def parser(name: str) -> ts.Parser | None:
    lang = language(name)
    return ts.Parser(lang) if lang is not None else None


@lru_cache(maxsize=None)
def query(name: str, source: str) -> ts.Query:
    """A compiled query, compiled once per (language, source)."""
    return ts.Query(language(name), source)


def captures(name: str, source: str, node: ts.Node) -> dict[str, list[ts.Node]]:
    return ts.QueryCursor(query(name, source)).captures(node)


def matches(name: str, source: str, node: ts.Node) -> list[dict[str, ts.Node]]:
    """Each match of a query as {capture name: node}: the captures of one match stay together
    (zipping the per-name lists of `captures` pairs nodes of different matches)."""
    return [{k: v[0] for k, v in caps.items()} for _, caps in ts.QueryCursor(query(name, source)).matches(node)]


# tree-sitter-yaml's scanner writes past its state buffer, and kills the process, beyond about 230 levels
# of block nesting (`- - - ...` on one line, keys each indented one space more). A level takes at least
# one column of indentation or of `- `/`? ` indicators, so text whose lines stay under 200 such columns is
# safe; deeper text is not parsed (no tree, no IaC findings) rather than crash a worker on every retry.
_YAML_TOO_DEEP = re.compile(r"\n[ \t?:-]{200}")


def parse(text: str, name: str) -> ts.Tree | None:
    p = parser(name)
    if p is None or (name == "yaml" and _YAML_TOO_DEEP.search("\n" + text)):
        return None
    return p.parse(text.encode("utf-8"))


def language_for_path(path: str) -> str | None:
    dot = path.rfind(".")
    return _EXTENSIONS.get(path[dot:].lower()) if dot >= 0 else None


def language_for_fence(lang: str) -> str | None:
    return _FENCES.get(lang.strip().lower())
