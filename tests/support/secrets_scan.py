"""A secrets scanner for the repository, and a checker of how a CloudFormation template
passes secrets; tests/unit/test_no_secrets_in_repo.py runs both.

``scan_text`` finds, by pattern, AWS access key ids, AWS secret keys assigned in code or
config, private key blocks, passwords assigned literal values (unquoted ones in
configuration files only), ``IDENTIFIED BY '...'`` and connection URLs carrying a password.
It ignores references (``${VAR}``, ``{placeholder}``, ``{{resolve:...}}``...), values
shorter than four characters and names that hold something other than a password (flags,
paths, ARNs). A ``Finding`` never prints the value whole. ``repository_files`` is what git
tracks plus untracked files it does not ignore (a walk of the tree minus ignored
directories where git is unavailable); ``scan_repository`` scans the text files among them.

``template_problems`` reads a template loaded by ``load_template`` (plain YAML plus
CloudFormation's short-form tags) and reports secrets passed other than by ARN or
SECRET_ID: NoEcho or password parameters, secret parameters that are not ARNs or ids,
password properties, ``{{resolve:secretsmanager:...}}``, JDBC connections with a literal
user or no SECRET_ID, Glue jobs whose secret arguments are not references to a secret.

``assert_no_secrets`` is the other kind of scan, for the end-to-end tests: not patterns
but the passwords a ``$RENTALS_HOME`` actually generated (its ``secrets.json``), searched
byte for byte in every file of the home and in what the commands printed.

Not a general secret scanner: it knows no other vendors' token formats and does no entropy
analysis; what it misses, it passes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "infra" / "rental_analytics.yaml"

# Where git is unavailable (a copy without .git, as in the Docker image), the tree is walked
# instead, minus what .gitignore keeps out of the repository.
_WALK_SKIP_DIRS = {
    ".git", ".venv", ".rentals", "__pycache__", ".pytest_cache", ".ruff_cache", "build",
    "dist", "spark-warehouse", "metastore_db", "node_modules",
}  # fmt: skip


# -- rules -------------------------------------------------------------------------------
_NAME_PW = r"(?:[\w.-]*(?:password|passwd)[\w.-]*|(?:[\w.-]*_)?pwd)"
AWS_ACCESS_KEY_ID = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")
AWS_SECRET_KEY = re.compile(
    r"(?i)(?P<name>[\w.-]*secret[\w.-]*)[\"']?\s*(?:=|:|=>)\s*[\"']?"
    r"(?P<value>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"
)
PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
# name = "value", name: "value", "name": "value", name: str = "value", name => "value"
PASSWORD_QUOTED = re.compile(
    rf"(?i)(?P<name>{_NAME_PW})[\"']?(?:\s*:\s*[\w\[\]., |]+?)?\s*(?:=|:|=>)\s*"
    r"(?P<q>[\"'])(?P<value>[^\"'\n]*)(?P=q)"
)
# Unquoted values, in configuration files only (in code an unquoted value is a variable).
PASSWORD_UNQUOTED = re.compile(
    rf"(?im)^[ \t]*(?:export[ \t]+|-[ \t]+)?(?P<name>{_NAME_PW})[ \t]*[:=][ \t]*"
    r"(?P<value>[^\s\"'#][^\s#]*)"
)
SQL_IDENTIFIED_BY = re.compile(r"(?i)\bidentified\s+by\s+(?P<q>['\"])(?P<value>[^'\"\n]+)(?P=q)")
URL_CREDENTIALS = re.compile(
    r"(?i)\b[a-z][a-z0-9+.-]*://(?P<user>[^:/?#@\s'\"]+):(?P<value>[^@/?#\s'\"]+)@"
)
URL_QUERY_PASSWORD = re.compile(r"(?i)[?&;](?:password|passwd|pwd)=(?P<value>[^&;\s'\"]+)")

CONFIG_SUFFIXES = {
    ".yaml", ".yml", ".env", ".ini", ".cfg", ".conf", ".properties", ".sh", ".toml",
    ".dockerignore",
}  # fmt: skip
CONFIG_NAMES = {"Makefile", "Dockerfile", ".env"}

# Not a value at all: ${VAR}, $VAR, $(command), {placeholder}, {{resolve:...}}, <placeholder>,
# %s / %(name)s, a YAML tag (!Ref), or a masked *** .
_REFERENCE = re.compile(r"^(?:\$|\{|<|%|!|\*+$)")
_CODE_AFTER_QUOTE = re.compile(r"^(?:\s|[,+)\]};])")
MIN_SECRET_LENGTH = 4
# Names that hold something other than a password: flags, file paths, variable names, ARNs.
_NOT_A_PASSWORD_NAME = re.compile(r"(?i)random|allow_empty|(?:_file|_env|_var|_arn|_length)$")


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    rule: str
    value: str = field(repr=False)  # the finding is printed, the secret is not

    def __str__(self) -> str:
        shown = self.value[:2] + "…" if len(self.value) > 2 else "…"  # never print it whole
        return f"{self.path}:{self.line}: {self.rule} ({shown})"


def _is_config(path: str) -> bool:
    p = Path(path)
    return p.suffix in CONFIG_SUFFIXES or p.name in CONFIG_NAMES or p.name.startswith("Dockerfile")


def _real_value(value: str) -> bool:
    """A literal that could be a credential: not a reference, not a one-to-three character
    placeholder (the dummies of settings-parsing tests), not code that follows a closing
    quote (``"password=" + PASSWORD`` matches the pattern with value `` + PASSWORD, ``)."""
    return (
        len(value) >= MIN_SECRET_LENGTH
        and not _REFERENCE.match(value)
        and not _CODE_AFTER_QUOTE.match(value)
    )


def scan_text(path: str, text: str) -> list[Finding]:
    """Every secret-looking thing in ``text`` (the contents of ``path``)."""
    found: list[Finding] = []

    def add(match: re.Match, rule: str, value: str) -> None:
        found.append(Finding(path, text.count("\n", 0, match.start()) + 1, rule, value))

    for m in AWS_ACCESS_KEY_ID.finditer(text):
        add(m, "AWS access key id", m.group(0))
    for m in AWS_SECRET_KEY.finditer(text):
        add(m, "AWS secret access key", m["value"])
    for m in PRIVATE_KEY.finditer(text):
        add(m, "private key block", m.group(0))
    password_rules = [(PASSWORD_QUOTED, "password literal")]
    if _is_config(path):
        password_rules.append((PASSWORD_UNQUOTED, "password literal"))
    for rule_re, rule in password_rules:
        for m in rule_re.finditer(text):
            if _real_value(m["value"]) and not _NOT_A_PASSWORD_NAME.search(m["name"]):
                add(m, rule, m["value"])
    for m in SQL_IDENTIFIED_BY.finditer(text):
        if _real_value(m["value"]):
            add(m, "SQL password literal", m["value"])
    for m in URL_CREDENTIALS.finditer(text):
        if _real_value(m["value"]):
            add(m, "URL with user:password@", m["value"])
    for m in URL_QUERY_PASSWORD.finditer(text):
        if _real_value(m["value"]):
            add(m, "URL with a password parameter", m["value"])
    return found


def repository_files() -> list[str]:
    """Tracked files plus untracked files git does not ignore, relative to the repo."""
    try:
        listed = set()
        for extra in ([], ["--others", "--exclude-standard"]):
            out = subprocess.run(
                ["git", "ls-files", "-z", *extra],
                cwd=REPO, capture_output=True, check=True, timeout=60,
            ).stdout  # fmt: skip
            listed |= {p for p in out.decode().split("\0") if p}
    except (OSError, subprocess.SubprocessError):
        listed = set()
        for root, dirs, files in os.walk(REPO):
            dirs[:] = [d for d in dirs if d not in _WALK_SKIP_DIRS and not d.endswith(".egg-info")]
            listed |= {str((Path(root) / f).relative_to(REPO)) for f in files}
    # A tracked file deleted in the working tree is not there to leak anything.
    return sorted(p for p in listed if (REPO / p).is_file())


def scan_repository() -> tuple[list[Finding], int]:
    findings, scanned = [], 0
    for rel in repository_files():
        data = (REPO / rel).read_bytes()
        if b"\0" in data[:8192]:
            continue  # binary
        scanned += 1
        findings.extend(scan_text(rel, data.decode("utf-8", errors="replace")))
    return findings, scanned


# -- the CloudFormation template ---------------------------------------------------------
class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags (!Ref X -> {"Ref": "X"}, !Sub -> Fn::Sub)."""


