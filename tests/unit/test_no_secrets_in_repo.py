"""No secret or password in the repository.

Every file git tracks, and every untracked file it does not ignore (work not committed yet),
is scanned for AWS access key ids, AWS secret keys assigned in code or config, private key
blocks, passwords assigned literal values, and connection URLs carrying a password. Where
the project needs passwords they are generated at runtime (``rentals up`` writes them to
``$RENTALS_HOME/secrets.json``, mode 0600; `make docker-test` generates the containers')
or live in Secrets Manager, and the CloudFormation template passes secrets by ARN only.

The scanner (tests/support/secrets_scan.py) is checked on synthetic strings first, so a
rule that stops matching fails here instead of passing everything. The synthetic secrets
are assembled at runtime: this file is scanned too.
"""

from __future__ import annotations

import pytest

from tests.support.secrets_scan import (
    REPO,
    TEMPLATE,
    load_template,
    repository_files,
    scan_repository,
    scan_text,
    template_problems,
)


# -- the scanner on synthetic strings ----------------------------------------------------
def _fake(*parts: str) -> str:
    return "".join(parts)


def _rules(path: str, text: str) -> list[str]:
    return [f.rule for f in scan_text(path, text)]


def test_scanner_finds_aws_keys_and_private_keys():
    key_id = _fake("AK", "IA", "Z7Q3XK2M4N6P8R1T")
    assert _rules("a.py", f'key = "{key_id}"') == ["AWS access key id"]
    assert _rules("a.py", _fake("AS", "IA", "Z7Q3XK2M4N6P8R1T")) == ["AWS access key id"]
    assert _rules("a.py", key_id + "X") == [], "a longer token is not a key id"
    secret = _fake("wJalrXUtnFEMI/K7MDENG", "/bPxRfiCYzq8Q2v7Rk1")
    assert _rules("a.env", f"AWS_SECRET_ACCESS_KEY={secret}") == ["AWS secret access key"]
    assert _rules("a.py", f'aws_secret_access_key="{secret}"') == ["AWS secret access key"]
    assert _rules("a.py", 'aws_secret_access_key="local"') == [], "the emulator's dummy"
    block = _fake("-----BEGIN ", "RSA PRIVATE KEY-----\nMIIE\n")
    assert _rules("k.txt", block) == ["private key block"]
    assert _rules("k.txt", _fake("-----BEGIN ", "OPENSSH PRIVATE KEY-----")) == [
        "private key block"
    ]
    assert _rules("k.txt", _fake("-----BEGIN ", "PUBLIC KEY-----")) == []


def test_scanner_finds_passwords_assigned_literals():
    pw = _fake("s3cr3t", "-value")
    name = _fake("db_pass", "word")
    for text in (
        f'{name} = "{pw}"',
        f"{name}='{pw}'",
        f'{{"{name}": "{pw}"}}',
        f'    {name}: str = "{pw}"',
        f'connect(host="h", {name}="{pw}")',
        f"CREATE USER app IDENTIFIED BY '{pw}'",
    ):
        assert _rules("x.py", text), text
    assert _rules("x.py", f'{name} = "abcd"') == ["password literal"], "four characters count"
    assert _rules("compose.yaml", f"  {name.upper()}: {pw}\n") == ["password literal"]
    assert _rules("app.env", f"export {name.upper()}={pw}\n") == ["password literal"]
    assert _rules("compose.yaml", f"  - {name.upper()}={pw}\n") == ["password literal"]
    # Not literals: empty, references, generated values, flags, and code variables.
    for text in (
        f'{name} = ""',
        f"{name}={name}",
        f"{name}: str = field(repr=False)",
        f'"{name}": secrets.token_urlsafe(18)',
        f'{name} = "${{DB_PASSWORD}}"',
        f'{name} = "{{{{resolve:secretsmanager:x}}}}"',
        f"cur.execute(\"alter user 'x' identified by %s\", ({name},))",
        f'.option("{name}", s.source.{name})',
        f'("{name}=" + {name.upper()}, "a message")',
        f'{{"mariadb_{name}": "m", "postgres_{name}": "abc"}}',
    ):
        assert _rules("x.py", text) == [], text
    for text in (
        f"  {name.upper()}: ${{RENTALS_TEST_PASSWORD:?generated}}\n",
        f'  MARIADB_RANDOM_ROOT_{_fake("PASS", "WORD")}: "yes"\n',
        f"  {name.upper()}_FILE: /run/secrets/db\n",
        f"export {name.upper()}=$$(python3 -c 'import secrets')\n",
    ):
        assert _rules("compose.yaml", text) == [], text
    assert _rules("notes.md", f"{name}: rotate it monthly") == [], "prose is not config"


