"""One process trains a run at a time: an exclusive lock in the run directory.

``<run>/lock`` holds its owner (host, pid, start time) as JSON, and the owner
holds an exclusive ``flock`` on it for as long as it trains. The kernel drops
that ``flock`` when the process ends, however it ends (``kill -9`` included),
so a lock file left by a dead process is free to take: the next process takes
it over and says whose it was. On shared storage this needs a filesystem
whose ``flock`` is seen by every machine (NFSv4, Lustre, CephFS and GPFS are;
see docs/operations.md, the cluster section).

    with RunLock(run_dir) as lock:     # raises Locked if another process has it
        ...
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import time
from pathlib import Path

LOCK_NAME = "lock"


class Locked(RuntimeError):
    """Another live process holds the run's lock."""

    def __init__(self, run_dir: Path, owner: dict | None):
        self.run_dir, self.owner = Path(run_dir), owner or {}
        super().__init__(f"[{self.run_dir.name}] is being trained by {describe(self.owner)}")


def describe(owner: dict) -> str:
    if not owner:
        return "another process"
    return f"pid {owner.get('pid')} on {owner.get('host')} (since {owner.get('since')})"


def read_owner(run_dir: Path) -> dict | None:
    """What the lock file says of its owner (who may be dead), or None."""
    try:
        return json.loads((Path(run_dir) / LOCK_NAME).read_text() or "null")
    except (OSError, ValueError):
        return None


def is_locked(run_dir: Path) -> bool:
    """Whether a live process holds ``run_dir``'s lock now (this one included)."""
    path = Path(run_dir) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return True
        raise
    finally:
        os.close(fd)


class RunLock:
    """Exclusive, non-blocking lock on a run directory (created if missing).

    ``log`` is told when a dead owner's lock is taken over."""

    def __init__(self, run_dir: str | os.PathLike, log=print):
        self.dir, self.log = Path(run_dir), log
        self.path = self.dir / LOCK_NAME
        self.fd: int | None = None

    def acquire(self) -> "RunLock":
        self.dir.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                    raise Locked(self.dir, read_owner(self.dir)) from None
                raise
            # the previous owner may have removed the file between our open and
            # our flock: then we hold a lock on a deleted file; try again
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        previous = os.read(fd, 4096).decode(errors="replace").strip()
        if previous:   # a lock file nobody holds: its owner died without releasing it
            try:
                owner = describe(json.loads(previous))
            except ValueError:
                owner = "an unknown process (unreadable lock file)"
            self.log(f"[{self.dir.name}] taking over the lock of {owner}, which is no longer running")
        me = {"host": socket.gethostname(), "pid": os.getpid(),
              "since": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode(), 0)
        os.fsync(fd)
        self.fd = fd
        return self

    def release(self) -> None:
        """Remove the lock file, then drop the lock (in this order, so that a
        waiter never takes a lock on a file that is about to disappear
        without noticing: it re-checks the path after locking)."""
        if self.fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
