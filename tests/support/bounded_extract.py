"""Extract one source table in a Spark JVM of its own with a small heap, and report how it
went: ``python -m tests.support.bounded_extract HOME OUT HEAP [--whole-partition]``.

The test of the extract's memory (tests/integration/test_extract_memory.py) runs this in a
child process, because a JVM's heap is fixed when it starts and the test session's Spark is
already running. It prints one JSON line: rows extracted and the JVM's heap limit, or exits
non-zero (an OutOfMemoryError ends the JVM). ``--whole-partition`` reads with fetchsize 0,
which makes a JDBC driver hold each partition's whole result in memory: the control that
shows the table is large enough for streaming to matter.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import date
from pathlib import Path

from rental_analytics.config import Settings
from rental_analytics.sources.extract import JdbcReader, extract_domain
from rental_analytics.sources.tables import APARTMENT_ATTRIBUTES
from rental_analytics.spark import local_session

MARIADB_JAR = "/usr/share/java/mariadb-java-client.jar"


class WholePartitionReader(JdbcReader):
    def _reader(self):
        return super()._reader().option("fetchsize", "0")


def main(argv: list[str]) -> int:
    home, out, heap = Path(argv[0]), Path(argv[1]), argv[2]
    whole = "--whole-partition" in argv[3:]
    settings = dataclasses.replace(
        Settings.local(home),
        lake_root=str(out / "lake"),
        bookmarks_root=str(out / "bookmarks"),
        runs_root=str(out / "runs"),
    )
    spark = local_session(
        "bounded-extract",
        master="local[1]",
        jars=(MARIADB_JAR,),
        conf={
            "spark.driver.memory": heap,
            # Spark sets 300 MB of the heap aside and refuses a heap under 450 MB; a small
            # heap is the point here, so the reserve is small too.
            "spark.testing.reservedMemory": str(16 * 1024 * 1024),
            "spark.driver.extraJavaOptions": "-Duser.timezone=UTC -XX:+ExitOnOutOfMemoryError",
        },
    )
    reader_type = WholePartitionReader if whole else JdbcReader
    result = extract_domain(
        settings,
        "apartments",
        date(2024, 3, 10),
        reader_type(spark, settings),
        tables=[APARTMENT_ATTRIBUTES],
    )
    runtime = spark._jvm.java.lang.Runtime.getRuntime()  # noqa: SLF001 - py4j gateway
    print(
        json.dumps(
            {
                "rows": {t.table: t.rows for t in result.tables},
                "max_heap_bytes": int(runtime.maxMemory()),
            }
        )
    )
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
