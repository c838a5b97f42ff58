"""The `rentals` command: local stack, source data, runs, queries, reports, bookmarks.

Each command imports the modules it uses when it runs: `rentals --help` or `rentals runs`
must not pay for Spark, boto3, moto, psycopg or plotly, which the other commands need.
"""

from __future__ import annotations

import csv
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from rental_analytics.config import (
    ADMIN,
    DOMAINS,
    WAREHOUSE_IDENTITIES,
    ConfigError,
    Settings,
    default_home,
    parse_run_date,
    parse_schema_drift,
)

# Piped output (logs, CI) is not wrapped at 80 columns: run tables stay readable.
out = Console(width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 120)


def _home() -> Path:
    return default_home()


def _settings(identity: str = ADMIN) -> Settings:
    """This home's settings, the warehouse reached as ``identity`` (SPEC 8); a bad RENTALS_*
    value is a one-line error, not a traceback."""
    try:
        return Settings.local(_home(), identity)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _ensure_up() -> None:
    """Start this home's databases and give the local MariaDB the Aurora schema, so a home
    with no source data yet runs (and extracts nothing) instead of failing."""
    from rental_analytics.local import source_db
    from rental_analytics.local.stack import LocalStack

    LocalStack(_home()).up()
    source_db.ensure_schema(_settings())


def _started_emulator():
    """This home's local AWS emulator, started unless it runs with this code and settings."""
    from rental_analytics.local.emulator import EmulatorError
    from rental_analytics.local.stack import LocalStack

    emulator = LocalStack(_home()).emulator()
    try:
        with err.status("starting the local AWS emulator ..."):
            emulator.ensure()
    except EmulatorError as exc:
        raise click.ClickException(str(exc)) from None
    return emulator


@click.group()
def main() -> None:
    """Rental marketplace analytics: Glue-style jobs, a Redshift-style warehouse, KPIs.

    Local state lives under $RENTALS_HOME (default: .rentals in the repository).
    """


@main.command()
def up() -> None:
    """Start this home's private MariaDB and PostgreSQL, and as the warehouse's owner apply
    the missing migrations, the views and the grants; start the local AWS emulator
    (idempotent). `rentals run` starts what is not running, but a run then waits for it:
    in AWS, Step Functions and Glue are there before a run starts."""
    from rental_analytics.local.stack import LocalStack

    _ensure_up()
    stack = LocalStack(_home())
    applied = stack.prepare_warehouse()
    _started_emulator()
    status = stack.status()
    err.print(
        f"[green]up[/] home={_home()} mariadb=127.0.0.1:{status.mariadb_port} "
        f"postgres=127.0.0.1:{status.postgres_port} warehouse version {applied.after}"
        + (f" (applied {', '.join(applied.applied)})" if applied.applied else "")
    )


@main.command()
def down() -> None:
    """Stop this home's databases and emulator (idempotent)."""
    from rental_analytics.local.stack import LocalStack

    LocalStack(_home()).down()
    err.print(f"[green]down[/] home={_home()}")


@main.command()
def clean() -> None:
    """Stop this home's databases and emulator, then delete the home and every file of it,
    the PostgreSQL cluster kept outside it (when running as root) included."""
    from rental_analytics.local.stack import LocalStack

    for folder in LocalStack(_home()).clean():
        err.print(f"[green]removed[/] {folder}")


# -- source ------------------------------------------------------------------------------
@main.group()
def source() -> None:
    """Source data: synthetic generation and lab CSV import."""


@source.command("generate")
@click.option("--scale", type=float, default=1.0, show_default=True, help="x lab size")
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--if-empty", is_flag=True, help="do nothing when the source already has rows")
def source_generate(scale: float, seed: int, if_empty: bool) -> None:
    """Generate deterministic lab-like data (scale 1: 1.2M apartments-domain rows)."""
    from rental_analytics.local import source_db
    from rental_analytics.local.generator import generate

    _ensure_up()
    settings = _settings()
    source_db.ensure_schema(settings)
    if if_empty and not source_db.is_empty(settings):
        err.print("source already has data: nothing generated (--if-empty)")
        return
    with err.status(f"generating scale {scale} seed {seed} ..."):
        try:
            summary = generate(settings, scale=scale, seed=seed)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
    for line in summary.lines():
        err.print(line, markup=False, highlight=False)


