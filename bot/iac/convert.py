"""Syntax trees to `V` values, one converter per grammar.

Converters walk each tree once. Value nodes (objects, arrays, strings, calls, conditionals) become
V nodes; statements and declarations are flattened into the enclosing block, so a program is a
BLOCK of its top-level values. Comments never become values: a commented-out
`RemovalPolicy.RETAIN` cannot fire.
"""

from __future__ import annotations

import json
import re

import tree_sitter as ts

from bot.iac.values import ALT, ARR, BLOCK, BOOL, CALL, COND, FALLBACK, NULL, NUM, OBJ, REF, SPREAD, STR, TPL, V

MAX_DEPTH = 400  # deeper trees (generated data) are cut off rather than overflow the stack
# Template keys no rule reads (resource tags, outputs, parameter and metadata sections): not converted,
# which saves a fifth of the conversion time on CloudFormation and Terraform.
SKIP_KEYS = frozenset({"Tags", "Outputs", "Metadata", "Parameters", "Mappings", "Rules", "Description"})
SKIP_ATTRS = frozenset({b"tags", b"tags_all", b"description", b"default_tags"})


class _Base:
    def __init__(self, offset: int):
        self.offset = offset  # added to tree rows: the line of the text inside its file, minus one
        self.base = offset + 1  # tree rows count from 0: the hot paths add this once

    def pos(self, node: ts.Node) -> tuple[int, int]:
        return node.start_point[0] + self.base, node.end_point[0] + self.base

    def line(self, node: ts.Node) -> int:
        return node.start_point[0] + self.base


class _StatementConverter(_Base):
    """Program languages (TS/JS, Python): a document is the values its statements hold."""

    def document(self, root: ts.Node) -> V:
        out: list[V] = []
        self.collect(root, 0, out, 0)
        line, end = self.pos(root)
        return V(BLOCK, line, end, items=out)

    skip: frozenset[str] = frozenset()  # node types that hold no value (comments, imports, ...)
    values: frozenset[str] = frozenset()  # node types converted as values
    ifs: frozenset[str] = frozenset()  # node types `branches` splits

    def branches(self, node: ts.Node) -> tuple[ts.Node | None, list[ts.Node]]:
        """For an `if` (a node type in `ifs`): its condition and the parts that run only conditionally."""
        raise NotImplementedError

    def collect(self, node: ts.Node, flags: int, out: list[V], depth: int) -> None:
        """Values of a statement-level node, appended to `out`; values inside an `if` are marked COND."""
        if depth > MAX_DEPTH:
            return
        t = node.type
        if t in self.skip:
            return
        if t in self.values:
            out.append(self.value(node, flags, depth))
            return
        if t in self.ifs:
            cond, parts = self.branches(node)
            if cond is not None:
                self.collect(cond, flags, out, depth + 1)
            for part in parts:
                self.collect(part, flags | COND, out, depth + 1)
            return
        for child in node.named_children:
            self.collect(child, flags, out, depth + 1)


def _text(node: ts.Node) -> str:
    return node.text.decode("utf-8", "replace")


# --------------------------------------------------------------------------- YAML

_NULL = {"", "~", "null", "Null", "NULL"}
_BOOL = {"yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
         "on", "On", "ON", "off", "Off", "OFF"}
_INT = re.compile(r"[-+]?(0b[01_]+|0[0-7_]+|(0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+)")
_FLOAT = re.compile(r"[-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")
_YAML_ESC = {"0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r",
             "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0"}
_YAML_ESC_RX = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)", re.S)
_SHORT_TAGS = {"Ref": "Ref", "Condition": "Condition"}


def _fold(text: str) -> str:
    """YAML line folding of a flow scalar: a line break becomes a space, an empty line a newline."""
    if "\n" not in text:
        return text
    lines = text.split("\n")
    out = lines[0].rstrip(" \t")
    blank = 0
    for raw in lines[1:]:
        line = raw.strip(" \t")
        if not line:
            blank += 1
            continue
        out += ("\n" * blank) if blank else " "
        out += line
        blank = 0
    return out + "\n" * blank


