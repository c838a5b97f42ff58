"""`rentals deploy`: from a clone to the scheduled pipeline in an AWS account.

1. Build the package wheel and fingerprint what Glue runs (wheel sources, glue_jobs/, the
   SQL): the artifacts go under ``artifacts/<version>-<fingerprint>/`` of the scripts
   bucket, so an unchanged checkout changes no Glue job and a changed one changes them all.
2. Create or update the CloudFormation stack (infra/rental_analytics.yaml) through a change
   set, shown before anything is executed; ``--dry-run`` stops there and deletes the
   change set (and the empty stack a first dry run creates).
3. Upload the scripts and the wheel (before the update when the stack exists, so the jobs
   never point at missing files; right after the creation otherwise).
4. Apply redshift/ DDL, merges and views to the workgroup or cluster through the Redshift
   Data API, one file per transaction. Every file is idempotent (``if not exists``, merges
   rebuilt from staging, ``create or replace view``), so deploying twice changes nothing.
5. Associate the stack's COPY role with the workgroup's namespace or the cluster
   (``rental_analytics.aws.copy_role``; nothing to do when it is), or stop with the exact
   AWS CLI command when this identity may not.
6. Print how to start a run.

Everything goes through boto3 with one optional endpoint URL, which is how the tests run
it against a local AWS emulator (moto server).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import yaml

from rental_analytics.aws.copy_role import CopyRoleError, associate_copy_role, target_name
from rental_analytics.aws.packaging import build_wheel, glue_runtime_modules
from rental_analytics.config import WAREHOUSE_IDENTITIES, ConfigError, RedshiftSettings
from rental_analytics.warehouse.base import sql_dir
from rental_analytics.warehouse.migrations import apply
from rental_analytics.warehouse.redshift import data_api_warehouse
from rental_analytics.warehouse.sqltext import quote_identifier

REPO = Path(__file__).resolve().parents[2]
TEMPLATE_FILE = REPO / "infra" / "rental_analytics.yaml"
GLUE_SCRIPTS = ("extract.py", "load_raw.py", "curate.py")
# CloudFormation takes a template body of at most this many bytes; larger needs S3.
MAX_TEMPLATE_BODY = 51_200
# Parameters deploy fills itself; the parameters file may not set them.
COMPUTED_PARAMETERS = ("ArtifactsPrefix", "WheelFileName", "GlueRuntimeModules")
_STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")
_POLL_S = 2.0


class DeployError(RuntimeError):
    """The deployment cannot go on; the message says why and what to do."""


# ------------------------------------------------------------------------------ template


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation YAML: short-form intrinsics (!Sub, !Ref, ...) become
    ``{"Fn::Sub": ...}`` / ``{"Ref": ...}`` as in the JSON form."""


def _intrinsic(loader: _CfnLoader, suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = TEMPLATE_FILE) -> dict[str, Any]:
    if not path.exists():
        raise DeployError(f"no CloudFormation template at {path}")
    return yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


def template_body(template: Mapping[str, Any]) -> str:
    """The template as compact JSON: the YAML's comments and indentation would take it past
    CloudFormation's inline limit, and a first deploy has no bucket for a TemplateURL yet."""
    body = json.dumps(template, separators=(",", ":"), default=str)
    if len(body.encode()) > MAX_TEMPLATE_BODY:
        raise DeployError(
            f"{TEMPLATE_FILE.name} is {len(body.encode()):,} bytes as compact JSON: "
            f"CloudFormation takes at most {MAX_TEMPLATE_BODY:,} inline; shorten it"
        )
    return body


def stack_parameters(
    template: Mapping[str, Any], given: Mapping[str, str], computed: Mapping[str, str]
) -> list[dict[str, str]]:
    """CloudFormation's Parameters list: the file's values and the computed ones, checked
    against the template (unknown names, and required parameters left out, are errors)."""
    declared = template.get("Parameters", {})
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise DeployError(f"parameters not in the template: {', '.join(unknown)}")
    clash = sorted(set(given) & set(computed))
    if clash:
        raise DeployError(f"parameters set by `rentals deploy` itself: {', '.join(clash)}")
    values = {**{k: str(v) for k, v in given.items()}, **computed}
    missing = sorted(n for n, p in declared.items() if "Default" not in p and n not in values)
    if missing:
        raise DeployError(
            f"required parameters missing from the parameters file: {', '.join(missing)}"
        )
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(values.items())]