@source.command("import")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def source_import(directory: Path) -> None:
    """Import lab-format CSVs: apartments-domain files upsert by primary key into the
    source database; vehicle-domain files land as a new landing batch. Rows not imported
    (rejected, or superseded by a later line with the same key) go to raw_data.rejects."""
    from rental_analytics.local import source_db
    from rental_analytics.local.importer import SourceImportError, import_directory

    # Both databases: good rows go to MariaDB, the others to the warehouse's rejects.
    _ensure_up()
    settings = _settings()
    source_db.ensure_schema(settings)
    try:
        summary = import_directory(settings, directory)
    except SourceImportError as exc:
        raise click.ClickException(str(exc)) from None
    for line in summary.lines():
        err.print(line, markup=False, highlight=False)
    if summary.rows_rejected or summary.rows_superseded:
        err.print(
            f"[yellow]{summary.rows_rejected:,} rows rejected, {summary.rows_superseded:,} "
            "superseded[/]: recorded with their rule and reason in raw_data.rejects (batch "
            "ids listed above); the rejected rows also in the reject files listed above",
            highlight=False,
        )


# -- run ---------------------------------------------------------------------------------
_PROGRESS_STYLE = {
    "started": "cyan", "succeeded": "green", "failed": "red", "stopped": "yellow", "info": "dim",
}  # fmt: skip


def _job_environment() -> dict[str, str]:
    """What the job processes see of this shell: the RENTALS_* settings, faults aside."""
    from rental_analytics.local.orchestration import FAULTS_ENV

    return {k: v for k, v in os.environ.items() if k.startswith("RENTALS_") and k != FAULTS_ENV}


@main.command()
@click.option("--run-date", help="YYYY-MM-DD (default: today, UTC)")
@click.option("--full-refresh", default="", help="table[,table] or 'all': re-extract whole")
def run(run_date: str | None, full_refresh: str) -> None:
    """Run the workflow once through the local Step Functions; exit 0 on success.

    Set RENTALS_FAIL_JOBS=job[@point][:N],... to make named jobs fail their next N runs
    (at start, or killed with SIGKILL at a kill point or after a delay like 2.5s).
    """
    from rental_analytics.local.orchestration import FAULTS_ENV, WorkflowError, parse_faults
    from rental_analytics.local.run_lock import RunLock, RunLockedError
    from rental_analytics.local.standby import standby_jobs

    try:
        day = parse_run_date(run_date) if run_date else datetime.now(UTC).date()
        faults = parse_faults(os.environ.get(FAULTS_ENV, ""))
        # refused here, before the run starts, rather than by each job it would start
        parse_schema_drift(os.environ.get("RENTALS_SCHEMA_DRIFT", "ignore"), "RENTALS_SCHEMA_DRIFT")
        standby_jobs(dict(os.environ))
    except (ConfigError, WorkflowError, ValueError) as exc:
        raise click.BadParameter(str(exc)) from None
    try:  # before anything else, so a second run is refused at once
        lock = RunLock(_home()).acquire(started_at=datetime.now(UTC).isoformat())
    except RunLockedError as exc:
        raise click.ClickException(str(exc)) from None
    with lock:
        _run_workflow(lock, day, full_refresh, faults)


def _run_workflow(lock, day, full_refresh: str, faults: dict) -> None:
    from rental_analytics.local.orchestration import LocalWorkflow

    _ensure_up()
    refresh = tuple(t.strip() for t in full_refresh.split(",") if t.strip())
    workflow = LocalWorkflow(_home(), _started_emulator())
    if lock.stale:
        found = workflow.abort_orphan(lock.stale.run_id, lock.stale.execution_arn)
        err.print(
            f"[yellow]stale lock cleared[/]: run {lock.stale.run_id or '(unknown)'} "
            f"(pid {lock.stale.pid}) was killed; its execution was {found}"
            + (", now stopped" if found == "RUNNING" else "")
        )
    if faults:
        err.print(
            f"[yellow]fault injection[/]: {', '.join(f'{k} {v.describe()}' for k, v in faults.items())}"
        )

    def progress(p) -> None:
        style = _PROGRESS_STYLE.get(p.kind, "")
        err.print(f"[{style}]{p.kind:>9}[/] {p.text}", highlight=False)

    def started(record) -> None:
        lock.record(record.run_id, record.execution_arn)
        err.print(f"execution [bold]{record.run_id}[/] started ({record.execution_arn})")

    record = workflow.run(day, refresh, _job_environment(), faults, progress, started)
    err.print(_run_table(record))
    reconciliation = _reconciliation_table(record)
    if reconciliation is not None:
        err.print(reconciliation)
    for path in record.notifications:
        err.print(f"[yellow]alert published[/]: {path}")
    if not record.succeeded:
        state, why = record.failure()
        where = f" at {state}" if state else ""
        err.print(f"[red]execution {record.status}{where}[/]: {why}", highlight=False)
        for step in record.steps:
            logs = [a.log_path for a in step.attempts if a.status == "FAILED" and a.log_path]
            if logs:
                err.print(f"  {step.state} logs: {', '.join(logs)}")
        sys.exit(1)
    err.print(f"[green]execution {record.run_id} SUCCEEDED[/]")


