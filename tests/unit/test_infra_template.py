"""The CloudFormation template (infra/rental_analytics.yaml) against the deployment contract.

The template is read with cfn-lint's YAML loader and its intrinsic functions are evaluated
for given parameter values by ``tests.support.cfn``, so the tests see the values AWS would
see: job names, bucket names, the Glue jobs' arguments, the policies. What they check: the
contract's parameters and outputs; the state machine is
``workflow/rental_analytics.asl.json`` exactly, with every substitution filled; the jobs'
settings and arguments, parsed by the Glue entrypoints' own parsers from the argv Glue
builds; hardened buckets; the IAM statements (no wildcard action, ``Resource "*"`` only
where AWS accepts nothing else); the schedule of ``workflow/schedule.json``; the crawler
that catalogs the raw Parquet; alerts and alarms; cfn-lint itself; and the template's size,
which must fit CloudFormation's inline limit.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from rental_analytics.aws.packaging import glue_runtime_modules
from rental_analytics.aws.settings import resolve_aws_arguments
from rental_analytics.jobs.args import resolve_job_args
from rental_analytics.lake import raw_batch_path
from rental_analytics.local.orchestration import DEFINITION_FILE, JOBS, SCHEDULE_FILE, substitute
from rental_analytics.sources.tables import all_tables
from tests.support.cfn import (
    ACCOUNT,
    AURORA_SECRET,
    REGION,
    REPO,
    REQUIRED_VALUES,
    TARGETS,
    TEMPLATE_FILE,
    Stack,
    actions_with_resource_types,
    allowed_statements,
    condition_keys,
    listed,
    policy_statements,
    stack,
    template,
)

EXAMPLE_PARAMETERS = REPO / "infra" / "parameters.example.json"

# -- the contract (../notes/aws_contract.md) -------------------------------------------------
CONTRACT_DEFAULTS = {
    "ProjectName": "rental-analytics",
    "GlueWorkerType": "G.1X",
    "GlueNumberOfWorkers": "2",
    "RedshiftWorkgroupName": "",
    "RedshiftClusterIdentifier": "",
    "RedshiftDatabase": "dev",
    "RedshiftSecretArn": "",
    "AlertEmail": "",
    "ScheduleExpression": "cron(0 2 * * ? *)",
    "ScheduleState": "ENABLED",
    "SchemaDrift": "ignore",
    "BookingsLookbackDays": "30",
}
CONTRACT_REQUIRED = {
    "ArtifactsPrefix",
    "WheelFileName",
    "GlueRuntimeModules",
    "AuroraSecretArn",
    "AuroraJdbcUrl",
    "AuroraSubnetId",
    "AuroraSecurityGroupId",
    "AuroraAvailabilityZone",
}
CONTRACT_OUTPUTS = {
    "LakeBucketName",
    "LandingBucketName",
    "ScriptsBucketName",
    "GlueTempBucketName",
    "StateMachineArn",
    "AlertTopicArn",
    "RedshiftCopyRoleArn",
    "GlueJobRoleArn",
    "GlueDatabaseName",
}
BUCKET_PURPOSES = {
    "LakeBucketName": "lake",
    "LandingBucketName": "landing",
    "ScriptsBucketName": "scripts",
    "GlueTempBucketName": "glue-temp",
}

# The only actions allowed with Resource "*", each with the condition key its statement must
# carry ("" for none) and why. All but STAR_EXCEPTIONS accept no other resource (checked
# against cfn-lint's copy of the IAM service reference).
STAR_ONLY_ACTIONS = {
    "ec2:describenetworkinterfaces": ("", "Glue VPC jobs: EC2 Describe* take no resource"),
    "ec2:describeroutetables": ("", "Glue VPC jobs: EC2 Describe* take no resource"),
    "ec2:describesecuritygroups": ("", "Glue VPC jobs: EC2 Describe* take no resource"),
    "ec2:describesubnets": ("", "Glue VPC jobs: EC2 Describe* take no resource"),
    "ec2:describevpcendpoints": ("", "Glue VPC jobs: EC2 Describe* take no resource"),
    # Takes a CloudWatch dataset; metrics published outside one (Glue's) have no resource.
    "cloudwatch:putmetricdata": ("cloudwatch:namespace", "no resource; the namespace is fixed"),
    "redshift-data:describestatement": (
        "redshift-data:statement-owner-iam-userid",
        "acts on a statement id, not a resource: own statements only",
    ),
    "redshift-data:getstatementresult": (
        "redshift-data:statement-owner-iam-userid",
        "acts on a statement id, not a resource: own statements only",
    ),
    "redshift-data:cancelstatement": (
        "redshift-data:statement-owner-iam-userid",
        "acts on a statement id, not a resource: own statements only",
    ),
    # These two do take a workgroup or cluster; a statement in an open Data API session
    # names only the SessionId, so AWS documents Resource "*" limited to own sessions.
    "redshift-data:executestatement": (
        "redshift-data:session-owner-iam-userid",
        "continues a Data API session: own sessions only",
    ),
    "redshift-data:batchexecutestatement": (
        "redshift-data:session-owner-iam-userid",
        "continues a Data API session: own sessions only",
    ),
}
# Of those, the ones that also accept a resource type, used here where none applies.
STAR_EXCEPTIONS = {
    "cloudwatch:putmetricdata",
    "redshift-data:executestatement",
    "redshift-data:batchexecutestatement",
}
# Deny statements may use a service wildcard when they refuse requests without TLS.
TLS_CONDITION_KEYS = {"aws:securetransport", "s3:tlsversion"}


def aws_job_name(project: str, job_name: str) -> str:
    """A Glue job is named after its job, behind the stack's project name."""
    return f"{project}-{job_name}"


