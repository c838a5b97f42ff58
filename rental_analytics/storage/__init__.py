"""Storage outside the databases: the landing zone, bookmark state documents and lake
batches, in a local folder (``storage.local``) or under an S3 prefix (``storage.s3``).

The functions below are the one place that tells the two apart, by the root's ``s3://``
scheme; the rest of the package asks them and never looks at a scheme itself.
"""

from __future__ import annotations

from pathlib import Path

from rental_analytics.storage.base import (
    S3_SCHEME,
    LandedFile,
    Landing,
    StateDocument,
    is_s3,
    is_visible_key,
)
from rental_analytics.storage.local import LocalLanding, LocalStateDocument, remove_folder
from rental_analytics.storage.s3 import S3Landing, S3StateDocument, remove_prefix

__all__ = [
    "S3_SCHEME",
    "LandedFile",
    "Landing",
    "LocalLanding",
    "LocalStateDocument",
    "S3Landing",
    "S3StateDocument",
    "StateDocument",
    "is_s3",
    "is_visible_key",
    "landing_for",
    "remove_tree",
    "state_document",
]


def landing_for(root: str) -> Landing:
    """The landing zone at ``root``: a folder locally, an S3 prefix in AWS."""
    return S3Landing(root) if is_s3(root) else LocalLanding(root)


def state_document(root: str | Path, name: str) -> StateDocument:
    """The document ``<name>.json`` under ``root`` (``--state_root s3://...`` in AWS, whose
    PutObject is atomic; a file replaced by rename locally)."""
    if is_s3(root):
        return S3StateDocument(f"{str(root).rstrip('/')}/{name}.json")
    return LocalStateDocument(Path(root) / f"{name}.json")


def remove_tree(path: str) -> None:
    """Remove the output of an earlier, uncommitted attempt at the same path: a folder
    locally, the objects below an s3:// prefix in AWS. Nothing there is not an error."""
    if is_s3(path):
        remove_prefix(path)
    else:
        remove_folder(path)
