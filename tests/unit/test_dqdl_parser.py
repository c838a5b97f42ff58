"""The DQDL-subset parser: every supported rule form, and an error naming the place of
every kind of mistake."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from rental_analytics.quality.dqdl import DQDLSyntaxError, Rule, RuleKind, parse_ruleset

RULES_DIR = Path(__file__).resolve().parents[2] / "rental_analytics" / "sources" / "rules"


def one(rule_text: str) -> Rule:
    (rule,) = parse_ruleset(f"Rules = [ {rule_text} ]")
    return rule


# ------------------------------------------------------------------------ rule forms


@pytest.mark.parametrize(
    ("text", "kind", "columns", "op", "values"),
    [
        ("RowCount > 0", RuleKind.ROW_COUNT, (), ">", (0,)),
        ("RowCount >= 10", RuleKind.ROW_COUNT, (), ">=", (10,)),
        ("RowCount < 10", RuleKind.ROW_COUNT, (), "<", (10,)),
        ("RowCount <= 10", RuleKind.ROW_COUNT, (), "<=", (10,)),
        ("RowCount = 10", RuleKind.ROW_COUNT, (), "=", (10,)),
        ("RowCount between 10 and 100", RuleKind.ROW_COUNT, (), "between", (10, 100)),
        ("RowCount between 10 AND 100", RuleKind.ROW_COUNT, (), "between", (10, 100)),
        ("ColumnCount = 12", RuleKind.COLUMN_COUNT, (), "=", (12,)),
        ("ColumnCount between 5 and 5", RuleKind.COLUMN_COUNT, (), "between", (5, 5)),
        ('IsComplete "booking_id"', RuleKind.IS_COMPLETE, ("booking_id",), None, ()),
        ('IsUnique "booking_id"', RuleKind.IS_UNIQUE, ("booking_id",), None, ()),
        ('IsPrimaryKey "id"', RuleKind.IS_PRIMARY_KEY, ("id",), None, ()),
        (
            'IsPrimaryKey "user_id" "apartment_id" "viewed_at"',
            RuleKind.IS_PRIMARY_KEY,
            ("user_id", "apartment_id", "viewed_at"),
            None,
            (),
        ),
        ('ColumnValues "price" = 0', RuleKind.COLUMN_VALUES, ("price",), "=", (0,)),
        ('ColumnValues "price" != 0', RuleKind.COLUMN_VALUES, ("price",), "!=", (0,)),
        ('ColumnValues "price" > -1', RuleKind.COLUMN_VALUES, ("price",), ">", (-1,)),
        (
            'ColumnValues "price" >= 0.50',
            RuleKind.COLUMN_VALUES,
            ("price",),
            ">=",
            (Decimal("0.50"),),
        ),
        (
            'ColumnValues "price" < -2.5',
            RuleKind.COLUMN_VALUES,
            ("price",),
            "<",
            (Decimal("-2.5"),),
        ),
        ('ColumnValues "status" <= "m"', RuleKind.COLUMN_VALUES, ("status",), "<=", ("m",)),
        (
            'ColumnValues "checkin" >= "2024-01-01"',
            RuleKind.COLUMN_VALUES,
            ("checkin",),
            ">=",
            (date(2024, 1, 1),),
        ),
        (
            'ColumnValues "currency" in ["EUR", "INR", "USD"]',
            RuleKind.COLUMN_VALUES,
            ("currency",),
            "in",
            ("EUR", "INR", "USD"),
        ),
        (
            'ColumnValues "code" in ["a", "b", 3]',
            RuleKind.COLUMN_VALUES,
            ("code",),
            "in",
            ("a", "b", 3),
        ),
        (
            'ColumnValues "status" not in ["deleted"]',
            RuleKind.COLUMN_VALUES,
            ("status",),
            "not in",
            ("deleted",),
        ),
        (
            'ColumnValues "price" between 0 and 10000.00',
            RuleKind.COLUMN_VALUES,
            ("price",),
            "between",
            (0, Decimal("10000.00")),
        ),
        (
            'ColumnValues "checkin" between "2020-01-01" and "2030-12-31"',
            RuleKind.COLUMN_VALUES,
            ("checkin",),
            "between",
            (date(2020, 1, 1), date(2030, 12, 31)),
        ),
        (
            'ColumnValues "email" matches "[^@]+@[^@]+"',
            RuleKind.COLUMN_VALUES,
            ("email",),
            "matches",
            ("[^@]+@[^@]+",),
        ),
        ('ColumnLength "title" <= 255', RuleKind.COLUMN_LENGTH, ("title",), "<=", (255,)),
        ('ColumnLength "zip" = 5', RuleKind.COLUMN_LENGTH, ("zip",), "=", (5,)),
        (
            'ColumnLength "zip" between 4 and 10',
            RuleKind.COLUMN_LENGTH,
            ("zip",),
            "between",
            (4, 10),
        ),
        (
            'ReferentialIntegrity "apartment_id" "apartments.id" = 1.0',
            RuleKind.REFERENTIAL_INTEGRITY,
            ("apartment_id", "apartments.id"),
            "=",
            (Decimal("1.0"),),
        ),
    ],
)
def test_rule_forms(text, kind, columns, op, values):
    rule = one(text)
    assert (rule.kind, rule.columns, rule.op, rule.values, rule.threshold) == (
        kind,
        columns,
        op,
        values,
        None,
    )
    assert rule.text == text


def test_number_types_are_exact():
    (rule,) = parse_ruleset('Rules = [ ColumnValues "price" in [1, 2.50, -3] ]')
    assert [type(v) for v in rule.values] == [int, Decimal, int]
    assert rule.values[1] == Decimal("2.50")


def test_quoted_strings_keep_non_ascii_and_unescape_quote_and_backslash():
    rule = one(r'ColumnValues "cityname" in ["Zürich", "São Paulo", "say \"hi\"", "a\\b", "\d"]')
    assert rule.values == ("Zürich", "São Paulo", 'say "hi"', "a\\b", "\\d")


def test_regex_backslashes_reach_the_rule():
    assert one(r'ColumnValues "zip" matches "\d{5}"').values == (r"\d{5}",)


def test_column_names_may_contain_any_character():
    assert one('IsComplete "order-id"').columns == ("order-id",)
    assert one('IsComplete "Prix TTC €"').columns == ("Prix TTC €",)


# ----------------------------------------------------------------------- thresholds


@pytest.mark.parametrize(
    ("text", "threshold"),
    [
        ('IsComplete "email" with threshold > 0.9', (">", 0.9)),
        ('IsComplete "email" with threshold >= 0', (">=", 0.0)),
        ('ColumnValues "price" >= 0 with threshold > 0.95', (">", 0.95)),
        ('ColumnValues "currency" in ["EUR"] with threshold = 1.0', ("=", 1.0)),
        ('ColumnValues "email" matches ".+@.+" with threshold <= 1', ("<=", 1.0)),
        ('ColumnLength "zip" between 4 and 10 with threshold < 0.5', ("<", 0.5)),
    ],
)
def test_threshold_makes_the_rule_dataset_level(text, threshold):
    rule = one(text)
    assert rule.threshold == threshold
    assert rule.text == text
    assert not rule.is_row_level


@pytest.mark.parametrize(
    ("text", "row_level"),
    [
        ('IsComplete "id"', True),
        ('ColumnValues "price" >= 0', True),
        ('ColumnLength "title" <= 255', True),
        ('IsUnique "id"', False),
        ('IsPrimaryKey "id" "version"', False),
        ("RowCount > 0", False),
        ("ColumnCount = 3", False),
        ('ReferentialIntegrity "a" "b.c" = 1.0', False),
    ],
)
def test_is_row_level(text, row_level):
    assert one(text).is_row_level is row_level


# ---------------------------------------------------------------- ruleset and layout


def test_ruleset_with_comments_keeps_rule_order_and_normalises_text():
    text = """# bookings: one line comment
