"""raw_data.rejects, in one place: its columns and widths, the row-hash recipe, and how
staged rejects are recorded.

Two writers share it: the pipeline's load (``warehouse/loading.py``, the rows a batch's
rules reject) and the local importer of lab exports (``local/importer/rejects.py``, the
rows of a file not imported). Each stages its rows in a temp table ``stage_rejects`` LIKE
raw_data.rejects, then records them with :data:`RECORD_STAGED`. Pure data and text: no
Spark, no driver.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for the annotation only
    from rental_analytics.warehouse.base import Warehouse

# The table (redshift/migrations/0001_initial/030_raw_data_rejects.sql).
REJECT_COLUMNS = (
    "source_table",
    "record_key",
    "rule",
    "reason",
    "batch_id",
    "raw_row",
    "row_hash",
    "rejected_at",
)
# The widths of its text columns, in bytes (Redshift's VARCHAR(n) counts bytes).
REJECT_WIDTHS = {"source_table": 128, "record_key": 1024, "rule": 1024, "reason": 4096}
RAW_ROW_WIDTH = 65535
BATCH_ID_CHARS = 64

# -- the row hash: md5 (hex) of the raw row's text, a unit separator, the rule's name ------
# A reject is the same reject when its table, raw row and rule are: recording it twice (a
# rerun, a file imported again) adds nothing. Computed where the row is: in Python (the
# importer), in Spark (staging: md5(concat_ws(ROW_HASH_SEPARATOR, raw_row, rule))) and in
# SQL (a stale version rejected inside the warehouse: row_hash_sql).
ROW_HASH_SEPARATOR = "\x1f"


def row_hash(raw_row: str, rule: str) -> str:
    return hashlib.md5(f"{raw_row}{ROW_HASH_SEPARATOR}{rule}".encode()).hexdigest()


def row_hash_sql(raw_row: str, rule: str) -> str:
    """The recipe as a SQL expression over two SQL text expressions (Redshift and
    PostgreSQL: ``md5`` returns the lower-case hex digest, ``chr(31)`` is the separator)."""
    return f"md5({raw_row} || chr({ord(ROW_HASH_SEPARATOR)}) || {rule})"


# -- recording: the staged rows not already recorded, same table and same row hash ---------
# Two statements, not one insert ... where not exists: in one, raw_data.rejects is read
# while it is written, and when the planner takes it for empty (a new warehouse) it rescans
# the growing table for every staged row: minutes for 100,000 rows instead of a second.
# Both run in the writer's transaction, and leave stage_rejects holding what was recorded.
DROP_RECORDED = (
    "delete from stage_rejects using raw_data.rejects"
    " where rejects.source_table = stage_rejects.source_table"
    " and rejects.row_hash = stage_rejects.row_hash"
)
INSERT_STAGED = (  # noqa: S608 - fixed text
    "insert into raw_data.rejects ({cols}) select {cols} from stage_rejects"
).format(cols=", ".join(REJECT_COLUMNS))
RECORD_STAGED = (DROP_RECORDED, INSERT_STAGED)


def record_staged(wh: Warehouse) -> int:
    """Record the rows of stage_rejects not yet in raw_data.rejects; how many were new."""
    wh.execute(DROP_RECORDED)
    return wh.execute(INSERT_STAGED)
