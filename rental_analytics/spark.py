"""The SparkSession of a job run outside Glue (locally, in tests). In Glue the session comes
from the Glue runtime; the job code only ever receives a SparkSession."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from py4j.java_gateway import JavaClass, JavaMember, JavaPackage
from pyspark.errors import PySparkRuntimeError
from pyspark.sql import SparkSession

from rental_analytics.local import class_archive

# Session settings every job needs, locally and in Glue (where they are set on the session
# Glue creates). Constraint propagation re-derives every row rule of the wide parsing
# projections at each planning step: on a landed batch it made planning, not execution,
# take seconds per action.
#
# A landed batch is kept in memory between its two writes (accepted rows, rejects; see
# load_raw._stage_batch). Spark compresses what it keeps by default, each column trying
# every encoding: building it took longer than parsing and checking the rows. Kept as is,
# measured warm on the 110,000 landed vehicles of scale 1: 5.4 s -> 3.9 s for the
# accepted rows (kept rows spill to disk when memory runs short, either way).
SQL_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.constraintPropagation.enabled": "false",
    "spark.sql.inMemoryColumnarStorage.compressed": "false",
}


# The local JVM compiles hot code with its quick compiler only (C1). A local job is short
# and runs mostly code Spark generated for its own queries, which a JVM compiles anew every
# run; on two cores the optimising compiler (C2) took a third of a job's CPU compiling it,
# competing with the job itself. Measured at scale 1, the same code run back to back with
# and without: a full run 72.6 s -> 60.0 s, the incremental run 38.5 s -> 28.3 s.
# Its garbage collector is the throughput one (Parallel): G1, the default, keeps threads
# busy beside the job to shorten pauses that nobody waits for in a batch job. Measured at
# scale 1, A/B pairs on the same data: load_raw alone 110.5 s against 117.4 s in four pairs
# (it was quicker in three), a full run 43.8 and 38.4 s against 46.8 and 40.5 s in two.
# It also compiles methods of more than 8,000 bytes of bytecode, which a JVM otherwise leaves
# to its interpreter for good (DontCompileHugeMethods): Spark's generated code for a whole
# stage is one method, and the stage that parses and checks a landed table's text is such
# a method (vehicles': 9,821 bytes), so its every row ran interpreted. Checking vehicles'
# 110,000 rows of text at scale 1, warm, five times each: 2.44-2.56 s -> 1.78-1.85 s.
# RENTALS_JVM_OPTIONS replaces these options (empty: the JVM's own defaults). Glue starts
# its own JVMs: none of this runs in AWS.
JVM_OPTIONS_ENV = "RENTALS_JVM_OPTIONS"
JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseParallelGC -XX:-DontCompileHugeMethods"


# The JVM classes PySpark finds by their short name, through py4j, on every call: each
# pyspark.sql.functions call asks for ``functions``, each list it passes to the JVM for
# ``PythonUtils``, each ``Column.cast`` for ``SparkSession`` (the active session) and
# ``SparkSession$``, each Python value it converts for ``PythonSQLUtils``. py4j resolves a
# short name by trying it as it is, then in each package PySpark imports
# (org.apache.spark.sql is the seventh): every try that fails is a search of every jar on
# the class path. Planning the checks of the eight tables makes some 3,500 such calls:
# measured, 0.70 ms each, 0.26 ms with the class found once per session and kept; an
# incremental load_raw at scale 1 took 13.8 s instead of 15.1 s (two A/B pairs). The kept
# classes also remember their methods: py4j otherwise asks the JVM what ``functions.col``
# is at every call, a round trip each (planning the eight tables: 16,700 round trips ->
# 13,000, 3.0 s -> 2.5 s). Locally and in Glue alike (Glue's class path is longer).
PINNED_JVM_CLASSES = {
    "functions": "org.apache.spark.sql.functions",
    "PythonUtils": "org.apache.spark.api.python.PythonUtils",
    "SparkSession": "org.apache.spark.sql.SparkSession",
    "SparkSession$": "org.apache.spark.sql.SparkSession$",
    "PythonSQLUtils": "org.apache.spark.sql.api.python.PythonSQLUtils",
}
# The packages PySpark and py4j reach classes through by their full names
# (``jvm.org.apache.spark.sql.Observation``, ``jvm.py4j.reflection.TypeUtil``): py4j asks
# the JVM about each part of the name, every time, and each part that is a package is a
# failed search of the class path first. Every error the JVM returns is converted by
# PySpark, which asks ``py4j.reflection.TypeUtil`` a dozen times what the error is, and
# py4j ends each iteration over a Java collection with an error: reading an Observation
# (load_raw, each batch) cost 45 lookups. A kept package remembers each package and class
# found in it. load_raw of 24 batches (scale 1): 1,627 lookups taking 1.37 s -> 62 taking
# 0.03 s; of 24 small batches (scale 0.05) 14.2 s -> 13.7 s on average, five A/B pairs
# (quicker in each); at scale 1 within the noise (the lookups overlapped other work).
PINNED_JVM_PACKAGES = ("org", "py4j")


def configure_session(session: SparkSession) -> SparkSession:
    for key, value in SQL_CONF.items():
        session.conf.set(key, value)
    _pin_jvm_names(session)
    return session


def _pin_jvm_names(session: SparkSession) -> None:
    """Keep PINNED_JVM_CLASSES and PINNED_JVM_PACKAGES on the session's py4j view of the JVM:
    py4j asks the JVM for a name only when the view has no attribute of that name."""
    jvm = session.sparkContext._jvm
    client = jvm._gateway_client
    for name in PINNED_JVM_PACKAGES:
        if not isinstance(jvm.__dict__.get(name), _NamesKept):
            setattr(jvm, name, _NamesKept(name, client, jvm._id))
    for name, fqn in PINNED_JVM_CLASSES.items():
        found = jvm
        for part in fqn.split("."):
            found = getattr(found, part)
        if not isinstance(found, JavaClass):  # a package: the class is not there
            raise RuntimeError(f"JVM class {fqn} not found")
        setattr(jvm, name, found if isinstance(found, _MethodsKept) else _MethodsKept(fqn, client))


class _MethodsKept(JavaClass):
    """A py4j class that asks the JVM about each of its static methods once: py4j asks
    again at every call (``functions.col`` for each column), one more round trip."""

    def __getattr__(self, name: str):
        member = super().__getattr__(name)
        if isinstance(member, JavaMember):  # a method: calls only carry its name
            self.__dict__[name] = member
        return member


class _NamesKept(JavaPackage):
    """A py4j package that asks the JVM about each name in it once, and keeps what it found:
    its packages as kept packages, its classes as classes that keep their methods."""

    def __getattr__(self, name: str):
        found = super().__getattr__(name)
        if isinstance(found, JavaPackage):
            found = _NamesKept(found._fqn, self._gateway_client, self._jvm_id)
        elif isinstance(found, JavaClass):
            found = _MethodsKept(found._fqn, self._gateway_client)
        else:  # py4j's own help object
            return found
        self.__dict__[name] = found
        return found


def local_session(
    app_name: str,
    master: str = "local[2]",
    jars: Sequence[str] = (),
    conf: Mapping[str, str] | None = None,
) -> SparkSession:
    """A local session; ``conf`` adds to or overrides its settings (JVM settings such as
    ``spark.driver.memory`` apply only when this call starts the JVM).

    The JVM starts from the machine's class archive when there is one
    (``local/class_archive.py``); a JVM that refuses it starts again without it."""
    archive = class_archive.java_options(jars)
    try:
        return _local_session(app_name, master, jars, conf, archive)
    except PySparkRuntimeError:
        if not archive:
            raise
        class_archive.discard(jars)
        return _local_session(app_name, master, jars, conf, "")


def _local_session(
    app_name: str,
    master: str,
    jars: Sequence[str],
    conf: Mapping[str, str] | None,
    java_options: str,
) -> SparkSession:
    jvm_options = os.environ.get(JVM_OPTIONS_ENV, JVM_OPTIONS)
    driver_options = " ".join(filter(None, ["-Duser.timezone=UTC", jvm_options, java_options]))
    builder = (
        SparkSession.builder.appName(app_name)
        .master(master)
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.parquet.compression.codec", "snappy")
        .config("spark.sql.sources.partitionOverwriteMode", "static")
        .config("spark.driver.extraJavaOptions", driver_options)
        .config("spark.executor.extraJavaOptions", "-Duser.timezone=UTC")
        # Generated code is compiled once per text and kept, 100 classes by default: fewer
        # than load_raw's eight tables make (some 160), so a standby that rehearsed them
        # (local/standby.py) had lost the first tables' before its job staged them.
        .config("spark.sql.codegen.cache.maxEntries", "500")
    )
    if jars:
        builder = builder.config("spark.jars", ",".join(jars))
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("WARN")
    return configure_session(session)
