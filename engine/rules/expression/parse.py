"""Text to a Python ``ast`` that holds nothing outside the language's whitelist.

This is the safety boundary: an expression is parsed with Python's own grammar
(``ast.parse(mode="eval")``, which never executes anything) and every node is checked
against an explicit whitelist before anything else looks at it. There are no attribute
accesses, subscripts, lambdas, comprehensions, f-strings, assignments, or calls except to
the functions in ``tree.FUNCTIONS``, so no rule file can reach Python's object model.
"""

from __future__ import annotations

import ast
import difflib
import io
import math
import tokenize
from dataclasses import dataclass

from .errors import ExpressionError, SourceLocation, Span
from .tree import FUNCTIONS

MAX_LENGTH = 2000
"""Longest expression text accepted, in characters."""

MAX_DEPTH = 40
"""Deepest nesting of the syntax tree accepted; typical rules stay below 10."""

_ALLOWED: frozenset[type[ast.AST]] = frozenset(
    {
        ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.BinOp, ast.UnaryOp, ast.Compare,
        ast.IfExp, ast.Call, ast.Name, ast.Load, ast.Constant, ast.List, ast.Tuple, ast.Set,
        ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.Not, ast.USub, ast.UAdd,
        ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn,
    }
)  # fmt: skip

# What a refused construct is called in the error, so the message names it in the rule
# author's terms rather than as an AST class.
_REFUSED: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access (a.b) is not allowed",
    ast.Subscript: "indexing (a[...]) is not allowed",
    ast.Slice: "slicing is not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.NamedExpr: "assignment (:=) is not allowed",
    ast.Starred: "unpacking (*x) is not allowed",
    ast.keyword: "keyword arguments are not allowed",
    ast.Dict: "dictionaries are not allowed",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
    ast.Is: "'is' is not allowed; use == or is_missing(x)",
    ast.IsNot: "'is not' is not allowed; use != or not is_missing(x)",
    ast.Mod: "the operator % is not supported",
    ast.FloorDiv: "the operator // is not supported; use round(a / b)",
    ast.MatMult: "the operator @ is not supported",
    ast.BitAnd: "the operator & is not supported; use 'and'",
    ast.BitOr: "the operator | is not supported; use 'or'",
    ast.BitXor: "the operator ^ is not supported; use ** for powers",
    ast.LShift: "the operator << is not supported",
    ast.RShift: "the operator >> is not supported",
    ast.Invert: "the operator ~ is not supported; use 'not'",
}


@dataclass(frozen=True, slots=True)
class Source:
    """The expression text, where it came from, and how to point at a node inside it."""

    text: str
    origin: SourceLocation
    parsed_first_line: str  # line 1 as handed to the parser (AST columns are bytes of it)
    shift: int  # parsed column minus text column on line 1 (wrapping, stripped indentation)

    def span(self, node: ast.AST) -> Span:
        line = getattr(node, "lineno", 1) - 1
        start = self._column(line, getattr(node, "col_offset", 0))
        end_line = getattr(node, "end_lineno", None)
        end_offset = getattr(node, "end_col_offset", None)
        end = None
        if end_line is not None and end_line - 1 == line and end_offset is not None:
            end = self._column(line, end_offset)
        return Span(line, start, end)

    def snippet(self, node: ast.AST, limit: int = 40) -> str:
        segment = ast.get_source_segment(self._parsed_text(), node) or "this"
        segment = " ".join(segment.split())
        return segment if len(segment) <= limit else segment[: limit - 3] + "..."

    def error(self, where: ast.AST | Span, reason: str) -> ExpressionError:
        span = where if isinstance(where, Span) else self.span(where)
        return ExpressionError(reason, text=self.text, origin=self.origin, span=span)

    def _parsed_text(self) -> str:
        rest = self.text.split("\n")[1:]
        return "\n".join([self.parsed_first_line, *rest])

    def _column(self, line: int, byte_offset: int) -> int:
        lines = self.text.split("\n")
        if line >= len(lines):  # the closing parenthesis we added when wrapping
            return len(lines[-1]) if line == len(lines) else 0
        parsed = self.parsed_first_line if line == 0 else lines[line]
        chars = len(parsed.encode()[:byte_offset].decode(errors="ignore"))
        return max(chars - self.shift, 0) if line == 0 else chars


