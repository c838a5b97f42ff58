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