def _all_states(states: dict) -> dict:
    found = {}
    for name, state in states.items():
        found[name] = state
        for branch in state.get("Branches", []):
            found |= _all_states(branch["States"])
    return found


# -- parameters, outputs --------------------------------------------------------------------
def test_parameters_are_the_contracts():
    params = template()["Parameters"]
    assert set(params) == set(CONTRACT_DEFAULTS) | CONTRACT_REQUIRED
    assert {n: str(p["Default"]) for n, p in params.items() if "Default" in p} == CONTRACT_DEFAULTS
    assert params["ProjectName"]["AllowedPattern"] == "^[a-z][a-z0-9-]{2,30}$"
    assert params["GlueWorkerType"]["AllowedValues"] == ["G.1X", "G.2X", "G.4X", "G.8X"]
    assert params["GlueNumberOfWorkers"]["MinValue"] == 2
    assert params["ScheduleState"]["AllowedValues"] == ["ENABLED", "DISABLED"]
    assert params["SchemaDrift"]["AllowedValues"] == ["ignore", "fail"]


def test_the_example_parameters_are_template_parameters():
    example = json.loads(EXAMPLE_PARAMETERS.read_text())
    params = template()["Parameters"]
    assert set(example) <= set(params)
    computed = {"ArtifactsPrefix", "WheelFileName", "GlueRuntimeModules"}
    assert CONTRACT_REQUIRED - computed <= set(example), (
        "the example gives every required parameter but those `rentals deploy` computes"
    )
    for name, value in example.items():
        pattern = params[name].get("AllowedPattern")
        assert pattern is None or re.fullmatch(pattern, str(value)), (name, value)


def test_outputs_are_the_contracts():
    assert set(template()["Outputs"]) == CONTRACT_OUTPUTS
    s = stack(ProjectName="rentals-test")
    for output, purpose in BUCKET_PURPOSES.items():
        assert s.output(output) == f"rentals-test-{purpose}-{ACCOUNT}-{REGION}"
    assert s.output("StateMachineArn") == (
        f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:rentals-test"
    )
    assert s.output("AlertTopicArn") == f"arn:aws:sns:{REGION}:{ACCOUNT}:rentals-test-alerts"
    assert s.output("GlueDatabaseName") == "rentals_test_lake"


@pytest.mark.parametrize(
    ("workgroup", "cluster", "accepted"),
    [("wg", "", True), ("", "dw", True), ("", "", False), ("wg", "dw", False)],
)
def test_rules_want_exactly_one_redshift_target(workgroup, cluster, accepted):
    s = Stack(RedshiftWorkgroupName=workgroup, RedshiftClusterIdentifier=cluster)
    rules = template()["Rules"]
    results = [s.truth(a["Assert"]) for rule in rules.values() for a in rule["Assertions"]]
    assert all(results) is accepted


# -- the state machine ------------------------------------------------------------------------
def test_state_machine_definition_is_the_asl_file():
    props = template()["Resources"]["StateMachine"]["Properties"]
    assert "DefinitionString" not in props and "DefinitionS3Location" not in props
    assert props["Definition"] == json.loads(DEFINITION_FILE.read_text())


