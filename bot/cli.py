"""`mfbot` command line: review a folder locally, list rules, write the rule docs, run the App."""

from __future__ import annotations

import argparse
import json
import posixpath
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
    review.add_argument("path", nargs="+", help="task folders, repositories or report files (pre-commit passes several)")
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

    # Deployment helpers (bot/manifest.py, bot/doctor.py).
    manifest = sub.add_parser("manifest", help="print the GitHub App manifest for a public URL, or exchange "
                                               "the registration code")
    manifest.add_argument("--url", help="public https URL of the deployment (webhook at URL/webhook)")
    manifest.add_argument("--name", default="mfbot", help="App name, unique on GitHub (default: mfbot)")
    manifest.add_argument("--public", action="store_true", help="let other accounts install the App")
    manifest.add_argument("--form", action="store_true", help="print an HTML page that registers the App in one click")
    manifest.add_argument("--org", help="with --form: register the App under this organization")
    manifest.add_argument("--web-url", default="https://github.com", help="with --form: GitHub's web address "
                                                                          "(GitHub Enterprise Server: https://HOST)")
    manifest.add_argument("--exchange", metavar="CODE", help="turn the code GitHub returned into credentials")
    manifest.add_argument("--key-file", default="mfbot.private-key.pem", help="with --exchange: where to write the key")
    manifest.add_argument("--api-url", default="https://api.github.com", help="with --exchange: GitHub API URL")
    manifest.set_defaults(func=cmd_manifest)

    doctor = sub.add_parser("doctor", help="check the App's configuration (environment) and say what is wrong")
    doctor.set_defaults(func=cmd_doctor)

    serve = sub.add_parser("serve", help="run the GitHub App: webhook server and workers (PORT, default 3000)")
    serve.set_defaults(func=cmd_app, process="serve")
    worker = sub.add_parser("worker", help="run App workers only, on the queue MFBOT_QUEUE names")
    worker.set_defaults(func=cmd_app, process="worker")
    return parser


def load_config(path: str | None, tree: Path) -> Config:
    if path:
        try:
            return Config.from_yaml(Path(path).read_text(encoding="utf-8"), path)
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    # The nearest CONFIG_PATH at or above PATH, up to the repository root (pre-commit passes lib/MODEL_FAILURES.md).
    start = (tree if tree.is_dir() else tree.parent).resolve()
    for folder in (start, *start.parents):
        default = folder / CONFIG_PATH
        if default.is_file():
            return Config.from_yaml(default.read_text(encoding="utf-8"), str(default))
        if (folder / ".git").exists():
            break
    return Config()


def cmd_review(args) -> int:
    for path in args.path:
        if not Path(path).exists():
            print(f"mfbot: {path}: no such file or folder", file=sys.stderr)
            return EXIT_USAGE
    config = load_config(args.config, Path(args.path[0]))
    fail_on = parse_fail_on(args.fail_on) if args.fail_on else config.fail_on
    tasks = [task for path in args.path for task in load_tasks(Path(path), config.report_glob, len(args.path) > 1)]
    review = review_tasks(tasks, config)
    if not tasks:
        print(f"mfbot: no report matching {config.report_glob!r} under {' '.join(args.path)}", file=sys.stderr)
    out = render(review, args.format)
    if out:
        print(out)
    return EXIT_FINDINGS if review.fails(fail_on) else EXIT_OK


def load_tasks(path: Path, report_glob: str, several: bool) -> list:
    """The tasks under a folder, shown relative to it; or, for a report file or one of several
    PATHs (pre-commit passes `tasks/a/lib/MODEL_FAILURES.md ...`), shown as the path was given, so
    that every finding names its file unambiguously."""
    from bot.task import load_tree

    tasks, _ = load_tree(path, report_glob)
    if path.is_file():
        prefix = path.parent.parent if path.parent.name == "lib" else path.parent
    elif several:
        prefix = path
    else:
        return tasks
    for task in tasks:
        root = posixpath.normpath(posixpath.join(prefix.as_posix(), task.root))
        task.root = "" if root == "." else root
    return tasks


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


def cmd_manifest(args) -> int:
    from bot import manifest

    if args.exchange:
        try:
            creds = manifest.exchange_code(args.exchange, args.api_url)
        except (RuntimeError, OSError) as exc:
            print(f"mfbot: {exc}", file=sys.stderr)
            return EXIT_USAGE
        print(manifest.save_credentials(creds, Path(args.key_file)), end="")
        print(f"# App {creds.slug or creds.app_id} registered: install it from {creds.html_url}/installations/new",
              file=sys.stderr)
        return EXIT_OK
    if not args.url or not args.url.startswith(("https://", "http://")):
        print("mfbot: manifest needs --url https://HOST (where GitHub can reach the App)", file=sys.stderr)
        return EXIT_USAGE
    data = manifest.build_manifest(args.url, args.name, args.public)
    print(manifest.registration_form(data, args.org, args.web_url.rstrip("/")) if args.form
          else json.dumps(data, indent=2))
    return EXIT_OK


def cmd_doctor(args) -> int:
    from bot.doctor import main as doctor

    return doctor()


def cmd_app(args) -> int:
    from bot.app import serve, start_worker
    from bot.settings import Settings, SettingsError

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"mfbot: {exc}", file=sys.stderr)
        return EXIT_USAGE
    # A worker never checks webhook signatures, so it does not need the secret.
    problems = [p for p in settings.problems() if args.process == "serve" or "WEBHOOK" not in p]
    if problems:
        print("mfbot: " + "; ".join(problems), file=sys.stderr)
        return EXIT_USAGE
    from bot.logs import configure_logging
    configure_logging()
    serve(settings) if args.process == "serve" else start_worker(settings)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
