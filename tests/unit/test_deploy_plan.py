"""The parts of `rentals deploy` that need no AWS: reading the template and the parameters,
the artifacts' prefix, the order of the warehouse SQL."""

from __future__ import annotations

import json
import shutil

import pytest

from rental_analytics.aws import deploy as deploying
from rental_analytics.warehouse.base import sql_dir


def test_short_form_intrinsics_read_as_their_long_form(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(
        "Resources:\n"
        "  B:\n"
        "    Type: AWS::S3::Bucket\n"
        "    Properties:\n"
        "      BucketName: !Sub '${ProjectName}-lake'\n"
        "      Arn: !GetAtt Role.Arn\n"
        "      Tags: [!Ref ProjectName, !Join ['-', [a, b]]]\n"
    )
    props = deploying.load_template(path)["Resources"]["B"]["Properties"]
    assert props == {
        "BucketName": {"Fn::Sub": "${ProjectName}-lake"},
        "Arn": {"Fn::GetAtt": ["Role", "Arn"]},
        "Tags": [{"Ref": "ProjectName"}, {"Fn::Join": ["-", ["a", "b"]]}],
    }


def test_the_real_template_fits_inline_as_compact_json():
    body = deploying.template_body(deploying.load_template())
    assert (
        json.loads(body)["Resources"]["StateMachine"]["Type"] == "AWS::StepFunctions::StateMachine"
    )


TEMPLATE = {
    "Parameters": {
        "ProjectName": {"Type": "String", "Default": "rental-analytics"},
        "AuroraSecretArn": {"Type": "String"},
        "ArtifactsPrefix": {"Type": "String"},
        "WheelFileName": {"Type": "String"},
    }
}
COMPUTED = {"ArtifactsPrefix": "artifacts/0.1.0-abc", "WheelFileName": "w.whl"}


def test_parameters_join_the_file_and_what_deploy_computes():
    given = {"AuroraSecretArn": "arn:aws:secretsmanager:eu-west-1:1:secret:x"}
    assert deploying.stack_parameters(TEMPLATE, given, COMPUTED) == [
        {"ParameterKey": "ArtifactsPrefix", "ParameterValue": "artifacts/0.1.0-abc"},
        {"ParameterKey": "AuroraSecretArn", "ParameterValue": given["AuroraSecretArn"]},
        {"ParameterKey": "WheelFileName", "ParameterValue": "w.whl"},
    ]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"AuroraSecretArn": "a", "Password": "x"}, "not in the template: Password"),
        ({}, "required parameters missing from the parameters file: AuroraSecretArn"),
        ({"AuroraSecretArn": "a", "WheelFileName": "x"}, "set by `rentals deploy` itself"),
    ],
)
def test_parameters_the_template_would_refuse_are_refused_first(given, message):
    with pytest.raises(deploying.DeployError, match=message):
        deploying.stack_parameters(TEMPLATE, given, COMPUTED)


def test_a_parameters_file_may_use_cloudformations_list_form(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps([{"ParameterKey": "A", "ParameterValue": "1"}]))
    assert deploying.read_parameters_file(path) == {"A": "1"}
    path.write_text('{"A": ["not", "a", "string"]}')
    with pytest.raises(deploying.DeployError, match="parameter names to string values"):
        deploying.read_parameters_file(path)


def test_the_artifacts_prefix_follows_the_code_not_the_build(tmp_path):
    root = tmp_path / "repo"
    for sub in ("rental_analytics", "glue_jobs", "redshift/migrations"):
        (root / sub).mkdir(parents=True)
    (root / "rental_analytics" / "a.py").write_text("x = 1\n")
    (root / "glue_jobs" / "load_raw.py").write_text("print()\n")
    (root / "redshift" / "migrations" / "010.sql").write_text("select 1;\n")
    first = deploying.source_fingerprint(root)
    (root / "rental_analytics" / "__pycache__").mkdir()
    (root / "rental_analytics" / "__pycache__" / "a.pyc").write_bytes(b"\0")
    assert deploying.source_fingerprint(root) == first  # bytecode is not code
    (root / "redshift" / "migrations" / "010.sql").write_text("select 2;\n")
    assert deploying.source_fingerprint(root) != first
    shutil.rmtree(root / "redshift")
    assert deploying.source_fingerprint(root) != first


def test_warehouse_sql_goes_migrations_then_views_then_grants():
    files = deploying.warehouse_files(sql_dir())
    kinds = [p.parent.parent.name if p.parent.parent.name == "migrations" else p.parent.name
             for p in files]  # fmt: skip
    kinds[-1] = files[-1].name
    assert kinds == sorted(kinds, key=("migrations", "views", "grants.sql").index)
    assert {"migrations", "views", "grants.sql"} == set(kinds)
    assert "merges" not in {p.parent.name for p in files}  # the job's, not deploy's