def test_substitutions_fill_every_placeholder_of_the_definition():
    s = stack()
    props = s.props("StateMachine")
    subs = props["DefinitionSubstitutions"]
    placeholders = set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", DEFINITION_FILE.read_text()))
    assert set(subs) == placeholders
    # Each job's substitution is the job the contract names, running the state's job.
    for job in JOBS:
        assert subs[job.substitution] == aws_job_name("rental-analytics", job.name)
    assert subs["AlertTopicArn"] == s.output("AlertTopicArn")
    filled = json.loads(substitute(DEFINITION_FILE.read_text(), subs))
    states = _all_states(filled["States"])
    for job in JOBS:
        assert states[job.state]["Parameters"]["JobName"] == subs[job.substitution]
    assert props["StateMachineName"] == "rental-analytics"
    assert props["StateMachineType"] == "STANDARD"


def test_schedule_is_schedule_json():
    s = stack()
    expected = json.loads(SCHEDULE_FILE.read_text())
    schedule = s.props("DailySchedule")
    target = schedule.pop("Target")
    expected_target = expected.pop("Target")
    assert target["Arn"] == s.output("StateMachineArn")
    assert target["RoleArn"] == s.get_att("SchedulerRole", "Arn")
    assert expected_target["Arn"] == "${StateMachineArn}"
    assert expected_target["RoleArn"] == "${SchedulerRoleArn}"
    assert {k: v for k, v in target.items() if k not in ("Arn", "RoleArn")} == {
        k: v for k, v in expected_target.items() if k not in ("Arn", "RoleArn")
    }
    assert target["Input"] == '{"run_date": "<aws.scheduler.scheduled-time>"}'
    assert schedule.pop("GroupName") == "rental-analytics"
    assert schedule == expected


# -- the Glue jobs ---------------------------------------------------------------------------
def _jobs(s: Stack) -> dict[str, dict[str, Any]]:
    """The template's Glue jobs by local job name (via the state machine's substitutions)."""
    subs = s.t["Resources"]["StateMachine"]["Properties"]["DefinitionSubstitutions"]
    jobs = s.of_type("AWS::Glue::Job")
    assert len(jobs) == len(JOBS)
    return {job.name: jobs[subs[job.substitution]["Ref"]] for job in JOBS}


def test_glue_jobs_are_glue_5_1_one_run_at_a_time_in_the_vpc():
    s = stack(GlueWorkerType="G.2X", GlueNumberOfWorkers="5")
    connection = s.physical_name("AuroraConnection")
    for job in JOBS:
        spec = _jobs(s)[job.name]
        assert spec["Name"] == aws_job_name("rental-analytics", job.name)
        assert spec["GlueVersion"] == "5.1"
        assert spec["Command"] == {
            "Name": "glueetl",
            "PythonVersion": "3",
            "ScriptLocation": f"s3://rental-analytics-scripts-{ACCOUNT}-{REGION}/"
            f"artifacts/0.1.0-abc1234/glue_jobs/{job.script}",
        }
        assert spec["ExecutionProperty"] == {"MaxConcurrentRuns": 1}
        assert spec["MaxRetries"] == 0
        assert (spec["WorkerType"], spec["NumberOfWorkers"]) == ("G.2X", "5")
        assert spec["Connections"] == {"Connections": [connection]}
        assert spec["Role"] == s.output("GlueJobRoleArn")


def test_the_aurora_connection():
    s = stack()
    (conn,) = s.of_type("AWS::Glue::Connection").values()
    spec = conn["ConnectionInput"]
    assert spec["ConnectionType"] == "JDBC"
    assert spec["ConnectionProperties"] == {
        "JDBC_CONNECTION_URL": REQUIRED_VALUES["AuroraJdbcUrl"],
        "SECRET_ID": AURORA_SECRET,
    }
    assert spec["PhysicalConnectionRequirements"] == {
        "SubnetId": REQUIRED_VALUES["AuroraSubnetId"],
        "SecurityGroupIdList": [REQUIRED_VALUES["AuroraSecurityGroupId"]],
        "AvailabilityZone": REQUIRED_VALUES["AuroraAvailabilityZone"],
    }


