"""Column names and widths that several layers share, in a module that imports nothing:
pure code, the Spark transforms, the warehouse loading and the local importer all read them
here, so none has to import another's dependencies (pyspark, a database driver) for a tuple
of strings."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for the annotation only
    from rental_analytics.sources.tables import TableSpec

# -- landed files: on every raw row of a landed (CSV) table ----------------------------------
SOURCE_FILE = "source_file"  # the landed file's key
SOURCE_FILE_SEQ = "source_file_seq"  # its position in landing order within the batch
SOURCE_ROW_SEQ = "source_row_seq"  # increases with the row's line in its file
CORRUPT_RECORD = "corrupt_record"  # the raw line of a record Spark could not split

# -- staging: what a load adds to each source row --------------------------------------------
LOAD_COLUMNS = ("load_batch_id", "load_run_date", "load_row_hash", "loaded_at")
STALE_GUARD_COLUMN = "load_raw_row"

# raw_data.rejects: its columns and widths are in quality/rejects.py


def guards_stale_versions(spec: TableSpec) -> bool:
    """Whether a load must keep an already loaded newer version of a row (and so stages
    ``STALE_GUARD_COLUMN``).

    A landed file can carry an older version of a row than the warehouse holds (a file
    rewritten from an old export): by the modification column, the newer one stays. A JDBC
    extraction always reads the current version, so it replaces.
    """
    return spec.is_landed and spec.modified_column is not None
