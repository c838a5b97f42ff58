"""The COPY role's association with the Redshift namespace or cluster.

``COPY ... IAM_ROLE '<arn>'`` may only name a role associated with the Redshift Serverless
namespace or the provisioned cluster it runs in (AWS: "Authorization parameters" of COPY,
and "Authorizing COPY ... operations using IAM roles"). The stack creates the role but not
the namespace or cluster, so CloudFormation cannot associate it: `rentals deploy` does, and
when its identity may not (it needs the call below and ``iam:PassRole`` on the role) it
stops with the exact command. load_raw turns Redshift's refusal of an unassociated role
into the same advice.

- Serverless: ``UpdateNamespace`` with ``iamRoles`` *replaces* the namespace's list, and
  must be sent together with ``defaultIamRoleArn``: the current roles and default are read
  with ``GetNamespace`` (the namespace named by ``GetWorkgroup``) and kept.
- Provisioned: ``ModifyClusterIamRoles`` with ``AddIamRoles`` adds to the cluster's list.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from rental_analytics.config import RedshiftSettings

# GetNamespace lists each role as a plain ARN or as the text of a structure,
# "IamRole(applyStatus=in-sync, iamRoleArn=arn:...)", its fields in either order; a role
# name may hold a comma, so a field ends at ", " or at the closing parenthesis.
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+")
_ROLE_FIELD = re.compile(r"iamRoleArn=(.+?)(?:, |\)\s*$)")
# Redshift's COPY error for a role it may not use: provisioned ("User ... is not authorized
# to assume IAM Role ...") and Serverless ("Not authorized to get credentials of role ...").
_REFUSED_ROLE = re.compile(
    r"not authorized to assume IAM Role|Not authorized to get credentials of role"
    r"|is not associated",
    re.IGNORECASE,
)


class CopyRoleError(RuntimeError):
    """The COPY role is not (or could not be) associated; the message says what to run."""


def role_arns(entries: Iterable[str]) -> list[str]:
    """The role ARNs of a namespace's ``iamRoles`` entries, in order."""
    found = []
    for entry in entries:
        field = _ROLE_FIELD.search(entry or "")
        arn = field.group(1) if field else (entry or "").strip()
        if _ROLE_ARN.fullmatch(arn) and arn not in found:
            found.append(arn)
    return found


def refuses_copy_role(message: str) -> bool:
    """Whether a failed COPY's error says Redshift may not use its IAM role."""
    return bool(_REFUSED_ROLE.search(message or ""))


def target_name(settings: RedshiftSettings) -> str:
    if settings.workgroup:
        return f"the namespace of Redshift Serverless workgroup {settings.workgroup}"
    return f"Redshift cluster {settings.cluster_id}"


def association_commands(
    settings: RedshiftSettings,
    role_arn: str,
    *,
    namespace: str | None = None,
    roles: list[str] | None = None,
    default_role: str | None = None,
) -> list[str]:
    """The AWS CLI commands that associate ``role_arn``; for Serverless, exact when the
    namespace, its roles and its default role are known, else with steps to read them."""
    region = ("--region", settings.region) if settings.region else ()

    def aws(service: str, *words: str) -> str:
        return shlex.join(["aws", service, words[0], *region, *words[1:]])

    if not settings.workgroup:
        cluster = settings.cluster_id
        return [
            aws("redshift", "modify-cluster-iam-roles", "--cluster-identifier", cluster,
                "--add-iam-roles", role_arn)
        ]  # fmt: skip
    steps = []
    if namespace is None:
        steps.append(
            aws("redshift-serverless", "get-workgroup", "--workgroup-name", settings.workgroup,
                "--query", "workgroup.namespaceName", "--output", "text")
        )  # fmt: skip
        namespace = "<that namespace>"
    if roles is None:
        steps.append(
            aws("redshift-serverless", "get-namespace", "--namespace-name", namespace,
                "--query", "namespace.[iamRoles,defaultIamRoleArn]")
        )  # fmt: skip
        keep = ["<each role ARN it lists>"]
        default = "<its defaultIamRoleArn, or this role if it has none>"
    else:
        keep = [r for r in roles if r != role_arn]
        default = default_role or role_arn
    steps.append(
        aws("redshift-serverless", "update-namespace", "--namespace-name", namespace,
            "--iam-roles", *keep, role_arn, "--default-iam-role-arn", default)
    )  # fmt: skip
    return steps


def _advice(commands: list[str]) -> str:
    lines = "\n".join(f"  {c}" for c in commands)
    return (
        "associate it by hand (the caller needs iam:PassRole on the role"
        + (", and update-namespace replaces the namespace's roles: keep the ones it has" if
           any("update-namespace" in c for c in commands) else "")
        + f"):\n{lines}"
    )  # fmt: skip


def copy_role_refused(settings: RedshiftSettings, role_arn: str) -> str:
    """What load_raw says when Redshift refuses the COPY role."""
    return (
        f"Redshift may not use the COPY role {role_arn}: it must be associated with "
        f"{target_name(settings)}. Run `rentals deploy` again (it associates the role), or "
        + _advice(association_commands(settings, role_arn))
    )


def associate_copy_role(settings: RedshiftSettings, role_arn: str, client: Any) -> bool:
    """Associate ``role_arn`` with the workgroup's namespace or the cluster, unless it is
    already; whether a change was requested. ``client`` is a ``redshift-serverless`` client
    for a workgroup, a ``redshift`` client for a cluster. Raises CopyRoleError with the
    exact command when a call is refused (no permission, a namespace being modified...)."""
    target = target_name(settings)
    namespace: str | None = None
    roles: list[str] | None = None
    default: str | None = None
    try:
        if settings.workgroup:
            workgroup = client.get_workgroup(workgroupName=settings.workgroup)["workgroup"]
            namespace = workgroup["namespaceName"]
            described = client.get_namespace(namespaceName=namespace)["namespace"]
            roles = role_arns(described.get("iamRoles", []))
            default = described.get("defaultIamRoleArn") or None
            if role_arn in roles:
                return False
            client.update_namespace(
                namespaceName=namespace,
                iamRoles=[*roles, role_arn],
                defaultIamRoleArn=default or role_arn,
            )
            return True
        cluster = client.describe_clusters(ClusterIdentifier=settings.cluster_id)["Clusters"][0]
        present = {
            r["IamRoleArn"]
            for r in cluster.get("IamRoles", [])
            if r.get("ApplyStatus") != "removing"
        }
        if role_arn in present:
            return False
        client.modify_cluster_iam_roles(
            ClusterIdentifier=settings.cluster_id, AddIamRoles=[role_arn]
        )
        return True
    except (ClientError, BotoCoreError) as exc:
        commands = association_commands(
            settings, role_arn, namespace=namespace, roles=roles, default_role=default
        )
        raise CopyRoleError(
            f"could not associate the COPY role {role_arn} with {target}: {exc}\n"
            "COPY (load_raw) cannot read the lake until it is; " + _advice(commands)
        ) from None
