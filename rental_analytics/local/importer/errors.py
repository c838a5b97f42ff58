"""The importer's two errors: a file that cannot be imported, a row that cannot."""

from __future__ import annotations


class SourceImportError(ValueError):
    """A file cannot be imported at all (missing column, no header, ...); names the file."""


class RowRejected(ValueError):
    """One row cannot be imported: ``rule`` is the rule it breaks, the message the reason."""

    def __init__(self, rule: str, reason: str):
        super().__init__(reason)
        self.rule = rule