def _run_table(record) -> Table:
    table = Table(title=f"run {record.run_id} ({record.run_date}): {record.status}")
    cols = ("state", "status", "attempts", "extracted", "loaded", "rejected", "merged", "seconds")
    for col in cols:
        table.add_column(col, justify="left" if col in ("state", "status") else "right")
    for s in record.steps:
        f = s.figures()
        seconds = f"{s.seconds:.1f}" if s.seconds is not None else ""
        table.add_row(
            s.state, s.status, str(len(s.attempts)),
            *(f"{f[k]:,}" for k in ("extracted", "loaded", "rejected", "merged")), seconds,
        )  # fmt: skip
    return table


def _reconciliation_table(record) -> Table | None:
    """Per batch loaded by the run: extracted = loaded + rejected, as raw_data.load_batches
    stored it. A batch loaded by an attempt that was later killed is shown too."""
    batches: dict[tuple[str, str], dict] = {}
    for step in record.steps:
        for attempt in step.attempts:
            for b in attempt.metrics.get("batches", []):
                batches[(b["table"], b["batch_id"])] = b
    if not batches:
        return None
    table = Table(title="reconciliation per batch (raw_data.load_batches)")
    for col in ("table", "batch", "extracted", "loaded", "rejected", "balanced"):
        table.add_column(col, justify="left" if col in ("table", "batch") else "right")
    for (name, batch_id), b in sorted(batches.items()):
        extracted, loaded, rejected = b["rows_extracted"], b["rows_loaded"], b["rows_rejected"]
        balanced = "yes" if extracted == loaded + rejected else "[red]NO[/]"
        table.add_row(name, batch_id, f"{extracted:,}", f"{loaded:,}", f"{rejected:,}", balanced)
    return table


def _seconds_table(record) -> Table | None:
    """Seconds per step, table and merge, from each step's last attempt: where a run's time
    went, without a profiler."""
    table = Table(
        title="seconds per table and step",
        caption="a job works on its tables side by side (RENTALS_TABLES_AT_ONCE): their"
        " seconds overlap",
    )
    for col in ("state", "table / target", "seconds", "steps"):
        table.add_column(col, justify="right" if col == "seconds" else "left")
    for step in record.steps:
        for name, seconds, steps in step.seconds_by_part():
            detail = "  ".join(f"{k} {v:.1f}" for k, v in steps.items())
            table.add_row(step.state, name, f"{seconds:.1f}", detail)
    return table if table.row_count else None


@main.command()
@click.option("--limit", default=10, show_default=True, help="how many runs, newest first")
@click.option("--run-id", help="one run, step by step")
def runs(limit: int, run_id: str | None) -> None:
    """The run ledger: recent workflow runs, or one run's steps and attempts."""
    from rental_analytics.runs import RunLedger, runs_root_of

    ledger = RunLedger(runs_root_of(_home()))
    if run_id:
        try:
            record = ledger.load(run_id)
        except FileNotFoundError:
            raise click.ClickException(f"no run {run_id!r} in {ledger.root}") from None
        out.print(_run_table(record))
        reconciliation = _reconciliation_table(record)
        if reconciliation is not None:
            out.print(reconciliation)
        seconds = _seconds_table(record)
        if seconds is not None:
            out.print(seconds)
        for step in record.steps:
            for a in step.attempts:
                detail = a.error and f" {a.error}"
                out.print(f"  {step.state} attempt {a.attempt}: {a.status}{detail} {a.log_path}")
        return
    table = Table(title=f"runs in {ledger.root}")
    for col in ("run id", "run date", "status", "started", "seconds", "failed state", "retries"):
        table.add_column(col)
    for r in ledger.recent(limit):
        seconds = f"{r.seconds:.0f}" if r.seconds is not None else ""
        failed = r.failure()[0] if not r.succeeded else ""
        retries = sum(max(len(s.attempts) - 1, 0) for s in r.steps)
        table.add_row(
            r.run_id, r.run_date, r.status, r.started_at[:19], seconds, failed, str(retries)
        )
    out.print(table)


# -- sql / report ------------------------------------------------------------------------
def _format_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_TARGET = click.option(
    "--target",
    type=click.Choice(["local", "redshift"]),
    default="local",
    show_default=True,
    help="the local warehouse, or the deployed Redshift as the analyst (IAM)",
)
_STACK = click.option(
    "--stack-name", default="rental-analytics", show_default=True, help="with --target redshift"
)
_PARAMETERS = click.option(
    "--parameters",
    "parameters_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="with --target redshift: settings from this file (infra/parameters.example.json)"
    " instead of the deployed stack",
)


