"""The docs cannot drift: the rule pages are what the registry renders, the configuration reference
names every variable and key the code reads, and links and module names point at real files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.config import KEYS
from bot.docs import _fence, rendered_docs, rule_page
from bot.rules import all_rules

from tests.test_deploy import ENV_NAMES

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
REGENERATE = "docs/rules is stale: run `mfbot docs docs/rules` and commit the result"


def test_rule_pages_match_the_registry():
    expected = rendered_docs()
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in (DOCS / "rules").glob("*.md")}
    assert sorted(on_disk) == sorted(expected), REGENERATE
    stale = [name for name, text in expected.items() if on_disk[name] != text]
    assert not stale, f"{REGENERATE} ({', '.join(stale)})"


def test_a_rule_page_shows_what_mfbot_reports_on_its_failing_example():
    # (that every rule fires on its failing example is tests/test_rule_examples.py's job)
    from bot.rules import get_rule
    page = rule_page(get_rule("MF101"))
    assert "mfbot reports:\n\n```text\nlib/MODEL_FAILURES.md:" in page and ": MF101 " in page
    assert "mfbot: ignore MF101" in page


def test_fences_cannot_be_closed_by_the_example():
    assert _fence("no backticks") == "```"
    assert _fence("```ts\nx\n```") == "````"
    assert _fence("````md\n```ts\n```\n````") == "`````"


def test_configuration_names_every_environment_variable():
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    missing = sorted(name for name in ENV_NAMES if f"`{name}`" not in text)
    assert not missing, f"docs/configuration.md lacks {missing}"


def test_configuration_names_every_key_and_rule_setting_with_its_default():
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `([\w.]+)` \| `?([^|`]*)`? \|", text, re.M)}
    for key in KEYS:
        assert key in rows, key
    from bot.config import Config, DEFAULT_REPORT_GLOB
    assert rows["report_glob"].strip('"') == DEFAULT_REPORT_GLOB
    assert rows["fail_on"] == str(Config().fail_on)
    # rule settings are listed in the generated index, which the configuration page links to
    assert "(rules/README.md#settings)" in text
    index = rendered_docs()["README.md"]
    for rule in all_rules():
        for setting in rule.settings:
            assert f"| `settings.{setting}` | [{rule.id}]" in index
    # the example file in the page is a valid configuration
    block = re.search(r"```yaml\n(rules:.*?)```", text, re.S).group(1)
    Config.from_yaml(block)


def markdown_files() -> list[Path]:
    return [*DOCS.glob("*.md"), ROOT / "deploy" / "README.md"]


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: p.name)
def test_links_and_module_names_point_at_real_files(path):
    text = path.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if not target.startswith(("http://", "https://")):
            assert (path.parent / target).exists(), f"{path.name}: broken link {target}"
    for module in set(re.findall(r"`(bot/[\w/]+\.py)`", text)):
        assert (ROOT / module).exists(), f"{path.name}: no module {module}"


def test_architecture_names_the_module_of_each_stage():
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    for module in ("bot/app.py", "bot/webhooks.py", "bot/queue.py", "bot/review.py", "bot/github.py",
                   "bot/engine.py", "bot/publish.py"):
        assert f"`{module}`" in text or f"{module}" in text, module


def test_operations_lists_every_metric():
    from bot.metrics import Metrics
    text = (DOCS / "operations.md").read_text(encoding="utf-8")
    for metric in Metrics().registry.collect():
        name = metric.name + ("_total" if metric.type == "counter" else "")
        assert f"`{name}`" in text, name


def test_action_example_workflow_uses_real_inputs():
    text = (DOCS / "github-action.md").read_text(encoding="utf-8")
    workflow = yaml.safe_load(re.search(r"```yaml\n(name: mfbot.*?)```", text, re.S).group(1))
    inputs = set(yaml.safe_load((ROOT / "action.yml").read_text())["inputs"])
    steps = workflow["jobs"]["review"]["steps"]
    (ours,) = [s for s in steps if "mfbot" in s.get("uses", "")]
    assert set(ours.get("with", {})) <= inputs
    documented = set(re.findall(r"^\| `([\w-]+)` \|", text, re.M))
    assert documented == inputs
