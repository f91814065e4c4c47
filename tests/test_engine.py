"""The engine: inline suppressions, changed-line scope, levels, paths, and rules that crash."""

from __future__ import annotations

import pytest

import bot.engine
from bot.config import Config
from bot.engine import review_tasks
from bot.findings import Level
from bot.rules import Rule, get_rule
from bot.task import Task, split_tasks
from tests.conftest import review_files

REPORT = "lib/MODEL_FAILURES.md"
GARBLED = "The modelâ€™s bucket had no `BucketEncryption`, so `CreateBucket` failed with AccessDenied."


def mojibake_lines(text: str, changed=None) -> list[int]:
    review = review_files({REPORT: text}, changed=changed)
    return [f.line for f in review.findings if f.rule == "MF101"]


def test_unsuppressed_finding():
    assert mojibake_lines(f"# Model Failures\n\n{GARBLED}\n") == [3]


@pytest.mark.parametrize("text", [
    f"# Model Failures\n\n{GARBLED} <!-- mfbot: ignore MF101 -->\n",  # on the line
    f"# Model Failures\n\n<!-- mfbot: ignore MF101 -->\n{GARBLED}\n",  # on the line above
    f"# Model Failures\n\n<!-- mfbot: ignore MF105, MF101 -->\n{GARBLED}\n",  # one of several ids
    f"# Model Failures\n\n<!-- mfbot: ignore mf101 -->\n{GARBLED}\n",  # any case
    f"# Model Failures\n\n<!-- mfbot: ignore -->\n{GARBLED}\n",  # every rule
])
def test_inline_suppression(text):
    assert mojibake_lines(text) == []


@pytest.mark.parametrize("text, line", [
    (f"# Model Failures\n\n<!-- mfbot: ignore MF105 -->\n{GARBLED}\n", 4),  # another rule
    (f"# Model Failures\n\n<!-- mfbot: ignore MF101 -->\n\n{GARBLED}\n", 5),  # two lines above
    (f"# Model Failures\n\n{GARBLED}\n<!-- mfbot: ignore MF101 -->\n", 3),  # the line below
])
def test_suppression_is_narrow(text, line):
    assert mojibake_lines(text) == [line]


def test_suppression_of_one_line_leaves_the_others():
    text = f"# Model Failures\n\n{GARBLED} <!-- mfbot: ignore MF101 -->\n\n{GARBLED}\n"
    assert mojibake_lines(text) == [5]


class Boom(Rule):
    id, name, kind, level = "MF199", "boom", "BOOM", Level.ERROR
    summary, why, bad, good = "Crashes.", "A rule with a bug, for the engine's tests." * 2, {}, {}

    def check(self, task, config):
        yield self.finding(task.report_path, 1, "before the crash")
        raise KeyError("missing")


class OnChangedLines(Rule):
    id, name, kind, level, scope = "MF198", "every-line", "EVERY_LINE", Level.WARNING, "changed"
    summary, why, bad, good = "Every line.", "A rule scoped to changed lines, for the engine's tests." * 2, {}, {}

    def check(self, task, config):
        for n, _ in enumerate(task.report.lines, 1):
            yield self.finding(task.report_path, n, f"line {n}")


@pytest.fixture
def rules(monkeypatch):
    def use(*extra: Rule):
        monkeypatch.setattr(bot.engine, "all_rules", lambda: [*extra, get_rule("MF101")])
    return use


def test_a_crashing_rule_is_an_error_entry_and_the_rest_still_runs(rules):
    rules(Boom())
    tasks = [Task("a", {REPORT: f"# A\n\n{GARBLED}\n"}), Task("b", {REPORT: f"# B\n\n{GARBLED}\n"})]
    review = review_tasks(tasks, Config())
    assert [(e.path, e.message.split(" (")[0]) for e in review.errors] == [
        ("a/lib/MODEL_FAILURES.md", "rule MF199 failed on this task"),
        ("b/lib/MODEL_FAILURES.md", "rule MF199 failed on this task")]
    assert "KeyError" in review.errors[0].message and "other rules ran" in review.errors[0].message
    # Findings yielded before the crash are dropped with the rule; MF101 ran on both tasks.
    assert [(f.path, f.rule) for f in review.findings] == [
        ("a/lib/MODEL_FAILURES.md", "MF101"), ("b/lib/MODEL_FAILURES.md", "MF101")]


def test_changed_scope_keeps_only_changed_lines_in_the_app(rules):
    rules(OnChangedLines())
    text = f"# Model Failures\n\n{GARBLED}\nline four\n"
    local = review_files({REPORT: text})
    assert [f.line for f in local.findings if f.rule == "MF198"] == [1, 2, 3, 4, 5]
    app = review_files({REPORT: text}, changed={REPORT: {2, 4}})
    assert [f.line for f in app.findings if f.rule == "MF198"] == [2, 4]
    # A rule scoped to the whole report reports unchanged lines too.
    assert [f.line for f in app.findings if f.rule == "MF101"] == [3]


def test_paths_are_shown_relative_to_the_reviewed_root_and_levels_applied():
    files = {"archive/cdk-ts/Pr1/lib/MODEL_FAILURES.md": f"# M\n\n{GARBLED}\n",
             "tasks/two/MODEL_FAILURES.md": f"# M\n\n{GARBLED}\n"}
    tasks = split_tasks(files, "**/MODEL_FAILURES.md")
    assert [(t.root, t.report_path) for t in tasks] == [("archive/cdk-ts/Pr1", REPORT),
                                                       ("tasks/two", "MODEL_FAILURES.md")]
    review = review_tasks(tasks, Config(levels={"MF101": Level.NOTICE}))
    found = [f for f in review.findings if f.rule == "MF101"]
    assert [(f.path, f.line, f.level) for f in found] == [
        ("archive/cdk-ts/Pr1/lib/MODEL_FAILURES.md", 3, Level.NOTICE),
        ("tasks/two/MODEL_FAILURES.md", 3, Level.NOTICE)]


def test_findings_are_sorted_and_unique(rules):
    class Twice(Rule):
        id, name, kind, level = "MF197", "twice", "TWICE", Level.NOTICE
        summary, why, bad, good = "Twice.", "Reports one finding twice, for the engine's tests." * 2, {}, {}

        def check(self, task, config):
            yield self.finding(task.report_path, 9, "same")
            yield self.finding(task.report_path, 2, "other")
            yield self.finding(task.report_path, 9, "same")

    rules(Twice())
    review = review_files({REPORT: "# M\n"})
    assert [(f.line, f.message) for f in review.findings] == [(2, "other"), (9, "same")]


def test_skipped_report_is_an_error_not_a_crash():
    task = Task("x", {"metadata.json": "{}"}, skipped={REPORT: "binary file"})
    review = review_tasks([task], Config())
    assert [(e.path, e.message) for e in review.errors] == [("x/lib/MODEL_FAILURES.md", "report not reviewed: binary file")]
