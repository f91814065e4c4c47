"""Review output for people and machines: text, json, sarif (GitHub code scanning), github
(Actions workflow commands)."""

from __future__ import annotations

import json
from collections import Counter

from bot import __version__
from bot.engine import Review
from bot.findings import Level
from bot.rules import all_rules

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {Level.ERROR: "error", Level.WARNING: "warning", Level.NOTICE: "note"}


def render(review: Review, fmt: str) -> str:
    return {"text": text, "json": as_json, "sarif": sarif, "github": github}[fmt](review)


def text(review: Review) -> str:
    out = [f"{f.path}:{f.line}: {f.rule} [{f.kind}] {f.message}" + (f"\n    evidence: {_one_line(f.evidence)}" if f.evidence else "")
           for f in review.findings]
    out += [f"{e.path}: error: {e.message}" for e in review.errors]
    by_level = Counter(str(f.level) for f in review.findings)
    levels = ", ".join(f"{by_level[str(lv)]} {lv}" for lv in sorted(Level, reverse=True) if by_level[str(lv)])
    n = len(review.findings)
    summary = f"Found {n} finding{'s' * (n != 1)}" + (f" ({levels})" if levels else "")
    summary += f" in {len(review.tasks)} task{'s' * (len(review.tasks) != 1)}"
    if review.errors:
        summary += f"; {len(review.errors)} error{'s' * (len(review.errors) != 1)}"
    return "\n".join(out + [summary + "."])


def as_json(review: Review) -> str:
    return json.dumps({
        "findings": [f.to_dict() for f in review.findings],
        "tasks": [{"path": t.root or ".", "report": t.display(t.report_path),
                   "entries": len(t.report.entries)} for t in review.tasks],
        "errors": [e.to_dict() for e in review.errors],
    }, indent=2)


def sarif(review: Review) -> str:
    rules = all_rules()
    index = {r.id: i for i, r in enumerate(rules)}
    results = []
    for f in review.findings:
        region = {"startLine": max(f.line, 1)}
        if f.end_line and f.end_line > f.line:
            region["endLine"] = f.end_line
        msg = f.message + (f" Evidence: {_one_line(f.evidence)}" if f.evidence else "")
        results.append({
            "ruleId": f.rule, "ruleIndex": index[f.rule], "level": _SARIF_LEVEL[f.level],
            "message": {"text": msg},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": f.path, "uriBaseId": "%SRCROOT%"},
                                                "region": region}}],
            "partialFingerprints": {"mfbot/v1": f"{f.rule}:{f.path}:{f.message}"},
        })
    notifications = [{"level": "error", "message": {"text": e.message},
                      "locations": [{"physicalLocation": {"artifactLocation": {"uri": e.path}}}]}
                     for e in review.errors]
    doc = {
        "$schema": SARIF_SCHEMA, "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "mfbot", "version": __version__, "informationUri": "https://github.com/mfbot/mfbot",
                "rules": [{"id": r.id, "name": r.name, "shortDescription": {"text": r.summary},
                           "fullDescription": {"text": r.why},
                           "defaultConfiguration": {"level": _SARIF_LEVEL[r.level]},
                           "properties": {"kind": r.kind}} for r in rules],
            }},
            "results": results,
            "invocations": [{"executionSuccessful": not review.errors, "toolExecutionNotifications": notifications}],
        }],
    }
    return json.dumps(doc, indent=2)


def github(review: Review) -> str:
    """`::error file=...,line=...::` lines that GitHub Actions turns into annotations."""
    cmd = {Level.ERROR: "error", Level.WARNING: "warning", Level.NOTICE: "notice"}
    out = []
    for f in review.findings:
        props = f"file={_prop(f.path)},line={f.line}" + (f",endLine={f.end_line}" if f.end_line else "")
        props += f",title={_prop(f'{f.rule} {f.kind}')}"
        body = f.message + (f" Evidence: {f.evidence}" if f.evidence else "")
        out.append(f"::{cmd[f.level]} {props}::{_data(body)}")
    out += [f"::error file={_prop(e.path)}::{_data(e.message)}" for e in review.errors]
    return "\n".join(out)


def _one_line(text: str, limit: int = 300) -> str:
    s = " ".join(text.split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(s: str) -> str:
    return _data(s).replace(":", "%3A").replace(",", "%2C")
