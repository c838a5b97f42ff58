"""The extract streams a JDBC partition: its memory stays bounded by the fetch size, not by
the partition. A table of half as much text again as the JVM's heap, in one JDBC partition, is
extracted by a Spark driver with a small heap (in a child process: a heap is fixed when the
JVM starts); the same read without streaming (fetchsize 0) runs out of memory, which shows
the table is large enough for the difference to show.

Locally the driver is MariaDB Connector/J, which streams when a fetch size is set. In AWS it
is MySQL Connector/J, which ignores the fetch size unless the URL sets useCursorFetch=true
(tests/unit/test_glue_settings.py checks that URL).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from rental_analytics.local import source_db
from tests.conftest import REPO, empty_source

ROWS = 90_000  # under 100,000: the extract reads the table as one JDBC partition
BODY_BYTES = 1_728  # 156 MB of text in all
HEAP = "96m"


@pytest.fixture(scope="module")
def large_table(settings):
    """apartment_attributes with ROWS rows of BODY_BYTES of text each; its total text bytes."""
    empty_source(settings)
    with source_db.connect(settings) as conn, conn.cursor() as cur:
        cur.execute(
            "insert into apartment_attributes (id, body, cityname)"
            f" select seq, repeat(md5(seq), {BODY_BYTES // 32}), 'Austin'"
            f" from seq_1_to_{ROWS}"
        )
        conn.commit()
        cur.execute("select count(*), sum(length(body)) from apartment_attributes")
        count, text_bytes = cur.fetchone()
    assert count == ROWS
    yield int(text_bytes)
    empty_source(settings)


def _extract(stack_home, out, *flags) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tests.support.bounded_extract", str(stack_home), str(out), HEAP,
         *flags],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip


def test_a_partition_larger_than_the_heap_is_extracted(large_table, stack_home, tmp_path):
    proc = _extract(stack_home, tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["rows"] == {"apartment_attributes": ROWS}
    # The premise: the partition's text alone is well over the heap it was read with.
    assert large_table > 1.5 * report["max_heap_bytes"]


def test_the_same_partition_read_whole_runs_out_of_memory(large_table, stack_home, tmp_path):
    proc = _extract(stack_home, tmp_path, "--whole-partition")
    assert proc.returncode != 0
    assert "OutOfMemoryError" in proc.stderr + proc.stdout, proc.stderr[-3000:]