def _warehouse_connection(
    target: str, stack_name: str, parameters_file: Path | None, identity: str
):
    """The connection `rentals sql` and `rentals report` read through: the one place to
    choose the identity (SPEC 8). Locally the home's login of ``identity``; with --target
    redshift the deployed Redshift through redshift_connector and IAM, always as the analyst
    (the owner and the job are for deploy and the Glue jobs)."""
    if target == "local":
        return _connect(identity)
    if identity not in (ADMIN, "analyst"):
        raise click.UsageError(
            f"--as {identity} is local only: --target redshift reads as the analyst"
        )
    import boto3

    from rental_analytics.warehouse.analyst import (
        AnalystSetupError,
        AnalystWarehouse,
        settings_from_parameters,
        settings_from_stack,
    )

    session = boto3.session.Session()
    try:
        if parameters_file is not None:
            settings = settings_from_parameters(parameters_file, session.region_name or "")
        else:
            settings = settings_from_stack(session, stack_name)
        settings.connect_kwargs()  # a missing setting is said before anything is attempted
    except AnalystSetupError as exc:
        raise click.ClickException(str(exc)) from None
    return AnalystWarehouse(settings)


def _open(connection):
    from rental_analytics.warehouse.analyst import AnalystSetupError

    try:
        return connection.__enter__()
    except AnalystSetupError as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@click.argument("query")
@click.option("--format", "fmt", type=click.Choice(["table", "csv"]), default="table")
@click.option(
    "--as",
    "identity",
    type=click.Choice([ADMIN, *WAREHOUSE_IDENTITIES]),
    default=ADMIN,
    show_default=True,
    help="the local warehouse login: admin reads everything; analyst reads presentation only"
    " (--target redshift is always the analyst)",
)
@_TARGET
@_STACK
@_PARAMETERS
def sql(
    query: str,
    fmt: str,
    identity: str,
    target: str,
    stack_name: str,
    parameters_file: Path | None,
) -> None:
    """Query the warehouse. With --format csv, stdout holds only header and rows."""
    from rental_analytics.warehouse import WarehouseError

    connection = _warehouse_connection(target, stack_name, parameters_file, identity)
    wh = _open(connection)
    try:
        columns, rows = wh.query(query)
    except WarehouseError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        connection.__exit__(None, None, None)
    if fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_format_value(v) for v in row])
        return
    table = Table()
    for c in columns:
        table.add_column(c)
    for row in rows:
        table.add_row(*(_format_value(v) for v in row))
    out.print(table)
    err.print(f"{len(rows)} rows")


@main.command()
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--limit", default=5, show_default=True, help="rows per KPI in the terminal")
@_TARGET
@_STACK
@_PARAMETERS
def report(
    html_path: Path | None,
    limit: int,
    target: str,
    stack_name: str,
    parameters_file: Path | None,
) -> None:
    """KPI report: freshness, headline figures and tables in the terminal, or (--html) one
    self-contained page with a chart per KPI view; read as the analyst, who sees the
    presentation views and nothing else."""
    from rental_analytics.report import build_report
    from rental_analytics.runs import RunLedger, runs_root_of
    from rental_analytics.warehouse import WarehouseError

    ledger = RunLedger(runs_root_of(_home())) if target == "local" else None
    connection = _warehouse_connection(target, stack_name, parameters_file, "analyst")
    wh = _open(connection)
    try:
        data = build_report(wh, ledger)
    except WarehouseError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        connection.__exit__(None, None, None)
    if html_path:
        from rental_analytics.report_html import render_html

        html_path.write_text(render_html(data), encoding="utf-8")
        err.print(f"report written to {html_path}")
        return
    out.print(data.freshness.line(), markup=False, highlight=False)
    for domain, figures in data.headlines.items():
        shown = "  ".join(f"{h.label}: {h.shown}" for h in figures) or "no data yet"
        out.print(f"[bold]{domain}[/bold]  {shown}", highlight=False)
    for kpi in data.kpis:
        table = Table(
            title=f"presentation.{kpi.view} ({len(kpi.rows):,} rows)", title_justify="left"
        )
        for c in kpi.columns:
            table.add_column(c)
        for row in kpi.preview(limit):
            table.add_row(*(_format_value(v) for v in row))
        out.print(table)


def _connect(identity: str = ADMIN):
    from rental_analytics.warehouse import connect

    _ensure_up()
    return connect(_settings(identity))


