"""A standby stopped by SIGTERM ends with the signal's status, also when Python swallowed
the exit its handler raised (local/standby.py)."""

from __future__ import annotations

import os
import signal

import pytest

from rental_analytics.local import standby


class _Finalized:
    def __del__(self) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(100):  # the handler runs here, at the next instructions: in a finalizer
            pass


@pytest.fixture
def handled(monkeypatch):
    monkeypatch.setattr(standby, "_stopped_by", [])
    previous = signal.signal(signal.SIGTERM, standby._exit_on_signal)
    yield
    signal.signal(signal.SIGTERM, previous)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_stop_swallowed_by_a_finalizer_still_ends_the_standby(handled):
    _Finalized()  # dropped at once: its finalizer is signalled, and the exit is ignored
    with pytest.raises(SystemExit) as stop:
        standby._exit_if_stopped()
    assert stop.value.code == 128 + signal.SIGTERM


def test_a_standby_never_signalled_goes_on(handled):
    standby._exit_if_stopped()  # nothing raised
    with pytest.raises(SystemExit) as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(100):
            pass
    assert stop.value.code == 128 + signal.SIGTERM