def _contract_arguments(s: Stack, target: dict[str, str]) -> dict[str, str]:
    lake = f"rental-analytics-lake-{ACCOUNT}-{REGION}"
    return {
        "--job-language": "python",
        "--environment": "aws",
        "--lake_root": f"s3://{lake}/lake",
        "--landing_root": f"s3://rental-analytics-landing-{ACCOUNT}-{REGION}/landing",
        "--state_root": f"s3://{lake}/state",
        "--source_secret_id": AURORA_SECRET,
        "--redshift_database": "dev",
        "--redshift_workgroup": target.get("RedshiftWorkgroupName", ""),
        "--redshift_cluster_id": target.get("RedshiftClusterIdentifier", ""),
        "--redshift_secret_arn": target.get("RedshiftSecretArn", ""),
        "--redshift_copy_role_arn": s.output("RedshiftCopyRoleArn"),
        "--schema_drift": "ignore",
        "--bookings_lookback_days": "30",
        "--additional-python-modules": f"s3://rental-analytics-scripts-{ACCOUNT}-{REGION}/"
        "artifacts/0.1.0-abc1234/rental_analytics-0.1.0-py3-none-any.whl," + glue_runtime_modules(),
        "--python-modules-installer-option": "--no-deps",
        "--TempDir": f"s3://rental-analytics-glue-temp-{ACCOUNT}-{REGION}/temporary/",
        "--job-bookmark-option": "job-bookmark-disable",
        "--enable-continuous-cloudwatch-log": "true",
        "--enable-metrics": "true",
    }


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_default_arguments_are_the_contracts(target):
    s = stack(target)
    for job in JOBS:
        expected = _contract_arguments(s, TARGETS[target]) | job.default_arguments
        assert _jobs(s)[job.name]["DefaultArguments"] == expected, job.name


def _run_arguments(state: dict[str, Any], run_date: str, full_refresh: str, execution: str):
    """The Arguments a state passes to StartJobRun, its JSONPaths evaluated as Step
    Functions does on the state input after ResolveRunDate."""
    values = {
        "$.run_date": run_date,
        "$.full_refresh": full_refresh,
        "$$.Execution.Name": execution,
    }
    out = {}
    for key, value in state["Parameters"]["Arguments"].items():
        if key.endswith(".$"):
            assert value in values, f"a new path in the definition: {value} (extend this test)"
            out[key[:-2]] = values[value]
        else:
            out[key] = value
    return out


def _glue_argv(script: str, arguments: dict[str, str], job_name: str, run_id: str, empties: str):
    """sys.argv of a Glue job run: the script, the job's DefaultArguments overridden by the
    run's Arguments, and Glue's own. ``empties``: an empty value is kept as "" or dropped
    (both forms are accepted by the parsers)."""
    argv = [script]
    for key, value in arguments.items():
        argv.append(key)
        if value != "" or empties == "kept":
            argv.append(value)
    return [*argv, "--JOB_ID", "j_0123abcd", "--JOB_RUN_ID", run_id, "--JOB_NAME", job_name]


@pytest.mark.parametrize("target", sorted(TARGETS))
@pytest.mark.parametrize("empties", ["kept", "dropped"])
@pytest.mark.parametrize("full_refresh", ["none", "bookings,vehicles"])
@pytest.mark.parametrize("job", JOBS, ids=lambda j: j.name)
def test_entrypoints_parse_the_argv_glue_passes(job, full_refresh, empties, target):
    s = stack(target)
    spec = _jobs(s)[job.name]
    states = _all_states(json.loads(DEFINITION_FILE.read_text())["States"])
    execution = "c0ffee00-1234-4abc-8def-0123456789ab"
    run = _run_arguments(states[job.state], "2025-03-31", full_refresh, execution)
    argv = _glue_argv(
        job.script,
        spec["DefaultArguments"] | run,
        spec["Name"],
        "jr_0123456789abcdef",
        empties,
    )

    args = resolve_job_args(argv)
    assert args.job_name == spec["Name"]
    assert args.job_run_id == "jr_0123456789abcdef"
    assert args.run_date == date(2025, 3, 31)
    assert args.run_id == execution
    assert args.domain == job.default_arguments.get("--domain", "")
    assert args.environment == "aws"
    assert args.full_refresh == (() if full_refresh == "none" else ("bookings", "vehicles"))

    aws = resolve_aws_arguments(argv)
    expected = _contract_arguments(s, TARGETS[target])
    assert aws.lake_root == expected["--lake_root"]
    assert aws.landing_root == expected["--landing_root"]
    assert aws.state_root == expected["--state_root"]
    assert aws.source_secret_id == AURORA_SECRET
    assert aws.redshift_database == "dev"
    assert aws.redshift_workgroup == expected["--redshift_workgroup"]
    assert aws.redshift_cluster_id == expected["--redshift_cluster_id"]
    assert aws.redshift_secret_arn == expected["--redshift_secret_arn"]
    assert aws.redshift_copy_role_arn == s.output("RedshiftCopyRoleArn")
    assert aws.schema_drift == "ignore"
    assert aws.bookings_lookback_days == 30


