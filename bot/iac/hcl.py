"""Terraform HCL read straight into `V` values, without a syntax tree.

`hcl_values` builds the value tree `HclConverter` makes of tree-sitter-hcl's parse (same kinds, lines,
texts, keys, flags, the same attributes and blocks left out) from regular expressions: a whole
`name = value` line is one match, and only the rest (collections, calls, conditionals, templates)
goes through a small recursive-descent parser that follows the grammar's shapes. Three to four
times faster than parsing and converting, on the corpus's Terraform.

It answers None whenever it is not sure, and the caller then parses with tree-sitter: text
tree-sitter would have to recover from (unterminated strings and heredocs, bad escapes, `1e3`,
stray tokens), names outside ASCII, deep nesting.
"""

from __future__ import annotations

import re

from bot.iac.convert import MAX_DEPTH, SKIP_ATTRS, hcl_template_text
from bot.iac.values import ALT, ARR, BOOL, CALL, COND, NULL, NUM, OBJ, REF, STR, TPL, V

_SKIPPED = frozenset(name.decode() for name in SKIP_ATTRS)  # attributes the converter leaves out
_TOP_SKIPPED = ("variable", "output")  # top-level blocks the converter leaves out
# Nesting the reader follows. A level is at most three of the converter's depth steps, so the trees
# it builds stay well inside MAX_DEPTH; deeper text is left to tree-sitter.
_MAX_NESTING = MAX_DEPTH // 6

# ---------------------------------------------------------------- tokens (tree-sitter-hcl's)
# Loops are unrolled (`a*(?:b a*)*`) and blanks skipped atomically: Python's re is much faster so.
_IDENT = r"(?>[A-Za-z_][A-Za-z0-9_-]*(?:::[A-Za-z0-9_-]*)*)"
_NUM = r"0x[0-9a-zA-Z]+|[0-9]+(?:\.[0-9]+(?:[eE][-+]?[0-9]+)?)?"
_COMMENT = r"#[^\n]*|//[^\n]*|/\*[^*]*\*+(?:[^/*][^*]*\*+)*/"
_SKIP = r"(?>[ \t\r\n]*(?:(?:" + _COMMENT + r")[ \t\r\n]*)*)"
_END = r"(?![A-Za-z0-9_-])"  # a word ends here (`true1`, `1e3` are other tokens)
_ESCAPE = r'\\[nrt"\\]|\\u[0-9a-fA-F]{4}|\\U[0-9a-fA-F]{8}'
_PLAIN_STR = r'"[^"\\$%\n]*(?:(?:' + _ESCAPE + r'|[$%](?![{$%]))[^"\\$%\n]*)*"'  # no interpolation
# A reference with traversals whose indexes are numbers, plain strings or references: `a.b[0].c`, `m[each.key]`.
_REF_CHAIN = (r"(?>" + _IDENT + r"(?:\." + _IDENT + r"|\.[0-9]+|\.\*|\[\*\]|\[(?:[0-9]+|" + _PLAIN_STR + "|"
              + _IDENT + r"(?:\." + _IDENT + r")*)\])*)" + _END)
# A one-line quoted string whose interpolations, if any, are such references (`"${var.name}-logs"`).
_SIMPLE_STR = (r'"[^"\\$%\n]*(?:(?:' + _ESCAPE + r"|[$%](?![{$%])|\$\{[ \t]*" + _REF_CHAIN + r"[ \t]*\})"
               r'[^"\\$%\n]*)*"')
# A value of one token (a reference chain counts as one). Group names are the value kinds.
_VALUE = (r"(?:(?P<str>" + _SIMPLE_STR + r")|(?P<num>" + _NUM + r")" + _END + r"|(?P<bool>true|false)" + _END
          + r"|(?P<null>null)" + _END + r"|(?P<ref>" + _REF_CHAIN + r"))")

# A body statement: `name =` and, when it is one token ending the statement, the value; or a block
# header `type "label" name {`; or `}`; or the end of the text.
_STMT = re.compile(
    _SKIP + r"(?:(?P<name>" + _IDENT + r")[ \t]*=(?![=>])[ \t]*(?:" + _VALUE + r"(?=" + _SKIP + r"(?:[A-Za-z_}]|\Z)))?"
    + r"|(?P<block>" + _IDENT + r')(?P<labels>(?>(?:[ \t]+(?:"[^"\\$%\n]*"|' + _IDENT + r"))*))[ \t]*\{"
    + r"|(?P<close>\})|\Z)")
