"""Amazon Redshift through the Redshift Data API (boto3 ``redshift-data``), in AWS.

Target. A serverless workgroup (``WorkgroupName``) or a provisioned cluster
(``ClusterIdentifier``, with ``SecretArn`` when its user's secret is given, else the caller's
IAM identity), and a ``Database``: ``RedshiftSettings``. The Data API is an HTTPS-only AWS
endpoint, so every statement and every result travels over TLS (``data_api_warehouse``'s
``endpoint_url`` is for a local emulator); no database port is opened and no password is
handled here (a cluster's secret stays in Secrets Manager).

Sessions and transactions. A warehouse holds one Data API session, the Data API's stand-in
for a connection: the first statement opens it (``SessionKeepAliveSeconds``, answered with a
``SessionId``) and every later one names only that ``SessionId`` (as Airflow's Redshift Data
hook does). ``transaction()`` runs
``begin``, the statements, then ``commit`` on that session, or ``rollback`` when the block
raises, so ``loading.load_batch`` is all or nothing. A session is strictly serial, which is
how this class uses it. If the job dies inside a transaction, the session ends
``keep_alive_seconds`` after its last statement and Redshift rolls the transaction back.
A session left idle longer than that ends too; outside a transaction the next statement
then opens a new one (a submit the API refused with a 4xx ran nothing, so it is safe to
repeat), inside one the statement fails and the block rolls back. Temp tables live as long as the session; the load
creates and drops its own inside one transaction. Nested ``transaction()`` blocks join the
outer one: Redshift has no savepoints.

Parameters. Code writes psycopg-style ``%(name)s`` placeholders (``%%`` for a percent
sign); they become the Data API's ``:name`` with a ``Parameters`` list of ``{name, value}``
strings, which Redshift converts to the type the statement needs. Positional placeholders
(``%s``) and sequences of values are refused. The Data API cannot send NULL (a value is a
string of at least one character), so a ``None`` value, and likewise an empty string, is
written into the statement as the constant ``null`` (``''``): a fixed token chosen by the
value's kind, never the value's text. Other values: bool ``true``/``false``, integers and
decimals in plain notation, floats as Python writes them, dates and times ISO 8601 (aware
datetimes converted to UTC, as the PostgreSQL warehouse stores them in its UTC session).

Results. ``GetStatementResult`` pages (``NextToken``) decoded from each field's kind and the
column's ``typeName``: numeric as Decimal, date, timestamp[tz], time as ``datetime`` values,
like psycopg. Statements are polled with ``DescribeStatement`` at growing, bounded intervals
up to a timeout (then ``CancelStatement``); FAILED or ABORTED raises ``WarehouseError`` naming
the statement's first line and the Data API's ``Error``.

COPY. ``copy_parquet`` loads a Spark output folder with ``COPY ... FORMAT AS PARQUET
MANIFEST``. COPY from Parquet maps columns by position (the number of file columns must
equal the number of target columns), so every part file's column names are first checked,
in order, against the column list; the manifest then names exactly those files, which keeps
Spark's ``_SUCCESS`` marker and any sibling prefix out of the load. The loaded row count is
``pg_last_copy_count()`` in the same session. The Glue job role needs ``s3:ListBucket`` and
``s3:GetObject`` on the staged batches and ``s3:PutObject`` for the manifest beside each
folder (``<folder>.manifest``); the COPY role needs ``s3:GetObject`` on both.
"""

from __future__ import annotations

import io
import json
import math
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as time_of_day
from decimal import Decimal
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from rental_analytics.aws.copy_role import copy_role_refused, refuses_copy_role
from rental_analytics.config import ConfigError, RedshiftSettings
from rental_analytics.storage import is_visible_key
from rental_analytics.storage.s3 import list_objects
from rental_analytics.warehouse.base import Warehouse, WarehouseError
from rental_analytics.warehouse.sqltext import quote_identifier, strip_comments

# How long a session outlives its last statement: long enough to bridge the gaps between the
# statements of one load, short enough that a dead job's open transaction is rolled back soon.
DEFAULT_KEEP_ALIVE_SECONDS = 300
DEFAULT_STATEMENT_TIMEOUT_SECONDS = 3600.0
DEFAULT_POLL_INITIAL_SECONDS = 0.05
DEFAULT_POLL_MAX_SECONDS = 2.0