def _construct_tag(loader: yaml.Loader, suffix: str, node: yaml.Node):
    key = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        return {key: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {key: loader.construct_sequence(node, deep=True)}
    return {key: loader.construct_mapping(node, deep=True)}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(text: str) -> dict:
    return yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - SafeLoader plus CFN tags


_PASSWORD_KEY = re.compile(r"(?i)password|passwd")
_SECRET_REFERENCE_NAME = re.compile(r"Secret\w*(?:Arn|Id|Name)$")


def _walk(node, path: str):
    """(path, key, value) for every mapping entry below ``node``, and ("", None, s) for
    every string."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, key, value
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]")
    elif isinstance(node, str):
        yield path, None, node


def _secret_leaves(value, parameters: dict, resources: dict) -> list[str]:
    """Problems with a value that must name a secret: each possible value (through Fn::If)
    must be a Ref to a secret ARN/id parameter or a Secrets Manager secret, AWS::NoValue
    or empty."""
    if value in ("", None):
        return []
    if isinstance(value, dict) and "Fn::If" in value:
        _, yes, no = value["Fn::If"]
        return _secret_leaves(yes, parameters, resources) + _secret_leaves(
            no, parameters, resources
        )
    if isinstance(value, dict) and set(value) == {"Ref"}:
        ref = value["Ref"]
        if ref == "AWS::NoValue":
            return []
        if ref in parameters and _SECRET_REFERENCE_NAME.search(ref):
            return []
        if resources.get(ref, {}).get("Type") == "AWS::SecretsManager::Secret":
            return []
        return [f"refers to {ref}, which is not a secret ARN parameter or secret"]
    return [f"is {value!r}, not a reference to a secret"]


def template_problems(template: dict) -> list[str]:
    """Ways the template passes a secret other than by ARN / SECRET_ID."""
    problems: list[str] = []
    parameters = template.get("Parameters") or {}
    resources = template.get("Resources") or {}
    for name, spec in parameters.items():
        spec = spec or {}
        if str(spec.get("NoEcho", "")).lower() == "true":
            problems.append(f"parameter {name} is NoEcho: a secret value passed as a parameter")
        if _PASSWORD_KEY.search(name):
            problems.append(f"parameter {name} takes a password")
        if "secret" in name.lower():
            if not _SECRET_REFERENCE_NAME.search(name):
                problems.append(f"parameter {name} names a secret but is not its ARN or id")
            default = spec.get("Default", "")
            if default and not str(default).startswith("arn:"):
                problems.append(f"parameter {name} has a default that is not an ARN")
    for path, key, value in _walk(resources, "Resources"):
        if key is not None and _PASSWORD_KEY.search(str(key)) and not str(key).startswith("Manage"):
            problems.append(f"{path}.{key}: a password in a resource property")
        if key is None and re.search(r"\{\{resolve:(?:secretsmanager|ssm-secure):", value):
            problems.append(f"{path}: resolves a secret's value into the template")
    for name, resource in resources.items():
        props = resource.get("Properties") or {}
        if resource.get("Type") == "AWS::Glue::Connection":
            conn = (props.get("ConnectionInput") or {}).get("ConnectionProperties") or {}
            if "JDBC_CONNECTION_URL" in conn:
                if "SECRET_ID" not in conn:
                    problems.append(f"{name}: a JDBC connection without SECRET_ID")
                if "USERNAME" in conn:
                    problems.append(f"{name}: a JDBC connection with a literal USERNAME")
        if resource.get("Type") == "AWS::Glue::Job":
            args = props.get("DefaultArguments") or {}
            if "--source_secret_id" not in args:
                problems.append(f"{name}: no --source_secret_id (the source secret's ARN)")
            for arg, value in args.items():
                if "secret" in arg.lower():
                    for p in _secret_leaves(value, parameters, resources):
                        problems.append(f"{name} {arg} {p}")
    return problems


# -- a home's own passwords ---------------------------------------------------------------
# Where a home keeps data that is not text we wrote: the engines' own files.
_ENGINE_DIRS = ("mariadb", "postgres", "pgdata")


def assert_no_secrets(home, *outputs: str) -> int:
    """No password of ``home`` appears in any file it holds but ``secrets.json`` and the
    engines' data directories (logs, run ledger, job context and state input, alerts, lake,
    bookmarks), nor in ``outputs`` (what commands printed). Returns how many files were
    searched."""
    home = Path(home)
    secrets = json.loads((home / "secrets.json").read_text())
    needles = [v.encode() for k, v in secrets.items() if "password" in k]
    assert needles, "secrets.json holds no password"
    searched = 0
    for path in home.rglob("*"):
        relative = path.relative_to(home)
        if not path.is_file() or relative.parts[0] in _ENGINE_DIRS:
            continue
        if relative == Path("secrets.json"):
            continue
        data = path.read_bytes()
        searched += 1
        for needle in needles:
            assert needle not in data, f"a password appears in {relative}"
    for text in outputs:
        assert not any(n.decode() in text for n in needles), "a password was printed"
    return searched
