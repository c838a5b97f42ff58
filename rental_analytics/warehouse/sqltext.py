"""Plain-text handling of the redshift/*.sql files: statement splitting, the one adapter
that turns Redshift DDL into DDL PostgreSQL accepts, and identifier quoting for generated SQL.

Everything in redshift/ is written in SQL both engines accept except the physical-design
clauses of CREATE TABLE (DISTSTYLE, DISTKEY, SORTKEY, ENCODE), which PostgreSQL does not
know and which carry no meaning there; ``to_postgres`` removes exactly those, and adds the
byte-width checks that make PostgreSQL's varchar(n) refuse what Redshift's would.
"""

from __future__ import annotations

import re

from rental_analytics.config import validate_identifier


def split_statements(text: str) -> list[str]:
    """Split SQL text on top-level semicolons, respecting quotes and comments."""
    statements: list[str] = []
    buf: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if ch == "-" and nxt == "-":
            end = text.find("\n", i)
            end = n if end == -1 else end
            buf.append(text[i:end])
            i = end
        elif ch == "/" and nxt == "*":
            end = text.find("*/", i + 2)
            end = n if end == -1 else end + 2
            buf.append(text[i:end])
            i = end
        elif ch in ("'", '"'):
            j = i + 1
            while j < n:
                if text[j] == ch:
                    if j + 1 < n and text[j + 1] == ch:  # doubled quote escapes itself
                        j += 2
                        continue
                    break
                j += 1
            buf.append(text[i : j + 1])
            i = j + 1
        elif ch == ";":
            statements.append("".join(buf))
            buf = []
            i += 1
        else:
            buf.append(ch)
            i += 1
    statements.append("".join(buf))
    return [s.strip() for s in statements if _has_code(s)]


def strip_comments(statement: str) -> str:
    return re.sub(r"--[^\n]*|/\*.*?\*/", "", statement, flags=re.S).strip()


def _has_code(statement: str) -> bool:
    return bool(strip_comments(statement))


def verb(statement: str) -> str:
    """The statement's first keyword, lowercased: 'merge', 'delete', 'create', ..."""
    words = strip_comments(statement).split(None, 1)
    return words[0].lower() if words else ""


_WRITES = re.compile(r"^\s*(?:insert\s+into|merge\s+into|delete\s+from|update)\s+([\w.\"]+)", re.I)


def written_table(statement: str) -> str | None:
    """The table an INSERT, MERGE, DELETE or UPDATE writes, lowercased, without quotes
    (``curated.dim_listings``); None for any other statement."""
    match = _WRITES.match(strip_comments(statement))
    return match.group(1).replace('"', "").lower() if match else None


_CREATE_TABLE = re.compile(r"^\s*(?:--[^\n]*\n\s*)*create\s+(?:temp\s+|temporary\s+)?table\b", re.I)
_PHYSICAL = re.compile(
    r"""
      \b(?:compound\s+|interleaved\s+)?sortkey\s*\([^)]*\)   # table-level sort key
    | \bdistkey\s*\([^)]*\)                                  # table-level distribution key
    | \bdiststyle\s+(?:even|all|key|auto)\b
    | \bencode\s+(?:raw|az64|bytedict|delta32k|delta|lzo|mostly8|mostly16|mostly32|runlength|text255|text32k|zstd|auto)\b
    | \b(?:distkey|sortkey)\b(?=\s*[,)\n])                   # column-level markers
    """,
    re.I | re.X,
)


_GRANT = re.compile(r"^\s*(?:grant|revoke|alter\s+default\s+privileges)\b", re.I)
_TO_ROLE = re.compile(r"\b(to|from)\s+role\s+", re.I)

# A column definition of a varchar(n), at the start of its line.
_VARCHAR_COLUMN = re.compile(
    r"^(?P<head>\s*(?P<name>[a-z_][a-z0-9_]*)\s+(?:varchar|character\s+varying)\s*\(\s*(?P<n>\d+)\s*\))",
    re.I | re.M,
)


def to_postgres(statement: str) -> str:
    """Adapt one Redshift statement for PostgreSQL: drop the ROLE keyword Redshift wants
    before a role grantee (``grant ... to role r``); in a CREATE TABLE, remove the physical
    design clauses and give each varchar(n) column ``check (octet_length(col) <= n)``:
    Redshift's VARCHAR(n) holds n bytes of UTF-8, PostgreSQL's n characters (AWS docs:
    r_Character_types), so the local warehouse refuses what Redshift would."""
    if _GRANT.match(strip_comments(statement)):
        return _TO_ROLE.sub(r"\1 ", statement)
    if not _CREATE_TABLE.match(statement):
        return statement
    statement = _PHYSICAL.sub("", statement).rstrip()
    return _VARCHAR_COLUMN.sub(
        lambda m: f"{m['head']} check (octet_length({m['name']}) <= {m['n']})", statement
    )


# DATEDIFF/DATEADD with a bare datepart (Redshift's spelling: datediff(day, a, b)).
_DATEPART_CALL = re.compile(r"\b(datediff|dateadd)(\s*\(\s*)([a-z]+)(\s*,)", re.I)


def postgres_dateparts(statement: str) -> str:
    """``datediff(day, a, b)`` as ``datediff('day', a, b)``: PostgreSQL would read the bare
    datepart as a column; the functions themselves are local/postgres_compat.py's."""
    return _DATEPART_CALL.sub(lambda m: f"{m[1]}{m[2]}'{m[3].lower()}'{m[4]}", statement)


def quote_identifier(name: str, what: str = "identifier") -> str:
    """``name`` double-quoted for generated SQL, once it is a plain lowercase identifier.

    Validation comes first, so quoting never has to escape anything: a name that is not
    ``[a-z_][a-z0-9_]*`` raises ConfigError (a ValueError) naming ``what`` it is.
    """
    return '"' + validate_identifier(name, what) + '"'
