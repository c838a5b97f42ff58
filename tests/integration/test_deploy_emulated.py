"""`rentals deploy` end to end against a local AWS emulator (moto server, in this process):
the wheel built, the change set shown, a dry run leaving nothing behind, the stack created
with the resources moto models, the artifacts uploaded, redshift/ applied through the
Redshift Data API, and a second deploy of the same code changing nothing.

moto's CloudFormation creates what it models (S3 buckets, IAM roles, SNS, the state
machine, ...) and skips the rest (AWS::Glue::Job among them). moto 5.2.1 does not refresh a
stack's outputs when a change set is executed (CloudFormation does; moto's create_stack
does too): ``_outputs_after_change_sets`` rebuilds them, as moto's own update path does. Its Redshift Data API runs no
SQL: a statement stays STARTED and no session is returned. ``_finish_statements`` below
plays the database for this test only: each statement finishes at once, and the session a
statement opens (SessionKeepAliveSeconds) is echoed back, so the warehouse's transactions
run their real call sequence, which the test then reads back from moto. moto has no
Redshift Serverless: the ``namespace`` fixture answers deploy's COPY role association with
botocore's Stubber and keeps the roles it is given.
"""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner
from moto.core import DEFAULT_ACCOUNT_ID
from moto.redshiftdata import responses as redshiftdata_responses
from moto.redshiftdata.models import (
    ColumnMetadata,
    RedshiftDataAPIServiceBackend,
    StatementResult,
    redshiftdata_backends,
)
from moto.server import ThreadedMotoServer

from rental_analytics.aws import deploy as deploying
from rental_analytics.aws.packaging import glue_runtime_modules
from rental_analytics.cli import main
from rental_analytics.warehouse.base import sql_dir
from rental_analytics.warehouse.migrations import (
    META_DDL,
    discover,
    migrations_dir,
    view_files,
    view_order,
)
from rental_analytics.warehouse.sqltext import split_statements

pytestmark = [
    pytest.mark.integration,
    # moto names each resource type it skips (see the module docstring)
    pytest.mark.filterwarnings("ignore:Tried to parse .* not supported by moto:UserWarning"),
]

REGION = "eu-west-1"
STACK = "rentals-test"
PARAMETERS = {
    "ProjectName": "rentals-test",
    "AuroraSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:aurora-AbCdEf",
    "AuroraJdbcUrl": "jdbc:mysql://aurora.example.internal:3306/rental_db",
    "AuroraSubnetId": "subnet-0123456789abcdef0",
    "AuroraSecurityGroupId": "sg-0123456789abcdef0",
    "AuroraAvailabilityZone": "eu-west-1a",
    "RedshiftWorkgroupName": "rentals-test",
    "RedshiftDatabase": "analytics",
}


@pytest.fixture
def sessions(monkeypatch):
    """Statement id -> the SessionId it ran in; see the module docstring."""
    seen: dict[str, str] = {}
    original = redshiftdata_responses.RedshiftDataAPIServiceResponse.execute_statement

    def no_rows(self, statement_id):
        # moto answers every query with the same three made-up rows; a new warehouse has no
        # roles, no version table and no views: every select answers no rows.
        return StatementResult([dict(ColumnMetadata(None, False, True, "x", False))], [], 0)

    monkeypatch.setattr(RedshiftDataAPIServiceBackend, "get_statement_result", no_rows)

    def execute_statement(self):
        status, headers, body = original(self)
        doc = json.loads(body)
        session = self._get_param("SessionId") or (
            str(uuid.uuid4()) if self._get_param("SessionKeepAliveSeconds") else ""
        )
        statement = self.redshiftdata_backend.statements[doc["Id"]]
        statement.status = "FINISHED"
        statement.has_result_set = statement.query_string.lstrip().lower().startswith("select")
        seen[doc["Id"]] = session
        if session:
            doc["SessionId"] = session
        return status, headers, json.dumps(doc)

    monkeypatch.setattr(
        redshiftdata_responses.RedshiftDataAPIServiceResponse,
        "execute_statement",
        execute_statement,
    )
    return seen


@pytest.fixture
def _outputs_after_change_sets(monkeypatch):
    from moto.cloudformation.models import CloudFormationBackend

    original = CloudFormationBackend.execute_change_set

    def execute_change_set(self, change_set_name, stack_name=None):
        original(self, change_set_name, stack_name)
        for stack in self.stacks.values():
            if stack.name == stack_name or stack.stack_id == stack_name:
                stack._parse_template()
                stack.output_map = stack._create_output_map()

    monkeypatch.setattr(CloudFormationBackend, "execute_change_set", execute_change_set)


