"""docker/: what can be checked without a container engine.

CI has no Docker, so `make docker-test` never runs there. These tests read the Dockerfile,
its ignore file, the compose file and the Makefile target, and check them against the code
they must agree with: the jar path the jobs load, the database names and users the local
stack creates, the PostgreSQL major version the bootstrap installs, the environment
variables the test fixtures read, and the variables the make target generates.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"
DOCKERFILE = DOCKER / "Dockerfile"
DOCKERIGNORE = DOCKER / "Dockerfile.dockerignore"
COMPOSE_FILE = DOCKER / "compose.yaml"
MAKEFILE = REPO / "Makefile"
CONFTEST = REPO / "tests" / "conftest.py"

GLUE_IMAGE = "public.ecr.aws/glue/aws-glue-libs:5"  # the tag AWS documents for Glue 5
WORKSPACE = "/home/hadoop/workspace"
MARIADB_URL_ENV = "RENTALS_TEST_MARIADB_URL"
POSTGRES_URL_ENV = "RENTALS_TEST_POSTGRES_URL"


# -- parsing -----------------------------------------------------------------------------
def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order: comments dropped, continuation lines joined."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and not pending):
            continue  # comments may also sit between continuation lines
        if line.endswith("\\"):
            pending += line[:-1].rstrip() + " "
            continue
        full = (pending + line).strip()
        pending = ""
        if full:
            keyword, _, args = full.partition(" ")
            out.append((keyword.upper(), args.strip()))
    if pending.strip():
        raise ValueError("Dockerfile ends inside a continuation line")
    return out


def stages(instructions: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """The instructions split into build stages, each starting with its FROM."""
    out: list[list[tuple[str, str]]] = []
    for ins in instructions:
        if ins[0] == "FROM":
            out.append([])
        if not out:
            raise ValueError(f"{ins[0]} before the first FROM")
        out[-1].append(ins)
    return out


_INTERPOLATION = re.compile(
    r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
)


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} against ``env``; a required
    variable missing raises, as `docker compose` refuses to start."""

    def sub(m: re.Match) -> str:
        name, op, arg = m["name"], m["op"], m["arg"]
        if env.get(name):
            return env[name]
        if op in (":?", "?"):
            raise KeyError(f"required variable {name} is missing: {arg}")
        return arg if op in (":-", "-") else ""

    return _INTERPOLATION.sub(sub, value)


def strings(node) -> list[str]:
    """Every string value in a parsed YAML document (comments are not values)."""
    if isinstance(node, dict):
        return [s for value in node.values() for s in strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in strings(value)]
    return [node] if isinstance(node, str) else []


def required_variables(document) -> set[str]:
    return {
        m["name"]
        for value in strings(document)
        for m in _INTERPOLATION.finditer(value)
        if m["op"] in (":?", "?")
    }


def make_target(makefile: str, target: str) -> tuple[str, str]:
    """(the rule line, the recipe) of ``target``."""
    lines = makefile.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(f"{target}:"):
            recipe = []
            for nxt in lines[i + 1 :]:
                if not nxt.startswith("\t"):
                    break
                recipe.append(nxt[1:])
            return line, "\n".join(recipe)
    raise AssertionError(f"no `{target}` target in the Makefile")


# -- fixtures ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dockerfile() -> list[list[tuple[str, str]]]:
    return stages(dockerfile_instructions(DOCKERFILE.read_text()))


@pytest.fixture(scope="module")
def final_stage(dockerfile) -> list[tuple[str, str]]:
    return dockerfile[-1]


@pytest.fixture(scope="module")
def compose_text() -> str:
    return COMPOSE_FILE.read_text()


@pytest.fixture(scope="module")
def compose(compose_text) -> dict:
    return yaml.safe_load(compose_text)


@pytest.fixture(scope="module")
def sample_env(compose) -> dict[str, str]:
    """A value for every variable compose.yaml requires, as make docker-test provides."""
    return {name: f"sample-{name.lower()}" for name in required_variables(compose)}


def _args(instructions, keyword: str) -> list[str]:
    return [args for kw, args in instructions if kw == keyword]


# -- the parsers themselves --------------------------------------------------------------
def test_dockerfile_parser_joins_continuations_and_splits_stages():
    text = "# c\nFROM a AS b\nRUN x \\\n  # inside\n  && y\n\nFROM c\nUSER u\n"
    parsed = stages(dockerfile_instructions(text))
    assert parsed == [[("FROM", "a AS b"), ("RUN", "x && y")], [("FROM", "c"), ("USER", "u")]]
    with pytest.raises(ValueError):
        stages(dockerfile_instructions("USER u\nFROM a\n"))


def test_interpolation_refuses_a_missing_required_variable():
    assert interpolate("a${X:?no}b", {"X": "1"}) == "a1b"
    assert interpolate("${Y:-d}", {}) == "d"
    with pytest.raises(KeyError, match="X"):
        interpolate("${X:?set it}", {})


# -- Dockerfile --------------------------------------------------------------------------
def test_the_final_stage_is_the_pinned_glue_5_image(final_stage):
    assert final_stage[0] == ("FROM", GLUE_IMAGE)


