"""A class-data-sharing archive for the JVM of local Spark: seconds saved at every job start.

Every local job run starts a JVM that loads and verifies some 10,000 Spark classes before
its first row, and compiles its first queries cold: measured on this 2-core machine, 15 s
from the session's start to a first Parquet count, 8 s with an archive of the classes a
Spark job loads (JDK 17's dynamic CDS archive, ``-XX:ArchiveClassesAtExit`` then
``-XX:SharedArchiveFile``). A run starts three such JVMs; the test suite, dozens.

The archive is built once per machine (``rentals up``, or ``python -m
rental_analytics.local.class_archive``) by a JVM that runs a small Spark workload and
writes it as it exits. It belongs to one JVM, one pyspark and one class path: they are in
its file name, so a change builds another. It is written under another name and renamed
once the JVM has exited cleanly: a JVM refuses to start with a truncated archive, so a half
written one must never carry the final name. Glue starts its own JVMs: none of this runs
in AWS.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

CACHE_ENV = "RENTALS_JVM_CACHE"  # where archives are kept; default ~/.cache/rental-analytics
_BUILD_TIMEOUT_S = 600


def cache_dir() -> Path:
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rental-analytics"


def _java() -> Path | None:
    java_home = os.environ.get("JAVA_HOME")
    found = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    return Path(found).resolve() if found and Path(found).exists() else None


def spark_home() -> Path:
    """Where the JVM's Spark jars are (``SPARK_HOME``, else the pyspark package): its class
    path, which a JVM checks against the archive's, entry by entry.

    Found as pyspark finds it when it launches a JVM (its ``find_spark_home``), loaded from
    its file: importing it from the package would import all of pyspark (numpy among it),
    0.3 s of every ``rentals`` command that starts the stack, which needs no Spark."""
    package = importlib.util.find_spec("pyspark")  # located, not imported
    if package is None or not package.submodule_search_locations:
        raise ModuleNotFoundError("pyspark is not installed")
    path = Path(next(iter(package.submodule_search_locations))) / "find_spark_home.py"
    spec = importlib.util.spec_from_file_location("_rentals_find_spark_home", path)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"pyspark's find_spark_home is not at {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return Path(module._find_spark_home()).resolve()


def archive_path(jars: Sequence[str] = ()) -> Path | None:
    """The archive for this JVM, pyspark and class path; None without a java to key it on.

    The class path is in the key by its place: a JVM maps an archive only when every jar of
    the class path it was built with is where it was then, and otherwise starts without it,
    silently. Keyed on the version alone, a second clone on the machine (another .venv) found
    the first clone's archive, did not build its own, and started every JVM without one.
    """
    # pyspark's version as installed (its metadata): importing pyspark to read it costs 0.3 s
    version = importlib.metadata.version("pyspark")
    java = _java()
    if java is None:
        return None
    stat = java.stat()
    key = "\0".join(
        [
            str(java),
            str(stat.st_size),
            str(int(stat.st_mtime)),
            version,
            str(spark_home()),
            *sorted(jars),
        ]
    )
    return cache_dir() / f"spark-{version}-{hashlib.sha1(key.encode()).hexdigest()[:16]}.jsa"


def java_options(jars: Sequence[str] = ()) -> str:
    """The JVM options that use the archive when it has been built; "" otherwise."""
    path = archive_path(jars)
    if path is None or not path.is_file():
        return ""
    # A JVM that cannot map the archive exits with a crash report: beside the archive, not
    # in the job's working directory.
    return (
        f"-XX:SharedArchiveFile={path} -Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off"
        f" -XX:ErrorFile={path.parent}/hs_err_pid%p.log"
    )


def discard(jars: Sequence[str] = ()) -> None:
    """Remove the archive (a JVM refused it); the next build makes another."""
    path = archive_path(jars)
    if path is not None:
        path.unlink(missing_ok=True)
        _home_file(path).unlink(missing_ok=True)


def _home_file(archive: Path) -> Path:
    """Beside each archive, the Spark home it was built for: what pruning goes by."""
    return archive.with_name(f"{archive.name}.home")


def prune(keep: Path) -> list[Path]:
    """Remove the archives whose Spark home is gone (a deleted clone's .venv), and those
    that do not say theirs (built before the home was in their name, never used again);
    never ``keep``. Each clone has its own archive of some 150 MB: without this, every
    clone ever made on the machine would leave one behind. The removed archives."""
    removed = []
    for archive in sorted(keep.parent.glob("spark-*.jsa")):
        home_file = _home_file(archive)
        home = home_file.read_text().strip() if home_file.is_file() else ""
        if archive == keep or (home and Path(home).is_dir()):
            continue
        archive.unlink(missing_ok=True)
        home_file.unlink(missing_ok=True)
        removed.append(archive)
    return removed


def build(jars: Sequence[str] = ()) -> Path | None:
    """Build the archive unless it is there; its path, or None when it could not be built
    (then jobs start without it, as before). The archives of Spark homes that are gone are
    removed (``prune``)."""
    final = archive_path(jars)
    if final is None:
        return None
    if final.is_file():
        _home_file(final).write_text(f"{spark_home()}\n")
        prune(final)
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    partial = final.with_name(f"{final.name}.{os.getpid()}.partial")
    argv = [sys.executable, "-m", "rental_analytics.local.class_archive", "--dump-to", str(partial)]
    argv += [arg for jar in jars for arg in ("--jar", jar)]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=_BUILD_TIMEOUT_S)
        if proc.returncode == 0 and partial.is_file() and partial.stat().st_size > 0:
            _home_file(final).write_text(f"{spark_home()}\n")
            os.replace(partial, final)
            prune(final)
            return final
        return None
    except subprocess.TimeoutExpired:
        return None
    finally:
        partial.unlink(missing_ok=True)


def _dump(path: str, jars: Sequence[str]) -> int:
    """Run a small Spark workload in a JVM that writes the archive to ``path`` as it exits;
    wait for that JVM to exit, and return its status."""
    import tempfile

    from pyspark import SparkContext
    from pyspark.sql import SparkSession, Window
    from pyspark.sql import functions as F

    from rental_analytics.transforms.common import row_hash

    builder = (
        SparkSession.builder.appName("rentals-class-archive")
        .master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.extraJavaOptions", f"-XX:ArchiveClassesAtExit={path}")
    )
    if jars:
        builder = builder.config("spark.jars", ",".join(jars))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    with tempfile.TemporaryDirectory(prefix="rentals-class-archive-") as tmp:
        # What every job does: Parquet out and in, typing, rules, hashes, JSON, a window.
        df = spark.range(2000).select(
            F.col("id"),
            (F.col("id") % 7).alias("k"),
            F.concat(
                F.lit("2024-01-"), F.lpad((F.col("id") % 28 + 1).cast("string"), 2, "0")
            ).alias("d"),
        )
        df.write.mode("overwrite").parquet(f"{tmp}/in")
        back = spark.read.parquet(f"{tmp}/in")
        typed = back.select(
            "id",
            "k",
            F.when(F.col("d").rlike("^[0-9]{4}-[0-9]{2}-[0-9]{2}$"), F.to_date("d")).alias("d"),
            F.md5(F.concat_ws("\x1f", F.col("id").cast("string"), F.col("d"))).alias("h"),
            row_hash(["id", "d"]).alias("row_hash"),
            F.to_json(F.struct("id", "d")).alias("j"),
            F.octet_length(F.col("d")).alias("n"),
        )
        ranked = typed.withColumn(
            "r", F.row_number().over(Window.partitionBy("k").orderBy(F.col("id").desc()))
        ).persist()
        ranked.where("r = 1").write.mode("overwrite").parquet(f"{tmp}/out")
        ranked.where("r > 1").groupBy("k").agg(F.max("d"), F.count("*")).collect()
        ranked.unpersist()
    spark.stop()
    gateway = SparkContext._gateway
    jvm = gateway.proc
    gateway.shutdown()
    jvm.stdin.close()  # the JVM exits when its stdin closes, writing the archive first
    return jvm.wait(timeout=_BUILD_TIMEOUT_S)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dump-to", help="write the archive here (used by build())")
    parser.add_argument("--jar", action="append", default=[], help="a jar of the class path")
    args = parser.parse_args(argv)
    if args.dump_to:
        return _dump(args.dump_to, args.jar)
    path = build(args.jar)
    print(path if path else "the class archive could not be built", flush=True)
    return 0 if path else 1


if __name__ == "__main__":
    sys.exit(main())
