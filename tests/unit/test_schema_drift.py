"""Schema drift checks (pure): source columns and types against a table spec, landed
headers against the policy, and the setting that chooses the policy."""

from __future__ import annotations

import dataclasses
import re

import pytest

from rental_analytics.config import ConfigError, Settings, parse_schema_drift
from rental_analytics.sources.drift import (
    SourceColumn,
    compare_landed_headers,
    compare_source_columns,
    readable_as,
    source_keys_unique,
)
from rental_analytics.sources.tables import BOOKINGS, USER_VIEWING, VEHICLES

POLICIES = ("ignore", "fail")

# bookings as rental_db.sql creates it, in MariaDB's words (information_schema.column_type)
BOOKINGS_SOURCE = [
    SourceColumn("booking_id", "int(11)"),
    SourceColumn("user_id", "int(11)"),
    SourceColumn("apartment_id", "int(11)"),
    SourceColumn("booking_date", "date"),
    SourceColumn("checkin_date", "date"),
    SourceColumn("checkout_date", "date"),
    SourceColumn("total_price", "decimal(10,2)"),
    SourceColumn("currency", "varchar(8)"),
    SourceColumn("booking_status", "varchar(32)"),
]


def with_type(columns, name, source_type):
    return [SourceColumn(c.name, source_type) if c.name == name else c for c in columns]


@pytest.mark.parametrize("policy", POLICIES)
def test_the_source_as_created_passes_without_notes(policy):
    assert compare_source_columns(BOOKINGS, BOOKINGS_SOURCE, policy) == ([], None)
    viewing = [
        SourceColumn("user_id", "int"),  # MySQL 8 (Aurora MySQL 3) drops the display width
        SourceColumn("apartment_id", "int"),
        SourceColumn("viewed_at", "datetime"),
        SourceColumn("is_wishlisted", "tinyint(1)"),  # what `boolean` becomes
        SourceColumn("call_to_action", "varchar(64)"),
    ]
    assert compare_source_columns(USER_VIEWING, viewing, policy) == ([], None)


@pytest.mark.parametrize("policy", POLICIES)
def test_names_compare_case_insensitively(policy):
    upper = [SourceColumn(c.name.upper(), c.type.upper()) for c in BOOKINGS_SOURCE]
    assert compare_source_columns(BOOKINGS, upper, policy) == ([], None)


@pytest.mark.parametrize("policy", POLICIES)
def test_a_missing_column_fails_naming_table_and_column(policy):
    source = [c for c in BOOKINGS_SOURCE if c.name != "checkin_date"]
    notes, error = compare_source_columns(BOOKINGS, source, policy)
    assert notes == []
    assert error == (
        "apartments.bookings: source column 'checkin_date' is missing (required by the table spec)"
    )


@pytest.mark.parametrize("policy", POLICIES)
def test_a_missing_table_fails(policy):
    assert compare_source_columns(BOOKINGS, [], policy) == (
        [],
        "apartments.bookings: source table not found (required by the table spec)",
    )


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize(
    ("column", "source_type", "expected"),
    [
        ("checkin_date", "varchar(32)", "date"),
        ("checkin_date", "datetime", "date"),  # the time of day would be cut off
        ("user_id", "varchar(16)", "int"),
        ("user_id", "datetime", "int"),
        ("user_id", "bigint(20)", "int"),
        ("user_id", "int(10) unsigned", "int"),
        ("user_id", "tinyint(1)", "int"),  # read as a boolean by the driver
        ("total_price", "decimal(12,2)", "decimal(10,2)"),  # more integer digits
        ("total_price", "decimal(10,3)", "decimal(10,2)"),  # more fraction digits
        ("total_price", "double", "decimal(10,2)"),
        ("total_price", "int(11)", "decimal(10,2)"),  # 10 digits do not fit in 8
        ("booking_status", "datetime", "string"),
        ("booking_status", "blob", "string"),
    ],
)
def test_an_incompatible_type_fails_naming_table_column_and_types(
    policy, column, source_type, expected
):
    source = with_type(BOOKINGS_SOURCE, column, source_type)
    notes, error = compare_source_columns(BOOKINGS, source, policy)
    assert notes == []
    assert error == (
        f"apartments.bookings: source column '{column}' has type {source_type}, "
        f"which cannot be read losslessly as the spec's {expected}"
    )


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize(
    ("column", "source_type"),
    [
        ("booking_id", "mediumint(8) unsigned"),
        ("booking_id", "smallint(6)"),
        ("booking_id", "decimal(9,0)"),
        ("total_price", "decimal(8,1)"),  # narrower on both sides
        ("total_price", "decimal(10,2) unsigned"),
        ("total_price", "smallint(6)"),
        ("currency", "char(3)"),
        ("currency", "enum('USD','EUR','INR')"),
        ("booking_status", "longtext"),
        ("booking_status", "int(11)"),  # a number's text is unique
    ],
)
def test_a_type_read_losslessly_passes(policy, column, source_type):
    source = with_type(BOOKINGS_SOURCE, column, source_type)
    assert compare_source_columns(BOOKINGS, source, policy) == ([], None)


