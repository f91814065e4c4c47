"""What a task's files let one count without running anything: test cases per suite, resources of a template.

Used to check the counts a report states ("45 unit tests", "creates 23 resources"). Every count is
exact or absent: a file whose number of tests depends on something only a run knows (`it.each`,
skipped tests, tests made in a loop or a helper, parametrised pytest, Go subtests) makes its suite
uncountable (None), and so does a template whose number of resources depends on conditions,
transforms, nested stacks, `count`/`for_each` or modules. Nothing is executed: tree-sitter for
TypeScript and JavaScript (the structure decides whether a test runs once), line patterns elsewhere.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property

from bot.iac import langs
from bot.iac.files import SourceFile, final_files
from bot.iac.files import test_files as test_sources
from bot.iac.values import OBJ, STR

UNIT, INTEGRATION = "unit", "integration"
# "test/tap-stack.int.test.ts", "tests/integration/test_api.py", "test/e2e.test.ts": integration tests.
_INTEGRATION_PATH = re.compile(r"(?:^|[/._-])(?:int|integration|e2e|live)(?:[/._-]|$)", re.I)


class TestFile:
    """A test file that may define tests: its suite, a quick count and the exact one.

    The quick count reads lines (`it(`/`test(` at the start of a line in Jest files); the exact one
    parses the file, on first use. A check that finds the quick count agrees with a report has no
    need of the exact one, which is what keeps parsing to the few files whose counts are in doubt."""

    def __init__(self, source: SourceFile):
        self.source = source
        self.path = source.path
        self.suite = INTEGRATION if _INTEGRATION_PATH.search(source.path) else UNIT
        self.quick = _quick_count(source)

    @cached_property
    def cases(self) -> int | None:
        """Test cases the file defines, None when its text does not fix the number."""
        return count_cases(self.source)


def test_files(task) -> list[TestFile]:
    """The task's test files, cached on the task."""
    cached = task.__dict__.get("_census_tests")
    if cached is None:
        cached = [TestFile(f) for f in test_sources(task)]
        task.__dict__["_census_tests"] = cached
    return cached


def _quick_count(f: SourceFile) -> int | None:
    """Jest files: the lines that open with `it(`/`test(`; others: the exact count (read from lines anyway)."""
    if f.lang in _JS_LANGS:
        return None if _js_variant(f.text) else len(_JS_TEST_LINE.findall("\n" + f.text))
    return count_cases(f)


def count_cases(f: SourceFile) -> int | None:
    """Test cases defined in one file (0 when it defines none), None when the text does not fix the number."""
    if f.lang in _JS_LANGS:
        return _js_cases(f)
    if f.path.endswith(".py"):
        return _py_cases(f.text)
    if f.path.endswith(".go"):
        return _go_cases(f.text)
    if f.path.endswith(".java"):
        return _java_cases(f.text)
    return 0


def counted_as(path: str) -> str:
    """What `count_cases` counts in a file of this kind, for evidence."""
    if path.endswith(".py"):
        return "test functions and methods"
    if path.endswith(".go"):
        return "Test functions"
    if path.endswith(".java"):
        return "@Test methods"
    return "it()/test() calls"


# --- Jest / Mocha ---------------------------------------------------------------------------------

_JS_GROUP = frozenset({"describe", "context", "suite"})
# Any of these makes the number of cases something only a run knows: `it.each`, `describe.skip`, `xit(`, `fit(`.
# (Each pattern starts with a literal, which the regular expression engine finds fast: these scan whole files.)
_JS_MODIFIER = re.compile(r"\.[ \t]*(?:each|skip|only|todo|concurrent|failing|skipIf|runIf|if)\b")
_JS_RECEIVER = re.compile(r"(?:^|[^\w$.])(?:it|test|describe|context|suite)[ \t]*$")
_JS_FOCUS_WORDS = ("xit", "xtest", "xdescribe", "fit", "ftest", "fdescribe")
_JS_FOCUS = re.compile(r"\b[xf](?:it|test|describe)\s*\(")
_JS_TEST_LINE = re.compile(r"\n[ \t]*(?:it|test)[ \t]*\(")
_JS_LANGS = ("typescript", "tsx", "javascript")
_JS_CALLS = '(call_expression function: (identifier) @fn (#any-of? @fn "it" "test")) @call'
_FUNCTIONS = frozenset({"arrow_function", "function_expression", "function", "function_declaration",
                        "generator_function", "generator_function_declaration", "method_definition"})
