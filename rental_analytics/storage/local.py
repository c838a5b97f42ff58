"""The storage interfaces on the local file system (``$RENTALS_HOME``): the landing zone
as a folder, state documents as files, lake batches as folders. Writes are atomic: a
temporary file, fsynced, then renamed."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from rental_analytics.storage.base import LandedFile, is_visible_key


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class LocalLanding:
    """The landing zone as a folder (``$RENTALS_HOME/landing``)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _file(self, path: Path) -> LandedFile:
        stat = path.stat()
        return LandedFile(
            key=path.relative_to(self.root).as_posix(),
            uri=str(path),
            size=stat.st_size,
            modified_ns=stat.st_mtime_ns,
            fingerprint=sha256_of(path),
        )

    def list_files(self, prefix: str) -> list[LandedFile]:
        base = self.root / prefix
        if not base.is_dir():
            return []
        files = [
            self._file(p)
            for p in base.rglob("*")
            if p.is_file()
            and p.suffix.lower() == ".csv"
            and is_visible_key(p.relative_to(base).as_posix())
        ]
        return sorted(files, key=lambda f: (f.modified_ns, f.key))

    def read_head(self, file: LandedFile, size: int = 65_536) -> bytes:
        with open(file.uri, "rb") as fh:
            return fh.read(size)

    def put_file(self, source: Path, key: str) -> LandedFile:
        """Copy ``source`` to ``key`` atomically: a reader never sees half a file."""
        target = self.root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            os.fchmod(fd, 0o644)  # mkstemp makes it owner-only; landed data is readable
            with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return self._file(target)

    def subfolders(self, prefix: str) -> list[str]:
        """The names of the folders directly below a table's prefix."""
        base = self.root / prefix
        return [c.name for c in base.iterdir() if c.is_dir()] if base.is_dir() else []


class LocalStateDocument:
    """A state document as a file: the write goes to a temporary file that is fsynced and
    renamed, so a killed run leaves the old state whole."""

    def __init__(self, path: Path):
        self.path = path

    def __str__(self) -> str:
        return str(self.path)

    def read_text(self) -> str | None:
        return self.path.read_text() if self.path.exists() else None

    def replace(self, text: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            dir=self.path.parent, prefix=f".{self.path.stem}.", suffix=".tmp"
        )
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def remove_folder(path: str | Path) -> None:
    shutil.rmtree(Path(path), ignore_errors=True)
