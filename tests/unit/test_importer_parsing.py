"""Pure parsing of lab-format CSV fields, headers and rows (no database)."""

from __future__ import annotations

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
)
from rental_analytics.sources.tables import APARTMENTS, BOOKINGS, USER_VIEWING

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


def test_strings_are_escaped_for_load_data():
    assert column_converter("s", "text")("a\tb\\c\nd") == "a\\tb\\\\c\\nd"
    assert column_converter("s", "string")("\\N") == "\\\\N"  # the text, not NULL


def test_string_longer_than_column_is_rejected():
    convert = column_converter("currency", "string", max_length=8)
    assert convert("EUR") == "EUR"
    with pytest.raises(RowRejected, match=r"currency: value too long \(9 > 8 characters\)"):
        convert("EURO-ZONE")


def test_converter_reasons_name_the_column():
    with pytest.raises(RowRejected, match="checkin_date: invalid calendar date"):
        column_converter("checkin_date", "date")("31/02/2024")
    with pytest.raises(RowRejected, match="price: not a number: 'abc'"):
        column_converter("price", "decimal(10,2)")("abc")
    with pytest.raises(RowRejected, match="id: NULL in a required"):
        column_converter("id", "int", nullable=False)("")


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
    ("row", "reason"),
    [
        ("1,2920,130940,11/11/2022,07/09/2024,30/06/2023,2923.67,USD", "wrong number of fields"),
        ("1,2920,130940,11/11/2022,07/09/2024,30/06/2023,2923.67,USD,ok,x", "expected 9, got 10"),
        (",2920,130940,11/11/2022,07/09/2024,30/06/2023,2923.67,USD,ok", "booking_id: NULL"),
        ("1,2920,130940,31/11/2022,07/09/2024,30/06/2023,2923.67,USD,ok", "booking_date: invalid"),
        (
            "1,2920,130940,11/11/2022,07/09/2024,30/06/2023,cheap,USD,ok",
            "total_price: not a number",
        ),
        ("1,x,130940,11/11/2022,07/09/2024,30/06/2023,2923.67,USD,ok", "user_id: not an integer"),
    ],
)
def test_row_parser_reject_reasons(row, reason):
    with pytest.raises(RowRejected, match=reason):
        _bookings_parser().parse(row.split(","))


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
