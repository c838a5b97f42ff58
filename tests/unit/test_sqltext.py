from rental_analytics.warehouse.sqltext import split_statements, to_postgres


def test_split_respects_quotes_and_comments():
    text = """
    -- a comment; with a semicolon
    create table a (x int);
    insert into a values (';'), ('it''s; fine');  /* block; comment */
    select "odd;name" from a;
    """
    statements = split_statements(text)
    assert len(statements) == 3
    assert statements[1].startswith("insert into a values (';'), ('it''s; fine')")
    # a comment before a statement travels with it
    assert statements[2].endswith('select "odd;name" from a')


def test_comment_only_chunks_are_dropped():
    assert split_statements("-- only a comment;\n  ;\n") == []


def test_to_postgres_strips_physical_design_only():
    ddl = """create table if not exists raw_data.t (
    id integer not null encode az64,
    name varchar(10) encode zstd
)
diststyle key
distkey (id)
compound sortkey (id, name)"""
    adapted = to_postgres(ddl)
    assert "encode" not in adapted.lower()
    assert "distkey" not in adapted.lower()
    assert "sortkey" not in adapted.lower()
    assert "diststyle" not in adapted.lower()
    assert "id integer not null" in adapted
    assert "name varchar(10)" in adapted


def test_to_postgres_leaves_other_statements_alone():
    view = "create or replace view v as select sortkey, distkey from t"
    assert to_postgres(view) == view


def test_verb_skips_leading_comments():
    from rental_analytics.warehouse.sqltext import verb

    assert verb("-- header; with a semicolon\n/* note */\n  MERGE into t using s") == "merge"
    assert verb("-- only a comment") == ""


def test_to_postgres_checks_varchar_widths_in_bytes():
    # Redshift's varchar(n) holds n bytes (AWS docs: r_Character_types); PostgreSQL's n
    # characters. The check makes the local warehouse refuse what Redshift would.
    ddl = """create table if not exists raw_data.t (
    id varchar(64) not null,
    note character varying(8),
    hash char(32) not null
)
diststyle even"""
    adapted = to_postgres(ddl)
    assert "id varchar(64) check (octet_length(id) <= 64) not null" in adapted
    assert "note character varying(8) check (octet_length(note) <= 8)" in adapted
    assert "hash char(32) not null" in adapted
    ctas = "create temp table s as select t.*, cast(null as varchar(9)) as g from t"
    assert to_postgres(ctas) == ctas