_LABEL = re.compile(r'"([^"]*)"|(' + _IDENT + ")")
# An object element's key (a name or a plain string) and `=`, and the value when it is one token
# ending the element.
_ELEM = re.compile(
    _SKIP + r"(?:(?P<key>" + _IDENT + r")|(?P<skey>" + _PLAIN_STR + r"))[ \t]*[=:](?![=>])[ \t]*(?:" + _VALUE
    + r"(?=" + _SKIP + r'[A-Za-z_}",]))?')
# A tuple element or call argument of one token.
_ITEM = re.compile(_SKIP + _VALUE + r"(?=" + _SKIP + r"[,\])])")
_S_NAME, _S_BLOCK, _S_LABELS, _S_CLOSE = (_STMT.groupindex[g] for g in ("name", "block", "labels", "close"))
_E_KEY, _E_STRING_KEY = _ELEM.groupindex["key"], _ELEM.groupindex["skey"]
_KINDS = {"str": STR, "num": NUM, "bool": BOOL, "null": NULL, "ref": REF}
_STMT_KIND, _ELEM_KIND, _ITEM_KIND = ({rx.groupindex[g]: kind for g, kind in _KINDS.items()}
                                     for rx in (_STMT, _ELEM, _ITEM))

# Tokens of the parser: groups name, number, `"`, heredoc start, punctuation; none at the end of the text.
_TOKEN = re.compile(_SKIP + r"(?:(" + _IDENT + r")|(" + _NUM + r')|(")|(<<-?)|'
                    r"(==|!=|<=|>=|&&|\|\||=>|\.\.\.|\.\*|\[\*\]|[-+*/%<>!?:=,.(){}\[\]~])|\Z)")
_T_NAME, _T_NUM, _T_QUOTE, _T_HEREDOC, _T_PUNCT = 1, 2, 3, 4, 5
_BINARY = frozenset({"==", "!=", "<=", ">=", "&&", "||", "<", ">", "+", "-", "*", "/", "%"})
_COMMENT_RX = re.compile(_COMMENT)

# Template text up to the next `"` (quoted) or line end (heredoc), `${`, `%{`, or a bad escape.
# `$${` and `%%{` are literal text, as in tree-sitter-hcl's scanner.
_QUOTED_CHUNK = re.compile(r'[^"\\$%]*(?:(?:' + _ESCAPE + r'|\$\$\{?|\$(?!\{)|%%\{?|%(?!\{))[^"\\$%]*)*')
_LABEL_TEXT = re.compile(r'[^"\\]*(?:(?:' + _ESCAPE + r')[^"\\]*)*')
_HEREDOC_CHUNK = re.compile(r"[^$%\n]*(?:(?:\$\$\{?|\$(?!\{)|%%\{?|%(?!\{))[^$%\n]*)*")
_HEREDOC_START = re.compile(r"<<(-?)[ \t]*([A-Za-z0-9_-]+)(?![\w-])[^\n]*\n")  # the rest of the line is skipped
_DIRECTIVE = re.compile(r"[ \t\r\n]*~?[ \t\r\n]*(if|else|endif|for|endfor)" + _END)


class _Unsure(Exception):
    """The text is not something the reader fully understands: tree-sitter decides."""


def hcl_values(text: str, offset: int = 0) -> V | None:
    """The value tree `convert(langs.parse(text, "hcl"), "hcl", offset)` gives, or None when unsure."""
    try:
        return _Reader(text, offset).document()
    except (_Unsure, RecursionError):
        return None


