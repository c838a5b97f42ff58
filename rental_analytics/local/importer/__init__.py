"""Import lab-format CSVs into the local source database (being split into modules, issue 14).

The module moved here as ``rejects.py`` unchanged, so that git follows its history into
the package; the next commit splits it by concern.
"""

from rental_analytics.local.importer.rejects import (
    NOT_APARTMENTS_DOMAIN,
    NULL_TOKEN,
    ImportSummary,
    RowParser,
    RowRejected,
    SourceImportError,
    _skip_reason,
    classify_file,
    classify_landed_file,
    column_converter,
    import_apartments,
    import_directory,
    import_files,
    land_vehicle_files,
    match_header,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_int,
    raw_row_json,
    records,
    reject_batch_id,
    rejects_dir,
)

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