_DONE, _FAILED = "FINISHED", ("FAILED", "ABORTED")
_PARAMETER_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_PLACEHOLDER = re.compile(r"%(?:\((?P<name>[^()]*)\)(?P<kind>.?)|(?P<other>.?))", re.S)
_S3_URL = re.compile(
    r"s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>[A-Za-z0-9_.=/-]+)"
)
_ROLE_ARN = re.compile(r"arn:aws(?:-[a-z]+)*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}")
_MANIFEST_SUFFIX = ".manifest"


# ------------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class DataApiStatement:
    """A statement as the Data API takes it: ``:name`` placeholders and their values."""

    sql: str
    parameters: tuple[dict[str, str], ...] = ()


def to_data_api(sql: str, params: Mapping[str, Any] | Sequence[Any] | None) -> DataApiStatement:
    """``sql`` with ``%(name)s`` placeholders rewritten for the Data API.

    Without ``params`` the text is sent as written (a ``%`` is then just a character, as in
    psycopg). NULL and the empty string cannot be sent as parameter values; they become the
    constants ``null`` and ``''`` in the statement. A placeholder without a value, a
    positional one and values given as a sequence raise WarehouseError.
    """
    if params is None:
        return DataApiStatement(sql)
    if not isinstance(params, Mapping):
        raise WarehouseError(
            "positional parameters are not supported by the Redshift Data API: "
            f"give a dict and %(name)s placeholders ({first_line(sql)})"
        )
    parameters: dict[str, dict[str, str]] = {}

    def replace(match: re.Match[str]) -> str:
        if match.group("other") is not None:
            if match.group("other") == "%":
                return "%"
            raise WarehouseError(
                f"unsupported placeholder {match.group(0)!r}: only %(name)s (and %% for a "
                f"percent sign) are supported ({first_line(sql)})"
            )
        name, kind = match.group("name"), match.group("kind")
        if kind != "s" or not _PARAMETER_NAME.fullmatch(name):
            raise WarehouseError(
                f"unsupported placeholder {match.group(0)!r}: expected %(name)s with a name "
                f"matching [a-z_][a-z0-9_]* ({first_line(sql)})"
            )
        if name not in params:
            raise WarehouseError(f"no value for placeholder %({name})s ({first_line(sql)})")
        value = render_value(params[name], name)
        if value is None:
            return "null"
        if value == "":
            return "''"
        parameters[name] = {"name": name, "value": value}
        return f":{name}"

    text = _PLACEHOLDER.sub(replace, sql)
    return DataApiStatement(text, tuple(parameters.values()))


def render_value(value: Any, name: str = "value") -> str | None:
    """The Data API's string for one Python value; None for NULL."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise WarehouseError(f"parameter {name}: {value} is not a finite number")
        return format(value, "f")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise WarehouseError(f"parameter {name}: {value} is not a finite number")
        return repr(value)
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ")
    if isinstance(value, date | time_of_day):
        return value.isoformat()
    raise WarehouseError(f"parameter {name}: unsupported type {type(value).__name__}")


def first_line(sql: str, limit: int = 120) -> str:
    """The statement's first line of code, for messages."""
    code = strip_comments(sql) or sql.strip()
    line = code.splitlines()[0].strip() if code else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


# ------------------------------------------------------------------------------------- COPY


def qualified_table(table: str) -> str:
    """``table`` or ``schema.table``, each part validated and double-quoted."""
    parts = table.split(".")
    if len(parts) > 2:
        raise ConfigError(f"invalid table name {table!r}: expected table or schema.table")
    return ".".join(quote_identifier(part, "table name") for part in parts)


def s3_url(url: str) -> tuple[str, str]:
    """(bucket, key) of ``s3://bucket/key``.

    The characters allowed are those of the lake's paths; a quote, a backslash or a space
    is refused, so a URL written into a COPY statement never needs escaping.
    """
    match = _S3_URL.fullmatch(url or "")
    key = match.group("key") if match else ""
    if not match or ".." in match.group("bucket") or "//" in key or key.startswith("/"):
        raise ConfigError(
            f"invalid S3 URL {url!r}: expected s3://bucket/key with a lowercase bucket name "
            "and a key of letters, digits and _ . = / -"
        )
    return match.group("bucket"), match.group("key")


def s3_folder(url: str) -> tuple[str, str]:
    """(bucket, key prefix ending in ``/``) of the folder ``s3://bucket/prefix``: the
    slash keeps a sibling folder sharing the name's start (``accepted_old/``) out."""
    bucket, key = s3_url(url)
    if key.strip("/") == "":
        raise ConfigError(f"invalid S3 folder {url!r}: no prefix")
    return bucket, key.rstrip("/") + "/"