def test_scanner_finds_credentials_in_urls():
    pw = _fake("s3cr", "3t")
    assert _rules("a.py", f'"jdbc:mysql://app:{pw}@db.example:3306/x"') == [
        "URL with user:password@"
    ]
    assert _rules("a.yaml", f"url: postgresql://app:{pw}@pg:5432/w") == ["URL with user:password@"]
    assert _rules("a.py", f'"jdbc:mysql://db:3306/x?user=app&{_fake("pass", "word")}={pw}"') == [
        "URL with a password parameter"
    ]
    for text in (
        "jdbc:mysql://db.example:3306/rental_db",
        "mysql://rentals:${RENTALS_TEST_MARIADB_PASSWORD:?x}@mariadb:3306/rental_db",
        'f"postgresql://{user}:{password}@{host}/db"',
        "postgresql://app:***@pg/w",
        "https://user@example.com/path",
    ):
        assert _rules("a.py", text) == [], text


def test_findings_never_print_the_value():
    pw = _fake("hunter", "2hunter2")
    (finding,) = scan_text("x.py", f'{_fake("pass", "word")} = "{pw}"')
    assert pw not in str(finding) and pw not in repr(finding) and finding.line == 1


def test_template_checker_on_synthetic_templates():
    good = load_template(
        """
Parameters:
  AuroraSecretArn: {Type: String}
  RedshiftSecretArn: {Type: String, Default: ''}
Conditions:
  HasRedshiftSecret: !Not [!Equals [!Ref RedshiftSecretArn, '']]
Resources:
  Conn:
    Type: AWS::Glue::Connection
    Properties:
      ConnectionInput:
        ConnectionType: JDBC
        ConnectionProperties:
          JDBC_CONNECTION_URL: jdbc:mysql://db:3306/rental_db
          SECRET_ID: !Ref AuroraSecretArn
  Job:
    Type: AWS::Glue::Job
    Properties:
      DefaultArguments:
        --source_secret_id: !Ref AuroraSecretArn
        --redshift_secret_arn: !If [HasRedshiftSecret, !Ref RedshiftSecretArn, !Ref AWS::NoValue]
"""
    )
    assert template_problems(good) == []
    bad = load_template(
        """
Parameters:
  DbPassword: {Type: String, NoEcho: true}
  AuroraSecret: {Type: String, Default: hunter2}
Resources:
  Conn:
    Type: AWS::Glue::Connection
    Properties:
      ConnectionInput:
        ConnectionProperties:
          JDBC_CONNECTION_URL: jdbc:mysql://db:3306/rental_db
          USERNAME: admin
          PASSWORD: !Ref DbPassword
  Job:
    Type: AWS::Glue::Job
    Properties:
      DefaultArguments:
        --source_secret_id: rental/aurora
        --db_pass: '{{resolve:secretsmanager:rental/aurora:SecretString:password}}'
  Job2:
    Type: AWS::Glue::Job
    Properties:
      DefaultArguments: {}
"""
    )
    problems = "\n".join(template_problems(bad))
    for expected in (
        "DbPassword is NoEcho",
        "DbPassword takes a password",
        "AuroraSecret names a secret but is not its ARN",
        "AuroraSecret has a default that is not an ARN",
        "PASSWORD: a password in a resource property",
        "resolves a secret's value into the template",
        "Conn: a JDBC connection without SECRET_ID",
        "Conn: a JDBC connection with a literal USERNAME",
        "Job --source_secret_id is 'rental/aurora'",
        "Job2: no --source_secret_id",
    ):
        assert expected in problems, expected


# -- the repository ----------------------------------------------------------------------
def test_the_file_list_is_the_repository():
    files = set(repository_files())
    assert {"pyproject.toml", "Makefile", "tests/unit/test_no_secrets_in_repo.py"} <= files
    assert not any(f.startswith((".venv/", ".rentals/", ".git/")) for f in files)


def test_no_secret_or_password_in_the_repository():
    findings, scanned = scan_repository()
    assert scanned > 50, "the scan saw almost nothing"
    assert not findings, "secrets in the repository:\n" + "\n".join(map(str, findings))


def test_the_template_passes_secrets_only_by_arn():
    if not TEMPLATE.exists():
        pytest.skip(f"{TEMPLATE.relative_to(REPO)} is not written yet; checked once it exists")
    template = load_template(TEMPLATE.read_text())
    assert template_problems(template) == []
