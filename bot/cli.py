"""`mfbot` command line: review a folder locally, list rules, write the rule docs, run the App."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.config import CONFIG_PATH, Config, ConfigError, parse_fail_on
from bot.engine import review_tasks
from bot.formats import render
from bot.rules import all_rules

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"mfbot: {exc}", file=sys.stderr)
        return EXIT_USAGE


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mfbot", description=__doc__)
    sub = parser.add_subparsers()

    review = sub.add_parser("review", help="review the MODEL_FAILURES reports under PATH")
    review.add_argument("path", help="a task folder, a repository, or one report file")
    review.add_argument("--format", choices=["text", "json", "sarif", "github"], default="text")
    review.add_argument("--config", help=f"YAML configuration (default: PATH/{CONFIG_PATH} if present)")
    review.add_argument("--fail-on", choices=["error", "warning", "notice", "never"],
                        help="lowest level that makes the exit code 1 (default: the config's, else error)")
    review.set_defaults(func=cmd_review)

    rules = sub.add_parser("rules", help="list the rules")
    rules.add_argument("--format", choices=["text", "json"], default="text")
    rules.set_defaults(func=cmd_rules)

    docs = sub.add_parser("docs", help="write one Markdown page per rule")
    docs.add_argument("out", nargs="?", default="docs/rules", help="folder (default: docs/rules)")
    docs.set_defaults(func=cmd_docs)
    return parser


def load_config(path: str | None, tree: Path) -> Config:
    if path:
        try:
            return Config.from_yaml(Path(path).read_text(encoding="utf-8"), path)
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    default = (tree if tree.is_dir() else tree.parent) / CONFIG_PATH
    return Config.from_yaml(default.read_text(encoding="utf-8"), str(default)) if default.is_file() else Config()


def cmd_review(args) -> int:
    from bot.task import load_tree

    tree = Path(args.path)
    if not tree.exists():
        print(f"mfbot: {args.path}: no such file or folder", file=sys.stderr)
        return EXIT_USAGE
    config = load_config(args.config, tree)
    fail_on = parse_fail_on(args.fail_on) if args.fail_on else config.fail_on
    tasks, _ = load_tree(tree, config.report_glob)
    review = review_tasks(tasks, config)
    if not tasks:
        print(f"mfbot: no report matching {config.report_glob!r} under {args.path}", file=sys.stderr)
    out = render(review, args.format)
    if out:
        print(out)
    return EXIT_FINDINGS if review.fails(fail_on) else EXIT_OK


def cmd_rules(args) -> int:
    rules = all_rules()
    if args.format == "json":
        print(json.dumps([{"id": r.id, "name": r.name, "kind": r.kind, "level": str(r.level),
                           "scope": r.scope, "summary": r.summary} for r in rules], indent=2))
    else:
        for r in rules:
            print(f"{r.id}  {r.name:<34} {r.kind:<32} {str(r.level):<8} {r.summary}")
    return EXIT_OK


def cmd_docs(args) -> int:
    from bot.docs import write_rule_docs

    written = write_rule_docs(Path(args.out))
    print(f"wrote {len(written)} pages to {args.out}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
