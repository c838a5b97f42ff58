"""What an import did: per file (:class:`FileImport`) and per directory (:class:`ImportSummary`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class FileImport:
    """What happened to one file of the directory.

    For an imported file, ``rows_read = rows_inserted + rows_updated + rows_unchanged +
    duplicate_keys + rows_rejected``; the superseded and rejected lines are in
    ``raw_data.rejects`` under ``rejects_batch_id``.
    """

    path: Path
    table: str | None  # None: skipped
    rows_read: int = 0
    rows_upserted: int = 0  # distinct keys written: inserted + updated + unchanged
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_rejected: int = 0
    duplicate_keys: int = 0  # rows superseded by a later line with the same primary key
    reject_file: Path | None = None
    rejects_batch_id: str | None = None  # raw_data.rejects.batch_id of this file's import
    rejects_recorded: int = 0  # rows added to raw_data.rejects (not already recorded)
    extra_columns: tuple[str, ...] = ()
    skipped_reason: str | None = None
    seconds: float = 0.0
    landed_as: str | None = None  # vehicle domain: the landing key the file was copied to
    already_landed: bool = False  # vehicle domain: the same content is already landed

    @property
    def rows_unchanged(self) -> int:
        return self.rows_upserted - self.rows_inserted - self.rows_updated

    @property
    def rows_not_imported(self) -> int:
        """Superseded and rejected lines: the rows of the file in raw_data.rejects."""
        return self.duplicate_keys + self.rows_rejected

    def describe(self) -> str:
        if self.table is None:
            return f"{self.path.name}: skipped ({self.skipped_reason})"
        if self.already_landed:
            return f"{self.path.name} -> {self.table}: not landed again (same content landed)"
        if self.landed_as:
            return (
                f"{self.path.name} -> {self.table}: landed as {self.landed_as} "
                "(the next run checks and loads its rows)"
            )
        parts = [
            f"{self.path.name} -> {self.table}: {self.rows_read} read = "
            f"{self.rows_inserted + self.rows_updated} upserted ({self.rows_inserted} new, "
            f"{self.rows_updated} changed) + {self.rows_unchanged} unchanged + "
            f"{self.duplicate_keys} superseded + {self.rows_rejected} rejected"
        ]
        if self.duplicate_keys:
            parts.append("superseded: the later line with the same primary key won")
        if self.rows_not_imported:
            already = self.rows_not_imported - self.rejects_recorded
            parts.append(
                f"superseded and rejected rows in raw_data.rejects, batch_id "
                f"{self.rejects_batch_id}"
                + (f" ({already} recorded by an earlier import)" if already else "")
            )
        if self.reject_file:
            parts.append(f"rejects in {self.reject_file}")
        if self.extra_columns:
            parts.append(f"extra columns ignored: {', '.join(self.extra_columns)}")
        return "; ".join(parts)


@dataclass(frozen=True)
class ImportSummary:
    directory: Path
    files: tuple[FileImport, ...] = field(default=())

    @property
    def imported(self) -> tuple[FileImport, ...]:
        return tuple(f for f in self.files if f.table is not None)

    @property
    def skipped(self) -> tuple[FileImport, ...]:
        return tuple(f for f in self.files if f.table is None)

    @property
    def rows_upserted(self) -> int:
        return sum(f.rows_upserted for f in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)

    @property
    def rows_superseded(self) -> int:
        return sum(f.duplicate_keys for f in self.files)

    def for_table(self, table: str) -> tuple[FileImport, ...]:
        return tuple(f for f in self.files if f.table == table)

    def lines(self) -> list[str]:
        return [f.describe() for f in self.files]
