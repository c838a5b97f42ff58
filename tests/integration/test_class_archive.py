"""The JVM class archive of local Spark (local/class_archive.py): built once by `up`, used by
every local session, and never in the way: a JVM that refuses it starts without it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from rental_analytics.local import class_archive
from rental_analytics.spark import JVM_OPTIONS, JVM_OPTIONS_ENV

JARS = ("/usr/share/java/mariadb-java-client.jar",)


def _count_three_rows(jars: tuple[str, ...], env: dict[str, str]) -> None:
    """A local session in a process of its own (a JVM of its own) counts three rows."""
    script = (
        "from rental_analytics.spark import local_session;"
        f"s = local_session('archive-test', jars={jars!r});"
        "print('rows', s.range(3).count())"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "rows 3" in proc.stdout


def test_up_builds_the_archive_once_and_sessions_use_it(settings, monkeypatch):
    monkeypatch.delenv(class_archive.CACHE_ENV, raising=False)
    path = class_archive.archive_path(settings.source_jdbc_jars)
    assert path is not None and path.is_file(), "the stack's up() builds it"
    built = path.stat().st_mtime_ns
    assert class_archive.build(settings.source_jdbc_jars) == path
    assert path.stat().st_mtime_ns == built  # there already: not built again
    assert f"-XX:SharedArchiveFile={path}" in class_archive.java_options(settings.source_jdbc_jars)
    assert not list(path.parent.glob("*.partial"))
    home_file = path.with_name(f"{path.name}.home")  # what prune() goes by
    assert home_file.read_text().strip() == str(class_archive.spark_home())


def test_archives_of_spark_homes_that_are_gone_are_pruned(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    live_home = tmp_path / "clone-a" / "pyspark"
    live_home.mkdir(parents=True)

    def archive(name: str, home: Path | None) -> Path:
        path = cache / f"spark-3.5.6-{name}.jsa"
        path.write_bytes(b"archive")
        if home is not None:
            path.with_name(f"{path.name}.home").write_text(f"{home}\n")
        return path

    keep = archive("ours", tmp_path / "gone-too")  # the one just built: never removed
    live = archive("live", live_home)  # another clone, still there
    gone = archive("gone", tmp_path / "clone-b" / "pyspark")  # a deleted clone's
    unnamed = archive("old", None)  # built before archives said their home

    assert class_archive.prune(keep) == sorted([gone, unnamed])
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        [keep.name, live.name, f"{live.name}.home", f"{keep.name}.home"]
    )


def test_a_session_jvm_loads_its_classes_from_the_archive(settings, tmp_path, monkeypatch):
    # That the option is given is not enough: a JVM whose class path differs from the
    # archive's starts without it, silently. Its class-loading log says where each came from.
    monkeypatch.delenv(class_archive.CACHE_ENV, raising=False)
    assert class_archive.java_options(settings.source_jdbc_jars), "the stack's up() builds it"
    loaded = tmp_path / "classes.log"
    env = {
        **os.environ,
        JVM_OPTIONS_ENV: f"{JVM_OPTIONS} -Xlog:class+load=info:file={loaded}",
    }
    _count_three_rows(tuple(settings.source_jdbc_jars), env)
    sources = loaded.read_text().splitlines()
    from_archive = [line for line in sources if "source: shared objects file (top)" in line]
    spark_classes = [line for line in sources if " org.apache.spark." in line]
    assert len(from_archive) > len(spark_classes) / 2, (len(from_archive), len(spark_classes))


def test_another_spark_home_is_another_archive(tmp_path, monkeypatch):
    # Two clones on one machine have two class paths: each needs its own archive.
    monkeypatch.setenv(class_archive.CACHE_ENV, str(tmp_path))
    here = class_archive.archive_path(JARS)
    monkeypatch.setattr(class_archive, "spark_home", lambda: tmp_path / "other" / "pyspark")
    assert class_archive.archive_path(JARS) != here


def test_no_archive_no_option(tmp_path, monkeypatch):
    monkeypatch.setenv(class_archive.CACHE_ENV, str(tmp_path))
    assert class_archive.java_options(JARS) == ""
    assert class_archive.archive_path(JARS).parent == tmp_path
    # Another class path is another archive.
    assert class_archive.archive_path(JARS) != class_archive.archive_path(())


def test_a_session_starts_without_an_archive_its_jvm_refuses(settings, tmp_path, monkeypatch):
    # A truncated archive makes the JVM exit at start: the session starts again without it,
    # and the archive is discarded so that the next build replaces it.
    monkeypatch.delenv(class_archive.CACHE_ENV, raising=False)
    built = class_archive.archive_path(JARS)
    assert built is not None and built.is_file(), "the stack's up() builds it"
    env = {**os.environ, class_archive.CACHE_ENV: str(tmp_path)}
    locate = "from rental_analytics.local import class_archive as c; print(c.archive_path({}))"
    path = subprocess.run(
        [sys.executable, "-c", locate.format(JARS)], env=env, capture_output=True, text=True,
        check=True,
    ).stdout.strip()  # fmt: skip
    with open(built, "rb") as whole, open(path, "wb") as fh:
        fh.write(whole.read(1 << 20))  # its header, and a megabyte of the rest
    _count_three_rows(JARS, env)
    assert not os.path.exists(path)