_BRANCHES = frozenset({"for_statement", "for_in_statement", "while_statement", "do_statement", "if_statement",
                       "ternary_expression", "switch_statement", "try_statement"})


def _js_variant(text: str) -> bool:
    if any(_JS_RECEIVER.search(text, max(0, m.start() - 12), m.start()) for m in _JS_MODIFIER.finditer(text)):
        return True
    return any(w in text for w in _JS_FOCUS_WORDS) and _JS_FOCUS.search(text) is not None


def _js_cases(f: SourceFile) -> int | None:
    if _js_variant(f.text):
        return None
    tree = f.tree
    if tree is None or tree.root_node.has_error:
        return None
    calls = langs.captures(f.lang, _JS_CALLS, tree.root_node).get("call", [])
    return len(calls) if all(_runs_once(c) for c in calls) else None


def _runs_once(call) -> bool:
    """A test call that the file's structure runs exactly once: every function around it is the
    body of a `describe` (not a helper, a loop or a callback of something else) and no branch holds it."""
    node = call.parent
    while node is not None:
        if node.type in _BRANCHES:
            return False
        if node.type in _FUNCTIONS:
            args = node.parent
            owner = args.parent if args is not None and args.type == "arguments" else None
            fn = owner.child_by_field_name("function") if owner is not None and owner.type == "call_expression" else None
            if fn is None or fn.type != "identifier" or fn.text.decode() not in _JS_GROUP:
                return False
        node = node.parent
    return True


# --- pytest / unittest ----------------------------------------------------------------------------

_PY_VARIANT = re.compile(r"parametrize|\bskip|\bparams\s*=|pytest_generate_tests|load_tests|xfail|__test__")
_PY_VARIANT_WORDS = ("parametrize", "skip", "params", "pytest_generate_tests", "load_tests", "xfail", "__test__")
_PY_DEF = re.compile(r"^(?P<indent>[ \t]*)(?:async\s+)?def\s+(?P<name>\w+)\s*\(|"
                     r"^(?P<cindent>[ \t]*)class\s+(?P<cls>\w+)\s*(?:\((?P<bases>[^)]*)\))?\s*:", re.M)
_PY_TEST_BASES = frozenset({"", "object", "TestCase", "unittest.TestCase", "IsolatedAsyncioTestCase",
                            "unittest.IsolatedAsyncioTestCase"})


def _py_cases(text: str) -> int | None:
    if "def test" not in text:
        return 0
    if any(w in text for w in _PY_VARIANT_WORDS) and _PY_VARIANT.search(text):  # the words spare most files the pattern
        return None
    classes: dict[str, tuple[str, int]] = {}  # name -> (bases, tests)
    seen: set[tuple[str, str]] = set()
    current, body_indent = "", None  # the top-level class whose body we are in
    for m in _PY_DEF.finditer(text):
        if m.group("cls") is not None:
            if m.group("cindent"):
                return None  # a nested class: collection depends on more than names
            current, body_indent = m.group("cls"), None
            classes[current] = ((m.group("bases") or "").strip(), 0)
            continue
        indent = m.group("indent")
        if not indent:
            current = ""
        elif current and body_indent is None:
            body_indent = indent
        if not m.group("name").startswith("test"):
            continue
        if indent and (not current or indent != body_indent):
            return None  # a test defined inside a function: made at run time
        if (current, m.group("name")) in seen:
            return None  # redefined: only the last one is collected, and the author may count both
        seen.add((current, m.group("name")))
        if current:
            bases, n = classes[current]
            classes[current] = (bases, n + 1)
    count = len([1 for cls, _ in seen if not cls])
    for name, (bases, n) in classes.items():
        if not n:
            continue
        if not name.startswith("Test") and "TestCase" not in bases:
            continue  # pytest does not collect it
        for base in (b.strip() for b in bases.split(",")):
            if base not in _PY_TEST_BASES and not (base in classes and classes[base][1] == 0):
                return None  # inherits tests, or a base from another file that may hold some
        count += n
    return count


# --- go test, JUnit -------------------------------------------------------------------------------

_GO_TEST = re.compile(r"^func\s+(Test\w*)\s*\(\s*\w+\s+\*testing\.T\s*\)", re.M)


