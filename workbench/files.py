"""Writing the knowledge and NLU files staff edit: one writer at a time, and a reader (the index
build, git, Rasa) sees the old file or the new one, never half of it."""

from __future__ import annotations

import fcntl
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_thread_lock = threading.Lock()


@contextmanager
def editing(directory: Path) -> Iterator[None]:
    """Hold the edit lock of ``directory``: threads of this process and other processes (another
    gateway replica) take turns, so two edits of one file cannot lose each other's change."""
    directory.mkdir(parents=True, exist_ok=True)
    with _thread_lock:
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # releases the flock


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one rename, keeping the file's permissions. The temporary
    file ends in .tmp, which neither the guide loader nor Rasa reads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