def test_runs_as_hadoop_in_the_documented_workspace(final_stage):
    users = _args(final_stage, "USER")
    assert users and users[-1] == "hadoop", "the Glue 5 image's user is hadoop"
    assert _args(final_stage, "WORKDIR")[-1] == WORKSPACE
    assert any(args.endswith(f" {WORKSPACE}") for args in _args(final_stage, "COPY"))


def test_keeps_the_images_entrypoint_and_runs_pytest_through_it(final_stage):
    assert not _args(final_stage, "ENTRYPOINT"), "AWS runs pytest through the image's own"
    (cmd,) = _args(final_stage, "CMD")
    assert cmd.startswith('["-c", ') and "-m pytest" in cmd


def test_the_jdbc_driver_lands_where_the_jobs_load_it(dockerfile, final_stage):
    from rental_analytics.config import Settings

    jar_paths = Settings.__dataclass_fields__["source_jdbc_jars"].default
    assert jar_paths, "Settings names no JDBC jar"
    copies = [args.split() for args in _args(final_stage, "COPY") if args.startswith("--from=")]
    destinations = {parts[-1] for parts in copies}
    for jar in jar_paths:
        assert jar in destinations, f"{jar} (Settings.source_jdbc_jars) is not in the image"
    conftest_jars = re.findall(r'jars=\("([^"]+)"', CONFTEST.read_text())
    assert set(conftest_jars) <= destinations, "tests/conftest.py loads a jar the image lacks"
    # The stage it comes from installs the Debian package the local bootstrap installs.
    stage_names = {ins[1].split()[-1] for stage in dockerfile[:-1] for ins in stage[:1]}
    assert {parts[0].removeprefix("--from=") for parts in copies} <= stage_names
    bootstrap = (REPO / "scripts" / "bootstrap.sh").read_text()
    jdbc_stage = " ".join(args for stage in dockerfile[:-1] for _, args in stage)
    assert "libmariadb-java" in bootstrap and "libmariadb-java" in jdbc_stage


def test_spark_and_awsglue_come_from_the_image_not_from_pypi(final_stage):
    runs = " ".join(_args(final_stage, "RUN"))
    assert "glue_requirements.py" in runs and "-r /tmp/requirements.txt" in runs
    assert "--no-deps -e ." in runs, "the package goes in without pulling PyPI's pyspark"
    assert "pyspark" not in runs.lower()


