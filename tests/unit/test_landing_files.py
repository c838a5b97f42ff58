"""The landing zone without Spark: which files a run reads, their bookmark, headers, the
local landing folder, landing an import batch, and which table a lab file feeds."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from rental_analytics.local.importer import classify_landed_file
from rental_analytics.sources.landing import (
    LandingError,
    files_bookmark,
    land_files,
    next_import_batch,
    parse_header,
    pending_files,
)
from rental_analytics.sources.tables import (
    LOCATIONS,
    RENTAL_TRANSACTIONS,
    RENTAL_USERS,
    VEHICLES,
)
from rental_analytics.storage import LandedFile, LocalLanding


def landed(key, fingerprint, modified_ns=0):
    return LandedFile(
        key=key, uri=f"/landing/{key}", size=1, modified_ns=modified_ns, fingerprint=fingerprint
    )


def write(path: Path, text: str | bytes, mtime_ns: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        text = text.encode()
    path.write_bytes(text)
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns))
    return path


def csv_text(spec, rows=(), header=None):
    lines = [",".join(header or spec.column_names), *rows]
    return "\n".join(lines) + "\n"


def every_file(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


# -- pending_files -------------------------------------------------------------------------

A1 = landed("v/a.csv", "a1")
A2 = landed("v/a.csv", "a2")  # a.csv rewritten
B1 = landed("v/b.csv", "b1")
C1 = landed("v/c.csv", "c1")
BOOKMARK = {"kind": "files", "files": {"v/a.csv": "a1", "v/b.csv": "b1"}}


def test_without_bookmark_every_file_is_pending():
    assert pending_files([A1, B1], None, full_refresh=False) == [A1, B1]
    assert pending_files([A1, B1], {}, full_refresh=False) == [A1, B1]


def test_a_processed_file_with_the_same_fingerprint_is_skipped():
    assert pending_files([A1, B1, C1], BOOKMARK, full_refresh=False) == [C1]


def test_a_rewritten_file_is_pending_again():
    assert pending_files([A2, B1], BOOKMARK, full_refresh=False) == [A2]


def test_full_refresh_reads_every_file_in_order():
    assert pending_files([B1, A1, C1], BOOKMARK, full_refresh=True) == [B1, A1, C1]


# -- files_bookmark ------------------------------------------------------------------------


def test_bookmark_accumulates_processed_files():
    first = files_bookmark(None, [B1], full_refresh=False)
    assert first == {"kind": "files", "files": {"v/b.csv": "b1"}}
    second = files_bookmark(first, [A1, C1], full_refresh=False)
    assert second == {"kind": "files", "files": {"v/a.csv": "a1", "v/b.csv": "b1", "v/c.csv": "c1"}}
    assert list(second["files"]) == sorted(second["files"])
    assert first == {"kind": "files", "files": {"v/b.csv": "b1"}}  # not mutated


def test_bookmark_keeps_the_new_fingerprint_of_a_rewritten_file():
    after = files_bookmark(BOOKMARK, [A2], full_refresh=False)
    assert after["files"] == {"v/a.csv": "a2", "v/b.csv": "b1"}
    assert pending_files([A2, B1], after, full_refresh=False) == []
    assert pending_files([A1], after, full_refresh=False) == [A1]


def test_full_refresh_forgets_files_no_longer_landed():
    previous = {"kind": "files", "files": {"v/a.csv": "a1", "v/gone.csv": "g1"}}
    after = files_bookmark(previous, [A2], full_refresh=True, present=[A2, C1])
    assert after == {"kind": "files", "files": {"v/a.csv": "a2", "v/c.csv": "c1"}}


# -- parse_header --------------------------------------------------------------------------


def test_header_in_any_order_case_and_spacing():
    names = list(reversed(VEHICLES.column_names))
    names[0] = f"  {names[0].upper()} "  # vehicle_type
    head = (",".join(names) + "\r\n1,2,3\r\n").encode()
    match = parse_header(head, VEHICLES, "vehicles/import-0001/v.csv")
    width = len(VEHICLES.column_names)
    assert match.positions == tuple(range(width - 1, -1, -1))
    assert match.width == width
    assert match.extra_columns == ()


def test_header_with_bom_and_extra_columns():
    head = (
        b"\xef\xbb\xbfLocation_ID,notes,location_name,address,city,state,zip_code,"
        b" Extra ,latitude,longitude\n"
    )
    match = parse_header(head, LOCATIONS, "locations/import-0001/location.csv")
    assert match.positions == (0, 2, 3, 4, 5, 6, 8, 9)
    assert match.width == 10
    assert match.extra_columns == ("notes", "Extra")


def test_header_missing_a_column_names_table_file_and_column():
    header = ",".join(c for c in RENTAL_TRANSACTIONS.column_names if c != "total_amount")
    key = "rental_transactions/import-0003/rt.csv"
    with pytest.raises(LandingError) as err:
        parse_header(header.encode() + b"\n", RENTAL_TRANSACTIONS, key)
    message = str(err.value)
    assert message.startswith(f"rental_transactions: {key}: missing column 'total_amount'")
    assert "required by table rental_transactions" in message


def test_header_with_a_repeated_column_is_an_error():
    header = ",".join([*RENTAL_USERS.column_names, "EMAIL"])
    with pytest.raises(LandingError, match="rental_users: u.csv: column 'email' appears 2 times"):
        parse_header(header.encode(), RENTAL_USERS, "u.csv")


def test_unreadable_header_is_an_error():
    with pytest.raises(LandingError, match=r"^vehicles: v\.csv: unreadable header line"):
        parse_header(b"vehicle_id,\xff\xfe\n", VEHICLES, "v.csv")


@pytest.mark.parametrize("head", [b"", b"\n", b"  \r\n"])
def test_empty_file_has_no_header(head):
    assert parse_header(head, VEHICLES, "v.csv") is None


# -- LocalLanding --------------------------------------------------------------------------


def test_list_files_is_recursive_csv_only_in_landing_order(tmp_path):
    v = tmp_path / "vehicles"
    write(v / "import-0002" / "a.csv", "a", mtime_ns=1_000)
    write(v / "import-0001" / "b.csv", "b", mtime_ns=2_000)
    write(v / "a.csv", "top", mtime_ns=2_000)  # same instant: key order
    write(v / "deep" / "er" / "UPPER.CSV", "upper", mtime_ns=3_000)
    for ignored in [
        ".x.csv.tmp",
        ".hidden.csv",
        "_SUCCESS",
        "_part-0000.csv",
        "_temporary/0/x.csv",
        ".staging/x.csv",
        "notes.txt",
        "data.csv.bak",
    ]:
        write(v / ignored, "ignored", mtime_ns=500)
    write(tmp_path / "locations" / "l.csv", "other table", mtime_ns=500)

    files = LocalLanding(tmp_path).list_files("vehicles")

    assert [f.key for f in files] == [
        "vehicles/import-0002/a.csv",
        "vehicles/a.csv",
        "vehicles/import-0001/b.csv",
        "vehicles/deep/er/UPPER.CSV",
    ]
    first = files[0]
    assert first.uri == str(v / "import-0002" / "a.csv")
    assert (first.size, first.modified_ns) == (1, 1_000)
    assert first.fingerprint == hashlib.sha256(b"a").hexdigest()


def test_list_files_of_a_missing_prefix_is_empty(tmp_path):
    assert LocalLanding(tmp_path).list_files("users") == []
    assert LocalLanding(tmp_path / "nowhere").list_files("users") == []


def test_fingerprint_follows_content(tmp_path):
    landing = LocalLanding(tmp_path)
    path = write(tmp_path / "users" / "u.csv", "user_id\n1\n", mtime_ns=1_000)
    write(tmp_path / "users" / "copy.csv", "user_id\n1\n", mtime_ns=2_000)
    before, copy = landing.list_files("users")
    assert before.key == "users/u.csv" and before.fingerprint == copy.fingerprint
    write(path, "user_id\n2\n", mtime_ns=1_000)  # rewritten, same size and time
    (after,) = [f for f in landing.list_files("users") if f.key == "users/u.csv"]
    assert after.fingerprint != before.fingerprint
    assert (after.size, after.modified_ns) == (before.size, before.modified_ns)


def test_put_file_is_atomic_and_leaves_no_temp_file(tmp_path):
    landing = LocalLanding(tmp_path / "landing")
    source = write(tmp_path / "src" / "vehicles.csv", "vehicle_id\nv1\n")
    put = landing.put_file(source, "vehicles/import-0001/vehicles.csv")
    target = tmp_path / "landing" / "vehicles" / "import-0001" / "vehicles.csv"
    assert put.key == "vehicles/import-0001/vehicles.csv"
    assert put.uri == str(target)
    assert target.read_text() == "vehicle_id\nv1\n"
    assert put.fingerprint == hashlib.sha256(b"vehicle_id\nv1\n").hexdigest()
    assert put.size == len(b"vehicle_id\nv1\n")
    # replacing the same key also goes through a temporary file
    write(source, "vehicle_id\nv2\n")
    landing.put_file(source, "vehicles/import-0001/vehicles.csv")
    assert target.read_text() == "vehicle_id\nv2\n"
    assert every_file(tmp_path / "landing") == ["vehicles/import-0001/vehicles.csv"]
    assert [f.key for f in landing.list_files("vehicles")] == [put.key]


def test_put_file_that_fails_leaves_nothing(tmp_path):
    landing = LocalLanding(tmp_path / "landing")
    with pytest.raises(FileNotFoundError):
        landing.put_file(tmp_path / "missing.csv", "users/import-0001/users.csv")
    assert every_file(tmp_path / "landing") == []


def test_next_import_batch_counts_across_prefixes(tmp_path):
    landing = LocalLanding(tmp_path)
    assert next_import_batch(landing) == "import-0001"
    (tmp_path / "vehicles" / "import-0001").mkdir(parents=True)
    assert next_import_batch(landing) == "import-0002"
    (tmp_path / "users" / "import-0007").mkdir(parents=True)
    (tmp_path / "locations" / "import-0003").mkdir(parents=True)
    assert next_import_batch(landing) == "import-0008"
    # not import folders of a vehicle table: ignored
    (tmp_path / "rental_transactions" / "import-abc").mkdir(parents=True)
    (tmp_path / "rental_transactions" / "import-").mkdir(parents=True)
    write(tmp_path / "rental_transactions" / "import-0099", "a file, not a folder")
    (tmp_path / "apartments" / "import-0050").mkdir(parents=True)
    (tmp_path / "vehicles" / "old" / "import-0040").mkdir(parents=True)
    assert next_import_batch(landing) == "import-0008"


# -- land_files ----------------------------------------------------------------------------


@pytest.fixture
def sources(tmp_path):
    src = tmp_path / "src"
    return {
        "vehicles": write(src / "vehicles.csv", csv_text(VEHICLES, ["," * 13])),
        "location": write(src / "location.csv", csv_text(LOCATIONS, ["1,a,b,c,d,00501,1.5,2.5"])),
    }


def test_land_files_lands_one_import_batch(tmp_path, sources):
    landing = LocalLanding(tmp_path / "landing")
    outcome = land_files(
        landing, [(VEHICLES, sources["vehicles"]), (LOCATIONS, sources["location"])]
    )
    assert [(p, f.key) for p, f in outcome] == [
        (sources["vehicles"], "vehicles/import-0001/vehicles.csv"),
        (sources["location"], "locations/import-0001/location.csv"),
    ]
    assert every_file(tmp_path / "landing") == [
        "locations/import-0001/location.csv",
        "vehicles/import-0001/vehicles.csv",
    ]
    landed_text = (tmp_path / "landing" / "locations" / "import-0001" / "location.csv").read_text()
    assert landed_text == sources["location"].read_text()


def test_the_same_content_is_not_landed_twice(tmp_path, sources):
    landing = LocalLanding(tmp_path / "landing")
    land_files(landing, [(VEHICLES, sources["vehicles"])])
    again = land_files(landing, [(VEHICLES, sources["vehicles"])])
    assert again == [(sources["vehicles"], None)]
    # the same content under another name is already landed too
    renamed = write(tmp_path / "other" / "vehicles_copy.csv", sources["vehicles"].read_bytes())
    assert land_files(landing, [(VEHICLES, renamed)]) == [(renamed, None)]
    assert every_file(tmp_path / "landing") == ["vehicles/import-0001/vehicles.csv"]
    # new content lands as the next batch; the other file of the call is skipped
    write(sources["vehicles"], csv_text(VEHICLES, ["," * 10 + "v2,,,"]))
    outcome = land_files(
        landing, [(VEHICLES, sources["vehicles"]), (LOCATIONS, sources["location"])]
    )
    assert [(p.name, f and f.key) for p, f in outcome] == [
        ("vehicles.csv", "vehicles/import-0002/vehicles.csv"),
        ("location.csv", "locations/import-0002/location.csv"),
    ]


def test_a_bad_header_lands_nothing_at_all(tmp_path, sources):
    bad = write(
        tmp_path / "src" / "users.csv",
        csv_text(RENTAL_USERS, header=[c for c in RENTAL_USERS.column_names if c != "email"]),
    )
    landing = LocalLanding(tmp_path / "landing")
    with pytest.raises(LandingError) as err:
        land_files(landing, [(VEHICLES, sources["vehicles"]), (RENTAL_USERS, bad)])
    assert str(err.value).startswith("rental_users: users.csv: missing column 'email'")
    assert every_file(tmp_path / "landing") == []
    assert next_import_batch(landing) == "import-0001"


def test_an_empty_file_lands_nothing(tmp_path, sources):
    empty = write(tmp_path / "src" / "rental_transactions.csv", "")
    landing = LocalLanding(tmp_path / "landing")
    with pytest.raises(
        LandingError, match="rental_transactions: rental_transactions.csv: empty file"
    ):
        land_files(landing, [(LOCATIONS, sources["location"]), (RENTAL_TRANSACTIONS, empty)])
    assert every_file(tmp_path / "landing") == []


# -- classify_landed_file ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "spec"),
    [
        ("vehicles.csv", VEHICLES),
        ("VEHICLES_2024-03.CSV", VEHICLES),
        ("location.csv", LOCATIONS),
        ("locations.csv", LOCATIONS),
        ("users.csv", RENTAL_USERS),
        ("Users_2024.csv", RENTAL_USERS),
        ("rental_transactions.csv", RENTAL_TRANSACTIONS),
        ("rental_transactions_part2.csv", RENTAL_TRANSACTIONS),
        ("user_viewing.csv", None),
        ("apartments.csv", None),
        ("bookings.csv", None),
        ("vehicles.txt", None),
        ("vehicle.csv", None),
        ("my_users.csv", None),
    ],
)
def test_classify_landed_file(name, spec):
    assert classify_landed_file(name) is spec


def test_two_files_with_one_landing_name_land_nothing(tmp_path, sources):
    other = write(tmp_path / "elsewhere" / "vehicles.csv", csv_text(VEHICLES, ["," * 10 + "v9,,,"]))
    with pytest.raises(LandingError, match="vehicles/vehicles.csv"):
        land_files(
            LocalLanding(tmp_path / "landing"),
            [(VEHICLES, sources["vehicles"]), (VEHICLES, other)],
        )
    assert every_file(tmp_path / "landing") == []


def test_landed_files_are_readable_by_others(tmp_path, sources):
    landed = LocalLanding(tmp_path / "landing").put_file(sources["vehicles"], "vehicles/v.csv")
    assert Path(landed.uri).stat().st_mode & 0o777 == 0o644