def validate_role_arn(arn: str) -> str:
    """``arn`` if it is an IAM role ARN (arn:aws:iam::<12 digits>:role/...), else raise."""
    if not _ROLE_ARN.fullmatch(arn or ""):
        raise ConfigError(
            f"invalid COPY role ARN {arn!r}: expected arn:aws:iam::<12 digits>:role/<name>"
        )
    return arn


def manifest_url(bucket: str, prefix: str) -> str:
    """Where the manifest of the folder ``prefix`` is written: beside it, not inside it."""
    return f"s3://{bucket}/{prefix.rstrip('/')}{_MANIFEST_SUFFIX}"


def copy_statement(table: str, columns: Sequence[str], manifest: str, role_arn: str) -> str:
    """COPY of the Parquet files a manifest lists into ``table``, whose columns must be
    ``columns`` in that order: COPY from Parquet maps by position and takes no column list
    (AWS docs: copy-usage_notes-copy-from-columnar lists the only parameters it supports,
    and says the table's and the files' columns must match in number and order)."""
    if not columns:
        raise ConfigError(f"COPY into {table}: no columns")
    if len(set(columns)) != len(columns):
        raise ConfigError(f"COPY into {table}: duplicate columns in {list(columns)}")
    for column in columns:
        quote_identifier(column, "column name")
    bucket, key = s3_url(manifest)
    return (
        f"copy {qualified_table(table)}"
        f" from 's3://{bucket}/{key}'"
        f" iam_role '{validate_role_arn(role_arn)}'"
        " format as parquet manifest"
    )


@dataclass(frozen=True)
class ParquetPart:
    url: str
    size: int
    columns: tuple[str, ...]


def list_parquet_parts(s3: Any, bucket: str, prefix: str) -> list[ParquetPart]:
    """Every data file under the folder, with its size and its Parquet column names.

    Only each file's footer is read (ranged GETs). A data file that is not Parquet raises:
    COPY would fail on it, less clearly.
    """
    parts = []
    for obj in list_objects(s3, bucket, prefix):
        key = obj["Key"]
        # Spark's markers and scratch (_SUCCESS, _temporary/, .crc) are not data.
        if not is_visible_key(key[len(prefix) :]) or key.endswith("/"):
            continue
        if not key.endswith(".parquet"):
            raise WarehouseError(f"s3://{bucket}/{key}: not a .parquet file in a COPY folder")
        size = int(obj["Size"])
        parts.append(
            ParquetPart(f"s3://{bucket}/{key}", size, _parquet_columns(s3, bucket, key, size))
        )
    return sorted(parts, key=lambda p: p.url)


def _parquet_columns(s3: Any, bucket: str, key: str, size: int) -> tuple[str, ...]:
    import pyarrow.parquet as pq  # deferred: large, and only a COPY reads part footers

    reader = io.BufferedReader(_S3Range(s3, bucket, key, size), buffer_size=64 * 1024)
    try:
        return tuple(pq.ParquetFile(reader).schema_arrow.names)
    except Exception as exc:  # pyarrow raises ArrowInvalid and OSError for a bad footer
        raise WarehouseError(f"s3://{bucket}/{key}: not a readable Parquet file: {exc}") from exc


class _S3Range(io.RawIOBase):
    """A seekable read-only view of one S3 object, read with ranged GETs."""

    def __init__(self, s3: Any, bucket: str, key: str, size: int):
        self._s3, self._bucket, self._key, self._size, self._pos = s3, bucket, key, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        if self._pos >= self._size or not len(buffer):
            return 0
        end = min(self._pos + len(buffer), self._size) - 1
        body = self._s3.get_object(
            Bucket=self._bucket, Key=self._key, Range=f"bytes={self._pos}-{end}"
        )["Body"].read()
        buffer[: len(body)] = body
        self._pos += len(body)
        return len(body)


def manifest_document(parts: Sequence[ParquetPart]) -> str:
    """A COPY manifest naming exactly ``parts``; Parquet needs each file's content_length."""
    entries = [{"url": p.url, "mandatory": True, "meta": {"content_length": p.size}} for p in parts]
    return json.dumps({"entries": entries}, indent=1)


# ------------------------------------------------------------------------------- results