@pytest.mark.parametrize("target", sorted(TARGETS))
@pytest.mark.parametrize("job", JOBS, ids=lambda j: j.name)
def test_a_job_started_by_hand_runs_on_its_default_arguments_alone(job, target):
    """ "Run job" in the Glue console or `aws glue start-job-run --job-name J`: Glue passes
    the job's DefaultArguments and its own, nothing from the state machine."""
    from datetime import UTC, datetime

    s = stack(target)
    spec = _jobs(s)[job.name]
    argv = _glue_argv(job.script, spec["DefaultArguments"], spec["Name"], "jr_0abc", "kept")
    before = datetime.now(UTC).date()
    args = resolve_job_args(argv)
    assert before <= args.run_date <= datetime.now(UTC).date()
    assert not args.run_date_given
    assert args.run_id == "" and args.full_refresh == ()
    assert args.domain == job.default_arguments.get("--domain", "")
    assert args.environment == "aws"
    assert (
        resolve_aws_arguments(argv).lake_root
        == _contract_arguments(s, TARGETS[target])["--lake_root"]
    )


# -- buckets ----------------------------------------------------------------------------------
def test_buckets_are_encrypted_private_and_tls_only():
    s = stack()
    buckets = s.of_type("AWS::S3::Bucket")
    assert {p["BucketName"] for p in buckets.values()} == {s.output(o) for o in BUCKET_PURPOSES}
    policies = {
        p["Bucket"]: p["PolicyDocument"] for p in s.of_type("AWS::S3::BucketPolicy").values()
    }
    for logical, p in buckets.items():
        name, arn = p["BucketName"], s.get_att(logical, "Arn")
        (rule,) = p["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
        assert p["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert p["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        tls_denials = [
            st
            for st in policies[name]["Statement"]
            if st["Effect"] == "Deny"
            and st["Principal"] == "*"
            and st["Action"] == "s3:*"
            and st.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        ]
        assert len(tls_denials) == 1, name
        assert sorted(tls_denials[0]["Resource"]) == sorted([arn, f"{arn}/*"])


def test_glue_temp_expires_and_scripts_are_versioned():
    s = stack()
    by_name = {p["BucketName"]: p for p in s.of_type("AWS::S3::Bucket").values()}
    temp = by_name[s.output("GlueTempBucketName")]
    expiring = [
        r
        for r in temp["LifecycleConfiguration"]["Rules"]
        if r["Status"] == "Enabled" and "Prefix" not in r and "Filter" not in r
    ]
    assert any(0 < r.get("ExpirationInDays", 0) <= 30 for r in expiring)
    scripts = by_name[s.output("ScriptsBucketName")]
    assert scripts["VersioningConfiguration"] == {"Status": "Enabled"}


# -- IAM ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_no_statement_grants_a_wildcard_action(target):
    for logical, _, st in policy_statements(target):
        assert "NotAction" not in st and "NotResource" not in st, logical
        for action in listed(st["Action"]):
            if "*" not in action:
                continue
            assert st["Effect"] == "Deny", f"{logical}: Allow {action}"
            assert condition_keys(st) & TLS_CONDITION_KEYS, (
                f"{logical}: Deny {action} is not a TLS-only statement"
            )


def test_the_star_only_actions_take_no_resource_in_the_iam_reference():
    known = actions_with_resource_types()
    for action in STAR_ONLY_ACTIONS:
        assert action in known, action
        assert known[action] is (action in STAR_EXCEPTIONS), f"{action} takes a resource: name it"


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_resource_star_only_for_actions_that_take_nothing_else(target):
    for logical, kind, st in policy_statements(target):
        resources = listed(st.get("Resource", []))
        if kind == "key" or kind == "trust" or "*" not in resources:
            continue  # in a key policy "*" is the key itself
        assert kind == "identity", f"{logical}: a {kind} policy names its resources"
        assert st["Effect"] == "Allow"
        for action in listed(st["Action"]):
            assert action.lower() in STAR_ONLY_ACTIONS, f'{logical}: {action} on "*"'
            required, _why = STAR_ONLY_ACTIONS[action.lower()]
            if required:
                assert required in condition_keys(st), f"{logical}: {action} without {required}"


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_every_action_exists(target):
    known = actions_with_resource_types()
    for logical, kind, st in policy_statements(target):
        for action in listed(st["Action"]):
            if kind == "trust" or "*" in action:
                continue
            assert action.lower() in known, f"{logical}: unknown action {action}"


EXPECTED_TRUST = {
    "GlueJobRole": ["glue.amazonaws.com"],
    "CrawlerRole": ["glue.amazonaws.com"],
    "StateMachineRole": ["states.amazonaws.com"],
    "SchedulerRole": ["scheduler.amazonaws.com"],
    "CatalogEventsRole": ["events.amazonaws.com"],
    "RedshiftCopyRole": ["redshift.amazonaws.com", "redshift-serverless.amazonaws.com"],
}


def test_each_role_is_assumed_by_its_service_only():
    s = stack()
    roles = s.of_type("AWS::IAM::Role")
    assert set(roles) == set(EXPECTED_TRUST)
    for logical, p in roles.items():
        (st,) = p["AssumeRolePolicyDocument"]["Statement"]
        assert st["Effect"] == "Allow" and st["Action"] == "sts:AssumeRole"
        assert set(st["Principal"]) == {"Service"}
        assert sorted(listed(st["Principal"]["Service"])) == sorted(EXPECTED_TRUST[logical])
        assert "ManagedPolicyArns" not in p, f"{logical}: inline, least-privilege policies only"


def test_state_machine_role_runs_the_four_jobs_and_publishes_alerts():
    s = stack()
    statements = allowed_statements(s, "StateMachineRole")
    job_arns = sorted(
        f"arn:aws:glue:{REGION}:{ACCOUNT}:job/{aws_job_name('rental-analytics', j.name)}"
        for j in JOBS
    )
    grants = {a: sorted(listed(st["Resource"])) for st in statements for a in listed(st["Action"])}
    assert grants == {
        "glue:StartJobRun": job_arns,
        "glue:GetJobRun": job_arns,
        "glue:GetJobRuns": job_arns,
        "glue:BatchStopJobRun": job_arns,
        "sns:Publish": [s.output("AlertTopicArn")],
        "kms:GenerateDataKey": [s.get_att("AlertsKey", "Arn")],
        "kms:Decrypt": [s.get_att("AlertsKey", "Arn")],
    }


def test_scheduler_role_only_starts_the_state_machine():
    s = stack()
    (st,) = allowed_statements(s, "SchedulerRole")
    assert (st["Action"], st["Resource"]) == ("states:StartExecution", s.output("StateMachineArn"))


def test_copy_role_reads_the_lake_only():
    s = stack()
    lake = s.get_att("LakeBucket", "Arn")
    for st in allowed_statements(s, "RedshiftCopyRole"):
        assert set(listed(st["Action"])) <= {
            "s3:GetObject",
            "s3:ListBucket",
            "s3:GetBucketLocation",
        }
        for resource in listed(st["Resource"]):
            assert resource == lake or resource.startswith(f"{lake}/lake/"), resource


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_glue_job_role_reaches_only_the_project_and_its_targets(target):
    s = stack(target)
    buckets = {s.get_att(b, "Arn") for b in s.of_type("AWS::S3::Bucket")}
    secrets = {AURORA_SECRET, TARGETS[target].get("RedshiftSecretArn", AURORA_SECRET)}
    actions = set()
    for st in allowed_statements(s, "GlueJobRole"):
        for action in listed(st["Action"]):
            actions.add(action)
            for resource in listed(st["Resource"]):
                if action.startswith("s3:"):
                    assert resource.split("/")[0] in buckets, resource
                elif action.startswith("secretsmanager:"):
                    assert resource in secrets, resource
                elif action.startswith("glue:"):
                    assert resource.endswith(
                        (":catalog", f":connection/{s.physical_name('AuroraConnection')}")
                    )
                elif action.startswith("logs:"):
                    assert ":log-group:/aws-glue/jobs/" in resource, resource
    assert "secretsmanager:GetSecretValue" in actions
    iam_credentials = {
        "serverless": {"redshift-serverless:GetCredentials"},
        "cluster-iam": {"redshift:GetClusterCredentialsWithIAM"},
        "cluster-secret": set(),  # the cluster user's secret instead
    }[target]
    assert {a for a in actions if "Credentials" in a} == iam_credentials


# -- the Data Catalog over the raw Parquet ----------------------------------------------------
def _raw_table_folders(s: Stack) -> dict[str, str]:
    """raw_<table> -> the table's folder (s3://.../lake/raw/<domain>/<table>/), from the lake
    layout the jobs write (rental_analytics/lake.py) and the table specs."""
    lake_root = f"s3://{s.output('LakeBucketName')}/lake"
    folders = {}
    for spec in all_tables():
        path = raw_batch_path(lake_root, spec.domain, spec.name, "D", "B")
        folder, partitions = path.split("/run_date=")
        assert partitions == "D/batch_id=B", "the partition folders below a table changed"
        folders[f"raw_{spec.name}"] = f"{folder}/"
    return folders


def _crawler(s: Stack) -> dict[str, Any]:
    (crawler,) = s.of_type("AWS::Glue::Crawler").values()
    return crawler


def test_the_crawler_targets_exactly_the_raw_table_folders():
    s = stack()
    assert s.of_type("AWS::Glue::Table") == {}, (
        "the crawler creates and updates the raw tables: a table declared in the template "
        "would be changed by both"
    )
    crawler = _crawler(s)
    assert crawler["DatabaseName"] == s.output("GlueDatabaseName")
    assert set(crawler["Targets"]) == {"S3Targets"}
    targets = crawler["Targets"]["S3Targets"]
    assert all(set(t) == {"Path"} for t in targets), "no exclusions or sampling: every file"
    # The crawler names a table after its folder, with TablePrefix in front.
    named = {
        crawler["TablePrefix"] + t["Path"].rstrip("/").rsplit("/", 1)[1]: t["Path"] for t in targets
    }
    assert len(named) == len(targets), "two targets would make the same table name"
    assert named == _raw_table_folders(s)


def test_each_target_folder_becomes_one_table_partitioned_by_its_batches():
    s = stack()
    config = json.loads(_crawler(s)["Configuration"])
    grouping = config["Grouping"]
    # TableLevelConfiguration is absolute, the bucket being level 1: the tables sit at the
    # level of the table folders (bucket/lake/raw/<domain>/<table>), so the run_date=/
    # batch_id= folders below are partitions and sibling tables are never merged.
    levels = {len(path.removeprefix("s3://").rstrip("/").split("/")) for path in
              _raw_table_folders(s).values()}  # fmt: skip
    assert levels == {grouping["TableLevelConfiguration"]}
    # One schema per target even when batches differ (a column added in a release).
    assert grouping["TableGroupingPolicy"] == "CombineCompatibleSchemas"
    # Partitions take the table's schema: Athena reads old batches with the current columns.
    assert config["CrawlerOutput"]["Partitions"]["AddOrUpdateBehavior"] == "InheritFromTable"


def test_the_crawler_updates_schemas_logs_deletions_and_runs_after_each_execution():
    s = stack()
    crawler = _crawler(s)
    assert crawler["SchemaChangePolicy"] == {
        "UpdateBehavior": "UPDATE_IN_DATABASE",
        "DeleteBehavior": "LOG",
    }
    # A crawler of new folders only cannot update a schema.
    assert crawler["RecrawlPolicy"] == {"RecrawlBehavior": "CRAWL_EVERYTHING"}
    assert "Schedule" not in crawler
    (trigger,) = s.of_type("AWS::Glue::Trigger").values()
    assert trigger["Type"] == "EVENT"
    # An EVENT trigger is created deactivated unless told to start (AWS::Glue::Trigger).
    assert trigger["StartOnCreation"] is True
    assert trigger["Actions"] == [{"CrawlerName": crawler["Name"]}]
    (rule,) = s.of_type("AWS::Events::Rule").values()
    assert rule["EventPattern"]["source"] == ["aws.states"]
    assert rule["EventPattern"]["detail"]["stateMachineArn"] == [s.output("StateMachineArn")]
    # Every end, a failed one included: an execution may fail after committed extracts.
    assert sorted(rule["EventPattern"]["detail"]["status"]) == [
        "ABORTED",
        "FAILED",
        "SUCCEEDED",
        "TIMED_OUT",
    ]
    (event_target,) = rule["Targets"]
    assert event_target["Arn"].endswith(f":workflow/{trigger['WorkflowName']}")


def test_crawler_role_reads_the_raw_prefix_and_catalogs_the_lake_database_only():
    s = stack()
    lake, database = s.get_att("LakeBucket", "Arn"), s.output("GlueDatabaseName")
    glue = f"arn:aws:glue:{REGION}:{ACCOUNT}"
    catalog = {f"{glue}:catalog", f"{glue}:database/{database}", f"{glue}:table/{database}/raw_*"}
    actions = set()
    for st in allowed_statements(s, "CrawlerRole"):
        resources = listed(st["Resource"])
        for action in listed(st["Action"]):
            actions.add(action)
            if action == "s3:GetObject":
                assert resources == [f"{lake}/lake/raw/*"]
            elif action == "s3:ListBucket":
                assert resources == [lake]
                prefixes = st["Condition"]["StringLike"]["s3:prefix"]
                assert all(p.startswith("lake/raw") for p in prefixes), prefixes
            elif action == "s3:GetBucketLocation":  # crawlers ask the bucket's region first
                assert resources == [lake]
            elif action.startswith("glue:"):
                assert set(resources) == catalog, action
            else:
                assert action.startswith("logs:"), action
                assert all(":log-group:/aws-glue/crawlers" in r for r in resources), resources
    assert {"glue:CreateTable", "glue:UpdateTable", "glue:BatchCreatePartition"} <= actions
    assert not [a for a in actions if a.startswith("glue:Delete")], "deletions are only logged"
    assert {a for a in actions if a.startswith("s3:")} == {
        "s3:GetObject",
        "s3:ListBucket",
        "s3:GetBucketLocation",
    }


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_the_aurora_secret_decrypts_through_secrets_manager_only(target):
    """A secret under a customer-managed key needs kms:Decrypt; only via Secrets Manager, and
    only for the Aurora secret (its SecretARN encryption context)."""
    s = stack(target)
    (st,) = [
        st for st in allowed_statements(s, "GlueJobRole") if "kms:Decrypt" in listed(st["Action"])
    ]
    assert listed(st["Action"]) == ["kms:Decrypt"]
    assert listed(st["Resource"]) == [f"arn:aws:kms:{REGION}:{ACCOUNT}:key/*"]
    condition = st["Condition"]["StringEquals"]
    assert condition["kms:ViaService"] == f"secretsmanager.{REGION}.amazonaws.com"
    assert condition["kms:EncryptionContext:SecretARN"] == AURORA_SECRET


def test_describe_vpc_attribute_is_scoped_to_vpcs_as_the_iam_reference_allows():
    """Unlike the other EC2 Describe* calls, DescribeVpcAttribute takes a vpc resource in the
    Service Authorization Reference (cfn-lint's copy), so vpc/* is a valid scope."""
    import cfnlint

    data = json.loads(
        (Path(cfnlint.__file__).parent / "data/AdditionalSpecs/Policies.json").read_text()
    )
    assert data["ec2"]["Actions"]["describevpcattribute"]["Resources"] == ["vpc"]
    s = stack()
    (st,) = [
        st
        for st in allowed_statements(s, "GlueJobRole")
        if "ec2:DescribeVpcAttribute" in listed(st["Action"])
    ]
    assert listed(st["Resource"]) == [f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/*"]


# -- size ----------------------------------------------------------------------------------------
MAX_INLINE_BODY = 45_000


def test_the_template_fits_inline_with_a_margin():
    from rental_analytics.aws.deploy import MAX_TEMPLATE_BODY, load_template

    body = json.dumps(load_template(TEMPLATE_FILE), separators=(",", ":"), default=str)
    size = len(body.encode())
    assert MAX_INLINE_BODY < MAX_TEMPLATE_BODY
    assert size <= MAX_INLINE_BODY, (
        f"{TEMPLATE_FILE.name} is {size:,} bytes as compact JSON: `rentals deploy` sends it "
        f"inline (a first deploy has no bucket for a TemplateURL) and CloudFormation takes at "
        f"most {MAX_TEMPLATE_BODY:,}; keep {MAX_INLINE_BODY:,} or less (long texts go in YAML "
        "comments)"
    )


# -- alerts --------------------------------------------------------------------------------------
def test_alert_topic_is_encrypted_and_the_alarm_publishes_to_it():
    s = stack()
    (topic,) = s.of_type("AWS::SNS::Topic").values()
    assert topic["KmsMasterKeyId"] == s.physical_name("AlertsKey")
    key = s.props("AlertsKey")
    assert key["EnableKeyRotation"] is True
    assert any(
        st["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
        and {"kms:Decrypt", "kms:GenerateDataKey"} <= set(st["Action"])
        for st in key["KeyPolicy"]["Statement"]
    ), "CloudWatch alarms must be able to use the topic's key"
    alarms = {p["MetricName"]: p for p in s.of_type("AWS::CloudWatch::Alarm").values()}
    failed = alarms["ExecutionsFailed"]
    assert failed["Namespace"] == "AWS/States"
    assert failed["Dimensions"] == [
        {"Name": "StateMachineArn", "Value": s.output("StateMachineArn")}
    ]
    assert failed["AlarmActions"] == [s.output("AlertTopicArn")]
    assert failed["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert failed["Threshold"] == 1


def test_the_email_subscription_is_optional():
    assert stack().of_type("AWS::SNS::Subscription") == {}
    (sub,) = stack(AlertEmail="oncall@example.com").of_type("AWS::SNS::Subscription").values()
    assert sub == {
        "TopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:rental-analytics-alerts",
        "Protocol": "email",
        "Endpoint": "oncall@example.com",
    }


# -- cfn-lint ----------------------------------------------------------------------------------
def test_cfn_lint_is_clean():
    cfn_lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent))
    assert cfn_lint, "cfn-lint is a dev dependency: make setup"
    proc = subprocess.run(
        [cfn_lint, str(TEMPLATE_FILE), "--include-checks", "I"], capture_output=True, text=True
    )
    assert (proc.returncode, proc.stdout + proc.stderr) == (0, "")