def read_parameters_file(path: Path | None) -> dict[str, str]:
    """A JSON object of template parameter values, or CloudFormation's own list form
    ``[{"ParameterKey": ..., "ParameterValue": ...}]``."""
    if path is None:
        return {}
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DeployError(f"cannot read parameters file {path}: {exc}") from None
    if isinstance(doc, list):
        try:
            doc = {p["ParameterKey"]: p["ParameterValue"] for p in doc}
        except (KeyError, TypeError):
            raise DeployError(f"{path}: a list must hold ParameterKey/ParameterValue") from None
    if not isinstance(doc, dict) or not all(isinstance(v, str | int) for v in doc.values()):
        raise DeployError(f"{path}: expected an object of parameter names to string values")
    return {k: str(v) for k, v in doc.items()}


# ----------------------------------------------------------------------------- artifacts


@dataclass(frozen=True)
class Upload:
    local: Path
    key: str

    @property
    def size(self) -> int:
        return self.local.stat().st_size


@dataclass(frozen=True)
class Artifacts:
    prefix: str  # artifacts/<version>-<fingerprint>
    wheel: Path
    uploads: tuple[Upload, ...]


def source_fingerprint(root: Path = REPO) -> str:
    """sha256 over what Glue runs: the package, glue_jobs/ and the SQL, by path and content.

    Not over the wheel itself: a wheel's zip entries carry timestamps, so rebuilding the same
    code gives different bytes, and the jobs would be updated for nothing."""
    digest = hashlib.sha256()
    files = sorted(
        p
        for pattern in ("rental_analytics/**/*", "glue_jobs/*.py", "redshift/**/*")
        for p in root.glob(pattern)
        if p.is_file() and "__pycache__" not in p.parts
    )
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:12]


def plan_artifacts(wheel: Path, version: str, fingerprint: str) -> Artifacts:
    prefix = f"artifacts/{version}-{fingerprint}"
    uploads = [
        Upload(REPO / "glue_jobs" / name, f"{prefix}/glue_jobs/{name}") for name in GLUE_SCRIPTS
    ]
    uploads.append(Upload(wheel, f"{prefix}/{wheel.name}"))
    return Artifacts(prefix, wheel, tuple(uploads))


def upload(s3, bucket: str, artifacts: Artifacts) -> None:
    for item in artifacts.uploads:
        s3.upload_file(
            str(item.local), bucket, item.key, ExtraArgs={"ServerSideEncryption": "AES256"}
        )


# --------------------------------------------------------------------------- change sets


