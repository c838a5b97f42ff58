"""Parser for the subset of AWS Glue Data Quality's DQDL that this project evaluates.

The same ruleset file is meant to be readable by Glue Data Quality, so the syntax follows
the DQDL reference (https://docs.aws.amazon.com/glue/latest/dg/dqdl.html)::

    # comments run from '#' to the end of the line
    Rules = [
        RowCount > 0,
        RowCount between 1 and 1000000,
        ColumnCount = 12,
        IsComplete "booking_id",
        IsComplete "email" with threshold >= 0.9,
        IsUnique "booking_id",
        IsPrimaryKey "user_id" "apartment_id" "viewed_at",
        ColumnValues "price" >= 0,
        ColumnValues "currency" in ["EUR", "INR", "USD"],
        ColumnValues "status" not in ["deleted"],
        ColumnValues "checkin_date" between "2020-01-01" and "2030-12-31",
        ColumnValues "email" matches "[^@]+@[^@]+",
        ColumnLength "title" <= 255,
        ColumnLength "zip" between 4 and 10 with threshold > 0.95,
        ReferentialIntegrity "apartment_id" "apartments.id" = 1.0
    ]

Grammar of the subset (keywords are lowercase, rule types case-sensitive, as in DQDL)::

    ruleset     := 'Rules' '=' '[' [rule (',' rule)*] ']'
    rule        := 'RowCount' count_cond
                 | 'ColumnCount' count_cond
                 | 'IsComplete' STRING [threshold]
                 | 'IsUnique' STRING
                 | 'IsPrimaryKey' STRING STRING*
                 | 'ColumnValues' STRING value_cond [threshold]
                 | 'ColumnLength' STRING count_cond [threshold]
                 | 'ReferentialIntegrity' STRING STRING fraction_cond
    count_cond  := OP INTEGER | 'between' INTEGER 'and' INTEGER
    value_cond  := OP value | ['not'] 'in' '[' value (',' value)* ']'
                 | 'between' value 'and' value | 'matches' STRING
    threshold   := 'with' 'threshold' OP FRACTION
    value       := NUMBER | STRING            (a STRING of the form "YYYY-MM-DD" is a date)
    OP          := '=' | '!=' | '>' | '>=' | '<' | '<='   ('!=' not in count/threshold conditions)

Column names are always double-quoted; inside a quoted string ``\\"`` and ``\\\\`` are the
only escapes (as in DQDL), so a regex is written ``matches "\\d{5}"``.

Not supported (a syntax error names the place): compound rules with and/or, ``where``
clauses, dynamic expressions (``now()``, ``avg(last(10))``), NULL/EMPTY in value lists,
and every other DQDL rule type. One extension over Glue: an ``in`` list may mix numbers
and strings.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

Value = int | Decimal | str | date


class RuleKind(StrEnum):
    ROW_COUNT = "row_count"
    COLUMN_COUNT = "column_count"
    IS_COMPLETE = "is_complete"
    IS_UNIQUE = "is_unique"
    IS_PRIMARY_KEY = "is_primary_key"
    COLUMN_VALUES = "column_values"
    COLUMN_LENGTH = "column_length"
    REFERENTIAL_INTEGRITY = "referential_integrity"


# Rules that judge each row on its own; with a threshold they become dataset-level.
ROW_LEVEL_KINDS = frozenset({RuleKind.IS_COMPLETE, RuleKind.COLUMN_VALUES, RuleKind.COLUMN_LENGTH})
THRESHOLD_KINDS = ROW_LEVEL_KINDS

COMPARISON_OPS = ("=", "!=", ">", ">=", "<", "<=")
# Glue's numeric conditions (counts, lengths, thresholds) have no '!='.
NUMERIC_OPS = ("=", ">", ">=", "<", "<=")


@dataclass(frozen=True)
class Rule:
    """One parsed rule.

    ``op`` is one of ``= != > >= < <=``, ``in``, ``not in``, ``between``, ``matches``, or
    None for IsComplete / IsUnique / IsPrimaryKey. ``values`` holds the operands: one for a
    comparison or ``matches``, two for ``between``, the list for ``in`` / ``not in``.
    ``threshold`` is ``(op, fraction)`` from ``with threshold op fraction``, or None.
    ``text`` is the rule as written, with whitespace normalised.
    """

    kind: RuleKind
    columns: tuple[str, ...]
    op: str | None
    values: tuple[Value, ...]
    threshold: tuple[str, float] | None
    text: str

    @property
    def is_row_level(self) -> bool:
        """True when each row passes or fails this rule on its own."""
        return self.kind in ROW_LEVEL_KINDS and self.threshold is None


class DQDLSyntaxError(ValueError):
    """A ruleset that is not in the supported DQDL subset; says where and what was expected."""

    def __init__(
        self,
        source: str,
        line: int,
        column: int,
        expected: str,
        found: str,
        line_text: str,
        hint: str = "",
    ) -> None:
        self.source = source
        self.line = line
        self.column = column
        self.expected = expected
        self.found = found
        message = f"{source}, line {line}, column {column}: expected {expected}, found {found}"
        if hint:
            message += f" ({hint})"
        pointer = " " * (column - 1) + "^"
        super().__init__(f"{message}\n    {line_text}\n    {pointer}")


# ---------------------------------------------------------------------------- tokenizer


class _Token(NamedTuple):
    kind: str  # WORD STRING NUMBER OP PUNCT CHAR EOF
    value: str  # unescaped text for STRING, the text itself otherwise
    raw: str  # the text as written in the ruleset
    line: int
    column: int

    def describe(self) -> str:
        if self.kind == "EOF":
            return "end of input"
        if self.kind == "STRING":
            return self.raw
        return f"'{self.raw}'"


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_OPERATORS = (">=", "<=", "!=", "=", ">", "<")  # longest first
_PUNCTUATION = "[],()"


def _tokenize(text: str, source: str) -> list[_Token]:
    lines = text.splitlines() or [""]
    tokens: list[_Token] = []
    line, line_start, i = 1, 0, 0

    def token(kind: str, value: str, raw: str, start: int) -> _Token:
        return _Token(kind, value, raw, line, start - line_start + 1)

    while i < len(text):
        ch = text[i]
        if ch == "\n":
            line, line_start, i = line + 1, i + 1, i + 1
        elif ch in " \t\r\f":
            i += 1
        elif ch == "#":
            end = text.find("\n", i)
            i = len(text) if end == -1 else end
        elif ch == '"':
            tokens.append(_read_string(text, i, token, source, lines))
            i += len(tokens[-1].raw)
        elif match := _NUMBER.match(text, i):
            tokens.append(token("NUMBER", match.group(), match.group(), i))
            i = match.end()
        elif match := _WORD.match(text, i):
            tokens.append(token("WORD", match.group(), match.group(), i))
            i = match.end()
        elif op := next((op for op in _OPERATORS if text.startswith(op, i)), None):
            tokens.append(token("OP", op, op, i))
            i += len(op)
        elif ch in _PUNCTUATION:
            tokens.append(token("PUNCT", ch, ch, i))
            i += 1
        else:
            # Left for the parser, which knows what it expected at this point.
            tokens.append(token("CHAR", ch, ch, i))
            i += 1
    tokens.append(token("EOF", "", "", i))
    return tokens


def _read_string(text: str, start: int, token, source: str, lines: list[str]) -> _Token:
    chars: list[str] = []
    i = start + 1
    while i < len(text) and text[i] != "\n":
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in '"\\':
            chars.append(text[i + 1])
            i += 2
        elif ch == '"':
            return token("STRING", "".join(chars), text[start : i + 1], start)
        else:
            chars.append(ch)
            i += 1
    opening = token("STRING", "", '"', start)
    raise DQDLSyntaxError(
        source,
        opening.line,
        opening.column,
        "a closing '\"' on the same line",
        "end of line" if i < len(text) else "end of input",
        lines[opening.line - 1],
        "unterminated string",
    )


# ------------------------------------------------------------------------------- parser

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Rule.text spacing: ColumnValues "c" in ["a", "b"]
_NO_SPACE_AFTER = frozenset({"[", "("})
_NO_SPACE_BEFORE = frozenset({"]", ")", ","})


class _Parser:
    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.lines = text.splitlines() or [""]
        self.tokens = _tokenize(text, source)
        self.pos = 0

    # -- token helpers

    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def advance(self) -> _Token:
        tok = self.tokens[self.pos]
        if tok.kind != "EOF":
            self.pos += 1
        return tok

    def error(self, tok: _Token, expected: str, hint: str = "") -> DQDLSyntaxError:
        line_text = self.lines[tok.line - 1] if tok.line <= len(self.lines) else ""
        return DQDLSyntaxError(
            self.source, tok.line, tok.column, expected, tok.describe(), line_text, hint
        )

    def is_word(self, *words: str) -> bool:
        tok = self.peek()
        return tok.kind == "WORD" and tok.value in words

    def is_punct(self, ch: str) -> bool:
        tok = self.peek()
        return tok.kind == "PUNCT" and tok.value == ch

    def expect_word(self, *words: str, expected: str | None = None) -> _Token:
        if not self.is_word(*words):
            raise self.error(self.peek(), expected or " or ".join(f"'{w}'" for w in words))
        return self.advance()

    def expect_punct(self, ch: str, expected: str | None = None) -> _Token:
        if not self.is_punct(ch):
            raise self.error(self.peek(), expected or f"'{ch}'")
        return self.advance()

    def expect_string(self, expected: str) -> str:
        tok = self.peek()
        if tok.kind != "STRING":
            raise self.error(tok, expected)
        self.advance()
        return tok.value

    def expect_op(self, ops: tuple[str, ...], expected: str) -> str:
        tok = self.peek()
        if tok.kind != "OP" or tok.value not in ops:
            raise self.error(tok, expected)
        self.advance()
        return tok.value

    # -- grammar

    def ruleset(self) -> tuple[Rule, ...]:
        self.expect_word("Rules", expected="'Rules = ['")
        self.expect_op(("=",), "'=' after 'Rules'")
        opening = self.expect_punct("[", "'[' after 'Rules ='")
        rules = [] if self.is_punct("]") else self.comma_list(self.rule)
        self.close_list(opening)
        if self.peek().kind != "EOF":
            raise self.error(self.peek(), "end of input after the closing ']'")
        return tuple(rules)

    def comma_list(self, item):
        """One or more ``item``s separated by commas."""
        items = [item()]
        while self.is_punct(","):
            self.advance()
            items.append(item())
        return items

    def close_list(self, opening) -> None:
        if not self.is_punct("]"):
            raise self.error(
                self.peek(),
                f"',' or ']' closing the list opened at line {opening.line}, "
                f"column {opening.column}",
            )
        self.advance()

    def rule(self) -> Rule:
        start = self.pos
        tok = self.peek()
        parse = _RULE_PARSERS.get(tok.value) if tok.kind == "WORD" else None
        if parse is None:
            close = difflib.get_close_matches(tok.value, _RULE_PARSERS, n=1, cutoff=0.6)
            raise self.error(
                tok,
                f"a rule type ({', '.join(sorted(_RULE_PARSERS))})",
                f"did you mean {close[0]}?" if close and tok.kind == "WORD" else "",
            )
        self.advance()
        kind, columns, op, values = parse(self)
        threshold = None
        if self.is_word("with"):
            if kind not in THRESHOLD_KINDS:
                raise self.error(
                    self.peek(),
                    "',' or ']' after the rule",
                    f"'with threshold' applies to {', '.join(_THRESHOLD_RULE_NAMES)} only",
                )
            threshold = self.threshold()
        return Rule(kind, columns, op, values, threshold, self.text_since(start))

    def text_since(self, start: int) -> str:
        parts: list[str] = []
        previous = ""
        for tok in self.tokens[start : self.pos]:
            if parts and previous not in _NO_SPACE_AFTER and tok.raw not in _NO_SPACE_BEFORE:
                parts.append(" ")
            parts.append(tok.raw)
            previous = tok.raw
        return "".join(parts)

    def threshold(self) -> tuple[str, float]:
        self.advance()  # 'with'
        self.expect_word("threshold", expected="'threshold' after 'with'")
        op = self.expect_op(NUMERIC_OPS, f"a threshold operator ({' '.join(NUMERIC_OPS)})")
        return op, float(self.fraction())

    def fraction(self) -> Decimal:
        tok = self.peek()
        if tok.kind != "NUMBER" or not 0 <= Decimal(tok.value) <= 1:
            raise self.error(tok, "a fraction between 0 and 1")
        self.advance()
        return Decimal(tok.value)

    def count(self) -> int:
        tok = self.peek()
        if tok.kind != "NUMBER" or not tok.value.isdigit():
            raise self.error(tok, "a whole number")
        self.advance()
        return int(tok.value)

    def count_condition(self, subject: str) -> tuple[str, tuple[Value, ...]]:
        if self.is_word("between"):
            self.advance()
            low_tok = self.peek()
            low = self.count()
            self.expect_word("and", "AND", expected="'and' between the bounds")
            high = self.count()
            if low > high:
                raise self.error(low_tok, f"a lower bound <= {high}")
            return "between", (low, high)
        op = self.expect_op(
            NUMERIC_OPS, f"an operator ({' '.join(NUMERIC_OPS)}) or 'between' after {subject}"
        )
        return op, (self.count(),)

    def value(self) -> Value:
        tok = self.peek()
        if tok.kind == "NUMBER":
            self.advance()
            return Decimal(tok.value) if "." in tok.value else int(tok.value)
        if tok.kind == "STRING":
            self.advance()
            if _DATE.fullmatch(tok.value):
                try:
                    return date.fromisoformat(tok.value)
                except ValueError:
                    raise self.error(tok, "a valid date (YYYY-MM-DD)") from None
            return tok.value
        raise self.error(tok, "a value (number, quoted string or quoted date)")

    def value_condition(self, subject: str) -> tuple[str, tuple[Value, ...]]:
        if self.is_word("in", "not"):
            op = "in"
            if self.advance().value == "not":
                self.expect_word("in", expected="'in' after 'not'")
                op = "not in"
            opening = self.expect_punct("[", f"'[' after '{op}'")
            items = self.comma_list(self.value)
            self.close_list(opening)
            return op, tuple(items)
        if self.is_word("between"):
            self.advance()
            low_tok = self.peek()
            low = self.value()
            self.expect_word("and", "AND", expected="'and' between the bounds")
            high_tok = self.peek()
            high = self.value()
            if _value_type(low) != _value_type(high):
                raise self.error(high_tok, f"an upper bound of the same type as {low_tok.raw}")
            if low > high:  # type: ignore[operator]
                raise self.error(low_tok, f"a lower bound <= {high_tok.raw}")
            return "between", (low, high)
        if self.is_word("matches"):
            self.advance()
            return "matches", (self.expect_string("a quoted regular expression"),)
        op = self.expect_op(
            COMPARISON_OPS,
            f"an operator ({' '.join(COMPARISON_OPS)}), 'in', 'not in', 'between' or "
            f"'matches' after {subject}",
        )
        return op, (self.value(),)

    # -- one method per rule type: returns (kind, columns, op, values)

    def row_count(self):
        return (RuleKind.ROW_COUNT, (), *self.count_condition("RowCount"))

    def column_count(self):
        return (RuleKind.COLUMN_COUNT, (), *self.count_condition("ColumnCount"))

    def is_complete(self):
        column = self.expect_string('a quoted column name after IsComplete, like "id"')
        return RuleKind.IS_COMPLETE, (column,), None, ()

    def is_unique(self):
        column = self.expect_string('a quoted column name after IsUnique, like "id"')
        return RuleKind.IS_UNIQUE, (column,), None, ()

    def is_primary_key(self):
        columns = [self.expect_string('a quoted column name after IsPrimaryKey, like "id"')]
        while self.peek().kind == "STRING":
            columns.append(self.advance().value)
        return RuleKind.IS_PRIMARY_KEY, tuple(columns), None, ()

    def column_values(self):
        column = self.expect_string('a quoted column name after ColumnValues, like "price"')
        return (
            RuleKind.COLUMN_VALUES,
            (column,),
            *self.value_condition(f'ColumnValues "{column}"'),
        )

    def column_length(self):
        column = self.expect_string('a quoted column name after ColumnLength, like "title"')
        return (
            RuleKind.COLUMN_LENGTH,
            (column,),
            *self.count_condition(f'ColumnLength "{column}"'),
        )

    def referential_integrity(self):
        column = self.expect_string('a quoted column name after ReferentialIntegrity, like "id"')
        reference = self.expect_string('a quoted reference column, like "other_table.id"')
        if self.is_word("between"):
            self.advance()
            low = self.fraction()
            self.expect_word("and", "AND", expected="'and' between the bounds")
            return (
                RuleKind.REFERENTIAL_INTEGRITY,
                (column, reference),
                "between",
                (low, self.fraction()),
            )
        op = self.expect_op(
            NUMERIC_OPS, f"an operator ({' '.join(NUMERIC_OPS)}) or 'between' after the columns"
        )
        return RuleKind.REFERENTIAL_INTEGRITY, (column, reference), op, (self.fraction(),)


_RULE_PARSERS = {
    "RowCount": _Parser.row_count,
    "ColumnCount": _Parser.column_count,
    "IsComplete": _Parser.is_complete,
    "IsUnique": _Parser.is_unique,
    "IsPrimaryKey": _Parser.is_primary_key,
    "ColumnValues": _Parser.column_values,
    "ColumnLength": _Parser.column_length,
    "ReferentialIntegrity": _Parser.referential_integrity,
}
_THRESHOLD_RULE_NAMES = ("ColumnValues", "IsComplete", "ColumnLength")


def _value_type(value: Value) -> type:
    return Decimal if isinstance(value, int) else type(value)


def parse_ruleset(text: str, source: str = "<ruleset>") -> tuple[Rule, ...]:
    """Parse a DQDL ruleset (``Rules = [ ... ]``) into rules, in the order written.

    ``source`` (usually the file name) prefixes error messages. Raises
    :class:`DQDLSyntaxError` naming the line and column of the first problem.
    """
    return _Parser(text, source).ruleset()
