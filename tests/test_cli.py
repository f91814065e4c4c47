"""`mfbot review` and `mfbot rules`: exit codes, output, configuration files, unreadable reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import bot.task
from bot.cli import main
from bot.rules import all_rules

CLEAN = ("# Model Failures\n\n### 1. Flow logs without a role\n\nThe model's `aws_flow_log` had no `iam_role_arn`, "
         "so the deployment failed with `InvalidParameter`.\n")
GARBLED = CLEAN.replace("model's", "modelâ€™s")  # MF101 on line 5


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return root


def only_hygiene(tmp_path: Path, **extra) -> Path:
    """A config file with only the hygiene family on, so the fixtures' outcome is theirs alone."""
    rules = {r.id: "off" for r in all_rules() if not r.id.startswith("MF10")}
    path = tmp_path / "mfbot.yml"
    path.write_text(yaml.safe_dump({"rules": rules, **extra}), encoding="utf-8")
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def review_json(capsys, *argv: str) -> tuple[int, dict]:
    code, out, _ = run(capsys, "review", *argv, "--format", "json")
    return code, json.loads(out)


# --- exit codes --------------------------------------------------------------------------------

def test_exit_0_when_nothing_reaches_the_fail_level(tmp_path, capsys):
    write(tmp_path / "task", {"lib/MODEL_FAILURES.md": CLEAN})
    code, out, _ = run(capsys, "review", str(tmp_path / "task"), "--config", str(only_hygiene(tmp_path)))
    assert code == 0
    assert out.strip() == "Found 0 findings in 1 task."


def test_exit_1_on_findings_and_text_output_like_ruff(tmp_path, capsys):
    write(tmp_path / "task", {"lib/MODEL_FAILURES.md": GARBLED})
    code, out, _ = run(capsys, "review", str(tmp_path / "task"), "--config", str(only_hygiene(tmp_path)))
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("lib/MODEL_FAILURES.md:5: MF101 [MOJIBAKE] Garbled text: `â€™` for `’`")
    assert lines[1].startswith("    evidence: The modelâ€™s")
    assert lines[-1] == "Found 1 finding (1 error) in 1 task."


@pytest.mark.parametrize("fail_on, code", [("error", 1), ("warning", 1), ("notice", 1), ("never", 0)])
def test_fail_on_option(tmp_path, capsys, fail_on, code):
    write(tmp_path / "task", {"lib/MODEL_FAILURES.md": GARBLED})
    config = only_hygiene(tmp_path)
    assert run(capsys, "review", str(tmp_path / "task"), "--config", str(config), "--fail-on", fail_on)[0] == code


def test_fail_on_option_overrides_the_config(tmp_path, capsys):
    write(tmp_path / "task", {"lib/MODEL_FAILURES.md": GARBLED})
    config = only_hygiene(tmp_path, fail_on="never")
    assert run(capsys, "review", str(tmp_path / "task"), "--config", str(config))[0] == 0
    assert run(capsys, "review", str(tmp_path / "task"), "--config", str(config), "--fail-on", "error")[0] == 1


def test_level_below_fail_on_exits_0(tmp_path, capsys):
    write(tmp_path / "task", {"lib/MODEL_FAILURES.md": GARBLED})
    rules = {r.id: "off" for r in all_rules() if not r.id.startswith("MF10")} | {"mojibake": "warning"}
    config = tmp_path / "c.yml"
    config.write_text(yaml.safe_dump({"rules": rules}), encoding="utf-8")
    code, out, _ = run(capsys, "review", str(tmp_path / "task"), "--config", str(config))
    assert code == 0 and "Found 1 finding (1 warning)" in out


def test_repository_config_is_found_without_the_option(tmp_path, capsys):
    write(tmp_path, {"task/lib/MODEL_FAILURES.md": GARBLED, ".git/HEAD": "ref: refs/heads/main\n"})
    only_hygiene(tmp_path)
    (tmp_path / ".github").mkdir()
    (tmp_path / "mfbot.yml").rename(tmp_path / ".github" / "mfbot.yml")
    assert run(capsys, "review", str(tmp_path))[0] == 1
    (tmp_path / ".github" / "mfbot.yml").write_text("fail_on: never\n", encoding="utf-8")
    assert run(capsys, "review", str(tmp_path))[0] == 0


