"""metadata.json rules: the file against the repository's JSON Schema, and the report against the file.

The schema ships in the package (`bot/schemas/metadata.schema.json`, the anchor repository's rules:
required fields, enums, the platform-language matrix, `wave` for LocalStack) and is validated with
the `jsonschema` library, all errors at once, each at the line of the offending key. Another schema
is selected with `settings.metadata.schema`: a file path, or the schema itself as a mapping.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from bot.findings import Level
from bot.report import claims as C
from bot.rules import Rule, register
from bot.task import AWS_REGION, METADATA

REPORT = "lib/MODEL_FAILURES.md"
GOOD_METADATA = json.dumps({
    "platform": "cdk", "language": "ts", "complexity": "hard", "turn_type": "single", "po_id": "x7k2m9",
    "team": "synth", "startedAt": "2025-11-03T10:15:00Z", "subtask": "Application Deployment",
    "provider": "aws", "subject_labels": ["Web Application Deployment"], "aws_services": ["S3", "Lambda"],
}, indent=2)


class MetadataSchemaError(ValueError):
    """The configured schema cannot be used; the message says why."""


@lru_cache(maxsize=8)
def _load_schema_text(text: str) -> Draft7Validator:
    schema = json.loads(text)
    try:
        Draft7Validator.check_schema(schema)
    except SchemaError as exc:
        raise MetadataSchemaError(f"settings.metadata.schema is not a valid JSON Schema: {exc.message}") from None
    return Draft7Validator(schema, format_checker=FormatChecker())


def validator(config) -> Draft7Validator:
    """The packaged anchor schema, or the one `settings.metadata.schema` names (path or mapping)."""
    chosen = config.setting("metadata", "schema", None)
    if isinstance(chosen, dict):
        return _load_schema_text(json.dumps(chosen, sort_keys=True))
    if chosen:
        try:
            return _load_schema_text(Path(chosen).read_text(encoding="utf-8"))
        except OSError as exc:
            raise MetadataSchemaError(f"settings.metadata.schema: cannot read {chosen}: {exc.strerror}") from None
    return _packaged_validator()


@lru_cache(maxsize=1)
def _packaged_validator() -> Draft7Validator:
    """The packaged schema is read once per process, not once per task."""
    return _load_schema_text(resources.files("bot").joinpath("schemas/metadata.schema.json").read_text(encoding="utf-8"))


# --- key lines ----------------------------------------------------------------------------------

def key_lines(text: str) -> dict[tuple, int]:
    """Line of every key and array item of a JSON text, by path: ("language",) -> 3,
    ("subject_labels", 1) -> 9. A small scanner, since the json module keeps no positions."""
    lines: dict[tuple, int] = {}
    stack: list[list] = []  # [kind, path, next index or pending key]
    line, i, n = 1, 0, len(text)
    pending_key: str | None = None
    while i < n:
        ch = text[i]
        if ch == " ":  # indentation: most characters of a pretty-printed file
            i += 1
            continue
        if ch == "\n":
            line += 1
        elif ch == '"':
            j = _string_end(text, i + 1)
            s = text[i + 1:j]
            k = j + 1
            while k < n and text[k] in " \t\r\n":
                k += 1
            if stack and stack[-1][0] == "obj" and k < n and text[k] == ":":
                pending_key = _unescape(s)
                lines.setdefault(stack[-1][1] + (pending_key,), line)
            else:
                _value_at(stack, lines, line, pending_key)
                pending_key = None
            line += text.count("\n", i, j)
            i = j
        elif ch in "{[":
            path = _value_at(stack, lines, line, pending_key)
            pending_key = None
            stack.append(["obj" if ch == "{" else "arr", path, 0])
        elif ch in "}]":
            if stack:
                stack.pop()
        elif not ch.isspace() and ch not in ",:":
            _value_at(stack, lines, line, pending_key)
            pending_key = None
            while i + 1 < n and text[i + 1] not in ",}]\n":
                i += 1
        i += 1
    return lines


def _string_end(text: str, start: int) -> int:
    """Index of the quote that closes the string whose text starts at `start` (len(text) when none):
    the first quote not escaped, i.e. not after an odd run of backslashes."""
    j = start
    while True:
        q = text.find('"', j)
        if q < 0:
            return len(text)
        b = q
        while b > start and text[b - 1] == "\\":
            b -= 1
        if (q - b) % 2 == 0:
            return q
        j = q + 1


def _value_at(stack, lines, line, key) -> tuple:
    if not stack:
        return ()
    kind, path, _ = stack[-1]
    if kind == "obj":
        return path + ((key,) if key is not None else ())
    idx = stack[-1][2]
    stack[-1][2] += 1
    lines.setdefault(path + (idx,), line)
    return path + (idx,)


def _unescape(s: str) -> str:
    try:
        return json.loads(f'"{s}"')
    except ValueError:
        return s


def _line_of(lines: dict[tuple, int], path: tuple) -> int:
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return 1


def _where(path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out or "(top level)"


@register
class MetadataInvalid(Rule):
    id = "MF207"
    name = "metadata-invalid"
    kind = "METADATA_INVALID"
    level = Level.ERROR
    summary = "metadata.json is not valid JSON or breaks the repository's schema; every error is reported, at its key."
    why = ("The repository's pipeline validates metadata.json with a JSON Schema and a script that stops at the first "
           "error, so authors fix one field per push. mfbot validates with the same rules (required fields, enums, "
           "the platform-language matrix, `wave` for LocalStack, `startedAt` as a date-time) and reports all errors "
           "at once, each on the line of its key. The schema is in the package and can be replaced with "
           "`settings.metadata.schema`.")
    settings = {"metadata.schema": "Path of a JSON Schema file (or the schema as a mapping) to use instead of the packaged one."}
    bad = {"metadata.json": GOOD_METADATA.replace('"language": "ts"', '"language": "hcl"').replace('"single"', '"one"'),
           REPORT: "# Model Failures\n"}
    good = {"metadata.json": GOOD_METADATA, REPORT: "# Model Failures\n"}

    def check(self, task, config):
        text = task.get(METADATA)
        if text is None:
            return
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            yield self.finding(METADATA, exc.lineno, f"metadata.json is not valid JSON: {exc.msg} (line {exc.lineno}, "
                                                     f"column {exc.colno}).",
                               evidence=text.split("\n")[exc.lineno - 1].strip()[:120] if text else "")
            return
        lines = key_lines(text)
        for err in sorted(validator(config).iter_errors(data), key=lambda e: (_line_of(lines, tuple(e.absolute_path)), e.message)):
            path = tuple(err.absolute_path)
            line = _line_of(lines, path)
            message = err.message
            if err.validator == "additionalProperties":
                extra = re.findall(r"'([^']+)'", err.message)
                for key in extra:
                    if (key,) in lines and path == ():
                        yield self.finding(METADATA, lines[(key,)], f"metadata.json: `{key}` is not allowed by the schema.",
                                           evidence=f"schema: additionalProperties false; at {_where((key,))}")
                continue
            if err.validator == "required" and not path:
                line = 1
            evidence = f"schema rule `{err.validator}` at {'/'.join(str(p) for p in err.absolute_schema_path)}"
            if err.validator == "enum":
                allowed = ", ".join(str(v) for v in err.validator_value)
                evidence = f"allowed: {allowed}"
                message = f"{err.instance!r} is not an allowed value"
                if "then" in err.absolute_schema_path and isinstance(data.get("platform"), str):
                    message = f"{err.instance!r} is not a language of platform {data['platform']!r}"
            yield self.finding(METADATA, line, f"metadata.json {_where(path)}: {message}.", evidence=evidence)


@register
class MetadataMismatch(Rule):
    id = "MF206"
    name = "metadata-mismatch"
    kind = "METADATA_MISMATCH"
    level = Level.ERROR
    summary = "The report states a platform, language, region, provider or complexity that metadata.json or lib/AWS_REGION contradicts."
    why = ("metadata.json decides how the task is built, deployed and filed; lib/AWS_REGION decides where it deploys. "
           "A report that says \"Platform: CDK TypeScript\" for a Terraform task, or \"Region: us-west-2\" when the "
           "task deploys to us-east-1, was written for another task or copied without checking.")
    bad = {"metadata.json": GOOD_METADATA.replace('"cdk"', '"tf"').replace('"ts"', '"hcl"'),
           REPORT: "# Model Failures\n\n**Platform**: CDK TypeScript\n\n### 1. Bucket\n\nPublic.\n"}
    good = {"metadata.json": GOOD_METADATA,
            REPORT: "# Model Failures\n\n**Platform**: CDK TypeScript\n\n### 1. Bucket\n\nPublic.\n"}

    def check(self, task, config):
        meta = task.metadata or {}
        region_file = (task.get(AWS_REGION) or "").strip()
        for fact in C.facts(task.report):
            if fact.field == "region":
                if region_file and C.REGION.fullmatch(region_file) and fact.value != region_file:
                    yield self.finding(task.report_path, fact.line,
                                       f"The report says region {fact.value}, lib/AWS_REGION says {region_file}.",
                                       evidence=f"report: {fact.text[:80]}; lib/AWS_REGION: {region_file}")
                continue
            actual = meta.get(fact.field)
            if not isinstance(actual, str) or not actual:
                continue
            if fact.field == "language" and {fact.value, actual.lower()} <= {"yaml", "yml"}:
                continue
            if fact.value != actual.lower():
                yield self.finding(task.report_path, fact.line,
                                   f"The report says {fact.field} {fact.value}, metadata.json says {actual}.",
                                   evidence=f"report: {fact.text[:80]}; metadata.json: \"{fact.field}\": \"{actual}\"")