def decode_field(field: Mapping[str, Any], type_name: str | None) -> Any:
    """One ``GetStatementResult`` field as a Python value, like psycopg would return it."""
    if field.get("isNull"):
        return None
    kind = (type_name or "").lower()
    if "booleanValue" in field:
        return field["booleanValue"]
    if "longValue" in field:
        value = field["longValue"]
        return Decimal(value) if kind in ("numeric", "decimal") else value
    if "doubleValue" in field:
        return field["doubleValue"]
    if "blobValue" in field:
        return field["blobValue"]
    if "stringValue" not in field:
        return None
    text = field["stringValue"]
    if kind in ("numeric", "decimal"):
        return Decimal(text)
    if kind == "date":
        return date.fromisoformat(text)
    if kind in ("timestamp", "timestamptz"):
        return datetime.fromisoformat(text)
    if kind in ("time", "timetz"):
        return time_of_day.fromisoformat(text)
    return text


# ----------------------------------------------------------------------------- warehouse


def data_api_client(region: str = "", endpoint_url: str | None = None) -> Any:
    """A ``redshift-data`` client: AWS's HTTPS endpoint, or ``endpoint_url`` (an emulator).
    Retried calls stay idempotent: every ExecuteStatement carries its own ClientToken."""
    return boto3.client(
        "redshift-data",
        region_name=region or None,
        endpoint_url=endpoint_url,
        config=Config(retries={"mode": "standard", "max_attempts": 5}),
    )


def data_api_warehouse(
    settings: RedshiftSettings, *, endpoint_url: str | None = None, **options: Any
) -> RedshiftWarehouse:
    """The Redshift warehouse of ``settings``; with ``endpoint_url`` its Data API and S3
    clients go to that endpoint (a local emulator) instead of AWS. ``options`` are
    RedshiftWarehouse's (timeouts, polling)."""
    s3 = None
    if endpoint_url is not None:
        s3 = boto3.client("s3", region_name=settings.region or None, endpoint_url=endpoint_url)
    return RedshiftWarehouse(
        settings,
        client=data_api_client(settings.region, endpoint_url),
        s3_client=s3,
        **options,
    )


def _refused(exc: Exception) -> bool:
    """Whether the Data API answered a call with a client error (4xx): it did not run it.
    A lost connection or a server error leaves that unknown."""
    if not isinstance(exc, ClientError):
        return False
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return 400 <= status < 500


def _require_sessions(client: Any) -> None:
    members = client.meta.service_model.operation_model("ExecuteStatement").input_shape.members
    if "SessionId" not in members or "SessionKeepAliveSeconds" not in members:
        raise WarehouseError(
            "this botocore has no Redshift Data API sessions (ExecuteStatement SessionId, "
            "added 2024-08-30): transactions need them; install a newer boto3/botocore"
        )