def test_added_columns_are_noted_when_ignored():
    source = [*BOOKINGS_SOURCE, SourceColumn("channel", "varchar(16)"), SourceColumn("Fee", "int")]
    assert compare_source_columns(BOOKINGS, source, "ignore") == (
        ["added source columns ignored: channel, Fee"],
        None,
    )


def test_added_columns_fail_when_the_policy_says_so():
    source = [*BOOKINGS_SOURCE, SourceColumn("channel", "varchar(16)")]
    notes, error = compare_source_columns(BOOKINGS, source, "fail")
    assert notes == []
    assert error.startswith(
        "apartments.bookings: added source column not in the table spec: channel (schema_drift=fail"
    )


@pytest.mark.parametrize("policy", POLICIES)
def test_every_problem_of_a_table_is_named_at_once(policy):
    source = with_type(BOOKINGS_SOURCE, "user_id", "varchar(16)")
    source = [c for c in source if c.name != "currency"] + [SourceColumn("channel", "text")]
    notes, error = compare_source_columns(BOOKINGS, source, policy)
    assert "source column 'user_id' has type varchar(16)" in error
    assert "source column 'currency' is missing" in error
    assert ("added source column not in the table spec: channel" in error) == (policy == "fail")
    assert notes == ([] if policy == "fail" else ["added source columns ignored: channel"])


@pytest.mark.parametrize(
    ("source_type", "logical", "readable"),
    [
        ("int(11)", "bigint", True),
        ("int(10) unsigned", "bigint", True),
        ("bigint(20)", "bigint", True),
        ("bigint(20) unsigned", "bigint", False),
        ("decimal(18,0)", "bigint", True),
        ("decimal(19,0)", "bigint", False),
        ("tinyint(1)", "boolean", True),
        ("bit(1)", "boolean", True),
        ("tinyint(4)", "boolean", False),
        ("varchar(5)", "boolean", False),
        ("datetime", "timestamp", True),
        ("datetime(6)", "timestamp", True),
        ("timestamp", "timestamp", True),
        ("date", "timestamp", True),
        ("varchar(19)", "timestamp", False),
        ("date", "date", True),
        ("float", "double", True),
        ("double", "double", True),
        ("int(11)", "double", True),
        ("bigint(20)", "double", False),
        ("decimal(15,6)", "double", True),
        ("decimal(16,6)", "double", False),
        ("text", "text", True),
        ("mediumtext", "string", True),
        ("double", "string", False),
        ("date", "string", False),
    ],
)
def test_type_compatibility(source_type, logical, readable):
    assert readable_as(source_type, logical) is readable


# -- landed headers --------------------------------------------------------------------------
def test_landed_extra_columns_are_noted_when_ignored():
    extra = {"vehicles/a.csv": ("colour", "seats"), "vehicles/b.csv": ()}
    assert compare_landed_headers(VEHICLES, extra, "ignore") == (
        ["vehicles/a.csv: extra columns ignored: colour, seats"],
        None,
    )


def test_landed_extra_columns_fail_naming_table_file_and_columns():
    extra = {"vehicles/a.csv": ("colour",), "vehicles/b.csv": (), "vehicles/c.csv": ("x", "y")}
    notes, error = compare_landed_headers(VEHICLES, extra, "fail")
    assert notes == []
    assert error.startswith(
        "vehicle_rentals.vehicles: vehicles/a.csv: added source column not in the table spec:"
        " colour (schema_drift=fail"
    )
    assert "; vehicles/c.csv: added source columns not in the table spec: x, y" in error


@pytest.mark.parametrize("policy", POLICIES)
def test_landed_files_without_extra_columns_pass(policy):
    assert compare_landed_headers(VEHICLES, {"vehicles/a.csv": ()}, policy) == ([], None)


# -- the setting ---------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "policy"), [("ignore", "ignore"), (" FAIL ", "fail")])
def test_schema_drift_setting_parses(value, policy):
    assert parse_schema_drift(value) == policy


def test_unknown_schema_drift_values_name_the_allowed_ones():
    with pytest.raises(ConfigError, match=re.escape("expected one of ignore, fail")):
        parse_schema_drift("warn", "RENTALS_SCHEMA_DRIFT")


