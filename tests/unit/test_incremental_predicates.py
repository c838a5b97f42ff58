from datetime import date

import pytest

from rental_analytics.sources.bookmarks import DomainState
from rental_analytics.sources.extract import (
    ExtractError,
    incremental_predicate,
    render_literal,
    source_query,
)
from rental_analytics.sources.tables import (
    APARTMENT_ATTRIBUTES,
    APARTMENTS,
    BOOKINGS,
    USER_VIEWING,
)

RUN = date(2024, 3, 31)


def state(**tables) -> DomainState:
    return DomainState(domain="apartments", tables=tables)


def test_first_run_reads_everything():
    assert incremental_predicate(APARTMENTS, state(), RUN, 30) is None
    assert source_query(BOOKINGS, None).endswith("from `bookings`")


def test_apartments_new_keys_or_modified_since_watermark():
    s = state(
        apartments={"keys": ["id"], "last_key": [200], "modified_watermark": "2024-03-01 00:00:00"}
    )
    assert incremental_predicate(APARTMENTS, s, RUN, 30) == (
        "(`id` > 200) or (`last_modified_timestamp` >= '2024-03-01 00:00:00')"
    )


def test_bookings_lookback_is_relative_to_run_date_not_today():
    s = state(bookings={"keys": ["booking_id"], "last_key": [500], "modified_watermark": None})
    assert incremental_predicate(BOOKINGS, s, RUN, 30) == (
        "(`booking_id` > 500) or (`booking_date` >= '2024-03-01')"
    )
    assert "'2024-03-24'" in incremental_predicate(BOOKINGS, s, RUN, 7)


def test_user_viewing_is_inclusive_on_viewed_at():
    s = state(user_viewing={"keys": ["viewed_at"], "last_key": ["2024-03-30 00:00:00"]})
    assert incremental_predicate(USER_VIEWING, s, RUN, 30) == (
        "(`viewed_at` >= '2024-03-30 00:00:00')"
    )


def test_attributes_follow_their_apartment_modifications():
    s = state(
        apartments={"keys": ["id"], "last_key": [9], "modified_watermark": "2024-03-02 00:00:00"},
        apartment_attributes={"keys": ["id"], "last_key": [9]},
    )
    assert incremental_predicate(APARTMENT_ATTRIBUTES, s, RUN, 30) == (
        "(`id` > 9) or (`id` in (select `id` from `apartments`"
        " where `last_modified_timestamp` >= '2024-03-02 00:00:00'))"
    )


def test_changed_bookmark_keys_are_refused():
    s = state(apartments={"keys": ["title"], "last_key": ["x"]})
    with pytest.raises(ExtractError, match="bookmark keys changed"):
        incremental_predicate(APARTMENTS, s, RUN, 30)


@pytest.mark.parametrize(
    ("value", "kind"),
    [("1 or 1=1", "int"), ("2024-01-01' or '1'='1", "date"), ("x", "timestamp"), ("a", "string")],
)
def test_literals_refuse_anything_but_their_type(value, kind):
    with pytest.raises((ValueError, ExtractError)):
        render_literal(value, kind)