class _Reader:
    """One text, read once from the start. `pos` is the end of the last token read (blanks and
    comments after it are not read yet)."""

    def __init__(self, text: str, offset: int):
        self.text = text
        self.pos = 0
        self.line_at, self.line_no = 0, offset + 1  # a position and its line: lines are counted from there
        self.token_at, self.last_token = -1, None  # the last token looked at, and where

    def line(self, at: int) -> int:
        """The line of position `at` (counted from the last position asked: the reader mostly moves forward)."""
        if at >= self.line_at:
            self.line_no += self.text.count("\n", self.line_at, at)
        else:
            self.line_no -= self.text.count("\n", at, self.line_at)
        self.line_at = at
        return self.line_no

    # ------------------------------------------------------------ bodies

    def document(self) -> V:
        t = self.token()
        if t.group(_T_PUNCT) == "{":  # a file holding one object (.tfvars as JSON, a policy snippet)
            self.pos = t.end()
            if self.token().group(_T_NAME) == "for":
                raise _Unsure
            self.object(t.start(_T_PUNCT), 0, 1)
            if self.token().lastindex is not None:
                raise _Unsure
            first = None  # the converter reads only a body: the object gives no value
        else:
            items, first, last = self.body(0)
        if first is None:  # no statement, no body node: the converter takes the whole text's lines
            return V(OBJ, self.line(0), self.line(len(self.text)))
        return V(OBJ, first, last, "", items)

    def body(self, depth: int) -> tuple[list, int | None, int]:
        """The items of a body up to its `}` (read) or the end of the text (depth 0), with the lines
        of its first statement and of the end of its last (None and 0 without statement)."""
        if depth > _MAX_NESTING:
            raise _Unsure
        text, line, match = self.text, self.line, _STMT.match
        items: list = []
        first = None
        last = 0
        pos = self.pos
        while True:
            m = match(text, pos)
            k = m.lastindex if m is not None else 0
            if k == _S_NAME or k == 0:  # an attribute whose value the parser reads, or a statement it reads whole
                self.pos = pos
                name, value, start, is_block = self.statement(m, depth)
                skipped = (depth == 0 and name in _TOP_SKIPPED) if is_block else name in _SKIPPED
                start = line(start)
                pos = self.pos
                last = line(pos)
            elif k == _S_LABELS:
                start = m.start(_S_BLOCK)
                name = m.group(_S_BLOCK)
                labels = m.group(_S_LABELS)
                labels = tuple(s or n for s, n in _LABEL.findall(labels)) if labels else ()
                self.pos = m.end()
                value = self.block(name, labels, start, depth)
                skipped = depth == 0 and name in _TOP_SKIPPED
                start = value.line
                pos = self.pos
                last = value.end
            elif k == _S_CLOSE:
                if not depth:
                    raise _Unsure
                self.pos = m.end()
                return items, first, last
            elif k is None:  # the end of the text
                if depth:
                    raise _Unsure
                self.pos = pos
                return items, first, last
            else:  # `name = value`, the value one token
                name = m.group(_S_NAME)
                last = start = line(m.start(_S_NAME))
                skipped = name in _SKIPPED
                if not skipped:
                    value = _token_value(_STMT_KIND[k], m.group(k), start, 0)
                pos = m.end()
            if first is None:
                first = start
            if not skipped:
                items.append((name, value))

    def statement(self, m: re.Match | None, depth: int) -> tuple[str, V, int, bool]:
        """An attribute from its name (or, `m` matched, from its value) or a block from its type:
        name, value, start and whether it is a block."""
        if m is not None:
            name, start = m.group(_S_NAME), m.start(_S_NAME)
            self.pos = m.end()
        else:
            t = self.token()
            if t.lastindex != _T_NAME:
                raise _Unsure
            name, start = t.group(_T_NAME), t.start(_T_NAME)
            self.pos = t.end()
            t = self.token()
            if t.group(_T_PUNCT) != "=":
                return name, self.block_header(name, start, depth), start, True
            self.pos = t.end()
        t = self.token()
        comment = _COMMENT_RX.search(self.text, start, t.start(t.lastindex or 0))
        value = self.expr(0, depth + 1)
        if comment is not None:
            # the comment is then the attribute's second child, which the converter takes for its value
            value = V(REF, self.line(comment.start()), self.line(comment.end()), comment.group(), [])
        return name, value, start, False

    def block_header(self, kind: str, start: int, depth: int) -> V:
        """A block from its labels on (its type read)."""
        labels = []
        while True:
            t = self.token()
            k = t.lastindex
            if k == _T_NAME:
                labels.append(t.group(k))
                self.pos = t.end()
            elif k == _T_QUOTE:
                labels.append(self.label(t.start(k)))
            elif t.group(_T_PUNCT) == "{":
                self.pos = t.end()
                return self.block(kind, tuple(labels), start, depth)
            else:
                raise _Unsure

    def label(self, start: int) -> str:
        """A quoted block label from its `"`: its text (`${` and `%{` are plain text there)."""
        text = self.text
        end = _LABEL_TEXT.match(text, start + 1).end()
        if text[end:end + 1] != '"':
            raise _Unsure
        self.pos = end + 1
        return hcl_template_text(text[start:end + 1])

    def block(self, kind: str, labels: tuple, start: int, depth: int) -> V:
        """A block whose header is read up to `{`: its body up to `}`."""
        line = self.line(start)
        items, first, _ = self.body(depth + 2)
        # without a statement tree-sitter makes no body node, and the converter no list of items
        return V(OBJ, line, self.line(self.pos), "", items if first is not None else (), kind, 0, labels)

    # ------------------------------------------------------------ expressions

    def token(self) -> re.Match:
        """The next token, not read (`pos` stays)."""
        pos = self.pos
        if pos == self.token_at:  # parsing functions of several levels look at the same token
            return self.last_token
        m = _TOKEN.match(self.text, pos)
        if m is None:
            raise _Unsure
        self.token_at, self.last_token = pos, m
        return m

    def expect(self, punct: str) -> None:
        m = self.token()
        if m.group(_T_PUNCT) != punct:
            raise _Unsure
        self.pos = m.end()

    def expr(self, flags: int, depth: int) -> V:
        """An expression: operations joined by `? :` (tree-sitter-hcl groups them from the left)."""
        if depth > _MAX_NESTING:
            raise _Unsure
        m = self.token()
        start = m.start(m.lastindex or 0)
        value = self.operation(m, start, flags, depth)
        branches = None
        while True:
            m = self.token()
            if m.group(_T_PUNCT) != "?":
                break
            self.pos = m.end()
            branch = self.expr(flags | COND, depth + 1)
            self.expect(":")
            m = self.token()
            # `a ? b : c ? d : e` is `(a ? b : c) ? d : e`: the converter reads only the outer branches
            branches = [branch, self.operation(m, m.start(m.lastindex or 0), flags | COND, depth + 1)]
        if branches is None:
            return value
        end = self.pos
        return V(ALT, self.line(start), self.line(end), self.text[start:end], branches, "", flags)

    def operation(self, m: re.Match, start: int, flags: int, depth: int) -> V:
        """Unary and binary operations (a reference of their text), or a single term; `m` is its first token."""
        operated = False
        while True:
            while m.group(_T_PUNCT) in ("-", "!"):
                operated = True
                self.pos = m.end()
                m = self.token()
            value = self.term(m, flags, depth)
            m = self.token()
            if m.group(_T_PUNCT) not in _BINARY:
                break
            operated = True
            self.pos = m.end()
            m = self.token()
        if operated:
            end = self.pos
            return V(REF, self.line(start), self.line(end), self.text[start:end], [], "", flags)
        return value

    def term(self, m: re.Match, flags: int, depth: int) -> V:
        """A value with its traversals (`.name`, `[key]`, splats): with any, a reference of its text."""
        start = m.start(m.lastindex or 0)
        value = self.primary(m, flags, depth)
        traversed = False
        while True:
            m = self.token()
            p = m.group(_T_PUNCT)
            if p == ".":
                self.pos = m.end()
                m = self.token()
                if m.lastindex != _T_NAME and not (m.lastindex == _T_NUM and m.group(_T_NUM).isdigit()):
                    raise _Unsure
            elif p == "[":
                self.pos = m.end()
                self.expr(flags, depth + 1)
                m = self.token()
                if m.group(_T_PUNCT) != "]":
                    raise _Unsure
            elif p != ".*" and p != "[*]":
                break
            traversed = True
            self.pos = m.end()
        if traversed:
            end = self.pos
            return V(REF, self.line(start), self.line(end), self.text[start:end], (), "", flags)
        return value

    def primary(self, m: re.Match, flags: int, depth: int) -> V:
        k = m.lastindex
        if k is None:
            raise _Unsure
        start = m.start(k)
        self.pos = m.end()
        if k == _T_NAME:
            name = m.group(k)
            line = self.line(start)
            if name == "true" or name == "false":  # keywords: never a function's name
                return V(BOOL, line, line, name, (), "", flags)
            if name == "null":
                return V(NULL, line, line, "", (), "", flags)
            after = self.token()
            if after.group(_T_PUNCT) == "(":
                self.pos = after.end()
                return self.call(name, start, flags, depth)
            return V(REF, line, line, name, (), "", flags)
        if k == _T_NUM:
            line = self.line(start)
            return V(NUM, line, line, m.group(k), (), "", flags)
        if k == _T_QUOTE:
            return self.quoted(start, flags, depth)
        if k == _T_HEREDOC:
            return self.heredoc(start, flags, depth)
        p = m.group(_T_PUNCT)
        if p == "[":
            return self.tuple(start, flags, depth)
        if p == "{":
            return self.object(start, flags, depth)
        if p == "(":
            return self.parenthesized(start, flags, depth)
        raise _Unsure

    def items(self, close: str, flags: int, depth: int) -> tuple[list, re.Match]:
        """Comma-separated expressions up to `close` (a trailing comma allowed; `...` after a call's
        last argument): their values, and the closing token (not read)."""
        items: list = []
        text, match = self.text, _ITEM.match
        m = self.token()
        while m.group(_T_PUNCT) != close:
            fast = match(text, self.pos)
            if fast is not None:
                k = fast.lastindex
                start = self.line(fast.start(k))
                items.append(_token_value(_ITEM_KIND[k], fast.group(k), start, flags))
                self.pos = fast.end()
            else:
                items.append(self.expr(flags, depth + 1))
            m = self.token()
            p = m.group(_T_PUNCT)
            if p == ",":
                self.pos = m.end()
                m = self.token()
            elif p == "..." and close == ")":
                self.pos = m.end()
                m = self.token()
                if m.group(_T_PUNCT) != close:
                    raise _Unsure
            elif p != close:
                raise _Unsure
        return items, m

    def call(self, name: str, start: int, flags: int, depth: int) -> V:
        """A function call from after its `(`."""
        line = self.line(start)
        args, m = self.items(")", flags, depth)
        self.pos = end = m.end()
        return V(CALL, line, self.line(end), self.text[start:end], args, name, flags)

    def tuple(self, start: int, flags: int, depth: int) -> V:
        line = self.line(start)
        if self.token().group(_T_NAME) == "for":
            return self.for_expr(start, "]", flags, depth)
        items, m = self.items("]", flags, depth)
        self.pos = end = m.end()
        return V(ARR, line, self.line(end), "", items, "", flags)

    def object(self, start: int, flags: int, depth: int) -> V:
        line = self.line(start)
        m = self.token()
        if m.group(_T_NAME) == "for":
            return self.for_expr(start, "}", flags, depth)
        items = []
        text, match = self.text, _ELEM.match
        while m.group(_T_PUNCT) != "}":
            fast = match(text, self.pos)
            if fast is not None:
                key = fast.group(_E_KEY)
                if key is None:
                    key = hcl_template_text(fast.group(_E_STRING_KEY))
                elif key == "null":  # the key is the converted value's text
                    key = ""
                k = fast.lastindex
                self.pos = fast.end()
                if k == _E_KEY or k == _E_STRING_KEY:
                    value = self.expr(flags, depth + 1)
                else:
                    value = _token_value(_ELEM_KIND[k], fast.group(k), self.line(fast.start(k)), flags)
            else:
                key = self.expr(0, depth + 1).text
                m = self.token()
                if m.group(_T_PUNCT) not in ("=", ":"):
                    raise _Unsure
                self.pos = m.end()
                value = self.expr(flags, depth + 1)
            items.append((key, value))
            m = self.token()
            if m.group(_T_PUNCT) == ",":
                self.pos = m.end()
                m = self.token()
        self.pos = end = m.end()
        return V(OBJ, line, self.line(end), "", items, "", flags)

    def for_expr(self, start: int, close: str, flags: int, depth: int) -> V:
        """`[for k, v in coll : value if cond]` / `{for k, v in coll : key => value... if cond}`: a
        reference of its text (the converter keeps nothing of its parts)."""
        self.for_intro(depth)
        self.expect(":")
        self.expr(0, depth + 1)
        m = self.token()
        if close == "}":
            if m.group(_T_PUNCT) != "=>":
                raise _Unsure
            self.pos = m.end()
            self.expr(0, depth + 1)
            m = self.token()
            if m.group(_T_PUNCT) == "...":
                self.pos = m.end()
                m = self.token()
        if m.group(_T_NAME) == "if":
            self.pos = m.end()
            self.expr(0, depth + 1)
            m = self.token()
        if m.group(_T_PUNCT) != close:
            raise _Unsure
        self.pos = end = m.end()
        return V(REF, self.line(start), self.line(end), self.text[start:end], [], "", flags)

    def for_intro(self, depth: int) -> None:
        """`for k, v in coll`, the `for` next, in for-expressions and `%{ for }` directives."""
        self.pos = self.token().end()
        self.name()
        m = self.token()
        if m.group(_T_PUNCT) == ",":
            self.pos = m.end()
            self.name()
            m = self.token()
        if m.group(_T_NAME) != "in":
            raise _Unsure
        self.pos = m.end()
        self.expr(0, depth + 1)

    def name(self) -> None:
        m = self.token()
        if m.lastindex != _T_NAME:
            raise _Unsure
        self.pos = m.end()

    def parenthesized(self, start: int, flags: int, depth: int) -> V:
        m = self.token()
        inner_start = m.start(m.lastindex or 0)
        value = self.expr(flags, depth + 1)
        inner_end = self.pos
        self.expect(")")
        end = self.pos
        text = self.text
        if _COMMENT_RX.search(text, start, inner_start) or _COMMENT_RX.search(text, inner_end, end):
            # a comment is then a second child of the parenthesized expression: the converter keeps its text
            return V(REF, self.line(start), self.line(end), text[start:end], (), "", flags)
        return value

    # ------------------------------------------------------------ templates

    def quoted(self, start: int, flags: int, depth: int) -> V:
        """A quoted template from its `"` (read)."""
        text = self.text
        pos = start + 1
        open_directives: list[str] = []
        while True:
            pos = _QUOTED_CHUNK.match(text, pos).end()
            c = text[pos:pos + 1]
            if c == '"':
                break
            if c != "$" and c != "%":  # the end of the text or a bad escape
                raise _Unsure
            pos = self.template_part(pos, open_directives, depth)
        if open_directives:
            raise _Unsure
        self.pos = end = pos + 1
        return _template(text[start:end], self.line(start), self.line(end), flags)

    def heredoc(self, start: int, flags: int, depth: int) -> V:
        """A heredoc from its `<<`: up to the first line holding only its marker."""
        text = self.text
        m = _HEREDOC_START.match(text, start)
        if m is None:
            raise _Unsure
        closing = re.compile(r"[ \t\r\f\v]*(" + re.escape(m.group(2)) + r")[ \t\r\f\v]*\n").match
        pos = m.end()
        open_directives: list[str] = []
        line_start = True
        while True:
            if line_start:
                close = closing(text, pos)
                if close is not None:
                    break
            pos = _HEREDOC_CHUNK.match(text, pos).end()
            c = text[pos:pos + 1]
            line_start = c == "\n"
            if line_start:
                pos += 1
            elif c == "$" or c == "%":
                pos = self.template_part(pos, open_directives, depth)
            else:  # the end of the text before the closing marker
                raise _Unsure
        if open_directives:
            raise _Unsure
        self.pos = end = close.end(1)
        return _template(text[start:end], self.line(start), self.line(end), flags)

    def template_part(self, pos: int, open_directives: list[str], depth: int) -> int:
        """An interpolation `${...}` or a directive `%{...}` at `pos`, checked: its end. `open_directives`
        holds the template's unclosed `if`, `else` and `for` directives."""
        text = self.text
        self.pos = pos + 2
        if text[pos] == "$":
            t = self.token()
            if t.group(_T_PUNCT) == "~":
                self.pos = t.end()
            self.expr(0, depth + 1)
        else:
            w = _DIRECTIVE.match(text, self.pos)
            if w is None:
                raise _Unsure
            word = w.group(1)
            self.pos = w.end()
            top = open_directives[-1] if open_directives else None
            if word == "if":
                self.expr(0, depth + 1)
                open_directives.append("if")
            elif word == "for":
                self.pos = w.start(1)
                self.for_intro(depth)
                open_directives.append("for")
            elif word == "else" and top == "if":
                open_directives[-1] = "else"
            elif (word == "endif" and top in ("if", "else")) or (word == "endfor" and top == "for"):
                open_directives.pop()
            else:
                raise _Unsure
        t = self.token()
        if t.group(_T_PUNCT) == "~":
            self.pos = t.end()
        self.expect("}")
        return self.pos


def _token_value(kind: str, raw: str, line: int, flags: int) -> V:
    """The value of a one-token value `_VALUE` matched."""
    if kind is STR:
        return _template(raw, line, line, flags)
    return V(kind, line, line, "" if kind is NULL else raw, (), "", flags)


def _template(raw: str, line: int, end: int, flags: int) -> V:
    text = raw[1:-1] if raw[0] == '"' and "\\" not in raw else hcl_template_text(raw)
    return V(TPL if "${" in text or "%{" in text else STR, line, end, text, (), "", flags)
