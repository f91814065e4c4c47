"""Rule reference pages, generated from the rules' own metadata (`mfbot docs`)."""

from __future__ import annotations

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
        "## Passing example",
        "",
        *_example(rule.good),
        "## Configure or suppress",
        "",
        "In `.github/mfbot.yml`:",
        "",
        "```yaml",
        "rules:",
        f"  {rule.id}: off        # or: error, warning, notice",
        "```",
        "",
    ]
    if rule.settings:
        out += ["Settings (under `settings:`):", ""]
        out += [f"- `{key}`: {what}" for key, what in sorted(rule.settings.items())]
        out.append("")
    out += [f"On one line: put `<!-- mfbot: ignore {rule.id} -->` on the line or the line above.", ""]
    return "\n".join(out)


def _example(files: dict[str, str]) -> list[str]:
    out = []
    for path, text in files.items():
        fence = "````" if "```" in text else "```"
        lang = "markdown" if path.endswith(".md") else path.rsplit(".", 1)[-1]
        out += [f"`{path}`:", "", f"{fence}{lang}", text.rstrip("\n"), fence, ""]
    return out


def index_page(rules: list[Rule]) -> str:
    out = ["# Rules", "", "| id | name | kind | level | what it finds |", "|---|---|---|---|---|"]
    out += [f"| [{r.id}]({r.id}.md) | {r.name} | `{r.kind}` | {r.level} | {r.summary} |" for r in rules]
    return "\n".join(out) + "\n"


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
