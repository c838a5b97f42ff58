"""Pure parsing of lab-format CSV fields, headers and rows (no database)."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pytest

from rental_analytics.local.importer import (
    NOT_APARTMENTS_DOMAIN,
    NULL_TOKEN,
    RowParser,
    RowRejected,
    SourceImportError,
    _skip_reason,
    classify_file,
    column_converter,
    match_header,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_int,
    raw_row_json,
    records,
    reject_batch_id,
)
from rental_analytics.quality.rule_names import data_type_rule, dqdl_type, primary_key_rule
from rental_analytics.sources.tables import (
    APARTMENT_ATTRIBUTES,
    APARTMENTS,
    APARTMENTS_TABLES,
    BOOKINGS,
    USER_VIEWING,
)

BOOKINGS_HEADER = [
    "booking_id", "user_id", "apartment_id", "booking_date", "checkin_date", "checkout_date",
    "total_price", "currency", "booking_status",
]  # fmt: skip


# -- dates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("27/03/2024", date(2024, 3, 27)),
        ("01/02/2020", date(2020, 2, 1)),  # day first: 1 February, not 2 January
        ("1/2/2020", date(2020, 2, 1)),
        (" 29/02/2024 ", date(2024, 2, 29)),
        ("2024-03-27", date(2024, 3, 27)),
    ],
)
def test_parse_date_accepts_lab_and_iso_formats(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("31/02/2024", "invalid calendar date"),
        ("29/02/2023", "invalid calendar date"),
        ("13/13/2024", "invalid calendar date"),
        ("2024/03/27", "not a date"),
        ("27-03-2024", "not a date"),
        ("27/03/24", "not a date"),
        ("yesterday", "not a date"),
        ("27/03/2024 10:00", "not a date"),
        ("01/01/0999", "year out of range"),
    ],
)
def test_parse_date_rejects_with_reason(text, message):
    with pytest.raises(ValueError, match=message):
        parse_date(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("27/12/2021", datetime(2021, 12, 27)),
        ("2021-12-27", datetime(2021, 12, 27)),
        ("27/12/2021 14:05", datetime(2021, 12, 27, 14, 5)),
        ("27/12/2021 14:05:09", datetime(2021, 12, 27, 14, 5, 9)),
        ("2021-12-27 14:05:09", datetime(2021, 12, 27, 14, 5, 9)),
        ("2021-12-27T14:05:09", datetime(2021, 12, 27, 14, 5, 9)),
    ],
)
def test_parse_datetime_accepts_dates_and_date_times(text, expected):
    assert parse_datetime(text) == expected


@pytest.mark.parametrize("text", ["27/12/2021 25:00", "27/12/2021 10:61", "2021-12-27 noon"])
def test_parse_datetime_rejects_bad_times(text):
    with pytest.raises(ValueError):
        parse_datetime(text)


# -- booleans, numbers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("True", True), ("False", False), ("true", True), ("FALSE", False), ("1", True), ("0", False)],
)
def test_parse_bool(text, expected):
    assert parse_bool(text) is expected


@pytest.mark.parametrize("text", ["yes", "T", "2", "Truee", "None"])
def test_parse_bool_rejects_other_words(text):
    with pytest.raises(ValueError, match="not a boolean"):
        parse_bool(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4020.95", Decimal("4020.95")),
        ("4867.8", Decimal("4867.80")),
        ("1000", Decimal("1000.00")),
        ("-0.5", Decimal("-0.50")),
        ("2.345", Decimal("2.35")),  # rounded half-up, as MySQL does
        ("1e3", Decimal("1000.00")),
    ],
)
def test_parse_decimal(text, expected):
    assert parse_decimal(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("$1588.42", "not a number"),
        ("1,588.42", "not a number"),
        ("abc", "not a number"),
        ("NaN", "not a number"),
        ("100000000", "out of range"),
    ],
)
def test_parse_decimal_rejects(text, message):
    with pytest.raises(ValueError, match=message):
        parse_decimal(text)


def test_parse_decimal_precision_and_scale():
    assert parse_decimal("20.4570921", 9, 6) == Decimal("20.457092")
    with pytest.raises(ValueError, match=r"decimal\(9,6\)"):
        parse_decimal("1000.5", 9, 6)


@pytest.mark.parametrize(("text", "expected"), [("42", 42), (" 7 ", 7), ("3.0", 3), ("-5", -5)])
def test_parse_int(text, expected):
    assert parse_int(text) == expected


@pytest.mark.parametrize("text", ["3.5", "x1", "", "2147483648"])
def test_parse_int_rejects(text):
    with pytest.raises(ValueError):
        parse_int(text)


# -- converters (field -> TSV token) -----------------------------------------------------


def test_converters_produce_load_data_tokens():
    assert column_converter("d", "date")("27/03/2024") == "2024-03-27"
    assert column_converter("t", "timestamp")("27/03/2024") == "2024-03-27 00:00:00"
    assert column_converter("b", "boolean")("True") == "1"
    assert column_converter("b", "boolean")("False") == "0"
    assert column_converter("p", "decimal(10,2)")("4867.8") == "4867.8"
    assert column_converter("p", "decimal(10,2)")("2.345") == "2.35"
    assert column_converter("i", "int")("007") == "7"


def test_empty_field_is_null_and_whitespace_of_strings_is_kept():
    assert column_converter("d", "date")("") == NULL_TOKEN
    assert column_converter("b", "boolean")("  ") == NULL_TOKEN
    assert column_converter("s", "string")("") == NULL_TOKEN
    assert column_converter("s", "string")(" confirmed ") == " confirmed "


def test_a_nul_character_is_not_text_the_warehouse_can_hold():
    with pytest.raises(RowRejected, match="booking_status: contains a NUL character") as exc:
        column_converter("booking_status", "string")("conf\x00irmed")
    assert exc.value.rule == 'ColumnDataType "booking_status" = "STRING"'


def test_strings_are_escaped_for_load_data():
    assert column_converter("s", "text")("a\tb\\c\nd") == "a\\tb\\\\c\\nd"
    assert column_converter("s", "string")("\\N") == "\\\\N"  # the text, not NULL


def test_string_longer_than_column_is_rejected():
    convert = column_converter("currency", "string", max_length=8)
    assert convert("EUR") == "EUR"
    assert convert("€€") == "€€"  # 6 bytes
    with pytest.raises(RowRejected, match=r"currency: value too long \(9 > 8 bytes") as exc:
        convert("EURO-ZONE")
    assert exc.value.rule == 'ColumnLength "currency" <= 8'


@pytest.mark.parametrize("wide", ["€€€", "éééée", "東京都", "🚗🚗🚗"])
def test_string_wider_in_bytes_than_column_is_rejected(wide):
    # Fewer than 8 characters, more than 8 bytes: Redshift's varchar(8) would refuse it.
    assert len(wide) <= 8 < len(wide.encode())
    with pytest.raises(RowRejected, match=r"currency: value too long .* bytes") as exc:
        column_converter("currency", "string", max_length=8)(wide)
    assert exc.value.rule == 'ColumnLength "currency" <= 8'


def test_text_longer_than_column_is_rejected_by_bytes():
    convert = column_converter("body", "text", max_length=65_535)
    assert convert("ß" * 32_767) == "ß" * 32_767
    with pytest.raises(RowRejected, match=r"65536 > 65535 bytes") as exc:
        convert("ß" * 32_768)
    assert exc.value.rule == 'ColumnLength "body" <= 65535'


def test_converter_reasons_name_the_column_and_rules_the_check():
    with pytest.raises(RowRejected, match="checkin_date: invalid calendar date") as exc:
        column_converter("checkin_date", "date")("31/02/2024")
    assert exc.value.rule == 'ColumnDataType "checkin_date" = "DATE"'
    with pytest.raises(RowRejected, match="price: not a number: 'abc'") as exc:
        column_converter("price", "decimal(10,2)")("abc")
    assert exc.value.rule == 'ColumnDataType "price" = "DECIMAL"'
    with pytest.raises(RowRejected, match="viewed_at: not a date") as exc:
        column_converter("viewed_at", "timestamp")("yesterday")
    assert exc.value.rule == 'ColumnDataType "viewed_at" = "TIMESTAMP"'
    with pytest.raises(RowRejected, match="is_active: not a boolean") as exc:
        column_converter("is_active", "boolean")("maybe")
    assert exc.value.rule == 'ColumnDataType "is_active" = "BOOLEAN"'
    with pytest.raises(RowRejected, match="n: not an integer") as exc:
        column_converter("n", "bigint")("1.5")
    assert exc.value.rule == 'ColumnDataType "n" = "LONG"'
    with pytest.raises(RowRejected, match="id: NULL in a required") as exc:
        column_converter("id", "int", nullable=False)("")
    assert exc.value.rule == 'IsComplete "id"'


def test_rule_names_are_spelled_as_dqdl():
    """The importer names its rejects with the load's own helpers (quality/rule_names.py)."""
    types = ("int", "bigint", "decimal(10,2)", "date", "timestamp", "boolean")
    assert [dqdl_type(t) for t in types] == [
        "INTEGER", "LONG", "DECIMAL", "DATE", "TIMESTAMP", "BOOLEAN",
    ]  # fmt: skip
    assert data_type_rule("price", "decimal(10,2)") == 'ColumnDataType "price" = "DECIMAL"'
    assert primary_key_rule(USER_VIEWING) == 'IsPrimaryKey "user_id" "apartment_id" "viewed_at"'