def _settings(**kw) -> Settings:
    from rental_analytics.config import DatabaseSettings

    db = DatabaseSettings("127.0.0.1", 1, "u", "p", "d")
    return Settings(home=None, lake_root="", landing_root="", bookmarks_root="", runs_root="",
                    source=db, warehouse=db, **kw)  # fmt: skip


def test_settings_default_to_ignore_and_refuse_unknown_policies():
    assert _settings().schema_drift == "ignore"
    assert dataclasses.replace(_settings(), schema_drift="fail").schema_drift == "fail"
    with pytest.raises(ConfigError, match="schema_drift 'warn'"):
        _settings(schema_drift="warn")


def test_local_settings_read_the_environment(tmp_path, monkeypatch):
    (tmp_path / "stack.json").write_text('{"mariadb_port": 1, "postgres_port": 2}')
    (tmp_path / "secrets.json").write_text('{"mariadb_password": "a", "postgres_password": "b"}')
    monkeypatch.delenv("RENTALS_SCHEMA_DRIFT", raising=False)
    assert Settings.local(tmp_path).schema_drift == "ignore"
    monkeypatch.setenv("RENTALS_SCHEMA_DRIFT", "fail")
    assert Settings.local(tmp_path).schema_drift == "fail"
    monkeypatch.setenv("RENTALS_SCHEMA_DRIFT", "loud")
    with pytest.raises(ConfigError, match="RENTALS_SCHEMA_DRIFT 'loud': expected one of"):
        Settings.local(tmp_path)


# -- what `rentals run` shows ------------------------------------------------------------------
def test_run_progress_shows_extract_notes_under_the_state_line(tmp_path):
    from rental_analytics.local.orchestration import ExecutionFollower
    from rental_analytics.runs import RunRecord

    lines = []
    follower = ExecutionFollower(
        RunRecord(run_id="r", run_date="2024-03-10"), tmp_path, lambda p: lines.append(p)
    )
    entered = {"name": "ExtractVehicleRentals"}
    follower.feed([
        {"id": 1, "type": "TaskStateEntered", "stateEnteredEventDetails": entered},
        {"id": 2, "type": "TaskScheduled", "previousEventId": 1},
        {"id": 3, "type": "TaskSucceeded", "previousEventId": 2},
    ])  # fmt: skip
    follower.steps["ExtractVehicleRentals"].attempts[-1].metrics = {
        "tables": [
            {"table": "locations", "rows": 0, "notes": []},
            {"table": "vehicles", "rows": 3,
             "notes": ["vehicles/import-0002/vehicles.csv: extra columns ignored: colour"]},
        ]
    }  # fmt: skip
    follower.feed([{"id": 4, "type": "TaskStateExited", "stateExitedEventDetails": entered}])
    assert [(p.kind, p.text) for p in lines[-2:]] == [
        ("succeeded", "ExtractVehicleRentals succeeded: 3 extracted"),
        (
            "info",
            "  note: vehicles: vehicles/import-0002/vehicles.csv: extra columns ignored: colour",
        ),
    ]


def declaring_key(columns, *key):
    return [dataclasses.replace(c, in_primary_key=c.name in key) for c in columns]


def test_the_source_vouches_for_unique_keys_only_with_the_specs_key_declared():
    assert source_keys_unique(BOOKINGS, declaring_key(BOOKINGS_SOURCE, "booking_id"))
    upper = [dataclasses.replace(c, name=c.name.upper()) for c in BOOKINGS_SOURCE]
    assert source_keys_unique(BOOKINGS, declaring_key(upper, "BOOKING_ID"))
    assert not source_keys_unique(BOOKINGS, BOOKINGS_SOURCE)  # no primary key declared
    wider = declaring_key(BOOKINGS_SOURCE, "booking_id", "user_id")
    assert not source_keys_unique(BOOKINGS, wider)  # one booking_id may then be two rows
    narrower = declaring_key(BOOKINGS_SOURCE, "user_id")
    assert not source_keys_unique(BOOKINGS, narrower)


def test_a_read_split_on_a_column_outside_the_key_is_not_vouched_for():
    # Each partition's query sees its own moment: a row whose partition value changes in
    # between can be read twice, once per partition.
    declared = declaring_key(BOOKINGS_SOURCE, "booking_id")
    assert source_keys_unique(dataclasses.replace(BOOKINGS, partition_column=None), declared)
    split_outside = dataclasses.replace(BOOKINGS, partition_column="user_id")
    assert not source_keys_unique(split_outside, declared)