def test_glue_requirements_leave_out_what_the_image_provides():
    spec = importlib.util.spec_from_file_location(
        "glue_requirements", DOCKER / "glue_requirements.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    reqs = module.requirements(pyproject)
    names = {module.canonical_name(r) for r in reqs}
    assert "pyspark" not in names and "awsgluedataplanepython" not in names
    # Everything else the project and its test tools need is kept, pins included.
    every = list(pyproject["project"]["dependencies"])
    for group in pyproject["project"].get("optional-dependencies", {}).values():
        every.extend(group)
    kept = [r for r in every if module.canonical_name(r) not in module.GLUE_PROVIDED]
    assert reqs == list(dict.fromkeys(kept))
    assert "pytest" in names and "moto" in names
    assert module.canonical_name("PyMySQL>=1.1,<2") == "pymysql"
    fake = {"project": {"dependencies": ["pyspark==3.5.6", "Foo_Bar>=1"]}}
    assert module.requirements(fake) == ["Foo_Bar>=1"]


def test_the_build_context_keeps_local_secrets_and_environments_out():
    patterns = {
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    # .rentals/secrets.json holds the generated database passwords.
    assert {".rentals", ".venv", ".git"} <= patterns
    assert not any(p.startswith("!") for p in patterns), "no re-inclusions"
    assert not any(p in ("docker", "pyproject.toml", "rental_analytics", "tests") for p in patterns)


# -- compose.yaml ------------------------------------------------------------------------
def test_services_and_images(compose):
    services = compose["services"]
    assert set(services) == {"mariadb", "postgres", "tests"}
    assert services["mariadb"]["image"] == "mariadb:10.11"
    bootstrap = (REPO / "scripts" / "bootstrap.sh").read_text()
    (pg_major,) = set(re.findall(r"postgresql-(\d+)", bootstrap))
    assert services["postgres"]["image"] == f"postgres:{pg_major}"
    build = services["tests"]["build"]
    context = (COMPOSE_FILE.parent / build["context"]).resolve()
    assert context == REPO, "the build context is the repository root"
    assert (context / build["dockerfile"]).resolve() == DOCKERFILE.resolve()


def test_tests_wait_for_healthy_databases(compose):
    services = compose["services"]
    depends = services["tests"]["depends_on"]
    for db in ("mariadb", "postgres"):
        assert depends[db] == {"condition": "service_healthy"}
        assert services[db]["healthcheck"]["test"][0] == "CMD"
    assert services["tests"].get("init") is True, "zombies of killed jobs must be reaped"


def test_no_database_port_is_published(compose):
    for name, service in compose["services"].items():
        assert "ports" not in service, f"{name} publishes a port to the host"


def test_passwords_are_required_variables_never_literals(compose):
    assert required_variables(compose) == {
        "RENTALS_TEST_MARIADB_PASSWORD",
        "RENTALS_TEST_POSTGRES_PASSWORD",
    }
    env = compose["services"]
    assert env["mariadb"]["environment"]["MARIADB_PASSWORD"].startswith(
        "${RENTALS_TEST_MARIADB_PASSWORD:?"
    )
    assert env["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith(
        "${RENTALS_TEST_POSTGRES_PASSWORD:?"
    )
    with pytest.raises(KeyError):
        interpolate(env["tests"]["environment"][MARIADB_URL_ENV], {})


def test_database_urls_match_the_database_containers(compose, sample_env):
    services = compose["services"]
    env = services["tests"]["environment"]
    assert set(env) == {MARIADB_URL_ENV, POSTGRES_URL_ENV}
    maria = urlsplit(interpolate(env[MARIADB_URL_ENV], sample_env))
    maria_env = {
        k: interpolate(str(v), sample_env) for k, v in services["mariadb"]["environment"].items()
    }
    assert (maria.scheme, maria.hostname, maria.port) == ("mysql", "mariadb", 3306)
    assert maria.username == maria_env["MARIADB_USER"]
    assert maria.password == maria_env["MARIADB_PASSWORD"]
    assert maria.path.lstrip("/") == maria_env["MARIADB_DATABASE"]
    pg = urlsplit(interpolate(env[POSTGRES_URL_ENV], sample_env))
    pg_env = {
        k: interpolate(str(v), sample_env) for k, v in services["postgres"]["environment"].items()
    }
    assert (pg.scheme, pg.hostname, pg.port) == ("postgresql", "postgres", 5432)
    assert pg.username == pg_env["POSTGRES_USER"]
    assert pg.password == pg_env["POSTGRES_PASSWORD"]
    assert pg.path.lstrip("/") == pg_env["POSTGRES_DB"]


def test_database_names_and_users_are_the_local_stacks(compose, sample_env, tmp_path):
    """The fixtures hand the URLs to code that expects what `rentals up` creates."""
    from rental_analytics.config import Settings

    (tmp_path / "stack.json").write_text('{"mariadb_port": 1, "postgres_port": 2}')
    (tmp_path / "secrets.json").write_text('{"mariadb_password": "", "postgres_password": ""}')
    local = Settings.local(tmp_path)
    env = compose["services"]["tests"]["environment"]
    maria = urlsplit(interpolate(env[MARIADB_URL_ENV], sample_env))
    pg = urlsplit(interpolate(env[POSTGRES_URL_ENV], sample_env))
    assert (maria.username, maria.path.lstrip("/")) == (local.source.user, local.source.database)
    assert (pg.username, pg.path.lstrip("/")) == (local.warehouse.user, local.warehouse.database)


def test_server_options_mirror_the_local_stack(compose):
    stack_source = (REPO / "rental_analytics" / "local" / "stack.py").read_text()
    for option in compose["services"]["mariadb"]["command"]:
        assert option in stack_source, option
    pg_settings = [c for c in compose["services"]["postgres"]["command"] if "=" in c]
    for setting in pg_settings:
        assert f"-c {setting}" in stack_source, setting


def test_the_fixtures_read_the_urls_compose_provides(compose):
    read = set(re.findall(r"RENTALS_TEST_[A-Z_]+_URL", CONFTEST.read_text()))
    if not read:
        pytest.xfail(
            "tests/conftest.py does not read RENTALS_TEST_MARIADB_URL / RENTALS_TEST_POSTGRES_URL "
            "yet: inside the container the fixtures would start private databases (docker/README.md)"
        )
    assert read == set(compose["services"]["tests"]["environment"])


def test_pytest_runs_through_the_images_shell_with_the_interpreter_beside_its_scripts(compose):
    command = compose["services"]["tests"]["command"]
    assert command[0] == "-c" and len(command) == 2
    words = shlex.split(command[1])
    assert words[:4] == ["exec", "/home/hadoop/.local/bin/python3", "-m", "pytest"]


# -- Makefile ----------------------------------------------------------------------------
def test_make_docker_test_generates_the_passwords_and_cleans_up(compose):
    makefile = MAKEFILE.read_text()
    rule, recipe = make_target(makefile, "docker-test")
    assert re.match(r"^docker-test:.*## \S", rule), "documented for `make help`"
    phony = next(line for line in makefile.splitlines() if line.startswith(".PHONY:"))
    assert "docker-test" in phony.split()
    assert "$(COMPOSE)" in recipe and "COMPOSE := docker compose -f docker/compose.yaml" in makefile
    exported = set(re.findall(r"(RENTALS_TEST_\w+)=\$\$\(python3 -c 'import secrets;", recipe))
    assert exported == required_variables(compose), "every required variable, generated"
    assert "up --build" in recipe and "--exit-code-from tests" in recipe
    assert "down --volumes" in recipe and "exit $$status" in recipe