# -- headers ------------------------------------------------------------------------------


def test_header_matches_any_order_case_and_spaces_and_reports_extras():
    header = [
        " Booking_Status", "CURRENCY", "total_price", "checkout_date ", "checkin_date",
        "booking_date", "apartment_id", "user_id", "booking_id", "channel",
    ]  # fmt: skip
    match = match_header(header, BOOKINGS, "bookings.csv")
    assert match.positions == (8, 7, 6, 5, 4, 3, 2, 1, 0)
    assert match.width == 10
    assert match.extra_columns == ("channel",)


def test_header_missing_column_names_file_and_column():
    header = [h for h in BOOKINGS_HEADER if h != "checkin_date"]
    with pytest.raises(SourceImportError, match=r"bookings\.csv: missing column 'checkin_date'"):
        match_header(header, BOOKINGS, "bookings.csv")


def test_header_repeated_column_is_an_error():
    with pytest.raises(SourceImportError, match="'user_id' appears 2 times"):
        match_header([*BOOKINGS_HEADER, "USER_ID"], BOOKINGS, "bookings.csv")


# -- rows ---------------------------------------------------------------------------------


def _bookings_parser() -> RowParser:
    return RowParser(BOOKINGS, match_header(BOOKINGS_HEADER, BOOKINGS, "b.csv"))


