"""Incremental extraction state, kept by the project (not by Glue's JVM runtime).

One state document per source domain, replaced atomically on commit, so all tables of a
run commit together (Glue's ``job.commit``) or not at all. It holds, per table, the
bookmark: the largest bookmark-key value and modification watermark committed; and the
list of committed batches, which is what load_raw reads to find work. Each committed batch
keeps the table bookmarks as they were after it, so the state can be rewound to any batch.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from rental_analytics.storage import LocalStateDocument, StateDocument, state_document

STATE_VERSION = 1


class BookmarkError(RuntimeError):
    """Bookmark state is unreadable or a requested reset/rewind is not possible."""


@dataclass
class TableBatch:
    table: str
    path: str
    rows: int
    full_refresh: bool = False
    # True when the source guarantees one row per key in the batch (its declared primary
    # key, sources/drift.py): load_raw then need not look for repeated keys. None: unknown.
    keys_unique: bool | None = None


@dataclass
class Batch:
    batch_id: str
    run_date: str
    tables: dict[str, TableBatch]
    bookmarks_after: dict[str, dict[str, Any]]


@dataclass
class DomainState:
    domain: str
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    batches: list[Batch] = field(default_factory=list)

    def table(self, name: str) -> dict[str, Any] | None:
        return self.tables.get(name)

    def next_batch_id(self, run_date: date) -> str:
        """Deterministic per run: the run date and how many batches of that date committed.

        A run that fails before committing leaves the count unchanged, so its rerun writes
        to the same batch paths and overwrites its own partial output.
        """
        committed = sum(1 for b in self.batches if b.run_date == run_date.isoformat())
        return f"{run_date.isoformat()}-{committed + 1:02d}"

    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "domain": self.domain,
            "tables": self.tables,
            "batches": [
                {
                    "batch_id": b.batch_id,
                    "run_date": b.run_date,
                    "tables": {t: vars(tb) for t, tb in b.tables.items()},
                    "bookmarks_after": b.bookmarks_after,
                }
                for b in self.batches
            ],
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> DomainState:
        if doc.get("version") != STATE_VERSION:
            raise BookmarkError(f"unsupported bookmark state version {doc.get('version')!r}")
        return cls(
            domain=doc["domain"],
            tables=doc.get("tables", {}),
            batches=[
                Batch(
                    batch_id=b["batch_id"],
                    run_date=b["run_date"],
                    tables={t: TableBatch(**tb) for t, tb in b["tables"].items()},
                    bookmarks_after=b.get("bookmarks_after", {}),
                )
                for b in doc.get("batches", [])
            ],
        )


class BookmarkStore:
    """Reads and atomically replaces the state document of one domain.

    Locally the document is a file under ``$RENTALS_HOME/bookmarks``; in AWS an object
    under the state root. Either way a run that dies before ``commit`` leaves it whole.
    """

    def __init__(self, root: str | Path, domain: str, document: StateDocument | None = None):
        self.document = document or state_document(root, domain)
        self.domain = domain

    @property
    def path(self) -> Path:
        """The local file of the document (the S3 one is ``document.location``)."""
        if not isinstance(self.document, LocalStateDocument):
            raise TypeError(f"bookmark state {self.document} is not a local file")
        return self.document.path

    def load(self) -> DomainState:
        text = self.document.read_text()
        if text is None:
            return DomainState(domain=self.domain)
        try:
            return DomainState.from_json(json.loads(text))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise BookmarkError(f"bookmark state {self.document} is unreadable: {exc}") from exc

    def save(self, state: DomainState) -> None:
        self.document.replace(json.dumps(state.to_json(), indent=2, sort_keys=True, default=str))

    def commit(
        self,
        state: DomainState,
        batch_id: str,
        run_date: date,
        written: dict[str, TableBatch],
        new_bookmarks: dict[str, dict[str, Any]],
    ) -> DomainState:
        """Record a durably written batch and advance the bookmarks of its tables."""
        new = copy.deepcopy(state)
        new.tables.update(copy.deepcopy(new_bookmarks))
        new.batches.append(
            Batch(
                batch_id=batch_id,
                run_date=run_date.isoformat(),
                tables=written,
                bookmarks_after=copy.deepcopy(new.tables),
            )
        )
        self.save(new)
        return new

    def reset(self, table: str | None = None) -> DomainState:
        """Forget the bookmark of one table (or all): the next run extracts it whole.

        Committed batches stay listed: they are history, and load_raw has loaded them.
        """
        state = self.load()
        if table is None:
            state.tables = {}
        elif table in state.tables:
            del state.tables[table]
        self.save(state)
        return state

    def rewind(self, batch_id: str, table: str | None = None) -> DomainState:
        """Put bookmarks back to where they were right after ``batch_id`` was committed."""
        state = self.load()
        for batch in state.batches:
            if batch.batch_id == batch_id:
                if table is None:
                    state.tables = copy.deepcopy(batch.bookmarks_after)
                elif table in batch.bookmarks_after:
                    state.tables[table] = copy.deepcopy(batch.bookmarks_after[table])
                else:
                    state.tables.pop(table, None)
                self.save(state)
                return state
        known = ", ".join(b.batch_id for b in state.batches) or "none"
        raise BookmarkError(f"no committed batch {batch_id!r} in {self.domain} (known: {known})")
