"""What the package stores outside the databases, whatever holds it: the landed files of
the vehicle domain and the bookmark state documents. The local folder and the S3
implementations (``storage.local``, ``storage.s3``) follow these shapes; ``storage``
chooses between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

S3_SCHEME = "s3://"


def is_s3(root: str | Path) -> bool:
    """Whether a root names an S3 prefix (in AWS) rather than a local folder."""
    return str(root).startswith(S3_SCHEME)


@dataclass(frozen=True)
class LandedFile:
    key: str  # relative to the landing root: <prefix>/<...>/<name>.csv
    uri: str  # what Spark reads
    size: int
    modified_ns: int  # last modification (S3 LastModified), orders the landing
    fingerprint: str  # content identity: sha256 locally, the ETag in S3


def is_visible_key(relative_key: str) -> bool:
    """Whether a file below a table's prefix (its key relative to the prefix) is data.

    Hidden and underscore names are in-flight copies or Spark/Hadoop markers, not data.
    """
    return not any(part.startswith((".", "_")) for part in relative_key.split("/") if part)


class Landing(Protocol):
    """Where landed files live: a local folder or an S3 prefix."""

    def list_files(self, prefix: str) -> list[LandedFile]: ...

    def read_head(self, file: LandedFile, size: int = 65_536) -> bytes: ...

    def put_file(self, source: Path, key: str) -> LandedFile: ...


class StateDocument(Protocol):
    """Where one state document lives: read whole, replaced whole and atomically (a reader
    sees the old document or the new one, never a part), and read back as written."""

    def read_text(self) -> str | None:
        """The document's text, or None when there is none yet."""

    def replace(self, text: str) -> None: ...
