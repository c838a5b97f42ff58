"""The COPY role's association by `rentals deploy`, against botocore's Stubber: moto 5.2.1
models neither Redshift Serverless namespaces nor ModifyClusterIamRoles, so each call is
checked against the service model and scripted here."""

import boto3
import pytest
from botocore.stub import Stubber

from rental_analytics.aws import deploy as deploying
from rental_analytics.aws.copy_role import (
    CopyRoleError,
    associate_copy_role,
    association_commands,
    copy_role_refused,
    refuses_copy_role,
    role_arns,
)
from rental_analytics.config import RedshiftSettings

REGION = "eu-west-1"
ROLE = "arn:aws:iam::123456789012:role/rentals-redshift-copy"
OTHER = "arn:aws:iam::123456789012:role/service-role/AmazonRedshift-CommandsAccessRole"
SERVERLESS = RedshiftSettings(
    database="dev", copy_role_arn=ROLE, workgroup="rentals-wg", region=REGION
)
CLUSTER = RedshiftSettings(
    database="dev",
    copy_role_arn=ROLE,
    cluster_id="rentals-cluster",
    secret_arn="arn:aws:secretsmanager:eu-west-1:123456789012:secret:rs-AbCdEf",
    region=REGION,
)


def _client(service: str):
    client = boto3.client(
        service, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    return client, Stubber(client)


def _workgroup(stub):
    stub.add_response(
        "get_workgroup",
        {"workgroup": {"workgroupName": "rentals-wg", "namespaceName": "rentals-ns"}},
        {"workgroupName": "rentals-wg"},
    )


def _namespace(stub, roles, default=None):
    namespace = {"namespaceName": "rentals-ns", "iamRoles": roles}
    if default:
        namespace["defaultIamRoleArn"] = default
    stub.add_response("get_namespace", {"namespace": namespace}, {"namespaceName": "rentals-ns"})


def test_namespace_roles_are_read_in_every_shape_getnamespace_returns():
    assert role_arns(
        [
            f"IamRole(applyStatus=in-sync, iamRoleArn={OTHER})",
            f"IamRole(iamRoleArn={ROLE}, applyStatus=adding)",
            ROLE,
            "garbage",
        ]
    ) == [OTHER, ROLE]


def test_serverless_keeps_the_namespace_roles_and_default_and_adds_ours():
    client, stub = _client("redshift-serverless")
    _workgroup(stub)
    _namespace(stub, [f"IamRole(applyStatus=in-sync, iamRoleArn={OTHER})"], default=OTHER)
    stub.add_response(
        "update_namespace",
        {"namespace": {"namespaceName": "rentals-ns"}},
        {"namespaceName": "rentals-ns", "iamRoles": [OTHER, ROLE], "defaultIamRoleArn": OTHER},
    )
    with stub:
        assert associate_copy_role(SERVERLESS, ROLE, client) is True
    stub.assert_no_pending_responses()


def test_serverless_without_a_default_role_makes_ours_the_default():
    # UpdateNamespace takes iamRoles only together with defaultIamRoleArn.
    client, stub = _client("redshift-serverless")
    _workgroup(stub)
    _namespace(stub, [])
    stub.add_response(
        "update_namespace",
        {"namespace": {"namespaceName": "rentals-ns"}},
        {"namespaceName": "rentals-ns", "iamRoles": [ROLE], "defaultIamRoleArn": ROLE},
    )
    with stub:
        assert associate_copy_role(SERVERLESS, ROLE, client) is True
    stub.assert_no_pending_responses()


def test_serverless_already_associated_changes_nothing():
    client, stub = _client("redshift-serverless")
    _workgroup(stub)
    _namespace(stub, [f"IamRole(iamRoleArn={ROLE}, applyStatus=in-sync)"])
    with stub:  # no update_namespace scripted: calling it would fail the test
        assert associate_copy_role(SERVERLESS, ROLE, client) is False
    stub.assert_no_pending_responses()


def test_cluster_adds_the_role_unless_it_has_it():
    client, stub = _client("redshift")
    stub.add_response(
        "describe_clusters",
        {"Clusters": [{"ClusterIdentifier": "rentals-cluster", "IamRoles": [
            {"IamRoleArn": OTHER, "ApplyStatus": "in-sync"},
            {"IamRoleArn": ROLE, "ApplyStatus": "removing"},
        ]}]},
        {"ClusterIdentifier": "rentals-cluster"},
    )  # fmt: skip
    stub.add_response(
        "modify_cluster_iam_roles",
        {"Cluster": {"ClusterIdentifier": "rentals-cluster"}},
        {"ClusterIdentifier": "rentals-cluster", "AddIamRoles": [ROLE]},
    )
    stub.add_response(
        "describe_clusters",
        {"Clusters": [{"ClusterIdentifier": "rentals-cluster", "IamRoles": [
            {"IamRoleArn": ROLE, "ApplyStatus": "adding"},
        ]}]},
        {"ClusterIdentifier": "rentals-cluster"},
    )  # fmt: skip
    with stub:
        assert associate_copy_role(CLUSTER, ROLE, client) is True
        assert associate_copy_role(CLUSTER, ROLE, client) is False
    stub.assert_no_pending_responses()


def test_deploy_stops_with_the_exact_command_when_it_may_not_update_the_namespace():
    client, stub = _client("redshift-serverless")
    _workgroup(stub)
    _namespace(stub, [f"IamRole(applyStatus=in-sync, iamRoleArn={OTHER})"], default=OTHER)
    stub.add_client_error(
        "update_namespace",
        service_error_code="AccessDeniedException",
        service_message="User is not authorized to perform: redshift-serverless:UpdateNamespace",
        http_status_code=400,
    )
    lines: list[str] = []
    with stub, pytest.raises(deploying.DeployError) as raised:
        deploying.associate_role(SERVERLESS, ROLE, client, lines.append)
    message = str(raised.value)
    assert "AccessDeniedException" in message and "iam:PassRole" in message
    assert (
        "  aws redshift-serverless update-namespace --region eu-west-1 --namespace-name "
        f"rentals-ns --iam-roles {OTHER} {ROLE} --default-iam-role-arn {OTHER}"
    ) in message.splitlines()
    assert lines == []


def test_without_read_access_the_steps_say_how_to_find_the_namespace_roles():
    client, stub = _client("redshift-serverless")
    stub.add_client_error(
        "get_workgroup", service_error_code="AccessDeniedException", http_status_code=400
    )
    with stub, pytest.raises(CopyRoleError) as raised:
        associate_copy_role(SERVERLESS, ROLE, client)
    commands = [line.strip() for line in str(raised.value).splitlines() if "  aws " in line]
    assert commands == association_commands(SERVERLESS, ROLE)
    assert commands[0].startswith("aws redshift-serverless get-workgroup --region eu-west-1")
    assert commands[1].startswith("aws redshift-serverless get-namespace")
    assert "update-namespace" in commands[2] and ROLE in commands[2]


def test_cluster_refusal_names_modify_cluster_iam_roles():
    client, stub = _client("redshift")
    stub.add_client_error(
        "describe_clusters", service_error_code="AccessDenied", http_status_code=403
    )
    with stub, pytest.raises(CopyRoleError) as raised:
        associate_copy_role(CLUSTER, ROLE, client)
    assert (
        "aws redshift modify-cluster-iam-roles --region eu-west-1 --cluster-identifier "
        f"rentals-cluster --add-iam-roles {ROLE}"
    ) in str(raised.value)


@pytest.mark.parametrize(
    "error",
    [
        # provisioned
        "ERROR: User arn:aws:redshift:eu-west-1:123456789012:dbuser:rentals-cluster/glue is "
        f"not authorized to assume IAM Role {ROLE}",
        # Serverless
        f"ERROR: Not authorized to get credentials of role {ROLE}",
    ],
)
def test_redshift_refusing_the_role_is_recognised(error):
    assert refuses_copy_role(error)


def test_other_copy_errors_are_not_taken_for_the_role():
    assert not refuses_copy_role("ERROR: Spectrum Scan Error: S3 key does not exist")


def test_load_raw_advice_names_the_role_and_the_command():
    message = copy_role_refused(CLUSTER, ROLE)
    assert ROLE in message and "Redshift cluster rentals-cluster" in message
    assert "rentals deploy" in message
    assert "aws redshift modify-cluster-iam-roles" in message
