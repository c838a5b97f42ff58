"""The data records of a CSV text, a broken quote costing only its own line."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

Record = tuple[int, list[str] | None, str | None, list[str]]


def _split_line(text: str) -> tuple[list[str] | None, str | None]:
    try:
        return next(csv.reader([text], strict=True), []), None
    except csv.Error as exc:
        return None, f"malformed CSV: {exc}"


def records(lines: Iterable[str], width: int) -> Iterator[Record]:
    """The data records of a CSV text (header skipped, blank lines ignored), each as
    ``(first line number, fields, error, physical lines)``: fields None and an error when
    the record cannot be split (broken quoting). The list of lines is only valid until
    the next record.

    A quoted field may span lines. But a record spanning lines that breaks the quoting or
    has not ``width`` fields is taken for what it almost always is, an unbalanced quote
    that swallowed the lines after it: each of its lines is then a record of its own, as
    the pipeline reads landed files, so a broken quote costs only its own line.
    """
    held: list[str] = []

    def tape() -> Iterator[str]:
        for text in lines:
            held.append(text)
            yield text

    # strict: a quote that does not close a field is an error, not silently dropped.
    reader = csv.reader(tape(), strict=True)
    try:
        next(reader)  # the header, checked already
    except (StopIteration, csv.Error):
        return
    line = len(held) + 1
    held.clear()
    while True:
        try:
            fields, error = next(reader), None
        except StopIteration:
            return
        except csv.Error as exc:
            fields, error = None, f"malformed CSV: {exc}"
        if len(held) > 1 and (fields is None or len(fields) != width):
            for offset, text in enumerate(list(held)):
                one, fault = _split_line(text)
                if one or fault:
                    yield line + offset, one, fault, [text]
        elif fields or error:  # a blank line is no record
            yield line, fields, error, held
        line += len(held)
        held.clear()
