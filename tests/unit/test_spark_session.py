"""The session every job gets (rental_analytics/spark.py), beyond its SQL settings."""

import pytest
from py4j.java_gateway import JavaClass, JavaPackage, JVMView
from pyspark.sql import functions as F

from rental_analytics import spark as spark_module
from rental_analytics.spark import configure_session


def _names_asked(monkeypatch, py4j_type) -> list[str]:
    """The names py4j is asked to look up in the JVM on ``py4j_type`` (its ``__getattr__``,
    which Python calls only for a name the object does not hold), recorded in order."""
    asked: list[str] = []
    lookup = py4j_type.__getattr__

    def recording(obj, name):
        asked.append(name)
        return lookup(obj, name)

    monkeypatch.setattr(py4j_type, "__getattr__", recording)
    return asked


def test_function_calls_ask_py4j_to_find_no_class(spark, monkeypatch):
    """Building columns finds the JVM classes kept on the session's py4j view: no call asks
    py4j to resolve ``functions`` or ``PythonUtils`` by short name (each such lookup tries
    every imported package against every jar of the class path)."""
    asked = _names_asked(monkeypatch, JVMView)
    value = F.concat_ws("|", F.col("id").cast("string"), F.lit("x"))  # PythonUtils: the list
    rows = spark.range(3).select(value.alias("v")).collect()
    assert [r.v for r in rows] == ["0|x", "1|x", "2|x"]
    assert not set(spark_module.PINNED_JVM_CLASSES) & set(asked)


def test_a_function_is_looked_up_in_the_jvm_once_per_session(spark, monkeypatch):
    """py4j asks the JVM what ``functions.<name>`` is at each call; the kept class asks once
    per name and calls the method it found from then on."""
    asked = _names_asked(monkeypatch, JavaClass)
    first = spark.range(1).select(F.soundex(F.lit("Robert")).alias("s")).first()
    second = spark.range(1).select(F.soundex(F.lit("Rupert")).alias("s")).first()
    assert (first.s, second.s) == ("R163", "R163")
    assert asked.count("soundex") <= 1


def test_a_class_missing_from_the_jvm_fails_the_session_setup(spark, monkeypatch):
    monkeypatch.setitem(
        spark_module.PINNED_JVM_CLASSES, "NoSuchClass", "org.apache.spark.sql.NoSuchClass"
    )
    with pytest.raises(RuntimeError, match="org.apache.spark.sql.NoSuchClass not found"):
        configure_session(spark)


def test_a_package_path_is_looked_up_in_the_jvm_once_per_session(spark, monkeypatch, tmp_path):
    """Reading an Observation iterates a Java map, which py4j ends with an error, and PySpark
    asks ``py4j.reflection.TypeUtil`` what the error is, a dozen times: through the kept
    packages each part of a name is asked for once per session, not at every use."""
    from pyspark.sql import Observation

    in_packages, in_view = (
        _names_asked(monkeypatch, JavaPackage),
        _names_asked(monkeypatch, JVMView),
    )
    for n in (1, 2, 3):
        seen = Observation()
        spark.range(n).observe(seen, F.count(F.lit(1)).alias("rows")).write.parquet(
            str(tmp_path / str(n))
        )
        assert seen.get == {"rows": n}
    asked = in_packages + in_view
    assert not set(spark_module.PINNED_JVM_PACKAGES) & set(in_view)
    assert not [name for name in set(asked) if asked.count(name) > 1], asked
