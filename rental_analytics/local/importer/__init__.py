"""Import lab-format CSVs of the apartments domain into the local source database.

The lab exports (``shared/datasets/``) are CSV with a header, dates ``dd/MM/yyyy`` and
booleans ``True``/``False``. Each file is checked against its table's spec, parsed row by
row, and its good rows are upserted by primary key: a TSV of the normalised rows is bulk
loaded (``LOAD DATA LOCAL INFILE``) into a temporary table, then merged with
``INSERT ... SELECT ... ON DUPLICATE KEY UPDATE``; one transaction per file.

Every row read is upserted, superseded by a later line with the same key, or rejected;
the file's summary states that sum and the import fails if it does not hold. A rejected
row goes with its line number and reason to
``$RENTALS_HOME/rejects/source_import/<file stem>.rejects.csv``, and, with each superseded
line, to the warehouse's ``raw_data.rejects`` under the rule it breaks, named as the
pipeline's rejects name theirs (``WellFormedRecord``, ``ColumnDataType "col" = "DATE"``,
``ColumnLength "col" <= N``, ``IsComplete "col"``, ``IsPrimaryKey "key"``): rows that
never reach the source database are found beside those the pipeline rejects later.

Vehicle-domain files (vehicles, locations, users, rental_transactions) are not imported
into the database: :func:`import_directory` lands them in the landing zone as a new batch,
where the next run's extraction reads them (``import_apartments`` lists them as skipped).

The modules, one concern each (each imports only those listed before it):

- ``errors``: :class:`SourceImportError` (a file cannot be imported), :class:`RowRejected`
  (a row cannot, with the rule it breaks).
- ``parsing``: pure parsing of fields (``parse_date``, ``parse_int``, ...).
- ``files``: which table a file feeds, by its name; its header checked against the spec.
- ``rows``: :class:`RowParser`, one CSV row to its primary key and TSV line.
- ``summary``: :class:`FileImport` and :class:`ImportSummary`, what an import did.
- ``csv_records``: :func:`records`, the data records of a CSV text.
- ``rejects``: the rows not imported, to the rejects CSV and to ``raw_data.rejects``.
- ``merge``: one file parsed, its rejects recorded, its rows upserted.
- ``run``: the entry points, :func:`import_directory`, :func:`import_files`,
  :func:`import_apartments`, :func:`land_vehicle_files`.

This package re-exports the names its callers use.
"""

from rental_analytics.local.importer.csv_records import records
from rental_analytics.local.importer.errors import RowRejected, SourceImportError
from rental_analytics.local.importer.files import (
    NOT_APARTMENTS_DOMAIN,
    _skip_reason,
    classify_file,
    classify_landed_file,
    match_header,
)
from rental_analytics.local.importer.parsing import (
    parse_bool,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_int,
)
from rental_analytics.local.importer.rejects import raw_row_json, reject_batch_id, rejects_dir
from rental_analytics.local.importer.rows import NULL_TOKEN, RowParser, column_converter
from rental_analytics.local.importer.run import (
    import_apartments,
    import_directory,
    import_files,
    land_vehicle_files,
)
from rental_analytics.local.importer.summary import ImportSummary

__all__ = [
    "NOT_APARTMENTS_DOMAIN",
    "NULL_TOKEN",
    "ImportSummary",
    "RowParser",
    "RowRejected",
    "SourceImportError",
    "_skip_reason",
    "classify_file",
    "classify_landed_file",
    "column_converter",
    "import_apartments",
    "import_directory",
    "import_files",
    "land_vehicle_files",
    "match_header",
    "parse_bool",
    "parse_date",
    "parse_datetime",
    "parse_decimal",
    "parse_int",
    "raw_row_json",
    "records",
    "reject_batch_id",
    "rejects_dir",
]