def _block_scalar(text: str) -> str:
    header, _, body = text.partition("\n")
    lines = body.split("\n")
    digits = re.search(r"[1-9]", header)
    content = [ln for ln in lines if ln.strip()]
    if digits:
        indent = int(digits.group(0))
        prefix = [len(ln) - len(ln.lstrip(" ")) for ln in content]
        indent += min(prefix) if prefix and min(prefix) > indent else 0
    else:
        indent = min((len(ln) - len(ln.lstrip(" ")) for ln in content), default=0)
    lines = [ln[indent:] for ln in lines]
    while lines and not lines[-1].strip():
        lines.pop()
    if header.lstrip().startswith(">"):
        out, prev_more = "", False
        for i, ln in enumerate(lines):
            more = ln.startswith((" ", "\t"))
            if i == 0:
                out = ln
            elif not ln:
                out += "\n"
            elif more or prev_more or out.endswith("\n"):
                out += ("\n" if not out.endswith("\n") or more or prev_more else "") + ln
            else:
                out += " " + ln
            prev_more = more
        body = out
    else:
        body = "\n".join(lines)
    if "-" in header:
        return body
    return body + "\n" if body else body


class YamlConverter(_Base):
    def __init__(self, offset: int = 0):
        super().__init__(offset)
        self.anchors: dict[str, V] = {}

    def document(self, root: ts.Node) -> V | None:
        for doc in root.named_children:
            if doc.type == "document":
                for child in doc.named_children:
                    if child.type in ("block_node", "flow_node"):
                        return self.node(child, 0, 0)
        return None

    def node(self, node: ts.Node, flags: int, depth: int) -> V:
        """A block_node / flow_node: its tag and anchor, then its content."""
        children = node.named_children
        if len(children) == 1:  # the common case: no tag, no anchor
            return self.content(children[0], flags, depth + 1)
        line = node.start_point[0] + 1 + self.offset
        if depth > MAX_DEPTH:
            return V(NULL, line, line)
        tag = anchor = None
        content = None
        for child in children:
            if child.type == "tag":
                tag = _text(child)
            elif child.type == "anchor":
                anchor = _text(child)[1:]
            elif child.type != "comment":
                content = child
        if tag and tag.startswith("!") and not tag.startswith("!!"):
            name = tag[1:]
            key = _SHORT_TAGS.get(name, "Fn::" + name)
            inner = self.content(content, flags | (COND if name == "If" else 0), depth + 1) if content is not None \
                else V(NULL, line, line, flags=flags)
            if name == "GetAtt" and inner.kind == STR:
                first, _, rest = inner.text.partition(".")
                inner = V(ARR, inner.line, inner.end, items=[V(STR, line, line, first), V(STR, line, line, rest)])
            value = V(OBJ, line, node.end_point[0] + 1 + self.offset, items=[(key, inner)], flags=flags)
        else:
            value = self.content(content, flags, depth + 1) if content is not None else V(NULL, line, line, flags=flags)
            if tag == "!!str" and value.kind in (NUM, BOOL, NULL):
                value = V(STR, value.line, value.end, value.text, flags=flags)
        if anchor:
            self.anchors[anchor] = value
        return value

    def key(self, node: ts.Node, depth: int) -> str:
        children = node.named_children
        if len(children) == 1 and children[0].type == "plain_scalar":
            return _fold(_text(children[0]))
        value = self.node(node, 0, depth).py()
        return "" if value is None else value if isinstance(value, str) else str(value)

    def content(self, node: ts.Node, flags: int, depth: int) -> V:
        t = node.type
        if t in _YAML_SCALARS:
            return self.scalar(node, t, flags)
        line = node.start_point[0] + 1 + self.offset
        if depth > MAX_DEPTH:
            return V(NULL, line, line)
        if t in ("block_mapping", "flow_mapping"):
            items = []
            for pair in node.named_children:
                if pair.type in ("block_mapping_pair", "flow_pair"):
                    k = pair.child_by_field_name("key")
                    v = pair.child_by_field_name("value")
                    key = self.key(k, depth + 1) if k is not None else ""
                    if key in SKIP_KEYS:
                        continue
                    vflags = flags | COND if key == "Fn::If" else flags
                    items.append((key, self.node(v, vflags, depth + 1) if v is not None
                                  else V(NULL, pair.start_point[0] + 1 + self.offset, line, flags=vflags)))
                elif pair.type == "flow_node":  # `{a}`: a key without value
                    items.append((self.key(pair, depth + 1), V(NULL, line, line, flags=flags)))
            return V(OBJ, line, node.end_point[0] + 1 + self.offset, items=items, flags=flags)
        if t in ("block_sequence", "flow_sequence"):
            items = []
            for item in node.named_children:
                if item.type == "block_sequence_item":
                    inner = next((c for c in item.named_children if c.type != "comment"), None)
                    items.append(self.node(inner, flags, depth + 1) if inner is not None else V(NULL, line, line, flags=flags))
                elif item.type in ("flow_node", "block_node"):
                    items.append(self.node(item, flags, depth + 1))
            return V(ARR, line, node.end_point[0] + 1 + self.offset, items=items, flags=flags)
        if t == "alias":
            target = self.anchors.get(_text(node)[1:])
            return target if target is not None else V(NULL, line, line, flags=flags)
        if t in ("block_node", "flow_node"):
            return self.node(node, flags, depth)
        return V(STR, line, line, _text(node), flags=flags)

    def scalar(self, node: ts.Node, t: str, flags: int) -> V:
        raw = _text(node)
        line = node.start_point[0] + 1 + self.offset
        end = node.end_point[0] + 1 + self.offset if "\n" in raw else line
        if t == "plain_scalar":
            return yaml_plain_value(_fold(raw), line, end, flags)
        if t == "double_quote_scalar":
            return V(STR, line, end, yaml_double_quoted_text(raw[1:-1]), flags=flags)
        if t == "single_quote_scalar":
            return V(STR, line, end, _fold(raw[1:-1]).replace("''", "'"), flags=flags)
        return V(STR, line, end, _block_scalar(raw), flags=flags)