@dataclass
class ChangeSet:
    name: str
    stack_name: str
    change_type: str  # CREATE or UPDATE
    status: str = ""
    reason: str = ""
    changes: list[dict[str, str]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.status == "FAILED" and not self.changes and _no_changes(self.reason)


def _no_changes(reason: str) -> bool:
    return "didn't contain changes" in reason or "No updates" in reason


def stack_status(cfn, stack_name: str) -> str | None:
    """The stack's status, or None when there is none (or only a deleted one)."""
    try:
        stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except cfn.exceptions.ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    status = stacks[0]["StackStatus"] if stacks else None
    return None if status == "DELETE_COMPLETE" else status


def stack_outputs(cfn, stack_name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def create_change_set(
    cfn, stack_name: str, template_body: str, parameters: list[dict[str, str]], existing: str | None
) -> ChangeSet:
    # A stack left in REVIEW_IN_PROGRESS (a first change set never executed) is created.
    change_type = "UPDATE" if existing and existing != "REVIEW_IN_PROGRESS" else "CREATE"
    name = f"rentals-deploy-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}"
    cfn.create_change_set(
        StackName=stack_name,
        ChangeSetName=name,
        ChangeSetType=change_type,
        TemplateBody=template_body,
        Parameters=parameters,
        Capabilities=["CAPABILITY_NAMED_IAM"],
        Description="rentals deploy",
    )
    change_set = ChangeSet(name, stack_name, change_type)
    deadline = time.monotonic() + 600
    while True:
        doc = cfn.describe_change_set(StackName=stack_name, ChangeSetName=name)
        change_set.status = doc.get("Status", "")
        change_set.reason = doc.get("StatusReason", "")
        if change_set.status in ("CREATE_COMPLETE", "FAILED"):
            break
        if time.monotonic() > deadline:
            raise DeployError(f"change set {name} still {change_set.status} after 10 minutes")
        time.sleep(_POLL_S)
    change_set.changes = [_change_row(c) for c in _all_changes(cfn, stack_name, name, doc)]
    if change_set.status == "FAILED" and not change_set.empty:
        raise DeployError(f"change set {name} failed: {change_set.reason}")
    return change_set


def _all_changes(cfn, stack_name: str, name: str, first: dict) -> Iterable[dict]:
    doc = first
    while True:
        yield from doc.get("Changes", [])
        token = doc.get("NextToken")
        if not token:
            return
        doc = cfn.describe_change_set(StackName=stack_name, ChangeSetName=name, NextToken=token)


def _change_row(change: dict) -> dict[str, str]:
    rc = change.get("ResourceChange", {})
    return {
        "action": rc.get("Action", ""),
        "resource": rc.get("LogicalResourceId", ""),
        "type": rc.get("ResourceType", ""),
        "replacement": rc.get("Replacement", "") or "",
    }


def discard_change_set(cfn, change_set: ChangeSet) -> None:
    """Leave nothing behind: the change set, and the empty stack a CREATE change set made."""
    cfn.delete_change_set(StackName=change_set.stack_name, ChangeSetName=change_set.name)
    if change_set.change_type == "CREATE":
        cfn.delete_stack(StackName=change_set.stack_name)


def execute_change_set(cfn, change_set: ChangeSet) -> str:
    cfn.execute_change_set(StackName=change_set.stack_name, ChangeSetName=change_set.name)
    deadline = time.monotonic() + 3600
    while True:
        status = stack_status(cfn, change_set.stack_name) or "DELETE_COMPLETE"
        if status.endswith("_COMPLETE") and "ROLLBACK" not in status:
            return status
        if status.endswith(("_FAILED", "ROLLBACK_COMPLETE")) or status == "DELETE_COMPLETE":
            raise DeployError(
                f"stack {change_set.stack_name} ended {status}: "
                + "; ".join(_failure_reasons(cfn, change_set.stack_name))
            )
        if time.monotonic() > deadline:
            raise DeployError(f"stack {change_set.stack_name} still {status} after an hour")
        time.sleep(_POLL_S)


def _failure_reasons(cfn, stack_name: str, limit: int = 5) -> list[str]:
    try:
        events = cfn.describe_stack_events(StackName=stack_name)["StackEvents"]
    except Exception:  # noqa: BLE001 - only for the message
        return ["(no stack events)"]
    failed = [
        f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason', '')}"
        for e in events
        if e.get("ResourceStatus", "").endswith("_FAILED")
    ]
    return failed[:limit] or ["(no failed resource reported)"]


# ------------------------------------------------------------------------------ Redshift


def warehouse_files(sql_root: Path) -> list[Path]:
    """The SQL files deploy may run, in order: the migrations, the views, the grants."""
    migrations = sorted((sql_root / "migrations").glob("*/*.sql"))
    views = sorted((sql_root / "views").glob("*.sql"))
    return [*migrations, *views, sql_root / "grants.sql"]


def redshift_settings(
    parameters: Mapping[str, str], copy_role_arn: str, region: str
) -> RedshiftSettings:
    try:
        return RedshiftSettings(
            database=parameters.get("RedshiftDatabase", "dev"),
            copy_role_arn=copy_role_arn,
            workgroup=parameters.get("RedshiftWorkgroupName", ""),
            cluster_id=parameters.get("RedshiftClusterIdentifier", ""),
            secret_arn=parameters.get("RedshiftSecretArn", ""),
            region=region,
        )
    except ConfigError as exc:
        raise DeployError(str(exc)) from None


def create_roles(wh, database: str) -> None:
    """The warehouse's database roles (SPEC 8), created once; their database privileges.

    IAM identities get them at sign-in: a Glue role tagged ``RedshiftDbRoles`` =
    ``rentals_job`` connects as a member of rentals_job (AWS Redshift Management Guide,
    "Mapping IAM roles to Amazon Redshift database roles" / redshift-iam-access-control-sso,
    and for Serverless "Identity and access management in Redshift Serverless",
    serverless-iam). Redshift has no CREATE ROLE IF NOT EXISTS: svv_roles says.
    """
    for identity in WAREHOUSE_IDENTITIES:
        role = f"rentals_{identity}"
        _, rows = wh.query("select 1 from svv_roles where role_name = %(r)s", {"r": role})
        if not rows:
            wh.execute(f"create role {role}")
    db = quote_identifier(database, "database name")
    wh.execute(f"grant create, temp on database {db} to role rentals_owner")
    wh.execute(f"grant temp on database {db} to role rentals_job")
    wh.execute("revoke create on schema public from public")


def apply_warehouse_sql(wh, sql_root: Path, database: str, say: Callable[[str], None]) -> int:
    """Roles, then the missing migrations, the views and the grants, as the deploying
    identity (the warehouse's owner); returns the migrations applied."""
    create_roles(wh, database)
    result = apply(wh, sql_root)
    for label in result.applied:
        say(f"  migration {label}")
    say(
        f"  warehouse at version {result.after} (was {result.before}); "
        f"{len(result.views)} views rebuilt; grants applied"
    )
    return len(result.applied)


def associate_role(
    settings: RedshiftSettings, role_arn: str, client: Any, say: Callable[[str], None]
) -> bool:
    """The COPY role associated with the namespace or cluster; a DeployError with the exact
    command when this identity may not associate it."""
    try:
        changed = associate_copy_role(settings, role_arn, client)
    except CopyRoleError as exc:
        raise DeployError(str(exc)) from None
    if changed:
        say(f"associated the COPY role {role_arn} with {target_name(settings)}")
        say("  (Redshift applies it within minutes; COPY may refuse the role until then)")
    else:
        say(f"the COPY role {role_arn} is associated with {target_name(settings)}")
    return changed


# ------------------------------------------------------------------------------- next step


def start_command(state_machine_arn: str, region: str) -> str:
    return (
        f"aws stepfunctions start-execution --region {region} "
        f"--state-machine-arn {state_machine_arn} "
        """--input '{"run_date": "YYYY-MM-DD"}'"""
    )


# ----------------------------------------------------------------------------- the command


@dataclass
class DeployResult:
    stack_name: str
    artifacts: Artifacts
    change_set: ChangeSet
    scripts_bucket: str = ""
    uploaded: bool = False
    executed: bool = False
    sql_files: int = 0
    outputs: dict[str, str] = field(default_factory=dict)
    copy_role_associated: bool = False  # whether this deploy associated it


_BUSY = ("_IN_PROGRESS",)


def deploy(
    *,
    stack_name: str,
    region: str,
    parameters_file: Path | None,
    build_dir: Path,
    dry_run: bool,
    endpoint_url: str | None = None,
    say: Callable[[str], None] = print,
    open_redshift: Callable[[RedshiftSettings], Any] | None = None,
    sql_root: Path | None = None,
    redshift_admin: Callable[[RedshiftSettings], Any] | None = None,
) -> DeployResult:
    """Deploy (or with ``dry_run`` only show) the stack, the artifacts and the warehouse SQL.

    ``open_redshift`` returns a warehouse whose ``run_file(path)`` runs one file in one
    transaction; by default the Redshift Data API warehouse of ``rental_analytics.warehouse``.
    ``redshift_admin`` returns the client that associates the COPY role: by default boto3's
    ``redshift-serverless`` client for a workgroup, ``redshift`` for a cluster.
    """
    template, body, given = _checked_inputs(stack_name, parameters_file)
    artifacts, parameters = _build_artifacts(template, given, build_dir, say)

    session = boto3.session.Session(region_name=region)
    cfn = session.client("cloudformation", endpoint_url=endpoint_url)
    s3 = session.client("s3", endpoint_url=endpoint_url)
    existing, scripts_bucket = _existing_stack(cfn, stack_name)
    _show_artifacts(artifacts, scripts_bucket, dry_run, say)

    change_set = create_change_set(cfn, stack_name, body, parameters, existing)
    result = DeployResult(stack_name, artifacts, change_set, scripts_bucket)
    _show_change_set(change_set, say)
    if dry_run:
        discard_change_set(cfn, change_set)
        say("dry run: change set deleted, nothing uploaded or changed")
        return result
    _change_stack_and_upload(cfn, s3, result, say)

    settings = _stack_redshift_settings(parameters, result.outputs, region)
    result.sql_files = _apply_redshift(settings, open_redshift, endpoint_url, sql_root, say)
    result.copy_role_associated = _associate_copy_role(
        settings, result.outputs, session, redshift_admin, endpoint_url, say
    )
    _say_next_step(result.outputs["StateMachineArn"], region, say)
    return result


def _checked_inputs(
    stack_name: str, parameters_file: Path | None
) -> tuple[dict[str, Any], str, dict[str, str]]:
    """The template, its body and the parameters file's values, checked before the (slow)
    wheel build, with placeholders for what deploy computes."""
    if not _STACK_NAME.match(stack_name):
        raise DeployError(f"invalid stack name {stack_name!r}")
    template = load_template()
    body = template_body(template)
    given = read_parameters_file(parameters_file)
    stack_parameters(template, given, dict.fromkeys(COMPUTED_PARAMETERS, "-"))
    return template, body, given


def _build_artifacts(
    template: Mapping[str, Any],
    given: Mapping[str, str],
    build_dir: Path,
    say: Callable[[str], None],
) -> tuple[Artifacts, list[dict[str, str]]]:
    """The wheel built and the artifacts planned; the stack's parameters, computed ones too."""
    say("building the wheel")
    wheel = build_wheel(build_dir)
    version = wheel.name.split("-")[1]
    artifacts = plan_artifacts(wheel, version, source_fingerprint())
    computed = {
        "ArtifactsPrefix": artifacts.prefix,
        "WheelFileName": wheel.name,
        "GlueRuntimeModules": glue_runtime_modules(),
    }
    return artifacts, stack_parameters(template, given, computed)


def _existing_stack(cfn, stack_name: str) -> tuple[str | None, str]:
    """The stack's status (None without one) and its scripts bucket once it was created;
    a DeployError while the stack is busy."""
    existing = stack_status(cfn, stack_name)
    if existing and existing.endswith(_BUSY) and existing != "REVIEW_IN_PROGRESS":
        raise DeployError(f"stack {stack_name} is {existing}: wait for it to finish")
    scripts_bucket = ""
    if existing and existing != "REVIEW_IN_PROGRESS":
        scripts_bucket = stack_outputs(cfn, stack_name).get("ScriptsBucketName", "")
    return existing, scripts_bucket


def _show_artifacts(
    artifacts: Artifacts, scripts_bucket: str, dry_run: bool, say: Callable[[str], None]
) -> None:
    where = f"s3://{scripts_bucket}" if scripts_bucket else "s3://<ScriptsBucketName of the stack>"
    say(f"artifacts ({'to upload' if not dry_run else 'would upload'}):")
    for item in artifacts.uploads:
        local = item.local
        shown = local.name if local == artifacts.wheel else local.relative_to(REPO)
        say(f"  {shown} ({item.size:,} bytes) -> {where}/{item.key}")


def _show_change_set(change_set: ChangeSet, say: Callable[[str], None]) -> None:
    say(f"change set {change_set.name} ({change_set.change_type} stack {change_set.stack_name}):")
    if change_set.empty:
        say("  no changes")
    for row in change_set.changes:
        replace = f" (replacement: {row['replacement']})" if row["replacement"] else ""
        say(f"  {row['action']:<7} {row['resource']:<34} {row['type']}{replace}")


def _change_stack_and_upload(cfn, s3, result: DeployResult, say: Callable[[str], None]) -> None:
    """The change set executed (or, empty, deleted) and the artifacts uploaded: before an
    update, so the jobs never point at missing files; right after a creation otherwise.
    Fills the result's outputs, scripts bucket, uploaded and executed."""
    stack_name, change_set, artifacts = result.stack_name, result.change_set, result.artifacts
    if change_set.change_type == "UPDATE":
        # The jobs of the new stack point at these keys: upload them first.
        upload(s3, result.scripts_bucket, artifacts)
        result.uploaded = True
    if change_set.empty:
        cfn.delete_change_set(StackName=stack_name, ChangeSetName=change_set.name)
    else:
        say(f"executing {change_set.name}")
        say(f"stack {stack_name}: {execute_change_set(cfn, change_set)}")
        result.executed = True
    result.outputs = stack_outputs(cfn, stack_name)
    missing = sorted(
        {"ScriptsBucketName", "RedshiftCopyRoleArn", "StateMachineArn"} - set(result.outputs)
    )
    if missing:
        raise DeployError(
            f"stack {stack_name} has no output {', '.join(missing)}: is it this template's stack?"
        )
    result.scripts_bucket = result.outputs["ScriptsBucketName"]
    if not result.uploaded:
        upload(s3, result.scripts_bucket, artifacts)
        result.uploaded = True
    say(
        f"uploaded {len(artifacts.uploads)} artifacts to s3://{result.scripts_bucket}/{artifacts.prefix}/"
    )


def _stack_redshift_settings(
    parameters: list[dict[str, str]], outputs: Mapping[str, str], region: str
) -> RedshiftSettings:
    values = {p["ParameterKey"]: p["ParameterValue"] for p in parameters}
    return redshift_settings(values, outputs["RedshiftCopyRoleArn"], region)


def _apply_redshift(
    settings: RedshiftSettings,
    open_redshift: Callable[[RedshiftSettings], Any] | None,
    endpoint_url: str | None,
    sql_root: Path | None,
    say: Callable[[str], None],
) -> int:
    """redshift/ applied to the workgroup or cluster; returns the migrations applied."""
    if open_redshift is None:

        def open_redshift(rs: RedshiftSettings):
            return data_api_warehouse(rs, endpoint_url=endpoint_url)

    target = (
        f"workgroup {settings.workgroup}"
        if settings.workgroup
        else f"cluster {settings.cluster_id}"
    )
    say(f"applying redshift/ to {target}, database {settings.database}:")
    applied = 0
    with open_redshift(settings) as wh:
        applied = apply_warehouse_sql(wh, sql_root or sql_dir(), settings.database, say)
    return applied


def _associate_copy_role(
    settings: RedshiftSettings,
    outputs: Mapping[str, str],
    session: Any,
    redshift_admin: Callable[[RedshiftSettings], Any] | None,
    endpoint_url: str | None,
    say: Callable[[str], None],
) -> bool:
    """The stack's COPY role associated with the namespace or cluster; whether it changed."""
    if redshift_admin is None:

        def redshift_admin(rs: RedshiftSettings):
            service = "redshift-serverless" if rs.workgroup else "redshift"
            return session.client(service, endpoint_url=endpoint_url)

    return associate_role(settings, outputs["RedshiftCopyRoleArn"], redshift_admin(settings), say)


def _say_next_step(state_machine_arn: str, region: str, say: Callable[[str], None]) -> None:
    say("start a run with:")
    say("  " + start_command(state_machine_arn, region))
