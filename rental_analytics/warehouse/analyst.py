"""The deployed Redshift as an analyst sees it: ``redshift_connector`` with IAM authentication.

``rentals report --target redshift`` and ``rentals sql --target redshift`` read through
this, not through the Data API the jobs use: an analyst connects with their own AWS
identity, whose IAM role is granted the analyst database role (SPEC section 8, reads
``presentation`` only). No password is stored anywhere: the connector asks AWS for
temporary database credentials.

- Redshift Serverless (what infra/rental_analytics.yaml deploys): ``is_serverless`` with
  the workgroup; the connector calls redshift-serverless GetCredentials, and the database
  user is the caller's IAM identity (``IAMR:<role>``), which holds the analyst role.
  https://docs.aws.amazon.com/redshift/latest/mgmt/serverless-connecting.html
- A provisioned cluster: ``cluster_identifier`` with ``db_user`` (and ``db_groups``); the
  connector calls GetClusterCredentials.
  https://docs.aws.amazon.com/redshift/latest/mgmt/generating-iam-credentials-overview.html

Settings come from the deployed stack (CloudFormation DescribeStacks: its parameters
``RedshiftWorkgroupName`` and ``RedshiftDatabase``) or from a parameters file shaped like
infra/parameters.example.json; ``RENTALS_ANALYST_*`` environment variables override both.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rental_analytics.warehouse.base import WarehouseError


class AnalystSetupError(Exception):
    """A setting or permission the analyst connection needs is missing; says which."""


@dataclass(frozen=True)
class AnalystSettings:
    database: str = ""
    region: str = ""
    workgroup: str = ""  # Redshift Serverless
    cluster_identifier: str = ""  # or a provisioned cluster
    db_user: str = ""  # provisioned only
    db_groups: tuple[str, ...] = ()  # provisioned only
    profile: str = ""  # an AWS profile; else the default credential chain
    source: str = ""  # where the settings came from, for messages

    def connect_kwargs(self) -> dict[str, Any]:
        """What redshift_connector.connect gets; an error naming each missing setting."""
        missing = []
        if not self.database:
            missing.append("database (RedshiftDatabase, or RENTALS_ANALYST_DATABASE)")
        if not self.region:
            missing.append("AWS region (AWS_REGION, a profile's region, or RENTALS_ANALYST_REGION)")
        if not (self.workgroup or self.cluster_identifier):
            missing.append(
                "Redshift Serverless workgroup (RedshiftWorkgroupName, or"
                " RENTALS_ANALYST_WORKGROUP) or cluster (RENTALS_ANALYST_CLUSTER)"
            )
        if self.cluster_identifier and not self.workgroup and not self.db_user:
            missing.append("database user for the cluster (RENTALS_ANALYST_DB_USER)")
        if missing:
            where = f" in {self.source}" if self.source else ""
            raise AnalystSetupError(
                f"cannot reach the deployed Redshift: missing{where}: " + "; ".join(missing)
            )
        kwargs: dict[str, Any] = {"iam": True, "database": self.database, "region": self.region}
        if self.profile:
            kwargs["profile"] = self.profile
        if self.workgroup:
            kwargs |= {"is_serverless": True, "serverless_work_group": self.workgroup}
        else:
            kwargs |= {"cluster_identifier": self.cluster_identifier, "db_user": self.db_user}
            if self.db_groups:
                kwargs["db_groups"] = list(self.db_groups)
        return kwargs


def _with_environment(base: Mapping[str, str], source: str) -> AnalystSettings:
    env = os.environ
    groups = env.get("RENTALS_ANALYST_DB_GROUPS", "")
    return AnalystSettings(
        database=env.get("RENTALS_ANALYST_DATABASE") or base.get("RedshiftDatabase", ""),
        region=env.get("RENTALS_ANALYST_REGION") or base.get("region", ""),
        workgroup=env.get("RENTALS_ANALYST_WORKGROUP") or base.get("RedshiftWorkgroupName", ""),
        cluster_identifier=env.get("RENTALS_ANALYST_CLUSTER", ""),
        db_user=env.get("RENTALS_ANALYST_DB_USER", ""),
        db_groups=tuple(g.strip() for g in groups.split(",") if g.strip()),
        profile=env.get("AWS_PROFILE", ""),
        source=source,
    )


def settings_from_parameters(path: Path, region: str = "") -> AnalystSettings:
    """From a parameters file like infra/parameters.example.json (a JSON object)."""
    try:
        doc = json.loads(Path(path).read_text())
    except OSError as exc:
        raise AnalystSetupError(f"cannot read the parameters file {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise AnalystSetupError(f"{path} is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise AnalystSetupError(f"{path} must hold one JSON object of parameter names")
    return _with_environment({**doc, "region": region}, str(path))


def settings_from_stack(session, stack_name: str) -> AnalystSettings:
    """From the deployed stack's parameters (CloudFormation DescribeStacks)."""
    from botocore.exceptions import BotoCoreError, ClientError  # only with a stack: boto3

    cfn = session.client("cloudformation")
    try:
        stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("AccessDenied", "AccessDeniedException"):
            raise AnalystSetupError(
                f"not allowed to read the stack {stack_name!r}"
                " (cloudformation:DescribeStacks); pass --parameters FILE instead"
            ) from None
        raise AnalystSetupError(
            f"no deployed stack {stack_name!r} in {session.region_name}: {exc}"
        ) from None
    except BotoCoreError as exc:  # no credentials, no region, no network
        raise AnalystSetupError(f"cannot read the stack {stack_name!r}: {exc}") from None
    found = {
        p["ParameterKey"]: p.get("ParameterValue", "") for p in stacks[0].get("Parameters", [])
    }
    found |= {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    return _with_environment({**found, "region": session.region_name or ""}, f"stack {stack_name}")


class AnalystWarehouse:
    """The deployed warehouse through redshift_connector: ``query`` like the local one."""

    def __init__(self, settings: AnalystSettings):
        self.settings = settings
        self._conn = None

    def __enter__(self) -> AnalystWarehouse:
        kwargs = self.settings.connect_kwargs()
        try:
            import redshift_connector
        except ImportError:
            raise AnalystSetupError(
                "redshift-connector is not installed: pip install 'rental-analytics[analyst]'"
            ) from None
        try:
            self._conn = redshift_connector.connect(**kwargs)
        except Exception as exc:  # noqa: BLE001 - the driver raises many kinds; say which
            raise AnalystSetupError(_explain(exc, self.settings)) from None
        return self

    def __exit__(self, *exc_info) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def query(self, sql: str, params=None) -> tuple[list[str], list[tuple]]:
        cursor = self._conn.cursor()
        try:
            cursor.execute(sql, params)
            columns = [d[0] for d in cursor.description or []]
            rows = [tuple(r) for r in cursor.fetchall()] if cursor.description else []
        except Exception as exc:  # noqa: BLE001
            self._conn.rollback()
            raise WarehouseError(_explain(exc, self.settings)) from None
        finally:
            cursor.close()
        return columns, rows


def _explain(exc: Exception, settings: AnalystSettings) -> str:
    text = str(exc)
    target = settings.workgroup or settings.cluster_identifier
    if "permission denied" in text.lower():
        return (
            f"{text.splitlines()[0]} - the analyst identity reads the presentation schema"
            " only (SPEC section 8)"
        )
    if "AccessDenied" in text or "not authorized" in text:
        action = (
            "redshift-serverless:GetCredentials"
            if settings.workgroup
            else "redshift:GetClusterCredentials"
        )
        return f"your AWS identity may not get database credentials for {target} ({action}): {text}"
    if "credentials" in text.lower():
        return f"no AWS credentials to connect to {target} (set AWS_PROFILE or log in): {text}"
    return f"cannot connect to {target} in {settings.region}: {text}"