_YAML_SCALARS = {"plain_scalar", "double_quote_scalar", "single_quote_scalar", "block_scalar"}
_ESCAPED_BREAK = re.compile(r"\\\n[ \t]*")


def yaml_plain_value(text: str, line: int, end: int, flags: int) -> V:
    """A plain scalar's value (its text folded): null, boolean, number or string, as YAML 1.1 types it."""
    if text in _NULL:
        return V(NULL, line, end, text, (), "", flags)
    if text in _BOOL:
        return V(BOOL, line, end, "true" if text.lower() in ("yes", "true", "on") else "false", (), "", flags)
    if text[0] in "0123456789+-." and (_INT.fullmatch(text) or _FLOAT.fullmatch(text)):
        return V(NUM, line, end, text, (), "", flags)
    return V(STR, line, end, text, (), "", flags)


def yaml_double_quoted_text(inner: str) -> str:
    """The text of a double-quoted scalar from what is between its quotes: folded, escapes read (an
    escaped line break joins without a space)."""
    if "\\" in inner or "\n" in inner:
        inner = _ESCAPED_BREAK.sub("", inner)
        inner = _YAML_ESC_RX.sub(_yaml_unescape, _fold(inner))
    return inner


def _yaml_unescape(m: re.Match) -> str:
    code = m.group(1)
    if code[0] in "xuU" and len(code) > 1:
        return chr(int(code[1:], 16))
    return _YAML_ESC.get(code, "\\" + code)


# --------------------------------------------------------------------------- JSON

# The tokens of one line of valid JSON (no string spans lines), separators and blanks dropped.
_JSON_TOKENS = re.compile(r'[\s,:]*("[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\]]|[^\s,:"{}\[\]]+)').findall


def json_values(text: str, offset: int = 0) -> V | None:
    """The value tree JsonConverter makes of valid JSON, read token by token without a syntax tree:
    twice as fast as parsing and converting (CloudFormation JSON is the bulkiest IaC in the corpus).
    None for text json.loads rejects (comments, NaN, errors) and for deep nesting: convert those."""
    try:
        json.loads(text, parse_constant=_reject)
    except (ValueError, RecursionError):
        return None
    stack: list[list] = []  # the open objects and arrays: [kind, line, items, flags, key of the next item]
    top: list | None = None
    root = None
    skip = 0  # nesting of a skipped value (under a SKIP_KEYS key) still open
    skip_next = False
    for line, text_line in enumerate(text.split("\n"), offset + 1):
        for tok in _JSON_TOKENS(text_line):
            c = tok[0]
            if skip:
                if c == "{" or c == "[":
                    skip += 1
                elif c == "}" or c == "]":
                    skip -= 1
                continue
            if skip_next:
                skip_next = False
                top[4] = None
                if c == "{" or c == "[":
                    skip = 1
                continue
            if top is not None and top[0] is OBJ and top[4] is None and c != "}":
                key = top[4] = JsonConverter.string_text(tok)
                skip_next = key in SKIP_KEYS
                continue
            if c == "}" or c == "]":
                kind, start, items, flags, _ = stack.pop()
                value = V(kind, start, line, "", items, "", flags)
                top = stack[-1] if stack else None
            else:
                flags = 0 if top is None else top[3] | COND if top[4] == "Fn::If" else top[3]
                if c == "{" or c == "[":
                    if len(stack) >= MAX_DEPTH:
                        return None
                    top = [OBJ if c == "{" else ARR, line, [], flags, None]
                    stack.append(top)
                    continue
                if c == '"':
                    value = V(STR, line, line, JsonConverter.string_text(tok), (), "", flags)
                elif tok == "true" or tok == "false":
                    value = V(BOOL, line, line, tok, (), "", flags)
                elif tok == "null":
                    value = V(NULL, line, line, "", (), "", flags)
                else:
                    value = V(NUM, line, line, tok, (), "", flags)
            if top is None:
                root = value
            elif top[0] is OBJ:
                top[2].append((top[4], value))
                top[4] = None
            else:
                top[2].append(value)
    return root