@pytest.mark.parametrize("config, words", [
    ("rules: {MF101: loud}\n", ["rules.MF101", "unknown level 'loud'"]),
    ("fail_on: sometimes\n", ["fail_on must be error, warning, notice or never"]),
    ("rules: [\n", ["not valid YAML"]),
])
def test_bad_config_exits_2_with_a_clear_message(tmp_path, capsys, config, words):
    write(tmp_path / "task", {"lib/MODEL_FAILURES.md": CLEAN})
    path = tmp_path / "bad.yml"
    path.write_text(config, encoding="utf-8")
    code, out, err = run(capsys, "review", str(tmp_path / "task"), "--config", str(path))
    assert code == 2 and out == ""
    assert err.startswith(f"mfbot: {path}: ")
    for w in words:
        assert w in err


def test_missing_config_file_and_missing_path_exit_2(tmp_path, capsys):
    write(tmp_path / "task", {"lib/MODEL_FAILURES.md": CLEAN})
    code, _, err = run(capsys, "review", str(tmp_path / "task"), "--config", str(tmp_path / "nope.yml"))
    assert code == 2 and "nope.yml: cannot read" in err
    code, _, err = run(capsys, "review", str(tmp_path / "absent"))
    assert code == 2 and "no such file or folder" in err


def test_usage_errors_exit_2(capsys):
    assert main([]) == 2
    for argv in (["review"], ["review", ".", "--format", "xml"], ["review", ".", "--fail-on", "sometimes"],
                 ["rules", "--format", "yaml"], ["frobnicate"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2, argv
    capsys.readouterr()


def test_console_exit_codes_in_a_real_process(tmp_path):
    write(tmp_path / "task", {"lib/MODEL_FAILURES.md": GARBLED})
    config = only_hygiene(tmp_path)
    cmd = [sys.executable, "-m", "bot.cli", "review", str(tmp_path / "task"), "--config", str(config)]
    assert subprocess.run(cmd, capture_output=True).returncode == 1
    assert subprocess.run(cmd + ["--fail-on", "never"], capture_output=True).returncode == 0
    assert subprocess.run(cmd + ["--format", "xml"], capture_output=True).returncode == 2


# --- json output --------------------------------------------------------------------------------

def test_json_shape_with_paths_relative_to_path(tmp_path, capsys):
    write(tmp_path / "repo", {"archive/cdk-ts/Pr7/lib/MODEL_FAILURES.md": GARBLED,
                              "archive/cdk-ts/Pr7/lib/tap-stack.ts": "export {};\n",
                              "tasks/two/lib/MODEL_FAILURES.md": CLEAN})
    code, data = review_json(capsys, str(tmp_path / "repo"), "--config", str(only_hygiene(tmp_path)))
    assert code == 1
    assert set(data) == {"findings", "tasks", "errors"}
    assert data["errors"] == []
    assert data["tasks"] == [
        {"path": "archive/cdk-ts/Pr7", "report": "archive/cdk-ts/Pr7/lib/MODEL_FAILURES.md", "entries": 1},
        {"path": "tasks/two", "report": "tasks/two/lib/MODEL_FAILURES.md", "entries": 1}]
    [f] = data["findings"]
    assert set(f) == {"rule", "kind", "level", "path", "line", "end_line", "message", "evidence", "replacement"}
    assert (f["rule"], f["kind"], f["level"], f["path"], f["line"], f["end_line"]) == (
        "MF101", "MOJIBAKE", "error", "archive/cdk-ts/Pr7/lib/MODEL_FAILURES.md", 5, 5)
    assert f["replacement"] == CLEAN.splitlines()[4].replace("model's", "model’s")
    assert not os.path.isabs(f["path"]) and str(tmp_path) not in json.dumps(data)


def test_review_of_a_single_report_file(tmp_path, capsys, monkeypatch):
    write(tmp_path / "tasks" / "a", {"lib/MODEL_FAILURES.md": GARBLED, "lib/PROMPT.md": "Build a bucket 🚀\n",
                                     "other/lib/MODEL_FAILURES.md": GARBLED})
    monkeypatch.chdir(tmp_path)
    code, data = review_json(capsys, "tasks/a/lib/MODEL_FAILURES.md", "--config", str(only_hygiene(tmp_path)))
    assert code == 1
    assert [t["path"] for t in data["tasks"]] == ["tasks/a"]
    # The task around the report is reviewed (its prompt too), not the other task below it; paths
    # are shown as the report was named, so an editor or pre-commit can open them.
    assert sorted((f["path"], f["rule"]) for f in data["findings"]) == [
        ("tasks/a/lib/MODEL_FAILURES.md", "MF101"), ("tasks/a/lib/PROMPT.md", "MF105")]
    monkeypatch.chdir(tmp_path / "tasks" / "a" / "lib")
    code, data = review_json(capsys, "MODEL_FAILURES.md", "--config", str(only_hygiene(tmp_path)))
    assert [f["path"] for f in data["findings"]] == ["lib/MODEL_FAILURES.md", "lib/PROMPT.md"]


def test_several_paths_are_shown_as_given(tmp_path, capsys, monkeypatch):
    write(tmp_path, {"a/lib/MODEL_FAILURES.md": GARBLED, "b/MODEL_FAILURES.md": GARBLED})
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "review", "a/lib/MODEL_FAILURES.md", "b", "--config", str(only_hygiene(tmp_path)))
    assert code == 1
    assert [line.split(" ")[0] for line in out.splitlines() if " MF101 " in line] == [
        "a/lib/MODEL_FAILURES.md:5:", "b/MODEL_FAILURES.md:5:"]


def test_folder_without_reports(tmp_path, capsys):
    write(tmp_path, {"README.md": "nothing here\n"})
    code, out, err = run(capsys, "review", str(tmp_path))
    assert code == 0 and "no report matching '**/MODEL_FAILURES.md'" in err
    assert "Found 0 findings in 0 tasks." in out


# --- reports that cannot be read ----------------------------------------------------------------

def test_binary_report_is_an_error_and_the_other_task_is_reviewed(tmp_path, capsys):
    write(tmp_path / "repo", {"a/lib/MODEL_FAILURES.md": GARBLED,
                              "b/lib/MODEL_FAILURES.md": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"})
    code, data = review_json(capsys, str(tmp_path / "repo"), "--config", str(only_hygiene(tmp_path)))
    assert code == 1
    assert data["errors"] == [{"path": "b/lib/MODEL_FAILURES.md", "message": "report not reviewed: binary file"}]
    assert [(f["path"], f["rule"]) for f in data["findings"]] == [("a/lib/MODEL_FAILURES.md", "MF101")]


def test_huge_report_is_an_error_and_the_other_task_is_reviewed(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(bot.task, "MAX_FILE_BYTES", 5_000)
    write(tmp_path / "repo", {"a/lib/MODEL_FAILURES.md": GARBLED, "b/lib/MODEL_FAILURES.md": CLEAN * 100})
    code, data = review_json(capsys, str(tmp_path / "repo"), "--config", str(only_hygiene(tmp_path)))
    [error] = data["errors"]
    assert error["path"] == "b/lib/MODEL_FAILURES.md"
    assert error["message"].startswith("report not reviewed:") and "MB limit" in error["message"]
    assert [(f["path"], f["rule"]) for f in data["findings"]] == [("a/lib/MODEL_FAILURES.md", "MF101")]


def test_unreadable_report_is_an_error_and_the_other_task_is_reviewed(tmp_path, capsys):
    write(tmp_path / "repo", {"a/lib/MODEL_FAILURES.md": GARBLED, "b/lib/PROMPT.md": "x\n"})
    (tmp_path / "repo" / "b" / "lib" / "MODEL_FAILURES.md").symlink_to(tmp_path / "gone.md")
    code, out, _ = run(capsys, "review", str(tmp_path / "repo"), "--config", str(only_hygiene(tmp_path)))
    assert code == 1
    assert "b/lib/MODEL_FAILURES.md: error: report not reviewed: unreadable: No such file or directory" in out
    assert "a/lib/MODEL_FAILURES.md:5: MF101" in out
    assert out.splitlines()[-1] == "Found 1 finding (1 error) in 2 tasks; 1 error."


def test_invalid_utf8_is_read_with_replacement(tmp_path, capsys):
    write(tmp_path / "task", {"lib/MODEL_FAILURES.md": CLEAN.encode() + b"\nbad byte \xff here\n"})
    code, data = review_json(capsys, str(tmp_path / "task"), "--config", str(only_hygiene(tmp_path)))
    assert data["errors"] == []
    assert [(f["rule"], f["line"]) for f in data["findings"]] == [("MF101", 7)]


# --- mfbot rules ---------------------------------------------------------------------------------

def test_rules_json(capsys):
    code, out, _ = run(capsys, "rules", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert [r["id"] for r in data] == [r.id for r in all_rules()]
    mf105 = next(r for r in data if r["id"] == "MF105")
    assert mf105 == {"id": "MF105", "name": "emoji", "kind": "EMOJI", "level": "error", "scope": "report",
                     "summary": mf105["summary"]}
    assert all(set(r) == {"id", "name", "kind", "level", "scope", "summary"} for r in data)


def test_rules_text(capsys):
    code, out, _ = run(capsys, "rules")
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith("MF102"))
    assert "sensitive-data" in line and "SENSITIVE_DATA" in line and "error" in line
    assert len(out.splitlines()) == len(all_rules())
