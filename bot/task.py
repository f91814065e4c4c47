"""A task: the folder that holds one MODEL_FAILURES report, its sibling files and the IaC code.

Rules never touch the file system: a Task is built from a folder (the CLI) or from files fetched
from GitHub (the App), and carries which lines the pull request changed.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from bot.report import Report, parse_report

MAX_FILE_BYTES = 2_000_000  # larger files are not reviewed (reports of real tasks are < 200 kB)

MODEL_RESPONSE = "lib/MODEL_RESPONSE.md"
IDEAL_RESPONSE = "lib/IDEAL_RESPONSE.md"
PROMPT = "lib/PROMPT.md"
METADATA = "metadata.json"
AWS_REGION = "lib/AWS_REGION"

SOURCE_EXTENSIONS = (".ts", ".tsx", ".js", ".mjs", ".py", ".go", ".java", ".tf", ".hcl", ".yaml", ".yml", ".json", ".sh")
# Tooling and project files that are not the task's infrastructure code.
NOT_SOURCE = re.compile(
    r"(^|/)(package(-lock)?\.json|tsconfig[\w.-]*\.json|cdk(tf)?\.json|metadata\.json|jest\.config\.\w+|"
    r"\.eslintrc[\w.]*|eslint\.config\.\w+|\.prettierrc[\w.]*|Pulumi(\.[\w-]+)?\.yaml|go\.(mod|sum)|"
    r"Pipfile(\.lock)?|requirements[\w-]*\.txt|setup\.py|pyproject\.toml|\.gitignore|cfn-outputs/.*|"
    r"\.github/.*|\.vscode/.*|coverage/.*|.*\.d\.ts|__init__\.py|conftest\.py)$"
)
TEST_PATH = re.compile(r"(^|/)(tests?|__tests__)/|(\.|_)(test|spec)\.\w+$|(^|/)test_[\w-]+\.py$|_test\.go$")
SKIP_DIRS = {".git", "node_modules", "cdk.out", ".terraform", "dist", "build", "__pycache__", ".venv", "venv",
             ".pytest_cache", "coverage", "cdktf.out", ".gen"}


@dataclass
class Task:
    """One task. `files` maps paths relative to the task folder to their text."""

    root: str  # the task folder, relative to the reviewed root ("" when it is the root)
    files: dict[str, str]
    report_path: str = "lib/MODEL_FAILURES.md"
    changed: dict[str, set[int]] | None = None  # None: every line counts as changed (local review)
    skipped: dict[str, str] = field(default_factory=dict)  # path -> why it was not read

    def display(self, path: str) -> str:
        """The path as the user sees it: relative to the reviewed root."""
        return posixpath.join(self.root, path) if self.root else path

    def get(self, path: str) -> str | None:
        return self.files.get(path)

    @cached_property
    def report(self) -> Report:
        return parse_report(self.files.get(self.report_path, ""), self.report_path)

    @property
    def model_response(self) -> str | None:
        return self.files.get(MODEL_RESPONSE)

    @property
    def ideal_response(self) -> str | None:
        return self.files.get(IDEAL_RESPONSE)

    @property
    def prompt(self) -> str | None:
        return self.files.get(PROMPT)

    @cached_property
    def metadata(self) -> dict | None:
        """metadata.json as a dict, or None when it is missing or not a JSON object."""
        text = self.files.get(METADATA)
        if text is None:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    @cached_property
    def source_paths(self) -> list[str]:
        """The final IaC sources (not tests, docs or tooling files)."""
        return sorted(p for p in self.files if is_source(p) and not TEST_PATH.search(p))

    @cached_property
    def template_twins(self) -> frozenset[str]:
        """JSON copies of the task's CloudFormation YAML templates (`X.json` beside `X.yml`): generated
        from the YAML for the unit tests (cfn-flip), not deployed. 198 of the corpus's 230 CloudFormation
        YAML tasks have one; the IaC rules and IDEAL_SYNC read the YAML only (a finding on the twin would
        repeat the YAML's, and a stale twin is not what gets deployed)."""
        stems = {p.rsplit(".", 1)[0] for p in self.source_paths if p.endswith((".yml", ".yaml"))}
        return frozenset(p for p in self.source_paths if p.endswith(".json") and p[:-5] in stems)

    @cached_property
    def test_paths(self) -> list[str]:
        return sorted(p for p in self.files if is_source(p) and TEST_PATH.search(p))

    def is_changed(self, path: str, line: int) -> bool:
        if self.changed is None:
            return True
        return line in self.changed.get(path, ())


def is_source(path: str) -> bool:
    return path.endswith(SOURCE_EXTENSIONS) and not NOT_SOURCE.search(path)


def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """`**/MODEL_FAILURES.md` style globs: `**/` any folders, `*` and `?` within one name."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def task_root_of(report_path: str) -> str:
    """`x/lib/MODEL_FAILURES.md` -> `x`; a report outside `lib/` -> its own folder."""
    folder = posixpath.dirname(report_path)
    if posixpath.basename(folder) == "lib":
        return posixpath.dirname(folder)
    return folder


def report_paths(paths, report_glob: str) -> list[str]:
    rx = glob_to_regex(report_glob)
    return sorted(p for p in paths if rx.match(p))


def split_tasks(files: dict[str, str], report_glob: str, changed: dict[str, set[int]] | None = None,
                skipped: dict[str, str] | None = None) -> list[Task]:
    """Group repository files (path -> text) into tasks, one per report the glob matches.

    A file belongs to the innermost task folder that holds it, so a path may hold many tasks
    (a repository root with archived tasks below it).
    """
    skipped = skipped or {}
    reports = report_paths(list(files) + list(skipped), report_glob)
    roots = {task_root_of(r): r for r in reports}
    by_root: dict[str, dict[str, str]] = {root: {} for root in roots}
    skipped_by_root: dict[str, dict[str, str]] = {root: {} for root in roots}
    for source, target in ((files, by_root), (skipped, skipped_by_root)):
        for path, value in source.items():
            root = _innermost_root(path, roots)
            if root is not None:
                target[root][_relative(path, root)] = value
    tasks = []
    for root, report in sorted(roots.items()):
        task_changed = None
        if changed is not None:
            task_changed = {_relative(p, root): lines for p, lines in changed.items() if _innermost_root(p, roots) == root}
        tasks.append(Task(root, by_root[root], _relative(report, root), task_changed, skipped_by_root[root]))
    return tasks


def _innermost_root(path: str, roots) -> str | None:
    best = None
    for root in roots:
        if (root == "" or path.startswith(root + "/")) and (best is None or len(root) > len(best)):
            best = root
    return best


def _relative(path: str, root: str) -> str:
    return path[len(root) + 1:] if root else path


def decode(data: bytes) -> str | None:
    """Text of a file, or None when it is binary. Invalid UTF-8 is read with replacement."""
    if b"\x00" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace").lstrip("\ufeff")


def load_tree(path: str | os.PathLike, report_glob: str) -> tuple[list[Task], dict[str, str]]:
    """Tasks under a folder (or the task of one report file), with files that could not be read."""
    base = Path(path)
    if base.is_file():
        # A single report: its task is the folder around it.
        report = base.resolve()
        root = report.parent.parent if report.parent.name == "lib" else report.parent
        base, only = root, report.relative_to(root).as_posix()
        report_glob = only
    files: dict[str, str] = {}
    skipped: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            full = Path(dirpath) / name
            rel = full.relative_to(base).as_posix()
            try:
                size = full.stat().st_size
                if size > MAX_FILE_BYTES:
                    skipped[rel] = f"{size / 1e6:.1f} MB, over the {MAX_FILE_BYTES / 1e6:.0f} MB limit"
                    continue
                text = decode(full.read_bytes())
            except OSError as exc:
                skipped[rel] = f"unreadable: {exc.strerror or exc}"
                continue
            if text is None:
                skipped[rel] = "binary file"
            else:
                files[rel] = text
    return split_tasks(files, report_glob, skipped=skipped), skipped