def _reject(constant: str):
    raise ValueError(f"not JSON: {constant}")


class JsonConverter(_Base):
    def document(self, root: ts.Node) -> V | None:
        for child in root.named_children:
            if child.type != "comment":
                return self.value(child, 0, 0)
        return None

    def value(self, node: ts.Node, flags: int, depth: int) -> V:
        t = node.type
        line = node.start_point[0] + 1 + self.offset
        if t == "string":
            return V(STR, line, line, self.string(node), flags=flags)
        if depth > MAX_DEPTH:
            return V(NULL, line, line)
        if t == "object":
            items = []
            for pair in node.named_children:
                if pair.type == "pair":
                    kv = pair.named_children
                    if len(kv) < 2:
                        continue
                    k, v = kv[0], kv[-1]
                    key = self.string(k) if k.type == "string" else _text(k)
                    if key in SKIP_KEYS:
                        continue
                    items.append((key, self.value(v, flags | COND if key == "Fn::If" else flags, depth + 1)))
            return V(OBJ, line, node.end_point[0] + 1 + self.offset, items=items, flags=flags)
        if t == "array":
            return V(ARR, line, node.end_point[0] + 1 + self.offset,
                     items=[self.value(c, flags, depth + 1) for c in node.named_children if c.type != "comment"], flags=flags)
        if t == "number":
            return V(NUM, line, line, _text(node), flags=flags)
        if t in ("true", "false"):
            return V(BOOL, line, line, t, flags=flags)
        if t == "null":
            return V(NULL, line, line, flags=flags)
        return V(REF, line, line, _text(node), flags=flags)

    @staticmethod
    def string(node: ts.Node) -> str:
        return JsonConverter.string_text(_text(node))

    @staticmethod
    def string_text(raw: str) -> str:
        if "\\" not in raw:
            return raw[1:-1]
        try:
            return json.loads(raw)
        except ValueError:
            return raw[1:-1]


# --------------------------------------------------------------------------- HCL

_HCL_WRAPPERS = frozenset({"expression", "literal_value", "collection_value"})  # a node around its one value


