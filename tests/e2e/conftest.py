"""End-to-end fixtures: the test stack's home emptied of everything a run leaves behind."""

from __future__ import annotations

import shutil

import pytest

RUN_STATE = ("lake", "bookmarks", "runs", "generated", "landing")


@pytest.fixture
def fresh_home(stack_home, clean_source, warehouse):
    """The test home with an empty source, landing zone, lake, state and warehouse."""
    for sub in RUN_STATE:
        shutil.rmtree(stack_home / sub, ignore_errors=True)
    return stack_home
