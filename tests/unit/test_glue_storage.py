"""Bookmark state, the landing zone and lake batch removal on S3 (moto in-process), with the
same semantics as the local folder: each test runs against both implementations."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, date, datetime
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.core import DEFAULT_ACCOUNT_ID
from moto.s3.models import s3_backends

from rental_analytics.lake import raw_batch_path
from rental_analytics.sources.bookmarks import BookmarkError, BookmarkStore, TableBatch
from rental_analytics.sources.landing import (
    LandingReader,
    files_bookmark,
    parse_header,
    pending_files,
)
from rental_analytics.sources.tables import VEHICLES
from rental_analytics.storage import (
    LocalLanding,
    LocalStateDocument,
    S3Landing,
    S3StateDocument,
    landing_for,
    remove_tree,
)
from rental_analytics.storage.s3 import remove_prefix
from tests.support.glue_aws import REGION, emulated_aws

BUCKET = "rental-analytics-lake-123456789012-eu-west-1"
D = date(2024, 5, 1)


@pytest.fixture
def s3(monkeypatch):
    with emulated_aws(monkeypatch):
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        yield client


def s3_keys(client, prefix: str = "") -> list[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def set_s3_mtime(key: str, seconds: int) -> None:
    # S3 has no call to set LastModified; the emulated object's attribute stands in for
    # what os.utime does to a local file. Listings carry whole seconds.
    obj = s3_backends[DEFAULT_ACCOUNT_ID]["aws"].get_object(BUCKET, key)
    obj.last_modified = datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


# -- bookmark state ---------------------------------------------------------------------------
class LocalState:
    def __init__(self, root: Path):
        self.root = str(root)
        self.dir = root

    def raw(self, domain: str) -> str:
        return (self.dir / f"{domain}.json").read_text()

    def corrupt(self, domain: str, text: str) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / f"{domain}.json").write_text(text)

    def entries(self) -> list[str]:
        return sorted(p.name for p in self.dir.iterdir()) if self.dir.exists() else []


class S3State:
    def __init__(self, client, prefix: str):
        self.client = client
        self.prefix = prefix
        self.root = f"s3://{BUCKET}/{prefix}"

    def raw(self, domain: str) -> str:
        key = f"{self.prefix}/{domain}.json"
        return self.client.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()

    def corrupt(self, domain: str, text: str) -> None:
        self.client.put_object(Bucket=BUCKET, Key=f"{self.prefix}/{domain}.json", Body=text)

    def entries(self) -> list[str]:
        return [k.removeprefix(f"{self.prefix}/") for k in s3_keys(self.client, self.prefix)]


@pytest.fixture(params=["local", "s3"])
def state(request, tmp_path):
    if request.param == "local":
        return LocalState(tmp_path / "bookmarks")
    return S3State(request.getfixturevalue("s3"), "state")


def commit(store, table, key, run_date=D):
    loaded = store.load()
    batch_id = loaded.next_batch_id(run_date)
    written = {table: TableBatch(table, f"/lake/{batch_id}", 3)}
    store.commit(loaded, batch_id, run_date, written, {table: {"keys": ["id"], "last_key": [key]}})
    return batch_id


def test_batch_ids_are_deterministic_and_count_only_committed(state):
    store = BookmarkStore(state.root, "apartments")
    assert store.load().next_batch_id(D) == "2024-05-01-01"
    assert store.load().next_batch_id(D) == "2024-05-01-01"
    assert commit(store, "apartments", 10) == "2024-05-01-01"
    assert store.load().next_batch_id(D) == "2024-05-01-02"
    assert store.load().next_batch_id(date(2024, 5, 2)) == "2024-05-02-01"


def test_commit_replaces_one_whole_document_per_domain(state):
    apartments = BookmarkStore(state.root, "apartments")
    commit(apartments, "apartments", 10)
    commit(apartments, "apartments", 20)
    commit(BookmarkStore(state.root, "vehicle_rentals"), "vehicles", 5)
    doc = json.loads(state.raw("apartments"))
    assert doc["tables"]["apartments"]["last_key"] == [20]
    assert [b["batch_id"] for b in doc["batches"]] == ["2024-05-01-01", "2024-05-01-02"]
    # one document per domain, no temporary leftovers
    assert state.entries() == ["apartments.json", "vehicle_rentals.json"]
    # a store opened afterwards (the next job run) reads what was written
    assert BookmarkStore(state.root, "apartments").load().tables["apartments"]["last_key"] == [20]


def test_reset_and_rewind(state):
    store = BookmarkStore(state.root, "apartments")
    first = commit(store, "apartments", 10)
    commit(store, "apartments", 20)
    commit(store, "bookings", 7)
    assert store.rewind(first).tables == {"apartments": {"keys": ["id"], "last_key": [10]}}
    assert len(store.load().batches) == 3
    store.reset("apartments")
    assert "apartments" not in store.load().tables
    with pytest.raises(BookmarkError, match="no committed batch"):
        store.rewind("1999-01-01-01")


def test_unreadable_state_is_a_clear_error(state):
    state.corrupt("apartments", "{not json")
    with pytest.raises(BookmarkError, match=r"apartments\.json is unreadable"):
        BookmarkStore(state.root, "apartments").load()


def test_a_failed_write_leaves_the_committed_state(state, monkeypatch):
    store = BookmarkStore(state.root, "apartments")
    commit(store, "apartments", 10)
    before = state.raw("apartments")

    def refuse(self, text):
        raise OSError("storage unavailable")

    monkeypatch.setattr(type(store.document), "replace", refuse)
    with pytest.raises(OSError, match="storage unavailable"):
        commit(store, "apartments", 20)
    assert state.raw("apartments") == before
    assert store.load().next_batch_id(D) == "2024-05-01-02"


def test_the_root_scheme_picks_the_document(s3, tmp_path):
    store = BookmarkStore(f"s3://{BUCKET}/state/", "apartments")
    assert isinstance(store.document, S3StateDocument)
    assert store.document.location.key == "state/apartments.json"
    assert str(store.document) == f"s3://{BUCKET}/state/apartments.json"
    with pytest.raises(TypeError, match="not a local file"):
        _ = store.path
    local = BookmarkStore(tmp_path, "apartments")
    assert isinstance(local.document, LocalStateDocument)
    assert local.path == tmp_path / "apartments.json"


def test_s3_state_that_cannot_be_read_is_an_error_not_an_empty_state(s3):
    # A missing document is a first run; a missing bucket (or no access) must not be.
    assert BookmarkStore(f"s3://{BUCKET}/state", "apartments").load().batches == []
    with pytest.raises(ClientError, match="NoSuchBucket"):
        BookmarkStore("s3://no-such-bucket-here/state", "apartments").load()


# -- landing zone -----------------------------------------------------------------------------
class LocalZone:
    def __init__(self, root: Path):
        self.root = root
        self.landing = LocalLanding(root)

    def write(self, key: str, data: bytes, mtime_s: int | None = None) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if mtime_s is not None:
            os.utime(path, ns=(mtime_s * 10**9, mtime_s * 10**9))

    def folder(self, key: str) -> None:
        (self.root / key).mkdir(parents=True, exist_ok=True)

    def uri(self, key: str) -> str:
        return str(self.root / key)

    @staticmethod
    def fingerprint(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()


class S3Zone:
    def __init__(self, client, prefix: str):
        self.client = client
        self.prefix = prefix
        root = f"s3://{BUCKET}/{prefix}" if prefix else f"s3://{BUCKET}"
        self.landing = S3Landing(root, client)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def write(self, key: str, data: bytes, mtime_s: int | None = None) -> None:
        self.client.put_object(Bucket=BUCKET, Key=self._key(key), Body=data)
        if mtime_s is not None:
            set_s3_mtime(self._key(key), mtime_s)

    def folder(self, key: str) -> None:  # what the S3 console's "create folder" makes
        self.client.put_object(Bucket=BUCKET, Key=self._key(key).rstrip("/") + "/", Body=b"")

    def uri(self, key: str) -> str:
        return f"s3://{BUCKET}/{self._key(key)}"

    @staticmethod
    def fingerprint(data: bytes) -> str:
        return hashlib.md5(data).hexdigest()  # the ETag of a single-part upload  # noqa: S324


@pytest.fixture(params=["local", "s3", "s3-bucket-root"])
def zone(request, tmp_path):
    if request.param == "local":
        return LocalZone(tmp_path / "landing")
    prefix = "landing" if request.param == "s3" else ""
    return S3Zone(request.getfixturevalue("s3"), prefix)


def test_list_files_is_recursive_csv_only_in_landing_order(zone):
    zone.write("vehicles/import-0002/a.csv", b"a", mtime_s=1_000)
    zone.write("vehicles/import-0001/b.csv", b"b", mtime_s=2_000)
    zone.write("vehicles/a.csv", b"top", mtime_s=2_000)  # same instant: key order
    zone.write("vehicles/deep/er/UPPER.CSV", b"upper", mtime_s=3_000)
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
        zone.write(f"vehicles/{ignored}", b"ignored", mtime_s=500)
    zone.folder("vehicles/empty")
    zone.write("vehicles_old/v.csv", b"a sibling prefix, not the table's", mtime_s=500)
    zone.write("locations/l.csv", b"other table", mtime_s=500)

    files = zone.landing.list_files("vehicles")

    assert [f.key for f in files] == [
        "vehicles/import-0002/a.csv",
        "vehicles/a.csv",
        "vehicles/import-0001/b.csv",
        "vehicles/deep/er/UPPER.CSV",
    ]
    first = files[0]
    assert first.uri == zone.uri("vehicles/import-0002/a.csv")
    assert (first.size, first.modified_ns) == (1, 1_000 * 10**9)
    assert first.fingerprint == zone.fingerprint(b"a")


def test_list_files_of_a_missing_prefix_is_empty(zone):
    assert zone.landing.list_files("users") == []


def test_a_rewritten_file_is_pending_again(zone):
    zone.write("users/u.csv", b"user_id\n1\n", mtime_s=1_000)
    zone.write("users/copy.csv", b"user_id\n1\n", mtime_s=2_000)
    before, copy = zone.landing.list_files("users")
    assert before.key == "users/u.csv" and before.fingerprint == copy.fingerprint
    processed = files_bookmark(None, [before, copy], full_refresh=False)
    assert pending_files(zone.landing.list_files("users"), processed, False) == []

    zone.write("users/u.csv", b"user_id\n2\n", mtime_s=1_000)  # same size and time
    (after,) = [f for f in zone.landing.list_files("users") if f.key == "users/u.csv"]
    assert after.fingerprint != before.fingerprint
    assert (after.size, after.modified_ns) == (before.size, before.modified_ns)
    again = pending_files(zone.landing.list_files("users"), processed, False)
    assert [f.key for f in again] == ["users/u.csv"]


def test_read_head_reads_the_first_bytes_and_empty_files(zone):
    header = ",".join(VEHICLES.column_names).encode()
    zone.write("vehicles/v.csv", header + b"\n" + b"x" * 100_000 + b"\n")
    zone.write("vehicles/empty.csv", b"")
    full, empty = sorted(zone.landing.list_files("vehicles"), key=lambda f: f.size, reverse=True)
    assert zone.landing.read_head(full, 10) == header[:10]
    assert len(zone.landing.read_head(full)) == 65_536
    assert zone.landing.read_head(empty) == b""
    assert parse_header(zone.landing.read_head(empty), VEHICLES, empty.key) is None
    # the reader checks every pending file's header through the landing zone alone
    matches = LandingReader(None, zone.landing).headers(VEHICLES, [full, empty])
    assert list(matches) == ["vehicles/v.csv"]
    assert matches["vehicles/v.csv"].extra_columns == ()


def test_put_file_lands_a_readable_file(zone, tmp_path):
    source = tmp_path / "src" / "vehicles.csv"
    source.parent.mkdir()
    source.write_bytes(b"vehicle_id\nv1\n")
    put = zone.landing.put_file(source, "vehicles/import-0001/vehicles.csv")
    assert put.key == "vehicles/import-0001/vehicles.csv"
    assert put.uri == zone.uri("vehicles/import-0001/vehicles.csv")
    assert put.fingerprint == zone.fingerprint(b"vehicle_id\nv1\n")
    assert put.size == len(b"vehicle_id\nv1\n")
    assert zone.landing.list_files("vehicles") == [put]
    assert zone.landing.read_head(put) == b"vehicle_id\nv1\n"


def test_landing_for_picks_by_scheme(s3, tmp_path):
    assert isinstance(landing_for(str(tmp_path)), LocalLanding)
    landing = landing_for(f"s3://{BUCKET}/landing/")
    assert isinstance(landing, S3Landing)
    assert (landing.root.bucket, landing.root.prefix) == (BUCKET, "landing/")


# -- lake: removing an uncommitted batch ------------------------------------------------------
class LocalLake:
    def __init__(self, root: Path):
        self.root = str(root)
        self.dir = root

    def write(self, relative: str) -> None:
        path = self.dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"parquet")

    def files(self) -> list[str]:
        return sorted(
            p.relative_to(self.dir).as_posix() for p in self.dir.rglob("*") if p.is_file()
        )


class S3Lake:
    def __init__(self, client):
        self.client = client
        self.root = f"s3://{BUCKET}/lake"

    def write(self, relative: str) -> None:
        self.client.put_object(Bucket=BUCKET, Key=f"lake/{relative}", Body=b"parquet")

    def files(self) -> list[str]:
        return [k.removeprefix("lake/") for k in s3_keys(self.client, "lake/")]


@pytest.fixture(params=["local", "s3"])
def lake(request, tmp_path):
    if request.param == "local":
        return LocalLake(tmp_path / "lake")
    return S3Lake(request.getfixturevalue("s3"))


def test_remove_tree_removes_exactly_one_batch(lake):
    path = raw_batch_path(lake.root, "apartments", "bookings", "2024-05-01", "2024-05-01-01")
    batch = path.removeprefix(lake.root + "/")
    for name in ["part-00000.snappy.parquet", "part-00001.snappy.parquet", "_SUCCESS"]:
        lake.write(f"{batch}/{name}")
    lake.write(f"{batch}/nested/part-00000.snappy.parquet")
    sibling = batch.replace("2024-05-01-01", "2024-05-01-010")  # shares the name's beginning
    other = batch.replace("2024-05-01-01", "2024-05-01-02")
    lake.write(f"{sibling}/part-00000.snappy.parquet")
    lake.write(f"{other}/part-00000.snappy.parquet")

    remove_tree(path)

    assert lake.files() == sorted(
        [f"{sibling}/part-00000.snappy.parquet", f"{other}/part-00000.snappy.parquet"]
    )
    remove_tree(path)  # nothing there any more: not an error


def test_s3_removal_takes_folder_markers_and_many_objects(s3):
    base = "lake/raw/apartments/bookings/run_date=2024-05-01/batch_id=2024-05-01-01"
    keys = [f"{base}/part-{i:05d}.snappy.parquet" for i in range(1_001)]
    for key in [*keys, base, f"{base}_$folder$", f"{base}0_$folder$"]:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"")
    assert remove_prefix(f"s3://{BUCKET}/{base}", s3) == 1_003
    assert s3_keys(s3) == [f"{base}0_$folder$"]


def test_s3_removal_refuses_a_whole_bucket(s3):
    s3.put_object(Bucket=BUCKET, Key="lake/keep", Body=b"")
    for root in (f"s3://{BUCKET}", f"s3://{BUCKET}/"):
        with pytest.raises(ValueError, match="whole bucket"):
            remove_tree(root)
    assert s3_keys(s3) == ["lake/keep"]