# -- bookmarks ---------------------------------------------------------------------------
@main.group()
def bookmarks() -> None:
    """Inspect, reset or rewind incremental extraction state."""


def _stores():
    from rental_analytics.sources.bookmarks import BookmarkStore

    return [BookmarkStore(_settings().bookmarks_root, d) for d in DOMAINS]


def _domain_of(table: str) -> str:
    from rental_analytics.sources.tables import get_table

    try:
        return get_table(table).domain
    except KeyError as exc:
        raise click.BadParameter(str(exc)) from None


@bookmarks.command("show")
def bookmarks_show() -> None:
    """Per table: bookmark keys, last committed key and watermark, last batch."""
    table = Table()
    for c in ("domain", "table", "keys", "last key", "modified watermark", "last batch", "rows"):
        table.add_column(c)
    for store in _stores():
        state = store.load()
        for name, mark in sorted(state.tables.items()):
            last = next((b for b in reversed(state.batches) if name in b.tables), None)
            if mark.get("kind") == "files":  # landed table: the files processed
                keys, last_key = "files", f"{len(mark.get('files', {}))} files processed"
            else:
                keys = ",".join(mark.get("keys", []))
                last_key = ",".join(str(v) for v in mark.get("last_key") or [])
            table.add_row(
                state.domain, name, keys, last_key, str(mark.get("modified_watermark") or ""),
                last.batch_id if last else "", f"{last.tables[name].rows:,}" if last else "",
            )  # fmt: skip
    out.print(table)


@bookmarks.command("reset")
@click.argument("table", required=False)
def bookmarks_reset(table: str | None) -> None:
    """Forget the bookmark of TABLE (or of every table): next run extracts it whole."""
    from rental_analytics.sources.bookmarks import BookmarkStore

    if table:
        BookmarkStore(_settings().bookmarks_root, _domain_of(table)).reset(table)
    else:
        for store in _stores():
            store.reset()
    err.print(f"bookmark reset: {table or 'all tables'}")


@bookmarks.command("rewind")
@click.argument("batch_id")
@click.argument("table", required=False)
@click.option("--domain", type=click.Choice(DOMAINS), default="apartments", show_default=True)
def bookmarks_rewind(batch_id: str, table: str | None, domain: str) -> None:
    """Put bookmarks back to where they were right after BATCH_ID committed."""
    from rental_analytics.sources.bookmarks import BookmarkError, BookmarkStore

    if table:
        domain = _domain_of(table)
    try:
        BookmarkStore(_settings().bookmarks_root, domain).rewind(batch_id, table)
    except BookmarkError as exc:
        raise click.ClickException(str(exc)) from None
    err.print(f"bookmarks of {table or domain} rewound to batch {batch_id}")


# -- deploy ------------------------------------------------------------------------------
@main.command()
@click.option("--stack-name", default="rental-analytics", show_default=True)
@click.option(
    "--region",
    envvar=["AWS_REGION", "AWS_DEFAULT_REGION"],
    required=True,
    help="AWS region (default: $AWS_REGION or $AWS_DEFAULT_REGION)",
)
@click.option(
    "--parameters",
    "parameters_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON object of template parameters (see infra/parameters.example.json)",
)
@click.option("--dry-run", is_flag=True, help="show the uploads and the change set, then stop")
@click.option(
    "--endpoint-url",
    envvar="RENTALS_AWS_ENDPOINT_URL",
    help="an AWS emulator's URL instead of AWS (tests)",
)
def deploy(
    stack_name: str,
    region: str,
    parameters_file: Path | None,
    dry_run: bool,
    endpoint_url: str | None,
) -> None:
    """Deploy to AWS: build the wheel, upload it and the Glue scripts, create or update the
    CloudFormation stack through a change set (shown first), apply redshift/ to the
    warehouse, and print how to start a run. Credentials come from the usual AWS chain."""
    from botocore.exceptions import BotoCoreError, ClientError

    from rental_analytics.aws import deploy as deploying

    def say(line: str) -> None:  # paths and ARNs are not wrapped
        err.print(line, markup=False, highlight=False, soft_wrap=True)

    with tempfile.TemporaryDirectory(prefix="rentals-deploy-") as build_dir:
        try:
            deploying.deploy(
                stack_name=stack_name,
                region=region,
                parameters_file=parameters_file,
                build_dir=Path(build_dir),
                dry_run=dry_run,
                endpoint_url=endpoint_url,
                say=say,
            )
        except (deploying.DeployError, ClientError, BotoCoreError) as exc:
            raise click.ClickException(str(exc)) from None


if __name__ == "__main__":
    main()
