"""A CloudFormation evaluator for infra/rental_analytics.yaml, for the tests.

What it evaluates: the template as read by cfn-lint's YAML loader (short forms such as
``!Sub`` become ``Fn::Sub``), for given parameter values (defaults, then REQUIRED_VALUES,
then a Redshift target of TARGETS, then the caller's), with the pseudo parameters of one
account and region (ACCOUNT, REGION). ``Ref``, ``Fn::GetAtt ... Arn``, ``Fn::Sub``,
``Fn::Join``, ``Fn::Split``, ``Fn::Select``, ``Fn::If`` and ``AWS::NoValue`` resolve as
CloudFormation would; the template's Conditions and Rules assertions evaluate with
``Fn::Equals``, ``Fn::Not``, ``Fn::And``, ``Fn::Or`` and ``Condition``. A resource's ``Ref``
is its physical name, built from its properties for the resource types the template names
(buckets, Glue objects, SNS topics, state machines), else its logical id; ``Fn::GetAtt`` knows
only the ARN of roles, buckets and KMS keys.

What it does not: other intrinsic functions (``Fn::ImportValue``, ``Fn::FindInMap``,
``Fn::GetAZs``, ``Fn::Base64``, ``Fn::Cidr``...) and other attributes fail or pass through
unresolved; no transforms, no dynamic references (``{{resolve:...}}`` stays text), no
deployment: names and ARNs are what CloudFormation would produce, not what AWS returned.
Plus helpers over the evaluated policies (IAM statements, cfn-lint's copy of the IAM service
reference).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

from rental_analytics.aws.packaging import glue_runtime_modules

REPO = Path(__file__).resolve().parents[2]
TEMPLATE_FILE = REPO / "infra" / "rental_analytics.yaml"

# The account, region and parameter values the evaluator fills in.
ACCOUNT, REGION = "123456789012", "eu-west-1"
AURORA_SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rental-analytics/aurora-AbCdEf"
REDSHIFT_SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rental-analytics/rs-GhIjKl"
REQUIRED_VALUES = {
    "ArtifactsPrefix": "artifacts/0.1.0-abc1234",
    "WheelFileName": "rental_analytics-0.1.0-py3-none-any.whl",
    "GlueRuntimeModules": glue_runtime_modules(),
    "AuroraSecretArn": AURORA_SECRET,
    "AuroraJdbcUrl": "jdbc:mysql://rentals.cluster-x.eu-west-1.rds.amazonaws.com:3306/rental_db",
    "AuroraSubnetId": "subnet-0123456789abcdef0",
    "AuroraSecurityGroupId": "sg-0123456789abcdef0",
    "AuroraAvailabilityZone": "eu-west-1a",
}
# The Redshift targets the template supports (its Rules allow exactly one of the first two).
SERVERLESS = {"RedshiftWorkgroupName": "rental-analytics"}
CLUSTER_IAM = {"RedshiftClusterIdentifier": "rentals-dw"}
CLUSTER_SECRET = {"RedshiftClusterIdentifier": "rentals-dw", "RedshiftSecretArn": REDSHIFT_SECRET}
TARGETS = {"serverless": SERVERLESS, "cluster-iam": CLUSTER_IAM, "cluster-secret": CLUSTER_SECRET}


# -- evaluating the template ---------------------------------------------------------------
@cache
def template() -> dict[str, Any]:
    return cfn_yaml.load(str(TEMPLATE_FILE))


NO_VALUE = object()
_SUB = re.compile(r"\$\{([^}]+)\}")


class Stack:
    """The template's values for given parameters, as CloudFormation would resolve them.

    Resources resolve to their names (``Ref``) and ARNs (``Fn::GetAtt ... Arn``) built from
    their properties; resources without a name property to their logical id.
    """

    def __init__(self, **params: str):
        self.t = template()
        unknown = set(params) - set(self.t["Parameters"])
        assert not unknown, f"not template parameters: {unknown}"
        self.params = {
            name: str(p["Default"]) for name, p in self.t["Parameters"].items() if "Default" in p
        }
        self.params |= REQUIRED_VALUES | params
        self.pseudo = {
            "AWS::AccountId": ACCOUNT,
            "AWS::Region": REGION,
            "AWS::Partition": "aws",
            "AWS::StackName": "rental-analytics",
            "AWS::URLSuffix": "amazonaws.com",
        }
        self.conditions = {n: self.truth(c) for n, c in self.t.get("Conditions", {}).items()}

    # intrinsic functions -------------------------------------------------------------------
    def value(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.value(i) for i in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                logical, attr = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.get_att(logical, attr)
            if key == "Fn::Sub":
                text, extra = (arg, {}) if isinstance(arg, str) else arg
                return self.sub(text, {k: self.value(v) for k, v in extra.items()})
            if key == "Fn::Join":
                sep, items = arg
                return sep.join(str(i) for i in self.value(items))
            if key == "Fn::Split":
                sep, text = arg
                return self.value(text).split(sep)
            if key == "Fn::Select":
                index, items = arg
                return self.value(items)[int(self.value(index))]
            if key == "Fn::If":
                name, yes, no = arg
                return self.value(yes if self.conditions[name] else no)
        out = {}
        for k, v in node.items():
            resolved = self.value(v)
            if resolved is not NO_VALUE:
                out[k] = resolved
        return out

    def truth(self, node: Any) -> bool:
        ((key, arg),) = node.items()
        if key == "Fn::Equals":
            a, b = (self.value(x) for x in arg)
            return str(a) == str(b)
        if key == "Fn::Not":
            return not self.truth(arg[0])
        if key == "Fn::And":
            return all(self.truth(x) for x in arg)
        if key == "Fn::Or":
            return any(self.truth(x) for x in arg)
        if key == "Condition":
            return self.truth(self.t["Conditions"][arg])
        raise AssertionError(f"unsupported condition function {key}")

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.params:
            return self.params[name]
        return self.physical_name(name)

    def sub(self, text: str, extra: dict[str, Any]) -> str:
        def one(m: re.Match) -> str:
            name = m.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in extra:
                return str(extra[name])
            if "." in name:
                logical, attr = name.split(".", 1)
                return str(self.get_att(logical, attr))
            return str(self.ref(name))

        return _SUB.sub(one, text)

    def resource(self, logical: str) -> dict[str, Any]:
        return self.t["Resources"][logical]

    def props(self, logical: str) -> dict[str, Any]:
        return self.value(self.resource(logical).get("Properties", {}))

    def physical_name(self, logical: str) -> str:
        kind = self.resource(logical)["Type"]
        p = self.props(logical)
        if kind == "AWS::S3::Bucket":
            return p["BucketName"]
        if kind == "AWS::Glue::Connection":
            return p["ConnectionInput"]["Name"]
        if kind == "AWS::Glue::Database":
            return p["DatabaseInput"]["Name"]
        if kind in ("AWS::Glue::Job", "AWS::Glue::Crawler", "AWS::Glue::Workflow",
                    "AWS::Glue::Trigger", "AWS::Scheduler::ScheduleGroup"):  # fmt: skip
            return p["Name"]
        if kind == "AWS::SNS::Topic":
            return f"arn:aws:sns:{REGION}:{ACCOUNT}:{p['TopicName']}"
        if kind == "AWS::StepFunctions::StateMachine":
            return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{p['StateMachineName']}"
        return logical

    def get_att(self, logical: str, attr: str) -> str:
        assert attr == "Arn", f"unsupported attribute {logical}.{attr}"
        kind = self.resource(logical)["Type"]
        if kind == "AWS::IAM::Role":
            return f"arn:aws:iam::{ACCOUNT}:role/{logical}"
        if kind == "AWS::S3::Bucket":
            return f"arn:aws:s3:::{self.physical_name(logical)}"
        if kind == "AWS::KMS::Key":
            return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{logical}"
        raise AssertionError(f"unsupported Fn::GetAtt {logical}.Arn ({kind})")

    # shortcuts -----------------------------------------------------------------------------
    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {
            logical: self.props(logical)
            for logical, r in self.t["Resources"].items()
            if r["Type"] == kind and self.conditions.get(r.get("Condition", ""), True)
        }

    def output(self, name: str) -> Any:
        return self.value(self.t["Outputs"][name]["Value"])


def stack(target: str = "serverless", **params: str) -> Stack:
    """The stack for one of TARGETS (a Redshift target), with ``params`` on top."""
    return Stack(**TARGETS[target], **params)


def listed(value: Any) -> list:
    """A policy element (Action, Resource, Principal...) that may be one value or a list."""
    return value if isinstance(value, list) else [value]


# -- policies ---------------------------------------------------------------------------
def policy_documents(s: Stack) -> list[tuple[str, str, dict[str, Any]]]:
    """Every policy document of the template: (resource, kind, document); kind is identity,
    trust, resource (bucket and topic policies) or key."""
    docs = []
    for logical, p in s.of_type("AWS::IAM::Role").items():
        docs.append((logical, "trust", p["AssumeRolePolicyDocument"]))
        docs += [(logical, "identity", pol["PolicyDocument"]) for pol in p.get("Policies", [])]
    for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        docs += [
            (logical, "identity", p["PolicyDocument"]) for logical, p in s.of_type(kind).items()
        ]
    for kind in ("AWS::S3::BucketPolicy", "AWS::SNS::TopicPolicy"):
        docs += [
            (logical, "resource", p["PolicyDocument"]) for logical, p in s.of_type(kind).items()
        ]
    docs += [(logical, "key", p["KeyPolicy"]) for logical, p in s.of_type("AWS::KMS::Key").items()]
    return docs


def policy_statements(target: str):
    """(resource, kind, statement) for every statement of the stack of ``target``."""
    s = stack(target)
    for logical, kind, doc in policy_documents(s):
        for st in doc["Statement"]:
            yield logical, kind, st


def condition_keys(statement: dict[str, Any]) -> set[str]:
    return {k.lower() for test in statement.get("Condition", {}).values() for k in test}


@cache
def actions_with_resource_types() -> dict[str, bool]:
    """cfn-lint's copy of the IAM service reference: action -> accepts a resource type."""
    import cfnlint

    data = json.loads(
        (Path(cfnlint.__file__).parent / "data/AdditionalSpecs/Policies.json").read_text()
    )
    out = {}
    for prefix, service in data.items():
        for action, spec in service.get("Actions", {}).items():
            out[f"{prefix}:{action}".lower()] = bool(spec.get("Resources"))
    return out


def allowed_statements(s: Stack, role: str) -> list[dict[str, Any]]:
    """The Allow statements of ``role``'s inline policies."""
    return [
        st
        for pol in s.props(role)["Policies"]
        for st in pol["PolicyDocument"]["Statement"]
        if st["Effect"] == "Allow"
    ]