class RedshiftWarehouse(Warehouse):
    """The warehouse in AWS: Redshift Serverless or a provisioned cluster, via the Data API.

    ``client`` and ``s3_client`` default to boto3 clients in ``settings.region``; ``sleep``
    and ``clock`` drive the polling (tests replace them).
    """

    def __init__(
        self,
        settings: RedshiftSettings,
        *,
        client: Any = None,
        s3_client: Any = None,
        keep_alive_seconds: int = DEFAULT_KEEP_ALIVE_SECONDS,
        statement_timeout_seconds: float = DEFAULT_STATEMENT_TIMEOUT_SECONDS,
        poll_initial_seconds: float = DEFAULT_POLL_INITIAL_SECONDS,
        poll_max_seconds: float = DEFAULT_POLL_MAX_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        if not settings.database:
            raise ConfigError("Redshift: no database")
        if not 0 < keep_alive_seconds <= 86400:
            raise ConfigError(f"Redshift: keep_alive_seconds {keep_alive_seconds} not in 1..86400")
        self._target: dict[str, str] = {"Database": settings.database}
        if settings.workgroup:
            self._target["WorkgroupName"] = settings.workgroup
        else:
            self._target["ClusterIdentifier"] = settings.cluster_id
        if settings.secret_arn:
            self._target["SecretArn"] = settings.secret_arn
        self._copy_role_arn = (
            validate_role_arn(settings.copy_role_arn) if settings.copy_role_arn else ""
        )
        self._region = settings.region
        self._settings = settings
        self._client = client if client is not None else data_api_client(settings.region)
        _require_sessions(self._client)
        self._s3 = s3_client
        self._keep_alive = keep_alive_seconds
        self._timeout = statement_timeout_seconds
        self._poll_initial, self._poll_max = poll_initial_seconds, poll_max_seconds
        self._sleep, self._clock = sleep, clock
        self._session_id: str | None = None
        self._in_transaction = False

    def another(self) -> RedshiftWarehouse:
        """The same warehouse with no session yet: its first statement opens its own (boto3
        clients may be shared between threads)."""
        return RedshiftWarehouse(
            self._settings, client=self._client, s3_client=self._s3,
            keep_alive_seconds=self._keep_alive, statement_timeout_seconds=self._timeout,
            poll_initial_seconds=self._poll_initial, poll_max_seconds=self._poll_max,
            sleep=self._sleep, clock=self._clock,
        )  # fmt: skip

    # -- interface -------------------------------------------------------------------------
    def adapt(self, statement: str) -> str:
        """The redshift/ SQL is Redshift SQL: nothing to rewrite."""
        return statement

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._in_transaction:  # no savepoints in Redshift: the outer block decides
            yield
            return
        self._run(DataApiStatement("begin"), may_reopen=True)
        if self._session_id is None:
            raise WarehouseError(
                "the Data API returned no SessionId for begin: a transaction needs a session"
            )
        self._in_transaction = True
        try:
            yield
        except BaseException as exc:
            self._in_transaction = False
            self._rollback(exc)
            raise
        self._in_transaction = False
        try:
            self._run(DataApiStatement("commit"), may_reopen=False)
        except WarehouseError as exc:
            self._rollback(exc)
            raise

    def execute(self, sql: str, params: Mapping[str, Any] | Sequence[Any] | None = None) -> int:
        described = self._run(to_data_api(sql, params), may_reopen=not self._in_transaction)
        rows = described.get("ResultRows")
        return -1 if rows is None else int(rows)

    def query(
        self, sql: str, params: Mapping[str, Any] | Sequence[Any] | None = None
    ) -> tuple[list[str], list[tuple]]:
        described = self._run(to_data_api(sql, params), may_reopen=not self._in_transaction)
        if not described.get("HasResultSet"):
            return [], []
        return self._fetch(described["Id"], sql)

    def copy_parquet(self, table: str, columns: Sequence[str], parquet_path: str) -> int:
        """COPY the Parquet part files under the folder ``parquet_path`` into ``table``.

        Each file's columns must be ``columns``, in that order (COPY maps by position): a
        mismatch raises before anything is loaded. No part file loads nothing and returns 0,
        as in the PostgreSQL warehouse.
        """
        if not self._copy_role_arn:
            raise ConfigError("Redshift: no COPY role ARN (redshift_copy_role_arn) is set")
        bucket, prefix = s3_folder(parquet_path)
        manifest = manifest_url(bucket, prefix)
        statement = copy_statement(table, columns, manifest, self._copy_role_arn)
        s3 = self._s3_client()
        try:
            parts = list_parquet_parts(s3, bucket, prefix)
        except (ClientError, BotoCoreError) as exc:
            raise WarehouseError(f"listing s3://{bucket}/{prefix} for COPY: {exc}") from exc
        if not parts:
            return 0
        wrong = [p for p in parts if p.columns != tuple(columns)]
        if wrong:
            raise WarehouseError(
                f"COPY into {table}: {wrong[0].url} has columns {list(wrong[0].columns)}, "
                f"expected {list(columns)} in that order (COPY from Parquet maps by position)"
            )
        try:
            s3.put_object(
                Bucket=bucket,
                Key=manifest.removeprefix(f"s3://{bucket}/"),
                Body=manifest_document(parts).encode(),
                ContentType="application/json",
            )
        except (ClientError, BotoCoreError) as exc:
            raise WarehouseError(f"writing COPY manifest {manifest}: {exc}") from exc
        with self.transaction():  # the count is per session: same session as the COPY
            try:
                self.execute(statement)
            except WarehouseError as exc:
                # An unassociated role is a deployment step left undone, not a data problem:
                # say which role and how to associate it (nothing was loaded: rolled back).
                if not refuses_copy_role(str(exc)):
                    raise
                raise WarehouseError(
                    f"COPY into {table}: "
                    + copy_role_refused(self._settings, self._copy_role_arn)
                    + f"\nRedshift said: {exc}"
                ) from exc
            _, rows = self.query("select pg_last_copy_count()")
        return int(rows[0][0])

    def close(self) -> None:
        # Nothing to end: the Data API has no call that closes a session; it ends after
        # keep_alive_seconds without statements.
        self._session_id = None

    # -- Data API --------------------------------------------------------------------------
    def _s3_client(self) -> Any:
        if self._s3 is None:
            self._s3 = boto3.client("s3", region_name=self._region or None)
        return self._s3

    def _run(self, statement: DataApiStatement, *, may_reopen: bool) -> dict[str, Any]:
        """Submit one statement and wait for it; its DescribeStatement answer."""
        statement_id = self._submit(statement, may_reopen=may_reopen)
        return self._wait(statement_id, statement.sql)

    def _submit(self, statement: DataApiStatement, *, may_reopen: bool) -> str:
        request: dict[str, Any] = {"Sql": statement.sql, "ClientToken": str(uuid.uuid4())}
        if statement.parameters:
            request["Parameters"] = [dict(p) for p in statement.parameters]
        if self._session_id is not None:
            # A session already names the database and the credentials, and keeps the
            # keep-alive it was opened with.
            request["SessionId"] = self._session_id
        else:
            request.update(self._target)
            request["SessionKeepAliveSeconds"] = self._keep_alive
        try:
            response = self._client.execute_statement(**request)
        except (ClientError, BotoCoreError) as exc:
            if self._session_id is not None and may_reopen and _refused(exc):
                # Most likely the session ended (idle past its keep-alive). A refused submit
                # ran nothing, and no transaction is open: repeat on a new session.
                self._session_id = None
                return self._submit(statement, may_reopen=False)
            raise WarehouseError(
                f"Redshift Data API refused the statement: {first_line(statement.sql)}: {exc}"
            ) from exc
        if self._session_id is None and response.get("SessionId"):
            self._session_id = response["SessionId"]
        return response["Id"]

    def _wait(self, statement_id: str, sql: str) -> dict[str, Any]:
        delay = self._poll_initial
        deadline = self._clock() + self._timeout
        while True:
            try:
                described = self._client.describe_statement(Id=statement_id)
            except (ClientError, BotoCoreError) as exc:
                raise WarehouseError(
                    f"Redshift Data API DescribeStatement failed for {first_line(sql)}: {exc}"
                ) from exc
            status = described["Status"]
            if status == _DONE:
                return described
            if status in _FAILED:
                error = described.get("Error") or "no error message"
                raise WarehouseError(f"Redshift statement {status}: {first_line(sql)}: {error}")
            if self._clock() >= deadline:
                raise self._cancelled(statement_id, sql)
            self._sleep(delay)
            delay = min(delay * 2, self._poll_max)

    def _cancelled(self, statement_id: str, sql: str) -> WarehouseError:
        """Cancel a statement that ran out of time; the error to raise for it."""
        error = WarehouseError(
            f"Redshift statement timed out after {self._timeout:g} s and was cancelled: "
            f"{first_line(sql)}"
        )
        try:
            self._client.cancel_statement(Id=statement_id)
        except (ClientError, BotoCoreError) as exc:
            error.add_note(f"CancelStatement failed too: {exc}")
        return error

    def _fetch(self, statement_id: str, sql: str) -> tuple[list[str], list[tuple]]:
        columns: list[str] = []
        types: list[str | None] = []
        rows: list[tuple] = []
        request: dict[str, Any] = {"Id": statement_id}
        while True:
            try:
                page = self._client.get_statement_result(**request)
            except (ClientError, BotoCoreError) as exc:
                raise WarehouseError(
                    f"Redshift Data API GetStatementResult failed for {first_line(sql)}: {exc}"
                ) from exc
            if not columns and page.get("ColumnMetadata"):
                meta = page["ColumnMetadata"]
                columns = [m.get("label") or m.get("name") or "" for m in meta]
                types = [m.get("typeName") for m in meta]
            for record in page.get("Records", []):
                kinds = types or [None] * len(record)
                rows.append(tuple(decode_field(f, t) for f, t in zip(record, kinds, strict=True)))
            token = page.get("NextToken")
            if not token:
                return columns, rows
            request["NextToken"] = token

    def _rollback(self, cause: BaseException) -> None:
        """Roll back the open transaction after ``cause``; if that fails too, abandon the
        session (Redshift rolls back when it ends) and say so on ``cause``."""
        try:
            self._run(DataApiStatement("rollback"), may_reopen=False)
        except WarehouseError as exc:
            self._session_id = None
            cause.add_note(
                f"rollback failed too ({exc}); the session is abandoned and Redshift rolls "
                "its transaction back when the session ends"
            )