class HclConverter(_Base):
    def document(self, root: ts.Node) -> V | None:
        body = next((c for c in root.named_children if c.type == "body"), None)
        line, end = self.pos(root)
        return self.body(body, 0, 0) if body is not None else V(OBJ, line, end)

    def body(self, node: ts.Node, flags: int, depth: int) -> V:
        line, end = self.pos(node)
        items = []
        for child in node.named_children:
            if child.type == "attribute":
                parts = child.named_children
                name = parts[0]
                if name.text in SKIP_ATTRS:
                    continue
                expr = parts[1] if len(parts) > 1 else None
                items.append((_text(name), self.expr(expr, flags, depth + 1) if expr is not None else V(NULL, line, end)))
            elif child.type == "block":
                # variable defaults are inputs and outputs are read-only: nothing for the rules there
                if depth == 0 and child.named_children and child.named_children[0].text in (b"variable", b"output"):
                    continue
                items.append(self.block(child, flags, depth + 1))
        return V(OBJ, line, end, items=items, flags=flags)

    def block(self, node: ts.Node, flags: int, depth: int) -> tuple[str, V]:
        kind = ""
        labels = []
        body = None
        for c in node.named_children:
            if c.type == "identifier" and not kind:
                kind = _text(c)
            elif c.type == "string_lit":
                labels.append(self.template(c, flags, depth).text)
            elif c.type == "identifier":
                labels.append(_text(c))
            elif c.type == "body":
                body = c
        line, end = self.pos(node)
        value = self.body(body, flags, depth + 1) if body is not None else V(OBJ, line, end, flags=flags)
        value.line, value.end, value.name, value.labels = line, end, kind, tuple(labels)
        return kind, value

    def expr(self, node: ts.Node, flags: int, depth: int) -> V:
        t = node.type
        named = node.named_children
        if depth <= MAX_DEPTH and len(named) == 1 and t in _HCL_WRAPPERS:  # most values: no position needed
            return self.expr(named[0], flags, depth + 1)
        line, end = node.start_point[0] + self.base, node.end_point[0] + self.base
        if depth > MAX_DEPTH:
            return V(NULL, line, end)
        if t == "expression":
            return V(REF, line, end, _text(node), flags=flags)
        if t == "literal_value":
            return self.expr(named[0], flags, depth + 1) if named else V(NULL, line, end, flags=flags)
        if t == "numeric_lit":
            return V(NUM, line, end, _text(node), flags=flags)
        if t == "bool_lit":
            return V(BOOL, line, end, _text(node), flags=flags)
        if t == "null_lit":
            return V(NULL, line, end, flags=flags)
        if t in ("string_lit", "template_expr", "quoted_template", "heredoc_template"):
            return self.template(node, flags, depth)
        if t == "collection_value":
            return self.expr(named[0], flags, depth + 1)  # (more than one child: error recovery)
        if t == "tuple":
            return V(ARR, line, end, items=[self.expr(c, flags, depth + 1) for c in named if c.type == "expression"], flags=flags)
        if t == "object":
            items = []
            for elem in named:
                if elem.type == "object_elem":
                    k, v = elem.child_by_field_name("key"), elem.child_by_field_name("val")
                    kv = self.expr(k, 0, depth + 1) if k is not None else None
                    key = kv.text if kv is not None else ""
                    if v is not None:
                        items.append((key, self.expr(v, flags, depth + 1)))
            return V(OBJ, line, end, items=items, flags=flags)
        if t == "function_call":
            name = _text(named[0]) if named else ""
            args = next((c for c in named if c.type == "function_arguments"), None)
            items = [self.expr(c, flags, depth + 1) for c in args.named_children if c.type == "expression"] if args else []
            return V(CALL, line, end, _text(node), items=items, name=name, flags=flags)
        if t == "conditional":
            parts = [c for c in named if c.type == "expression"]
            items = [self.expr(c, flags | COND, depth + 1) for c in parts[1:]]
            return V(ALT, line, end, _text(node), items=items, flags=flags)
        if t == "variable_expr":
            return V(REF, line, end, _text(node), flags=flags)
        # operations, for-expressions, splats, indexes: keep what they hold for string scans
        return V(ALT if t == "binary_operation" else REF, line, end, _text(node),
                 items=[self.expr(c, flags, depth + 1) for c in named if c.type == "expression"], flags=flags)

    def template(self, node: ts.Node, flags: int, depth: int) -> V:
        line, end = self.pos(node)
        text = hcl_template_text(_text(node))
        dynamic = "${" in text or "%{" in text
        return V(TPL if dynamic else STR, line, end, text, flags=flags)


def hcl_template_text(raw: str) -> str:
    """The value text of an HCL template's source: a heredoc's lines between its markers (`<<-` strips
    the common indent), a quoted string without its quotes."""
    if raw.startswith("<<"):
        lines = raw.split("\n")
        text = "\n".join(lines[1:-1])
        if raw.startswith("<<-"):
            indent = min((len(ln) - len(ln.lstrip()) for ln in lines[1:-1] if ln.strip()), default=0)
            text = "\n".join(ln[indent:] for ln in lines[1:-1])
        return text
    return raw[1:-1].replace('\\"', '"').replace("\\\\", "\\") if raw.startswith('"') else raw


# --------------------------------------------------------------------------- TypeScript / JavaScript

_UNWRAP_TS = {"parenthesized_expression", "as_expression", "satisfies_expression", "non_null_expression",
              "type_assertion", "await_expression"}
_ENV_GET = re.compile(r"(environ\.get|getenv|environ\.setdefault|tryGetContext|try_get_context|node\.getContext)$")
_JS_ESC = re.compile(r"\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)", re.S)
_JS_ESC_MAP = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0", "\n": ""}


def _js_unescape(m: re.Match) -> str:
    code = m.group(1)
    if code[0] in "ux" and len(code) > 1:
        return chr(int(code[1:].strip("{}"), 16))
    return _JS_ESC_MAP.get(code, code)


_VALUE_TS = {"object", "array", "string", "template_string", "number", "true", "false", "null", "undefined",
             "new_expression", "call_expression", "ternary_expression", "binary_expression", "member_expression"
             } | _UNWRAP_TS
# Subtrees that hold no values (types, imports) and bare names: not collected at statement level.
_SKIP_TS = {"comment", "import_statement", "type_annotation", "interface_declaration", "type_alias_declaration",
            "type_arguments", "type_parameters", "identifier", "property_identifier", "this", "predefined_type",
            "accessibility_modifier", "shorthand_property_identifier_pattern", "formal_parameters", "statement_identifier",
            "enum_declaration", "ambient_declaration", "export_clause", "type_identifier", "return_type"}


