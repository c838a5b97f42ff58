"""The storage interfaces on S3 (in AWS): bookmark state documents, the landing zone and
removal of an uncommitted lake batch. ``rental_analytics.storage`` chooses them by the
root's ``s3://`` scheme.

What S3 guarantees and these rely on: a PutObject replaces a whole object atomically (a
reader sees the old or the new object, never a part), and reads after a write, and lists
after it, are strongly consistent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from rental_analytics.storage.base import S3_SCHEME, LandedFile, is_visible_key

_DELETE_BATCH = 1000  # DeleteObjects takes at most 1000 keys


def s3_client():
    import boto3  # deferred: only S3 roots need it, and it is slow to import

    return boto3.client("s3")


@dataclass(frozen=True)
class S3Location:
    bucket: str
    key: str  # without a leading or trailing "/"; "" is the bucket's root

    @classmethod
    def parse(cls, uri: str) -> S3Location:
        if not uri.startswith(S3_SCHEME):
            raise ValueError(f"not an s3:// URI: {uri!r}")
        bucket, _, key = uri[len(S3_SCHEME) :].partition("/")
        if not bucket:
            raise ValueError(f"no bucket in {uri!r}")
        return cls(bucket, key.strip("/"))

    def child(self, *parts: str) -> S3Location:
        key = "/".join(p.strip("/") for p in (self.key, *parts) if p.strip("/"))
        return S3Location(self.bucket, key)

    @property
    def prefix(self) -> str:
        """The key prefix of everything below this location ("" at the bucket's root)."""
        return f"{self.key}/" if self.key else ""

    @property
    def uri(self) -> str:
        return f"{S3_SCHEME}{self.bucket}/{self.key}"


def list_objects(client, bucket: str, prefix: str, delimiter: str = "") -> Iterator[dict]:
    """Every object under ``prefix``, page after page (ListObjectsV2 returns 1,000 at most)."""
    extra = {"Delimiter": delimiter} if delimiter else {}
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, **extra)
    for page in pages:
        yield from page.get("Contents", [])


def _is_missing(error) -> bool:
    code = error.response.get("Error", {}).get("Code", "")
    return code in ("NoSuchKey", "404", "NotFound")


# -- bookmark state ---------------------------------------------------------------------------
class _UsesS3:
    """An S3 client given, or made on first use (so a local run never builds one)."""

    _client = None

    @property
    def client(self):
        if self._client is None:
            self._client = s3_client()
        return self._client


class S3StateDocument(_UsesS3):
    """One JSON state document as one S3 object, replaced whole by PutObject.

    The local document needs a temporary file and a rename to be replaced atomically; a
    PutObject is atomic by itself, and the strong read-after-write consistency of S3 makes
    the next load see it.
    """

    def __init__(self, uri: str, client=None):
        self.location = S3Location.parse(uri)
        self._client = client

    def __str__(self) -> str:
        return self.location.uri

    def read_text(self) -> str | None:
        """The document, or None when there is none yet."""
        from botocore.exceptions import ClientError  # with boto3: see s3_client

        try:
            obj = self.client.get_object(Bucket=self.location.bucket, Key=self.location.key)
        except ClientError as exc:
            if _is_missing(exc):
                return None
            raise
        return obj["Body"].read().decode("utf-8")

    def replace(self, text: str) -> None:
        self.client.put_object(
            Bucket=self.location.bucket,
            Key=self.location.key,
            Body=text.encode("utf-8"),
            ContentType="application/json",
        )


# -- landing zone -----------------------------------------------------------------------------
def _modified_ns(when: datetime) -> int:
    # Exact integers: a float timestamp would lose nanoseconds and could reorder files.
    return int(when.timestamp()) * 1_000_000_000 + when.microsecond * 1_000


def _etag(value: str) -> str:
    return value.strip('"')


class S3Landing(_UsesS3):
    """The landing zone as an S3 prefix (``--landing_root s3://<bucket>/landing``).

    The same rules as the local folder: any ``*.csv`` (any case) below a table's prefix, at
    any depth, except below a name starting with "." or "_" (in-flight copies, Spark and
    Hadoop markers); "folder" marker objects (keys ending in "/") are not files.

    The fingerprint is the object's ETag, not a sha256: S3 gives it without reading the
    object. A new upload with other content always gets another ETag, so a rewritten file is
    processed again; the same content uploaded otherwise (multipart, SSE-KMS) may get another
    ETag too, and is then processed again, which the load's replace-by-key makes harmless.
    """

    def __init__(self, root: str, client=None):
        self.root = S3Location.parse(root)
        self._client = client

    def _file(self, key: str, size: int, modified: datetime, etag: str) -> LandedFile:
        return LandedFile(
            key=key[len(self.root.prefix) :],
            uri=f"{S3_SCHEME}{self.root.bucket}/{key}",  # what Spark reads in Glue
            size=size,
            modified_ns=_modified_ns(modified),
            fingerprint=_etag(etag),
        )

    def list_files(self, prefix: str) -> list[LandedFile]:
        base = self.root.child(prefix).prefix
        files = [
            self._file(o["Key"], o["Size"], o["LastModified"], o["ETag"])
            for o in list_objects(self.client, self.root.bucket, base)
            if not o["Key"].endswith("/")
            and o["Key"].lower().endswith(".csv")
            and is_visible_key(o["Key"][len(base) :])
        ]
        return sorted(files, key=lambda f: (f.modified_ns, f.key))

    def read_head(self, file: LandedFile, size: int = 65_536) -> bytes:
        if file.size == 0 or size <= 0:
            return b""  # a range request on an empty object is refused (416)
        location = S3Location.parse(file.uri)
        obj = self.client.get_object(
            Bucket=location.bucket, Key=location.key, Range=f"bytes=0-{size - 1}"
        )
        return obj["Body"].read()

    def put_file(self, source: Path, key: str) -> LandedFile:
        """Upload ``source`` as ``key``: an object appears whole when its upload completes."""
        target = self.root.child(key)
        self.client.upload_file(str(source), target.bucket, target.key)
        head = self.client.head_object(Bucket=target.bucket, Key=target.key)
        return self._file(target.key, head["ContentLength"], head["LastModified"], head["ETag"])


# -- lake -------------------------------------------------------------------------------------
def remove_prefix(uri: str, client=None) -> int:
    """Delete the objects of a lake path (a Spark output "folder"); return how many.

    Everything below ``<path>/``, and the folder markers Hadoop file systems may leave
    (``<path>`` itself, ``<path>_$folder$``); never a sibling that merely shares the name's
    beginning (``batch_id=...-01`` is not below ``batch_id=...-0``).
    """
    location = S3Location.parse(uri)
    if not location.key:
        raise ValueError(f"refusing to empty a whole bucket: {uri!r}")
    client = client or s3_client()
    keys = [o["Key"] for o in list_objects(client, location.bucket, location.prefix)]
    markers = (location.key, f"{location.key}_$folder$")
    # With the delimiter, siblings' contents are not listed, only names at this level.
    keys += [
        o["Key"]
        for o in list_objects(client, location.bucket, location.key, "/")
        if o["Key"] in markers
    ]
    for start in range(0, len(keys), _DELETE_BATCH):
        chunk = keys[start : start + _DELETE_BATCH]
        response = client.delete_objects(
            Bucket=location.bucket,
            Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True},
        )
        errors = response.get("Errors", [])
        if errors:
            first = errors[0]
            raise RuntimeError(
                f"could not delete {len(errors)} object(s) under {uri}: "
                f"{first.get('Key')}: {first.get('Code')} {first.get('Message')}"
            )
    return len(keys)