def _go_cases(text: str) -> int | None:
    names = [n for n in _GO_TEST.findall(text) if n != "TestMain"]
    if names and re.search(r"\.Run\s*\(|\.Skip(?:f|Now)?\s*\(", text):
        return None  # subtests and skips: a run counts differently
    return len(names)


_JAVA_VARIANT = re.compile(r"@(?:ParameterizedTest|RepeatedTest|TestFactory|TestTemplate|Disabled|Ignore)\b|"
                           r"\bassume(?:True|False|That)\s*\(|\babstract\s+class\b")


def _java_cases(text: str) -> int | None:
    n = len(re.findall(r"@Test(?![\w.])", text))
    return None if n and _JAVA_VARIANT.search(text) else n


# --- resources ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ResourceCount:
    count: int
    what: str  # how it was counted, for the evidence


def resource_count(task) -> ResourceCount | None:
    """The resources the final template or Terraform code declares, when that number is what a
    deployment creates: CloudFormation (one template, or copies with the same resources) without
    conditions, transforms or nested stacks; Terraform without count, for_each or modules. CDK,
    CDKTF and Pulumi programs: None (the synthesised template adds resources no source line shows)."""
    platform = (task.metadata or {}).get("platform")
    if platform == "cfn":
        return _cfn_count(task)
    if platform == "tf":
        return _tf_count(task)
    return None


def quick_resource_count(task) -> int | None:
    """The resources the final template or Terraform code seems to declare, read from lines (and
    JSON): a check whose stated count agrees with it need not parse the templates for
    `resource_count`. None when there is no single count to read."""
    platform = (task.metadata or {}).get("platform")
    counts, blocks = set(), 0  # CloudFormation: one count per template; Terraform: the sum over its files
    for path in task.source_paths:
        text = task.files.get(path) or ""
        if platform == "tf" and path.endswith(".tf"):
            blocks += len(_TF_RESOURCE.findall(text))
        elif platform == "cfn" and path.endswith(".json") and '"Resources"' in text:
            try:
                data = json.loads(text)
            except ValueError:
                continue
            if isinstance(data, dict) and isinstance(data.get("Resources"), dict):
                counts.add(len(data["Resources"]))
        elif platform == "cfn" and path.endswith((".yml", ".yaml")) and (m := _YAML_RESOURCES.search(text)):
            counts.add(len(re.findall(rf"^{m.group('indent')}[\w-]+[ \t]*:", m.group(0), re.M)))
    if platform == "tf":
        return blocks
    return counts.pop() if len(counts) == 1 else None


_TF_RESOURCE = re.compile(r'^[ \t]*resource\s+"', re.M)
# The top-level `Resources:` block of a YAML template, to the next top-level key.
_YAML_RESOURCES = re.compile(r"^Resources:[ \t]*\n(?:[ \t]*(?:#.*)?\n)*(?P<indent>[ \t]+)\S(?:.*\n?)(?:(?:[ \t].*|[ \t]*)(?:\n|$))*",
                             re.M)


def _cfn_count(task) -> ResourceCount | None:
    templates = [f for f in final_files(task) if f.lang in ("yaml", "json") and f.platform == "cfn"]
    found: dict[str, tuple[str, ...]] = {}
    for f in templates:
        root, res = f.root, f.resources_obj()
        if root.get("Transform") is not None:
            return None
        names = []
        for name, node in res.items:
            kind = node.get("Type") if node.kind == OBJ else None
            if kind is None or kind.kind != STR or node.get("Condition") is not None or \
                    kind.text.startswith(("AWS::Serverless::", "AWS::CloudFormation::Stack")):
                return None
            names.append(name)
        found[f.path] = tuple(sorted(names))
    if not found or len(set(found.values())) != 1:
        return None  # no template, or several that differ: which one the report means is not known
    names = next(iter(found.values()))
    return ResourceCount(len(names), "`Resources` of " + ", ".join(sorted(found)))


def _tf_count(task) -> ResourceCount | None:
    count, files = 0, []
    for f in final_files(task):
        if f.lang != "hcl" or f.root is None:
            continue
        blocks = [node for key, node in f.root.items if key == "resource"]
        if any(key == "module" for key, _ in f.root.items) or \
                any(node.get("count") is not None or node.get("for_each") is not None for node in blocks):
            return None
        if blocks:
            count += len(blocks)
            files.append(f.path)
    if not files:
        return None
    return ResourceCount(count, "`resource` blocks in " + ", ".join(files))
