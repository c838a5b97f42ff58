"""Print the project's Python requirements minus what the AWS Glue 5 image already provides.

Used by docker/Dockerfile at build time: ``python3 glue_requirements.py pyproject.toml``
writes one requirement per line (runtime dependencies and every optional group, so the
test tools come too). Spark and the ``awsglue`` library are left out: the image ships
them (Apache Spark under /usr/lib/spark, the AWS Glue ETL library), and a PyPI ``pyspark``
installed over them would make the tests run on PyPI's Spark instead of Glue's.
Everything else is installed with ``pip install``, which keeps an image-provided package
whenever its version satisfies the project's range (boto3, pyarrow, pandas, numpy...).

Standard library only: it runs on the image's Python 3.11 before anything is installed.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

# Canonical (PEP 503) names of distributions the Glue image provides, and why.
GLUE_PROVIDED = {
    "pyspark": "Apache Spark of the Glue runtime (/usr/lib/spark/python)",
    "awsgluedataplanepython": "the AWS Glue ETL library (awsglue) of the image",
}
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def canonical_name(requirement: str) -> str:
    """The PEP 503 name of a requirement string (``PyMySQL>=1.1`` -> ``pymysql``)."""
    match = _NAME.match(requirement)
    if not match:
        raise ValueError(f"not a requirement: {requirement!r}")
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def requirements(pyproject: dict) -> list[str]:
    """Runtime dependencies, then each optional group's, without the Glue-provided ones and
    without repeats, in file order."""
    project = pyproject["project"]
    wanted = list(project.get("dependencies", []))
    for group in project.get("optional-dependencies", {}).values():
        wanted.extend(group)
    out: list[str] = []
    for req in wanted:
        if canonical_name(req) not in GLUE_PROVIDED and req not in out:
            out.append(req)
    return out


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else Path("pyproject.toml")
    pyproject = tomllib.loads(path.read_text(encoding="utf-8"))
    print("\n".join(requirements(pyproject)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