class TsConverter(_StatementConverter):
    skip = frozenset(_SKIP_TS)
    values = frozenset(_VALUE_TS)

    ifs = frozenset({"if_statement"})

    def branches(self, node: ts.Node) -> tuple[ts.Node | None, list[ts.Node]]:
        parts = [node.child_by_field_name(f) for f in ("consequence", "alternative")]
        return node.child_by_field_name("condition"), [p for p in parts if p is not None]

    def value(self, node: ts.Node, flags: int, depth: int) -> V:
        line, end = node.start_point[0] + self.base, node.end_point[0] + self.base
        t = node.type
        if depth > MAX_DEPTH:
            return V(NULL, line, end)
        if t == "string":
            return V(STR, line, end, _JS_ESC_RX_sub(_text(node)[1:-1]), (), "", flags)
        if t in ("identifier", "this", "property_identifier"):
            return V(REF, line, end, _text(node), (), "", flags)
        if t in ("new_expression", "call_expression"):
            return self.call(node, flags, depth)
        if t in _UNWRAP_TS:
            inner = next((c for c in node.named_children if c.type != "comment"), None)
            return self.value(inner, flags, depth + 1) if inner is not None else V(NULL, line, end)
        if t == "object":
            items, f = [], flags
            for c in node.named_children:
                if c.type == "pair":
                    k, v = c.child_by_field_name("key"), c.child_by_field_name("value")
                    if k is not None and v is not None:
                        items.append((self.key(k), self.value(v, flags, depth + 1)))
                elif c.type == "shorthand_property_identifier":
                    items.append((_text(c), V(REF, *self.pos(c), _text(c), flags=flags)))
                elif c.type == "spread_element":
                    f |= SPREAD
                elif c.type == "method_definition":
                    body: list[V] = []
                    self.collect(c, flags, body, depth + 1)
                    name = c.child_by_field_name("name")
                    items.append((_text(name) if name is not None else "", V(BLOCK, *self.pos(c), items=body, flags=flags)))
            return V(OBJ, line, end, items=items, flags=f)
        if t == "array":
            return V(ARR, line, end, items=[self.value(c, flags, depth + 1) for c in node.named_children
                                             if c.type != "comment"], flags=flags)
        if t == "template_string":
            subs = [c for c in node.named_children if c.type == "template_substitution"]
            if not subs:
                return V(STR, line, end, _JS_ESC_RX_sub(_text(node)[1:-1]), flags=flags)
            items = []
            for s in subs:
                self.collect(s, flags, items, depth + 1)
            return V(TPL, line, end, _text(node)[1:-1], items=items, flags=flags)
        if t == "number":
            return V(NUM, line, end, _text(node), flags=flags)
        if t in ("true", "false"):
            return V(BOOL, line, end, t, flags=flags)
        if t in ("null", "undefined"):
            return V(NULL, line, end, flags=flags)
        if t == "ternary_expression":
            cond = node.child_by_field_name("condition")
            items = [self.value(node.child_by_field_name(f), flags | COND, depth + 1)
                     for f in ("consequence", "alternative") if node.child_by_field_name(f) is not None]
            return V(ALT, line, end, _text(cond) if cond is not None else "", items=items, flags=flags)
        if t == "binary_expression":
            op = node.child_by_field_name("operator")
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            fallback = op is not None and _text(op) in ("||", "??")
            items = []
            if left is not None:
                items.append(self.value(left, flags, depth + 1))
            if right is not None:
                items.append(self.value(right, flags | (FALLBACK if fallback else 0), depth + 1))
            return V(ALT, line, end, _text(op) if op is not None else "", items=items, flags=flags)
        if t == "member_expression":
            obj = node.child_by_field_name("object")
            items = [self.value(obj, flags, depth + 1)] if obj is not None and obj.type in _VALUE_TS - {"identifier", "member_expression", "this"} else []
            return V(REF, line, end, _text(node), items=items, flags=flags)
        items: list[V] = []
        for c in node.named_children:  # arrow functions, assignments, unary and other expressions
            self.collect(c, flags, items, depth + 1)
        return V(BLOCK, line, end, _text(node) if node.named_child_count == 0 else "", items=items, flags=flags)

    def call(self, node: ts.Node, flags: int, depth: int) -> V:
        line, end = node.start_point[0] + self.base, node.end_point[0] + self.base
        fn = node.child_by_field_name("constructor") or node.child_by_field_name("function")
        args = node.child_by_field_name("arguments")
        name, recv = "", None
        if fn is not None:
            name = _callee(fn)
            if fn.type == "member_expression":
                obj = fn.child_by_field_name("object")
                if obj is not None and obj.type in ("call_expression", "new_expression"):
                    recv = self.call(obj, flags, depth + 1)
        aflags = flags | (FALLBACK if _ENV_GET.search(name) else 0)
        items = []
        if args is not None:
            for c in args.named_children:
                if c.type != "comment":
                    items.append(self.value(c, aflags, depth + 1))
        return V(CALL, line, end, items=items, name=name, flags=flags, recv=recv)

    def key(self, node: ts.Node) -> str:
        if node.type == "string":
            return _JS_ESC_RX_sub(_text(node)[1:-1])
        return _text(node)