def test_row_parser_returns_key_and_tsv_line():
    line_text = "1,2920,130940,11/11/2022,07/09/2024,30/06/2023,2923.67,USD,confirmed"
    key, line = _bookings_parser().parse(line_text.split(","))
    assert key == "1"
    assert line.split("\t") == [
        "1", "2920", "130940", "2022-11-11", "2024-09-07", "2023-06-30", "2923.67", "USD",
        "confirmed",
    ]  # fmt: skip


def test_row_parser_composite_key():
    header = ["user_id", "apartment_id", "viewed_at", "is_wishlisted", "call_to_action"]
    parser = RowParser(USER_VIEWING, match_header(header, USER_VIEWING, "v.csv"))
    key, _ = parser.parse(["5353", "180678", "23/01/2023", "False", "Reported"])
    assert key == ("5353", "180678", "2023-01-23 00:00:00")


@pytest.mark.parametrize(
    ("row", "rule", "reason"),
    [
        (
            "1,2920,130940,11/11/2022,07/09/2024,30/06/2023,2923.67,USD",
            "WellFormedRecord",
            "wrong number of fields",
        ),
        (
            "1,2920,130940,11/11/2022,07/09/2024,30/06/2023,2923.67,USD,ok,x",
            "WellFormedRecord",
            "expected 9, got 10",
        ),
        (
            ",2920,130940,11/11/2022,07/09/2024,30/06/2023,2923.67,USD,ok",
            'IsComplete "booking_id"',
            "booking_id: NULL",
        ),
        (
            "1,2920,130940,31/11/2022,07/09/2024,30/06/2023,2923.67,USD,ok",
            'ColumnDataType "booking_date" = "DATE"',
            "booking_date: invalid",
        ),
        (
            "1,2920,130940,11/11/2022,07/09/2024,30/06/2023,cheap,USD,ok",
            'ColumnDataType "total_price" = "DECIMAL"',
            "total_price: not a number",
        ),
        (
            "1,x,130940,11/11/2022,07/09/2024,30/06/2023,2923.67,USD,ok",
            'ColumnDataType "user_id" = "INTEGER"',
            "user_id: not an integer",
        ),
    ],
)
def test_row_parser_reject_rules_and_reasons(row, rule, reason):
    with pytest.raises(RowRejected, match=reason) as exc:
        _bookings_parser().parse(row.split(","))
    assert exc.value.rule == rule


