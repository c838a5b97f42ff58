"""One CSV row to its primary key and TSV line for ``LOAD DATA``, or rejected with the rules
it breaks."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from rental_analytics.local.importer.errors import RowRejected
from rental_analytics.local.importer.parsing import (
    parse_bool,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_int,
)
from rental_analytics.quality.rule_names import (
    WELL_FORMED_RULE,
    complete_rule,
    data_type_rule,
    length_rule,
)
from rental_analytics.sources.headers import HeaderMatch
from rental_analytics.sources.tables import TableSpec

NULL_TOKEN = "\\N"  # NULL in the TSV read by LOAD DATA
_TEXT_BYTES = 65_535
_DECIMAL_TYPE = re.compile(r"decimal\((\d+),\s*(\d+)\)")


def _tsv_string(s: str) -> str:
    if "\\" in s or "\t" in s or "\n" in s or "\r" in s:
        s = s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return s


def _memoised(convert: Callable[[str], str]) -> Callable[[str], str]:
    """Memoise a converter of few distinct values (dates, booleans): lab files repeat
    about 2,000 dates across 500,000 rows. Failures are remembered too: a file written
    with another date layout fails every row the same way."""
    known: dict[str, str] = {}
    failed: dict[str, tuple[str, str]] = {}

    def lookup(raw: str) -> str:
        token = known.get(raw)
        if token is None:
            failure = failed.get(raw)
            if failure is not None:
                raise RowRejected(*failure)
            try:
                token = convert(raw)
            except RowRejected as exc:
                if len(failed) < 10_000:
                    failed[raw] = (exc.rule, str(exc))
                raise
            if len(known) < 100_000:
                known[raw] = token
        return token

    return lookup


def column_converter(
    name: str, logical_type: str, nullable: bool = True, max_length: int | None = None
) -> Callable[[str], str]:
    """A function from a raw CSV field to its TSV token for ``LOAD DATA`` (``\\N`` for
    NULL), raising :class:`RowRejected` with the rule broken and a reason naming the column.

    Each type has a fast path for the common well-formed value; anything else goes
    through the ``parse_*`` functions (parsing.py), which decide and explain.
    """

    def null_or_reject() -> str:
        if not nullable:
            raise RowRejected(
                complete_rule(name), f"{name}: NULL in a required (primary key) column"
            )
        return NULL_TOKEN

    type_rule = data_type_rule(name, logical_type)

    def guarded(parse: Callable[[str], str]) -> Callable[[str], str]:
        def convert(raw: str) -> str:
            if not raw or raw.isspace():
                return null_or_reject()
            try:
                return parse(raw)
            except ValueError as exc:
                raise RowRejected(type_rule, f"{name}: {exc}") from None

        return convert

    if logical_type in ("int", "bigint"):
        slow = guarded(lambda raw: str(parse_int(raw)))

        def int_token(raw: str) -> str:
            # Plain digits without a leading zero are already canonical (keys compare equal).
            if raw.isdigit() and len(raw) < 10 and raw.isascii() and (raw[0] != "0" or raw == "0"):
                return raw
            return slow(raw)

        return int_token
    if logical_type == "date":
        return _memoised(guarded(lambda raw: parse_date(raw).isoformat()))
    if logical_type == "timestamp":
        return _memoised(guarded(lambda raw: parse_datetime(raw).isoformat(" ")))
    if logical_type == "boolean":
        return _memoised(guarded(lambda raw: "1" if parse_bool(raw) else "0"))
    m = _DECIMAL_TYPE.fullmatch(logical_type)
    if m:
        precision, scale = int(m.group(1)), int(m.group(2))
        fits = re.compile(
            rf"-?\d{{1,{precision - scale}}}(?:\.\d{{1,{scale}}})?"
            if scale
            else rf"-?\d{{1,{precision}}}",
            re.ASCII,
        ).fullmatch
        slow = guarded(lambda raw: str(parse_decimal(raw, precision, scale)))

        def decimal_token(raw: str) -> str:
            return raw if fits(raw) else slow(raw)  # a value that fits is read as is

        return decimal_token
    if logical_type in ("string", "text"):
        # Widths are UTF-8 bytes, as the warehouse's VARCHAR(n) counts them (AWS docs:
        # r_Character_types): what fits MariaDB's n characters may not fit n bytes.
        # Characters to check before counting bytes: a character is at most 4 bytes.
        quick_limit = None if max_length is None else max_length // 4

        def string_token(raw: str) -> str:
            if not raw:  # empty field = NULL; whitespace is data (' confirmed ' is kept)
                return null_or_reject()
            if quick_limit is not None and len(raw) > quick_limit:
                size = len(raw.encode())
                if size > max_length:
                    raise RowRejected(
                        length_rule(name, max_length),
                        f"{name}: value too long ({size} > {max_length} bytes of UTF-8)",
                    )
            if "\x00" in raw:  # MariaDB keeps it, but no warehouse text column can hold it
                raise RowRejected(
                    type_rule, f"{name}: contains a NUL character (U+0000), not storable as text"
                )
            return _tsv_string(raw)

        return string_token
    raise ValueError(f"column {name}: unsupported logical type {logical_type!r}")


class RowParser:
    """Turns the fields of one CSV row into ``(primary key, TSV line)``."""

    def __init__(
        self, spec: TableSpec, header: HeaderMatch, max_lengths: dict[str, int] | None = None
    ):
        max_lengths = max_lengths or {}
        self.spec = spec
        self.header = header
        pk = set(spec.primary_key)
        self._plan = [
            (
                position,
                column_converter(
                    c.name,
                    c.type,
                    nullable=c.nullable and c.name not in pk,
                    max_length=max_lengths.get(c.name, _TEXT_BYTES if c.type == "text" else None),
                ),
            )
            for c, position in zip(spec.columns, header.positions, strict=True)
        ]
        self._key_indexes = [spec.column_names.index(k) for k in spec.primary_key]

    def parse(self, fields: Sequence[str]) -> tuple[object, str]:
        """The row's key and TSV line; :class:`RowRejected` naming every rule it breaks
        (joined with ``; `` as the pipeline joins them), not only the first."""
        if len(fields) != self.header.width:
            raise RowRejected(
                WELL_FORMED_RULE,
                f"wrong number of fields: expected {self.header.width}, got {len(fields)}",
            )
        try:
            tokens = [convert(fields[position]) for position, convert in self._plan]
        except RowRejected:
            raise self._all_failures(fields) from None
        if len(self._key_indexes) == 1:
            key: object = tokens[self._key_indexes[0]]
        else:
            key = tuple(tokens[i] for i in self._key_indexes)
        return key, "\t".join(tokens)

    def _all_failures(self, fields: Sequence[str]) -> RowRejected:
        failures = []
        for position, convert in self._plan:
            try:
                convert(fields[position])
            except RowRejected as exc:
                failures.append(exc)
        return RowRejected("; ".join(f.rule for f in failures), "; ".join(str(f) for f in failures))

    def record_key(self, fields: Sequence[str]) -> str | None:
        """The primary key of a row as text, as the pipeline's rejects write it (``a|b``,
        ``NULL`` for an empty part), normalised where a part parses (``007`` is ``7``); None
        when the fields do not line up with the header."""
        if len(fields) != self.header.width:
            return None
        parts = []
        for i in self._key_indexes:
            position, convert = self._plan[i]
            try:
                parts.append(convert(fields[position]))
            except RowRejected:
                parts.append(fields[position].strip() or "NULL")
        return "|".join(parts)


def key_text(key: object) -> str:
    """A parsed primary key (a value, or a tuple of them) as text: ``a|b``."""
    return "|".join(key) if isinstance(key, tuple) else str(key)