@pytest.fixture
def endpoint(monkeypatch, sessions, _outputs_after_change_sets):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    # moto's backends are per process: statements other tests sent in-process go first.
    redshiftdata_backends[DEFAULT_ACCOUNT_ID][REGION].statements.clear()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    yield url
    server.stop()
    redshiftdata_backends[DEFAULT_ACCOUNT_ID][REGION].statements.clear()


@pytest.fixture
def namespace():
    """The workgroup's namespace as deploy sees it: its roles, and the updates it received."""
    state: dict[str, list] = {"roles": [], "updates": []}

    def admin(settings):
        client = boto3.client(
            "redshift-serverless",
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        stub = Stubber(client)
        stub.add_response(
            "get_workgroup",
            {"workgroup": {"workgroupName": settings.workgroup, "namespaceName": "rentals-ns"}},
            {"workgroupName": settings.workgroup},
        )
        listed = [f"IamRole(applyStatus=in-sync, iamRoleArn={r})" for r in state["roles"]]
        stub.add_response(
            "get_namespace",
            {"namespace": {"namespaceName": "rentals-ns", "iamRoles": listed}},
            {"namespaceName": "rentals-ns"},
        )
        stub.add_response("update_namespace", {"namespace": {"namespaceName": "rentals-ns"}})

        def updated(params, **_):
            state["updates"].append(dict(params))
            state["roles"] = list(params["iamRoles"])

        client.meta.events.register(
            "provide-client-params.redshift-serverless.UpdateNamespace", updated
        )
        stub.activate()
        return client

    state["admin"] = admin
    return state


@pytest.fixture
def parameters_file(tmp_path):
    path = tmp_path / "parameters.json"
    path.write_text(json.dumps(PARAMETERS))
    return path


def _client(service: str, url: str):
    return boto3.client(service, region_name=REGION, endpoint_url=url)


def _deploy(
    url, parameters_file, tmp_path, *, dry_run: bool, namespace=None
) -> tuple[deploying.DeployResult, str]:
    lines: list[str] = []
    result = deploying.deploy(
        stack_name=STACK,
        region=REGION,
        parameters_file=parameters_file,
        build_dir=tmp_path / f"build-{len(list(tmp_path.iterdir()))}",
        dry_run=dry_run,
        endpoint_url=url,
        say=lines.append,
        redshift_admin=namespace["admin"] if namespace else None,
    )
    return result, "\n".join(lines)


def test_dry_run_shows_the_uploads_and_the_change_set_and_leaves_nothing(
    endpoint, parameters_file, tmp_path
):
    runner = CliRunner()
    proc = runner.invoke(
        main,
        ["deploy", "--stack-name", STACK, "--region", REGION, "--parameters",
         str(parameters_file), "--dry-run", "--endpoint-url", endpoint],
    )  # fmt: skip
    assert proc.exit_code == 0, proc.output
    out = proc.output
    for script in deploying.GLUE_SCRIPTS:
        assert f"glue_jobs/{script}" in out
    assert ".whl" in out and "s3://<ScriptsBucketName of the stack>/artifacts/" in out
    assert f"(CREATE stack {STACK})" in out
    for resource in ("AWS::S3::Bucket", "AWS::IAM::Role", "AWS::StepFunctions::StateMachine",
                     "AWS::SNS::Topic"):  # fmt: skip
        assert resource in out, f"{resource} not in the change set shown"
    assert "dry run: change set deleted, nothing uploaded or changed" in out

    # Nothing is left: no stack (not even an empty one), no bucket, no statement.
    assert deploying.stack_status(_client("cloudformation", endpoint), STACK) is None
    assert _client("s3", endpoint).list_buckets()["Buckets"] == []
    assert not redshiftdata_backends[DEFAULT_ACCOUNT_ID][REGION].statements


def test_deploy_creates_the_stack_uploads_and_applies_the_warehouse_sql(
    endpoint, parameters_file, tmp_path, sessions, namespace
):
    result, out = _deploy(endpoint, parameters_file, tmp_path, dry_run=False, namespace=namespace)
    assert result.executed and result.uploaded
    cfn, s3 = _client("cloudformation", endpoint), _client("s3", endpoint)
    assert deploying.stack_status(cfn, STACK) == "CREATE_COMPLETE"
    outputs = deploying.stack_outputs(cfn, STACK)
    bucket = outputs["ScriptsBucketName"]
    assert bucket.startswith("rentals-test-scripts-")

    # The artifacts are where the Glue jobs' parameters say.
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert keys == {u.key for u in result.artifacts.uploads}
    prefix = result.artifacts.prefix
    assert (
        f"{prefix}/glue_jobs/load_raw.py" in keys
        and f"{prefix}/{result.artifacts.wheel.name}" in keys
    )
    body = s3.get_object(Bucket=bucket, Key=f"{prefix}/glue_jobs/curate.py")["Body"].read()
    assert body == (deploying.REPO / "glue_jobs" / "curate.py").read_bytes()
    stack = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    given = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert given["ArtifactsPrefix"] == prefix
    assert given["WheelFileName"] == result.artifacts.wheel.name
    assert given["GlueRuntimeModules"] == glue_runtime_modules()  # pinned SDK beside the wheel

    # The roles, then every migration (each in one transaction with its version row), the
    # views dropped and created in dependency order in one transaction, then the grants: all
    # in one Data API session on the workgroup, as the deploying identity. moto answers no
    # query with rows: no role and no version table exist yet, so everything is applied.
    migrations = discover(migrations_dir())
    expected = []
    for role in ("rentals_owner", "rentals_job", "rentals_analyst"):
        expected += ["select 1 from svv_roles where role_name = :r", f"create role {role}"]
    expected += [
        'grant create, temp on database "analytics" to role rentals_owner',
        'grant temp on database "analytics" to role rentals_job',
        "revoke create on schema public from public",
        *META_DDL,
    ]
    expected.append(
        "select 1 from information_schema.tables"
        " where table_schema = :schema and table_name = :table"
    )
    for migration in migrations:
        expected.append("begin")
        for path in migration.files:
            expected += split_statements(path.read_text())
        expected += [
            "insert into warehouse_meta.schema_migrations (version, name, applied_at)"
            " values (:v, :n, :at)",
            "commit",
        ]
    views = view_files()
    expected += ["begin", "select table_name from information_schema.views where table_schema = :s"]
    for name in view_order({n: p.read_text() for n, p in views.items()}):
        expected += split_statements(views[name].read_text())
    expected += ["commit", "begin", *split_statements((sql_dir() / "grants.sql").read_text())]
    expected.append("commit")
    backend = redshiftdata_backends[DEFAULT_ACCOUNT_ID][REGION]
    sent = list(backend.statements.values())
    assert [s.query_string.strip() for s in sent] == [e.strip() for e in expected]
    assert len({sessions[s.id] for s in sent}) == 1
    assert result.sql_files == len(migrations) >= 2
    assert not any("merge into" in s.query_string for s in sent)  # merges are the job's

    # The COPY role is associated with the workgroup's namespace (its only role, so also
    # the default UpdateNamespace must be given with the roles).
    role = outputs["RedshiftCopyRoleArn"]
    assert namespace["updates"] == [
        {"namespaceName": "rentals-ns", "iamRoles": [role], "defaultIamRoleArn": role}
    ]
    assert result.copy_role_associated and f"associated the COPY role {role}" in out
    assert "start a run with:" in out and outputs["StateMachineArn"] in out
    assert "aws stepfunctions start-execution" in out


def test_a_second_deploy_of_the_same_code_changes_nothing(
    endpoint, parameters_file, tmp_path, namespace
):
    first, _ = _deploy(endpoint, parameters_file, tmp_path, dry_run=False, namespace=namespace)
    second, out = _deploy(endpoint, parameters_file, tmp_path, dry_run=False, namespace=namespace)
    assert second.artifacts.prefix == first.artifacts.prefix
    assert second.change_set.change_type == "UPDATE"
    assert second.change_set.empty and not second.executed, out
    assert "no changes" in out
    assert len(namespace["updates"]) == 1 and not second.copy_role_associated
    assert "is associated with the namespace of Redshift Serverless workgroup" in out


def test_parameters_are_checked_before_anything_is_built(endpoint, tmp_path):
    bad = tmp_path / "parameters.json"
    bad.write_text(json.dumps({**PARAMETERS, "AuroraPassword": "x"}))
    with pytest.raises(
        deploying.DeployError, match="parameters not in the template: AuroraPassword"
    ):
        _deploy(endpoint, bad, tmp_path, dry_run=True)
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({"ProjectName": "rentals-test"}))
    with pytest.raises(deploying.DeployError, match="required parameters missing.*AuroraSecretArn"):
        _deploy(endpoint, partial, tmp_path, dry_run=True)
    assert not list(tmp_path.glob("build-*/*.whl"))
