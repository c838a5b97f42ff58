"""The `rentals` command: local stack, source data, runs, queries, reports, bookmarks."""

from __future__ import annotations

import csv
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from rental_analytics.config import DOMAINS, ConfigError, Settings, default_home, parse_run_date

out = Console()
err = Console(stderr=True)


def _home() -> Path:
    return default_home()


def _settings() -> Settings:
    return Settings.local(_home())


def _ensure_up() -> None:
    """Start this home's databases and give the local MariaDB the Aurora schema, so a home
    with no source data yet runs (and extracts nothing) instead of failing."""
    from rental_analytics.local import source_db
    from rental_analytics.local.stack import LocalStack

    LocalStack(_home()).up()
    source_db.ensure_schema(_settings())


@click.group()
def main() -> None:
    """Rental marketplace analytics: Glue-style jobs, a Redshift-style warehouse, KPIs.

    Local state lives under $RENTALS_HOME (default: .rentals in the repository).
    """


@main.command()
def up() -> None:
    """Start this home's private MariaDB and PostgreSQL (idempotent)."""
    from rental_analytics.local.stack import LocalStack

    _ensure_up()
    status = LocalStack(_home()).status()
    err.print(
        f"[green]up[/] home={_home()} mariadb=127.0.0.1:{status.mariadb_port} "
        f"postgres=127.0.0.1:{status.postgres_port}"
    )


@main.command()
def down() -> None:
    """Stop this home's databases (idempotent)."""
    from rental_analytics.local.stack import LocalStack

    LocalStack(_home()).down()
    err.print(f"[green]down[/] home={_home()}")


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
    source database; vehicle-domain files land as a new landing batch."""
    from rental_analytics.local import source_db
    from rental_analytics.local.importer import SourceImportError, import_directory

    _ensure_up()
    settings = _settings()
    source_db.ensure_schema(settings)
    try:
        summary = import_directory(settings, directory)
    except SourceImportError as exc:
        raise click.ClickException(str(exc)) from None
    for line in summary.lines():
        err.print(line, markup=False, highlight=False)
    if summary.rows_rejected:
        err.print(
            f"[yellow]{summary.rows_rejected:,} rows rejected[/]: see the reject files listed above"
        )


# -- run ---------------------------------------------------------------------------------
@main.command()
@click.option("--run-date", help="YYYY-MM-DD (default: today, UTC)")
@click.option("--full-refresh", default="", help="table[,table] or 'all': re-extract whole")
def run(run_date: str | None, full_refresh: str) -> None:
    """Run the pipeline once; exit 0 on success, non-zero on failure."""
    from rental_analytics.runner import run_pipeline, step_figures

    try:
        day = parse_run_date(run_date) if run_date else datetime.now(UTC).date()
    except ConfigError as exc:
        raise click.BadParameter(str(exc)) from None
    _ensure_up()
    refresh = tuple(t.strip() for t in full_refresh.split(",") if t.strip())

    def progress(step: str, result) -> None:
        if result is None:
            err.print(f"[cyan]>[/] {step} ...")
        else:
            colour = "green" if result.status == "SUCCEEDED" else "red"
            err.print(f"[{colour}]{result.status}[/] {step} in {result.seconds:.1f}s")

    summary = run_pipeline(_home(), day, refresh, on_step=progress)
    table = Table(title=f"run {summary.run_id}")
    for col in ("step", "status", "extracted", "loaded", "rejected", "merged", "seconds"):
        table.add_column(col, justify="left" if col in ("step", "status") else "right")
    for s in summary.steps:
        f = step_figures(s)
        table.add_row(
            s.step, s.status, *(f"{f[k]:,}" for k in ("extracted", "loaded", "rejected", "merged")),
            f"{s.seconds:.1f}",
        )  # fmt: skip
    err.print(table)
    if not summary.succeeded:
        failed = summary.steps[-1]
        err.print(f"[red]run failed at {failed.step}[/] (log: {failed.log_path})\n{failed.error}")
        sys.exit(1)
    err.print(f"[green]run {summary.run_id} succeeded[/]")


# -- sql / report ------------------------------------------------------------------------
def _format_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@main.command()
@click.argument("query")
@click.option("--format", "fmt", type=click.Choice(["table", "csv"]), default="table")
def sql(query: str, fmt: str) -> None:
    """Query the local warehouse. With --format csv, stdout holds only header and rows."""
    from rental_analytics.warehouse import WarehouseError, connect

    _ensure_up()
    with connect(_settings()) as wh:
        try:
            columns, rows = wh.query(query)
        except WarehouseError as exc:
            raise click.ClickException(str(exc)) from None
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
def report(html_path: Path | None, limit: int) -> None:
    """KPI report in the terminal, or a self-contained HTML page with charts."""
    from rental_analytics.report import collect_kpis, render_html

    with _connect() as wh:
        kpis = collect_kpis(wh)
    if html_path:
        html_path.write_text(render_html(kpis))
        err.print(f"report written to {html_path}")
        return
    for kpi in kpis:
        table = Table(title=f"{kpi.view} ({len(kpi.rows):,} rows)", title_justify="left")
        for c in kpi.columns:
            table.add_column(c)
        for row in kpi.preview(limit):
            table.add_row(*(_format_value(v) for v in row))
        out.print(table)


def _connect():
    from rental_analytics.warehouse import connect

    _ensure_up()
    return connect(_settings())


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


if __name__ == "__main__":
    main()