# A callee whose text is its name: _callee would rebuild the same string part by part.
_PLAIN_CALLEE = re.compile(r"[\w.$\[\]'\"]+")


def _JS_ESC_RX_sub(text: str) -> str:
    return _JS_ESC.sub(_js_unescape, text) if "\\" in text else text


def _callee(fn: ts.Node) -> str:
    """`s3.Bucket`, `key.addToResourcePolicy`; a call in the chain shows as `()`."""
    text = _text(fn)
    if _PLAIN_CALLEE.fullmatch(text):  # no call, parentheses, `!`, `?.`, space or comment in it: the text as written
        return text
    if fn.type == "member_expression":
        obj, prop = fn.child_by_field_name("object"), fn.child_by_field_name("property")
        head = _callee(obj) if obj is not None else ""
        return f"{head}.{_text(prop)}" if prop is not None else head
    if fn.type in ("call_expression", "new_expression"):
        inner = fn.child_by_field_name("function") or fn.child_by_field_name("constructor")
        return (_callee(inner) if inner is not None else "") + "()"
    if fn.type == "attribute":  # python
        obj, attr = fn.child_by_field_name("object"), fn.child_by_field_name("attribute")
        head = _callee(obj) if obj is not None else ""
        return f"{head}.{_text(attr)}" if attr is not None else head
    if fn.type == "call":  # python
        inner = fn.child_by_field_name("function")
        return (_callee(inner) if inner is not None else "") + "()"
    if fn.type in ("parenthesized_expression", "non_null_expression"):
        inner = fn.named_children[0] if fn.named_children else None
        return _callee(inner) if inner is not None else ""
    return _text(fn)


# --------------------------------------------------------------------------- Python

_PY_ESC = re.compile(r"\\(N\{[^}]*\}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|x[0-9a-fA-F]{2}|.)", re.S)


def _py_unescape(m: re.Match) -> str:
    code = m.group(1)
    if code[0] in "uUx" and len(code) > 1:
        return chr(int(code[1:], 16))
    return _JS_ESC_MAP.get(code, "\\" + code if code not in "'\"\\" else code)


_VALUE_PY = {"dictionary", "list", "tuple", "set", "string", "concatenated_string", "integer", "float", "true",
             "false", "none", "call", "conditional_expression", "boolean_operator", "attribute",
             "parenthesized_expression"}
_SKIP_PY = {"comment", "identifier", "import_statement", "import_from_statement", "type", "parameters",
            "future_import_statement"}