# and another
Rules = [
    # the key
    IsComplete   "booking_id",   # trailing comment
    ColumnValues "currency"
        in [ "EUR" ,"USD" ],
    RowCount > 0
]
# after the list
"""
    rules = parse_ruleset(text, "bookings.dqdl")
    assert [r.text for r in rules] == [
        'IsComplete "booking_id"',
        'ColumnValues "currency" in ["EUR", "USD"]',
        "RowCount > 0",
    ]


def test_hash_inside_a_string_is_not_a_comment():
    assert one('ColumnValues "tag" = "#1"').values == ("#1",)


def test_empty_ruleset():
    assert parse_ruleset("Rules = [ ]") == ()


def test_rules_are_hashable_values():
    a = parse_ruleset('Rules = [ IsComplete "id" ]')
    b = parse_ruleset('Rules = [\n  IsComplete   "id"\n]')
    assert a == b
    assert len({*a, *b}) == 1


@pytest.mark.parametrize("path", sorted(RULES_DIR.glob("*.dqdl")), ids=lambda p: p.name)
def test_project_rulesets_parse(path):
    rules = parse_ruleset(path.read_text(encoding="utf-8"), path.name)
    assert rules


# -------------------------------------------------------------------- syntax errors


@pytest.mark.parametrize(
    ("text", "line", "column", "expected", "found"),
    [
        ("", 1, 1, "'Rules = ['", "end of input"),
        ('IsComplete "id"', 1, 1, "'Rules = ['", "'IsComplete'"),
        ("Rules [ ]", 1, 7, "'=' after 'Rules'", "'['"),
        ("Rules = { }", 1, 9, "'[' after 'Rules ='", "'{'"),
        ("Rules = [ ] RowCount > 0", 1, 13, "end of input after the closing ']'", "'RowCount'"),
        (
            'Rules = [\n  IsComplete "id"\n',
            3,
            1,
            "',' or ']' closing the list opened at line 1, column 9",
            "end of input",
        ),
        (
            'Rules = [ IsComplete "a" IsComplete "b" ]',
            1,
            26,
            "',' or ']' closing the list opened at line 1, column 9",
            "'IsComplete'",
        ),
        ('Rules = [ IsComplete "a", ]', 1, 27, "a rule type", "']'"),
        ('Rules = [ Completeness "a" > 0.9 ]', 1, 11, "a rule type", "'Completeness'"),
        ('Rules = [\n  (IsComplete "a") and (IsUnique "a")\n]', 2, 3, "a rule type", "'('"),
        ("Rules = [ IsComplete id ]", 1, 22, "a quoted column name after IsComplete", "'id'"),
        ("Rules = [ IsUnique ]", 1, 20, "a quoted column name after IsUnique", "']'"),
        ("Rules = [ IsPrimaryKey ]", 1, 24, "a quoted column name after IsPrimaryKey", "']'"),
        (
            "Rules = [ RowCount ~ 5 ]",
            1,
            20,
            "an operator (= > >= < <=) or 'between' after RowCount",
            "'~'",
        ),
        ("Rules = [ RowCount != 5 ]", 1, 20, "an operator (= > >= < <=)", "'!='"),
        ("Rules = [ RowCount > -1 ]", 1, 22, "a whole number", "'-1'"),
        ("Rules = [ RowCount > 1.5 ]", 1, 22, "a whole number", "'1.5'"),
        ("Rules = [ RowCount > avg(last(10)) ]", 1, 22, "a whole number", "'avg'"),
        ("Rules = [ RowCount between 10 100 ]", 1, 31, "'and' between the bounds", "'100'"),
        ("Rules = [ RowCount between 100 and 10 ]", 1, 28, "a lower bound <= 10", "'100'"),
        ("Rules = [ ColumnCount ]", 1, 23, "an operator (= > >= < <=)", "']'"),
        (
            'Rules = [ ColumnValues "p" => 0 ]',
            1,
            29,
            "a value (number, quoted string or quoted date)",
            "'>'",
        ),
        (
            'Rules = [ ColumnValues "p" == 0 ]',
            1,
            29,
            "a value (number, quoted string or quoted date)",
            "'='",
        ),
        (
            'Rules = [ ColumnValues "p" <> 0 ]',
            1,
            29,
            "a value (number, quoted string or quoted date)",
            "'>'",
        ),
        (
            'Rules = [ ColumnValues "p" 0 ]',
            1,
            28,
            "an operator (= != > >= < <=), 'in', 'not in', 'between' or 'matches' after "
            'ColumnValues "p"',
            "'0'",
        ),
        (
            'Rules = [ ColumnValues "p" like "a%" ]',
            1,
            28,
            "an operator (= != > >= < <=), 'in', 'not in', 'between' or 'matches'",
            "'like'",
        ),
        ('Rules = [ ColumnValues "p" > now() ]', 1, 30, "a value", "'now'"),
        ('Rules = [ ColumnValues "p" > NULL ]', 1, 30, "a value", "'NULL'"),
        ('Rules = [ ColumnValues "c" in "EUR" ]', 1, 31, "'[' after 'in'", '"EUR"'),
        ('Rules = [ ColumnValues "c" not ["EUR"] ]', 1, 32, "'in' after 'not'", "'['"),
        ('Rules = [ ColumnValues "c" in [] ]', 1, 32, "a value", "']'"),
        (
            'Rules = [ ColumnValues "c" in ["EUR", "USD" ]',
            1,
            46,
            "',' or ']' closing the list opened at line 1, column 9",
            "end of input",
        ),
        (
            'Rules = [\n  ColumnValues "c" in ["EUR",\n    "USD"\n  IsComplete "c"\n]',
            4,
            3,
            "',' or ']' closing the list opened at line 2, column 23",
            "'IsComplete'",
        ),
        (
            'Rules = [ ColumnValues "d" between "2024-01-01" and 5 ]',
            1,
            53,
            'an upper bound of the same type as "2024-01-01"',
            "'5'",
        ),
        ('Rules = [ ColumnValues "p" between 5 and 1 ]', 1, 36, "a lower bound <= 1", "'5'"),
        ('Rules = [ ColumnValues "d" = "2024-02-30" ]', 1, 30, "a valid date", '"2024-02-30"'),
        ('Rules = [ ColumnValues "e" matches [a-z] ]', 1, 36, "a quoted regular expression", "'['"),
        ('Rules = [ ColumnLength "t" <= "255" ]', 1, 31, "a whole number", '"255"'),
        ('Rules = [ ColumnLength "t" in [1, 2] ]', 1, 28, "an operator (= > >= < <=)", "'in'"),
        ('Rules = [ IsComplete "a" with ]', 1, 31, "'threshold' after 'with'", "']'"),
        (
            'Rules = [ IsComplete "a" with threshold ]',
            1,
            41,
            "a threshold operator (= > >= < <=)",
            "']'",
        ),
        (
            'Rules = [ IsComplete "a" with threshold > 95 ]',
            1,
            43,
            "a fraction between 0 and 1",
            "'95'",
        ),
        (
            'Rules = [ IsComplete "a" with threshold > -0.1 ]',
            1,
            43,
            "a fraction between 0 and 1",
            "'-0.1'",
        ),
        (
            'Rules = [ IsUnique "a" with threshold > 0.5 ]',
            1,
            24,
            "',' or ']' after the rule",
            "'with'",
        ),
        (
            "Rules = [ RowCount > 0 with threshold > 0.5 ]",
            1,
            24,
            "',' or ']' after the rule",
            "'with'",
        ),
        (
            'Rules = [ IsComplete "a" where "a > 1" ]',
            1,
            26,
            "',' or ']' closing the list opened at line 1, column 9",
            "'where'",
        ),
        (
            'Rules = [ ReferentialIntegrity "a" = 1.0 ]',
            1,
            36,
            'a quoted reference column, like "other_table.id"',
            "'='",
        ),
        (
            'Rules = [ ReferentialIntegrity "a" "b.a" = 99 ]',
            1,
            44,
            "a fraction between 0 and 1",
            "'99'",
        ),
    ],
)
def test_syntax_errors_name_line_column_and_expectation(text, line, column, expected, found):
    with pytest.raises(DQDLSyntaxError) as caught:
        parse_ruleset(text, "bookings.dqdl")
    error = caught.value
    assert (error.source, error.line, error.column, error.found) == (
        "bookings.dqdl",
        line,
        column,
        found,
    )
    assert error.expected.startswith(expected)
    assert str(error).startswith(f"bookings.dqdl, line {line}, column {column}: expected ")


def test_unterminated_string_points_at_the_opening_quote():
    with pytest.raises(DQDLSyntaxError) as caught:
        parse_ruleset('Rules = [\n  IsComplete "booking_id,\n  RowCount > 0\n]', "b.dqdl")
    error = caught.value
    assert (error.line, error.column) == (2, 14)
    assert error.expected == "a closing '\"' on the same line"
    assert "unterminated string" in str(error)


def test_unterminated_string_at_end_of_input():
    with pytest.raises(DQDLSyntaxError) as caught:
        parse_ruleset('Rules = [ IsComplete "id')
    assert (caught.value.line, caught.value.column, caught.value.found) == (1, 22, "end of input")


def test_error_message_shows_the_line_and_a_caret():
    with pytest.raises(DQDLSyntaxError) as caught:
        parse_ruleset('Rules = [\n    ColumnValues "price" => 0\n]', "bookings.dqdl")
    assert str(caught.value) == (
        "bookings.dqdl, line 2, column 27: expected a value (number, quoted string or quoted "
        "date), found '>'\n"
        '        ColumnValues "price" => 0\n'
        "                              ^"
    )


def test_unknown_rule_type_suggests_the_nearest():
    with pytest.raises(DQDLSyntaxError, match=r"found 'Iscomplete' \(did you mean IsComplete\?\)"):
        parse_ruleset('Rules = [ Iscomplete "id" ]')


def test_rule_types_are_case_sensitive_and_error_lists_supported_types():
    with pytest.raises(DQDLSyntaxError) as caught:
        parse_ruleset("Rules = [ rowcount > 0 ]")
    assert "RowCount" in caught.value.expected
    assert "IsPrimaryKey" in caught.value.expected


def test_default_source_name():
    with pytest.raises(DQDLSyntaxError, match=r"^<ruleset>, line 1, column 1: "):
        parse_ruleset("Rulez = []")


def test_syntax_error_is_a_value_error():
    with pytest.raises(ValueError):
        parse_ruleset("Rules = [")
