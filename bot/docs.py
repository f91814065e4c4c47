"""Rule reference pages, generated from the rules' own metadata (`mfbot docs`).

Each page shows what the rule finds, why it matters, its failing example with what mfbot reports on
it (the rule is run on the example while the page is written, so the page cannot drift from the code),
the passing example, and how to configure or suppress it. `tests/test_docs.py` fails when the pages
in docs/rules differ from what this module renders.
"""

from __future__ import annotations

import re
from pathlib import Path

from bot.rules import Rule, all_rules


def rule_page(rule: Rule) -> str:
    out = [
        f"# {rule.id} {rule.name}",
        "",
        f"Kind: `{rule.kind}` · default level: `{rule.level}` · "
        + ("reported anywhere in the task" if rule.scope == "report" else "in the App, only on changed lines"),
        "",
        "## What it checks",
        "",
        rule.summary,
        "",
        "## Why it matters",
        "",
        rule.why,
        "",
        "## Failing example",
        "",
        *_example(rule.bad),
        *_reported(rule),
        "## Passing example",
        "",
        *_example(rule.good),
        "## Configure or suppress",
        "",
        "In `.github/mfbot.yml` (by id, by name or by kind):",
        "",
        "```yaml",
        "rules:",
        f"  {rule.id}: off        # or: error, warning, notice; `{rule.name}` or `{rule.kind}` work too",
        "```",
        "",
    ]
    if rule.settings:
        out += ["Settings:", ""]
        out += [f"- `settings.{key}`: {what}" for key, what in sorted(rule.settings.items())]
        out += ["", "```yaml", "settings:", *_settings_yaml(rule.settings), "```", ""]
    out += [f"On one line: put `mfbot: ignore {rule.id}` in a comment on the line or the line above "
            f"(`<!-- mfbot: ignore {rule.id} -->` in Markdown, `# mfbot: ignore {rule.id}` or "
            f"`// mfbot: ignore {rule.id}` in code).", ""]
    return "\n".join(out)


def _fence(text: str) -> str:
    """A backtick fence longer than any backtick run inside `text`, so the example cannot close it."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _example(files: dict[str, str]) -> list[str]:
    out = []
    for path, text in files.items():
        fence = _fence(text)
        lang = "markdown" if path.endswith(".md") else path.rsplit(".", 1)[-1] if "." in path else ""
        out += [f"`{path}`:", "", f"{fence}{lang}", text.rstrip("\n"), fence, ""]
    return out


def _reported(rule: Rule) -> list[str]:
    """What mfbot says about the failing example, found by running the rule on it."""
    from bot.config import Config
    from bot.engine import review_tasks
    from bot.task import Task

    review = review_tasks([Task("", dict(rule.bad))], Config())
    lines = [f"{f.path}:{f.line}: {f.rule} {f.message}" for f in review.findings if f.rule == rule.id]
    if not lines:
        return []
    text = "\n".join(lines)
    fence = _fence(text)
    return ["mfbot reports:", "", f"{fence}text", text, fence, ""]


def _settings_yaml(settings: dict[str, str]) -> list[str]:
    families: dict[str, list[str]] = {}
    for key in sorted(settings):
        family, _, name = key.partition(".")
        families.setdefault(family, []).append(name)
    out = []
    for family, names in families.items():
        out.append(f"  {family}:")
        out += [f"    {name}: ...   # see above" for name in names]
    return out


def index_page(rules: list[Rule]) -> str:
    out = ["# Rules", "",
           "Generated from the rules' metadata by `mfbot docs docs/rules`; do not edit by hand.", "",
           "| id | name | kind | level | what it finds |", "|---|---|---|---|---|"]
    out += [f"| [{r.id}]({r.id}.md) | {r.name} | `{r.kind}` | {r.level} | {_cell(r.summary)} |" for r in rules]
    settings = [(key, r, what) for r in rules for key, what in sorted(r.settings.items())]
    if settings:
        out += ["", "## Settings", "",
                "Options of rule families, under `settings:` in `.github/mfbot.yml` "
                "(see [configuration](../configuration.md)).", "",
                "| setting | rule | what it does (and its default) |", "|---|---|---|"]
        out += [f"| `settings.{key}` | [{r.id}]({r.id}.md) | {_cell(what)} |" for key, r, what in settings]
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "&#124;").replace("\n", " ")


def rendered_docs() -> dict[str, str]:
    """File name -> content of every generated page."""
    rules = all_rules()
    pages = {f"{r.id}.md": rule_page(r) for r in rules}
    pages["README.md"] = index_page(rules)
    return pages


def write_rule_docs(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("MF*.md"):
        stale.unlink()
    written = []
    for name, text in rendered_docs().items():
        path = out / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
