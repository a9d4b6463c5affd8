"""lib.runlock: one holder at a time, its owner recorded, released on exit,
a dead owner's lock taken over with a message. Plain Python, no Keras."""

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lib.store.runlock import Locked, RunLock, is_locked, read_owner

# no Keras backend in play: run once, not again in the JAX pass (see pytest.ini)
pytestmark = pytest.mark.backend_free

REPO = Path(__file__).resolve().parent.parent


def test_lock_records_owner_and_excludes_a_second_holder(tmp_path):
    d = tmp_path / "run"
    with RunLock(d) as lock:
        owner = read_owner(d)
        assert owner["pid"] == os.getpid() and owner["host"] == socket.gethostname()
        assert is_locked(d)
        with pytest.raises(Locked, match=f"pid {os.getpid()} on {socket.gethostname()}"):
            RunLock(d).acquire()   # another open file: excluded even within one process
        assert lock.fd is not None
    assert not (d / "lock").exists() and not is_locked(d)
    with RunLock(d):                # free again after release
        pass


def _spawn_holder(d: Path, then: str) -> subprocess.Popen:
    """A process that takes the lock, says so on stdout, then runs ``then``."""
    code = textwrap.dedent(f"""
        import os, signal, sys, time
        from lib.store.runlock import RunLock
        lock = RunLock({str(d)!r}).acquire()
        print("locked", flush=True)
        {then}
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_lock_of_a_killed_process_is_taken_over_with_a_message(tmp_path):
    d = tmp_path / "run"
    proc = _spawn_holder(d, "time.sleep(60)")
    with pytest.raises(Locked):
        RunLock(d).acquire()
    dead_pid = proc.pid
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert read_owner(d)["pid"] == dead_pid          # the file outlives its owner...
    assert not is_locked(d)                          # ...but not the lock
    messages = []
    with RunLock(d, log=messages.append):
        assert read_owner(d)["pid"] == os.getpid()
    assert len(messages) == 1 and f"pid {dead_pid}" in messages[0]
    assert "taking over" in messages[0]


def test_lock_is_released_when_its_process_exits_normally(tmp_path):
    d = tmp_path / "run"
    proc = _spawn_holder(d, "lock.release()")
    proc.wait()
    messages = []
    with RunLock(d, log=messages.append):
        pass
    assert messages == []                            # nothing to take over


def test_racing_processes_get_the_lock_once(tmp_path):
    """Eight processes released together: exactly one takes the lock."""
    d = tmp_path / "run"
    go = tmp_path / "go"
    code = textwrap.dedent(f"""
        import os, time
        from lib.store.runlock import Locked, RunLock
        while not os.path.exists({str(go)!r}):
            time.sleep(0.001)
        try:
            lock = RunLock({str(d)!r}).acquire()
            print("won", flush=True)
            time.sleep(1.0)
        except Locked:
            print("lost", flush=True)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE,
                              text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
             for _ in range(8)]
    go.touch()
    results = sorted(p.communicate(timeout=60)[0].strip() for p in procs)
    assert results == ["lost"] * 7 + ["won"]


def test_unreadable_lock_file_of_a_dead_owner_is_taken_over(tmp_path):
    d = tmp_path / "run"
    d.mkdir()
    (d / "lock").write_text('{"host": "x", "pid"')   # cut short
    messages = []
    with RunLock(d, log=messages.append):
        assert json.loads((d / "lock").read_text())["pid"] == os.getpid()
    assert "unreadable" in messages[0]
