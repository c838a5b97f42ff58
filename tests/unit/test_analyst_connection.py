"""The deployed Redshift as the analyst: what redshift_connector is asked, and the messages
when a setting or permission is missing. redshift_connector cannot talk to the local
PostgreSQL, so the test stops at its boundary (connect is replaced)."""

from __future__ import annotations

import json

import boto3
import pytest
import redshift_connector
from moto import mock_aws

from rental_analytics.warehouse.analyst import (
    AnalystSettings,
    AnalystSetupError,
    AnalystWarehouse,
    settings_from_parameters,
    settings_from_stack,
)


@pytest.fixture(autouse=True)
def no_analyst_env(monkeypatch):
    for name in ("DATABASE", "REGION", "WORKGROUP", "CLUSTER", "DB_USER", "DB_GROUPS"):
        monkeypatch.delenv(f"RENTALS_ANALYST_{name}", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def test_serverless_from_the_parameters_file_connects_with_iam(tmp_path, monkeypatch):
    params = tmp_path / "p.json"
    params.write_text(json.dumps({"RedshiftWorkgroupName": "wg", "RedshiftDatabase": "dev"}))
    settings = settings_from_parameters(params, region="eu-west-1")
    seen = {}

    class Conn:
        def close(self):
            seen["closed"] = True

    monkeypatch.setattr(redshift_connector, "connect", lambda **kw: seen.update(kw) or Conn())
    with AnalystWarehouse(settings):
        pass
    assert seen == {
        "iam": True, "database": "dev", "region": "eu-west-1",
        "is_serverless": True, "serverless_work_group": "wg", "closed": True,
    }  # fmt: skip


def test_provisioned_cluster_asks_for_a_db_user_and_groups(monkeypatch):
    monkeypatch.setenv("RENTALS_ANALYST_CLUSTER", "c1")
    monkeypatch.setenv("RENTALS_ANALYST_DB_GROUPS", "rentals_analyst")
    base = {"RedshiftDatabase": "dev", "region": "us-east-1"}
    from rental_analytics.warehouse import analyst

    with pytest.raises(AnalystSetupError, match="RENTALS_ANALYST_DB_USER"):
        analyst._with_environment(base, "test").connect_kwargs()
    monkeypatch.setenv("RENTALS_ANALYST_DB_USER", "ana")
    kwargs = analyst._with_environment(base, "test").connect_kwargs()
    assert kwargs == {
        "iam": True, "database": "dev", "region": "us-east-1", "cluster_identifier": "c1",
        "db_user": "ana", "db_groups": ["rentals_analyst"],
    }  # fmt: skip


def test_missing_settings_are_named():
    with pytest.raises(AnalystSetupError) as exc:
        AnalystSettings(source="p.json").connect_kwargs()
    text = str(exc.value)
    assert "in p.json" in text and "RedshiftDatabase" in text and "region" in text
    assert "RedshiftWorkgroupName" in text


def test_refused_credentials_name_the_permission(monkeypatch):
    settings = AnalystSettings(database="dev", region="eu-west-1", workgroup="wg")

    def refuse(**kw):
        raise redshift_connector.InterfaceError("AccessDeniedException: not authorized")

    monkeypatch.setattr(redshift_connector, "connect", refuse)
    with pytest.raises(AnalystSetupError, match="redshift-serverless:GetCredentials"):
        AnalystWarehouse(settings).__enter__()


@mock_aws
def test_settings_from_the_deployed_stack(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    session = boto3.session.Session(region_name="eu-west-1")
    with pytest.raises(AnalystSetupError, match="no deployed stack 'rental-analytics'"):
        settings_from_stack(session, "rental-analytics")
    template = {
        "Parameters": {"RedshiftWorkgroupName": {"Type": "String"},
                       "RedshiftDatabase": {"Type": "String"}},
        "Resources": {"T": {"Type": "AWS::SNS::Topic"}},
    }  # fmt: skip
    session.client("cloudformation").create_stack(
        StackName="rental-analytics",
        TemplateBody=json.dumps(template),
        Parameters=[
            {"ParameterKey": "RedshiftWorkgroupName", "ParameterValue": "wg"},
            {"ParameterKey": "RedshiftDatabase", "ParameterValue": "dev"},
        ],
    )
    kwargs = settings_from_stack(session, "rental-analytics").connect_kwargs()
    assert kwargs["serverless_work_group"] == "wg" and kwargs["region"] == "eu-west-1"
