"""The raw store: every blob a source fetched, kept so later stages never re-fetch.

Layout: `<root>/<owner>/<name>/<run_id>/<attempt>/<job_id>/<name>`; references handed to
later stages are paths relative to the root (portable when the home directory moves).
Writes go through a temporary file and an atomic rename, so a crash never leaves half a blob.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath


class RawStoreError(ValueError):
    """A reference that does not name a blob inside the store."""


class RawStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def job_dir(self, repo: str, run_id: int, run_attempt: int, job_id: int) -> PurePosixPath:
        owner, _, name = repo.partition("/")
        return PurePosixPath(owner or "_", name or "_", str(run_id), str(run_attempt), str(job_id))

    def ref(self, repo: str, run_id: int, run_attempt: int, job_id: int, name: str) -> str:
        safe = PurePosixPath(name)
        if safe.is_absolute() or ".." in safe.parts:
            raise RawStoreError(f"blob name {name!r} escapes the job directory")
        return str(self.job_dir(repo, run_id, run_attempt, job_id) / safe)

    def path(self, ref: str) -> Path:
        rel = PurePosixPath(ref)
        if rel.is_absolute() or ".." in rel.parts:
            raise RawStoreError(f"raw store reference {ref!r} escapes the store")
        return self.root / rel

    def exists(self, ref: str) -> bool:
        return self.path(ref).is_file()

    def put_bytes(self, ref: str, data: bytes) -> str:
        target = self.path(ref)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return ref

    def put_file(self, ref: str, source: Path) -> str:
        """Copy a file in (hard link when on the same filesystem: archives can be large)."""
        target = self.path(ref)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".tmp-{target.name}-{os.getpid()}")
        tmp.unlink(missing_ok=True)
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
        os.replace(tmp, target)
        return ref

    def size(self, ref: str) -> int:
        return self.path(ref).stat().st_size