def test_row_parser_names_every_rule_a_row_breaks():
    row = ["1", "x", "130940", "31/11/2022", "07/09/2024", "30/06/2023", "cheap", "USD", "ok"]
    with pytest.raises(RowRejected) as exc:
        _bookings_parser().parse(row)
    assert exc.value.rule == (
        'ColumnDataType "user_id" = "INTEGER"; ColumnDataType "booking_date" = "DATE"; '
        'ColumnDataType "total_price" = "DECIMAL"'
    )
    assert str(exc.value) == (
        "user_id: not an integer: 'x'; booking_date: invalid calendar date: '31/11/2022'; "
        "total_price: not a number: 'cheap'"
    )


def test_record_key_as_the_pipeline_writes_it():
    parser = _bookings_parser()
    assert parser.record_key(["007", "1", "2", "", "", "", "", "", ""]) == "7"  # normalised
    assert parser.record_key(["", "1", "2", "", "", "", "", "", ""]) == "NULL"
    assert (
        parser.record_key([" x1 ", "1", "2", "", "", "", "", "", ""]) == "x1"
    )  # as far as it can be read
    assert parser.record_key(["1", "2"]) is None  # fields not lined up with the header
    header = ["user_id", "apartment_id", "viewed_at", "is_wishlisted", "call_to_action"]
    views = RowParser(USER_VIEWING, match_header(header, USER_VIEWING, "v.csv"))
    assert views.record_key(["5", "", "23/01/2023", "", ""]) == "5|NULL|2023-01-23 00:00:00"


def test_row_parser_nulls_in_optional_columns():
    header = list(APARTMENTS.column_names)
    parser = RowParser(APARTMENTS, match_header(header, APARTMENTS, "a.csv"))
    _, line = parser.parse(["5", "", "", "", "", "", "", ""])
    assert line.split("\t") == ["5"] + [NULL_TOKEN] * 7


# -- file names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "table"),
    [
        ("apartments.csv", "apartments"),
        ("apartments.sample.csv", "apartments"),
        ("Apartments_2024.CSV", "apartments"),
        ("apartment_attributes.csv", "apartment_attributes"),
        ("apartment_attributes.sample.csv", "apartment_attributes"),
        ("bookings.csv", "bookings"),
        ("user_viewing.sample.csv", "user_viewing"),
        ("vehicles.csv", None),
        ("users.csv", None),
        ("location.csv", None),
        ("apartments.json", None),
        ("notes.csv", None),
    ],
)
def test_classify_file(name, table):
    assert classify_file(name) == table


def test_vehicle_files_are_named_as_such():
    for name in ("vehicles.csv", "locations.csv", "location.csv", "users.csv"):
        assert _skip_reason(name) == NOT_APARTMENTS_DOMAIN
    assert _skip_reason("rental_transactions.csv") == NOT_APARTMENTS_DOMAIN
    assert _skip_reason("notes.csv") != NOT_APARTMENTS_DOMAIN