def parse(text: str, origin: SourceLocation) -> tuple[ast.expr, Source]:
    """Parse and whitelist-check ``text``; raise ``ExpressionError`` on any problem."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").rstrip()
    plain = Source(text, origin, text.split("\n")[0], 0)
    if not text:
        raise plain.error(Span(0, 0), "the expression is empty")
    if len(text) > MAX_LENGTH:
        raise plain.error(Span(0, 0), f"the expression is longer than {MAX_LENGTH} characters")
    if "\0" in text:
        raise plain.error(Span(0, text.split("\n")[0].find("\0")), "null character in text")
    body, source = _parse_syntax(text, origin)
    _check_depth(body, source)
    _check_whitelist(body, source)
    return body, source


def _parse_syntax(text: str, origin: SourceLocation) -> tuple[ast.expr, Source]:
    first, *rest = text.split("\n")
    stripped = first.lstrip()
    direct = Source(text, origin, stripped, -(len(first) - len(stripped)))
    try:
        return _ast_parse("\n".join([stripped, *rest])), direct
    except SyntaxError as error:
        if not rest:
            raise _syntax_error(error, direct) from None
    # A YAML block scalar spreads one expression over several lines; inside parentheses
    # Python accepts that, and on the same line so line numbers are unchanged.
    wrapped = Source(text, origin, "(" + first, 1)
    try:
        return _ast_parse("\n".join([wrapped.parsed_first_line, *rest, ")"])), wrapped
    except SyntaxError as error:
        # Our parentheses would pair with the author's stray ones and blame the wrong place.
        bracket = _bracket_problem(text)
        if bracket is not None:
            raise wrapped.error(*bracket) from None
        raise _syntax_error(error, wrapped) from None


def _bracket_problem(text: str) -> tuple[Span, str] | None:
    """The first unmatched bracket, found with the tokenizer so strings are skipped."""
    pairs = {")": "(", "]": "[", "}": "{"}
    open_brackets: list[tuple[str, Span]] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type != tokenize.OP or token.string not in "()[]{}":
                continue
            span = Span(token.start[0] - 1, token.start[1], token.start[1] + 1)
            if token.string in pairs.values():
                open_brackets.append((token.string, span))
            elif not open_brackets:
                return span, f"syntax error: unmatched '{token.string}'"
            elif open_brackets.pop()[0] != pairs[token.string]:
                return span, f"syntax error: '{token.string}' does not match its opening bracket"
    except (tokenize.TokenError, SyntaxError):
        pass  # the end of the text inside brackets: reported below
    if open_brackets:
        bracket, span = open_brackets[-1]
        return span, f"syntax error: '{bracket}' was never closed"
    return None


def _ast_parse(source: str) -> ast.expr:
    try:
        return ast.parse(source, mode="eval").body
    except (RecursionError, MemoryError):
        raise SyntaxError("the expression is nested too deeply") from None


def _syntax_error(error: SyntaxError, source: Source) -> ExpressionError:
    lines = source.text.split("\n")
    line = (error.lineno or 1) - 1
    if line >= len(lines):
        return source.error(Span(len(lines) - 1, len(lines[-1])), f"syntax error: {error.msg}")
    if error.offset is None or error.offset < 1:  # "at the end", without a column
        return source.error(Span(line, len(lines[line])), f"syntax error: {error.msg}")
    # SyntaxError columns are 1-based characters of the parsed text.
    column = error.offset - 1 - (source.shift if line == 0 else 0)
    return source.error(Span(line, max(column, 0)), f"syntax error: {error.msg}")


def _check_depth(body: ast.expr, source: Source) -> None:
    # Iterative on purpose: the point is to refuse trees deep enough to exhaust the stack
    # of the recursive checker and of compile().
    stack: list[tuple[ast.AST, int]] = [(body, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise source.error(node, f"the expression is nested more than {MAX_DEPTH} deep")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _check_whitelist(body: ast.expr, source: Source) -> None:
    problems = []
    stack: list[tuple[ast.AST, ast.AST]] = [(body, body)]
    while stack:
        node, parent = stack.pop()
        stack.extend((child, node) for child in ast.iter_child_nodes(node))
        reason = _refusal(node)
        if reason is not None:
            # Operators carry no position: point at the expression they belong to.
            where = node if hasattr(node, "lineno") else parent
            problems.append((_rank(node), source.span(where), reason))
    if problems:
        # Name the forbidden construct itself (the lambda, not the call of it), then the
        # leftmost: what a reader looks at first.
        _, span, reason = min(problems, key=lambda p: (p[0], p[1].line, p[1].column))
        raise source.error(span, reason)


def _rank(node: ast.AST) -> int:
    if isinstance(node, ast.expr_context):  # Store/Del: always inside another refusal
        return 2
    return 1 if isinstance(node, ast.Call | ast.Constant) else 0


def _refusal(node: ast.AST) -> str | None:
    kind = type(node)
    if kind not in _ALLOWED:
        return _REFUSED.get(kind, f"{kind.__name__} is not allowed in an expression")
    if isinstance(node, ast.Constant):
        return _constant_refusal(node.value)
    if isinstance(node, ast.Call):
        return _call_refusal(node)
    return None


def _constant_refusal(value: object) -> str | None:
    if value is None:
        return "None is not a value here; use is_missing(x) to test for a missing value"
    if isinstance(value, bool | str):
        return None
    if isinstance(value, int | float):
        try:
            finite = math.isfinite(float(value))
        except OverflowError:
            finite = False
        return None if finite else "this number is too large"
    return f"literal {value!r} is not allowed; use numbers, strings, True or False"


def _call_refusal(node: ast.Call) -> str | None:
    allowed = ", ".join(FUNCTIONS)
    if not isinstance(node.func, ast.Name):
        return f"only the functions {allowed} can be called"
    if node.func.id not in FUNCTIONS:
        close = difflib.get_close_matches(node.func.id, FUNCTIONS, n=1)
        hint = f"; did you mean {close[0]}()?" if close else f" (allowed: {allowed})"
        return f"unknown function {node.func.id}(){hint}"
    if node.keywords:
        return f"{node.func.id}() takes no keyword arguments"
    return None