class PyConverter(_StatementConverter):
    skip = frozenset(_SKIP_PY)
    values = frozenset(_VALUE_PY)

    ifs = frozenset({"if_statement", "elif_clause"})

    def branches(self, node: ts.Node) -> tuple[ts.Node | None, list[ts.Node]]:
        cond = node.child_by_field_name("condition")
        return cond, [c for c in node.named_children if c != cond and c.type != "comment"]

    def value(self, node: ts.Node, flags: int, depth: int) -> V:
        line, end = node.start_point[0] + self.base, node.end_point[0] + self.base
        t = node.type
        if depth > MAX_DEPTH:
            return V(NULL, line, end)
        if t == "string":
            raw = _text(node)
            q = raw[0]
            if (q == '"' or q == "'") and "\\" not in raw:  # no prefix, no escapes: the text between the quotes
                n = 3 if raw.startswith(q * 3) and len(raw) >= 6 else 1
                if raw.endswith(q * n):
                    return V(STR, line, end, raw[n:-n], (), "", flags)
            return self.string(node, flags, depth)
        if t == "identifier":
            return V(REF, line, end, _text(node), (), "", flags)
        if t == "attribute":
            obj = node.child_by_field_name("object")
            items = [self.value(obj, flags, depth + 1)] if obj is not None and obj.type == "call" else None
            return V(REF, line, end, _text(node), items, "", flags)
        if t == "call":
            return self.call(node, flags, depth)
        if t == "parenthesized_expression":
            inner = next((c for c in node.named_children if c.type != "comment"), None)
            return self.value(inner, flags, depth + 1) if inner is not None else V(NULL, line, end)
        if t == "dictionary":
            items, f = [], flags
            for c in node.named_children:
                if c.type == "pair":
                    k, v = c.child_by_field_name("key"), c.child_by_field_name("value")
                    if k is not None and v is not None:
                        kv = self.value(k, 0, depth + 1)
                        items.append((kv.text, self.value(v, flags, depth + 1)))
                elif c.type == "dictionary_splat":
                    f |= SPREAD
            return V(OBJ, line, end, items=items, flags=f)
        if t in ("list", "tuple", "set"):
            return V(ARR, line, end, items=[self.value(c, flags, depth + 1) for c in node.named_children
                                             if c.type != "comment"], flags=flags)
        if t == "concatenated_string":
            return self.string(node, flags, depth)
        if t in ("integer", "float"):
            return V(NUM, line, end, _text(node), flags=flags)
        if t in ("true", "false"):
            return V(BOOL, line, end, t, flags=flags)
        if t == "none":
            return V(NULL, line, end, flags=flags)
        if t == "conditional_expression":
            parts = [c for c in node.named_children if c.type != "comment"]
            items = [self.value(p, flags | COND, depth + 1) for p in (parts[0], parts[2])] if len(parts) == 3 else []
            return V(ALT, line, end, _text(parts[1]) if len(parts) == 3 else "", items=items, flags=flags)
        if t == "boolean_operator":
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            op = node.child_by_field_name("operator")
            fallback = op is not None and _text(op) == "or"
            items = []
            if left is not None:
                items.append(self.value(left, flags, depth + 1))
            if right is not None:
                items.append(self.value(right, flags | (FALLBACK if fallback else 0), depth + 1))
            return V(ALT, line, end, _text(op) if op is not None else "", items=items, flags=flags)
        items = []
        for c in node.named_children:
            self.collect(c, flags, items, depth + 1)
        return V(BLOCK, line, end, items=items, flags=flags)

    def string(self, node: ts.Node, flags: int, depth: int) -> V:
        line, end = self.pos(node)
        parts = [node] if node.type == "string" else [c for c in node.named_children if c.type == "string"]
        text, dynamic, items = "", False, []
        for part in parts:
            raw = False
            for c in part.named_children:
                if c.type == "string_start":
                    raw = "r" in _text(c).lower()
                elif c.type == "string_content":
                    s = _text(c)
                    text += s if raw or "\\" not in s else _PY_ESC.sub(_py_unescape, s)
                elif c.type == "escape_sequence":
                    s = _text(c)
                    text += s if raw else _PY_ESC.sub(_py_unescape, s)
                elif c.type == "interpolation":
                    dynamic = True
                    text += _text(c)
                    self.collect(c, flags, items, depth + 1)
        return V(TPL if dynamic else STR, line, end, text, items=items, flags=flags)

    def call(self, node: ts.Node, flags: int, depth: int) -> V:
        line, end = node.start_point[0] + self.base, node.end_point[0] + self.base
        fn = node.child_by_field_name("function")
        args = node.child_by_field_name("arguments")
        name, recv = "", None
        if fn is not None:
            name = _callee(fn)
            if fn.type == "attribute":
                obj = fn.child_by_field_name("object")
                if obj is not None and obj.type == "call":
                    recv = self.call(obj, flags, depth + 1)
        aflags = flags | (FALLBACK if _ENV_GET.search(name) else 0)
        items: list[V] = []
        kwargs: list[tuple[str, V]] = []
        spread = 0
        if args is not None:
            for c in args.named_children:
                if c.type == "keyword_argument":
                    k, v = c.child_by_field_name("name"), c.child_by_field_name("value")
                    if k is not None and v is not None:
                        kwargs.append((_text(k), self.value(v, aflags, depth + 1)))
                elif c.type == "dictionary_splat":
                    spread = SPREAD
                elif c.type not in ("comment", "list_splat"):
                    items.append(self.value(c, aflags, depth + 1))
        if kwargs or spread:
            items.append(V(OBJ, line, end, items=kwargs, name="**", flags=flags | spread))
        return V(CALL, line, end, items=items, name=name, flags=flags, recv=recv)


CONVERTERS = {"yaml": YamlConverter, "json": JsonConverter, "hcl": HclConverter, "typescript": TsConverter,
              "tsx": TsConverter, "javascript": TsConverter, "python": PyConverter}


def convert(tree: ts.Tree, lang: str, offset: int = 0) -> V | None:
    cls = CONVERTERS.get(lang)
    return cls(offset).document(tree.root_node) if cls is not None else None