# -- records of a file --------------------------------------------------------------------


def _records(text: str, width: int = 3) -> list[tuple]:
    lines = text.splitlines(keepends=True)
    return [(line, fields, error) for line, fields, error, _ in records(lines, width)]


def test_records_number_lines_and_skip_blank_lines():
    assert _records("a,b,c\n1,2,3\n\n4,5,6\r\n7,8,9") == [
        (2, ["1", "2", "3"], None),
        (4, ["4", "5", "6"], None),
        (5, ["7", "8", "9"], None),
    ]


def test_a_quoted_field_may_span_lines():
    assert _records('a,b,c\n1,"two\nlines",3\n4,5,6\n') == [
        (2, ["1", "two\nlines", "3"], None),
        (4, ["4", "5", "6"], None),
    ]


def test_an_unbalanced_quote_costs_only_its_own_line():
    # The quote opened on line 3 would swallow lines 4-5 up to the quote on line 5.
    text = 'a,b,c\n1,2,3\n2,"open,3\n3,4,5\n4,"x",6\n5,6,7\n'
    got = _records(text)
    assert [(line, fields) for line, fields, _ in got] == [
        (2, ["1", "2", "3"]),
        (3, None),
        (4, ["3", "4", "5"]),
        (5, ["4", "x", "6"]),
        (6, ["5", "6", "7"]),
    ]
    assert got[1][2] == "malformed CSV: unexpected end of data"


def test_an_unbalanced_quote_at_the_end_of_the_file():
    got = _records('a,b,c\n1,2,"open\n3,4,5\n')
    assert [(line, fields) for line, fields, _ in got] == [(2, None), (3, ["3", "4", "5"])]


def test_a_quote_inside_a_quoted_field_must_be_doubled():
    got = _records('a,b,c\n1,"say "hi"",3\n1,"say ""hi""",3\n')
    assert got[0][:2] == (2, None) and got[0][2].startswith("malformed CSV")
    assert got[1] == (3, ["1", 'say "hi"', "3"], None)


def test_a_record_of_one_line_with_the_wrong_field_count_is_kept_whole():
    assert _records("a,b,c\n1,2\n") == [(2, ["1", "2"], None)]  # rejected by the parser


# -- raw rows and batches -----------------------------------------------------------------


def test_raw_row_json_keeps_text_and_fits_the_column():
    raw = {"title": "Café 東京 🏠 '); drop table x; --", "source_file": "a.csv", "line_number": 3}
    assert json.loads(raw_row_json(raw)) == raw
    assert "東京" in raw_row_json(raw)  # not escaped: readable, as Spark's to_json writes it

    big = {"body": "ß" * 40_000, "other": "x" * 70_000, "source_file": "a.csv", "line_number": 2}
    text = raw_row_json(big)
    assert len(text.encode()) <= 65_535
    cut = json.loads(text)
    assert cut["body"].endswith("...[40000 characters]")
    assert cut["other"].endswith("...[70000 characters]")
    assert (cut["source_file"], cut["line_number"]) == ("a.csv", 2)


def test_reject_batch_ids_are_reproducible_fit_the_column_and_tell_files_apart(tmp_path):
    longest = max((s.name for s in APARTMENTS_TABLES), key=len)
    assert APARTMENT_ATTRIBUTES.name == longest
    one = tmp_path / "apartment_attributes_2024.csv"
    one.write_text("id\n1\n")
    batch_id = reject_batch_id(longest, one)
    assert batch_id.startswith("import-apartment_attributes-")
    assert len(batch_id) <= 64
    assert reject_batch_id(longest, one) == batch_id  # the same file, the same batch
    other = tmp_path / "apartment_attributes.csv"
    other.write_text("id\n1\n")
    assert reject_batch_id(longest, other) != batch_id  # same content, another file
    one.write_text("id\n2\n")
    assert reject_batch_id(longest, one) != batch_id  # the file changed
