"""Files that appear whole or not at all, names that are never taken twice, and a quiet
standard error for chatty C++ libraries."""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "atomic_folder", "complete_folder", "rename_new", "rename_all_new", "quiet_stderr",
           "numbered_stems", "shown", "file_sha256", "REPOSITORY", "in_repository"]

REPOSITORY = Path(__file__).resolve().parent.parent  # the workshop's folder: data/, models/, notebooks/
MODELS_DIR = REPOSITORY / "models"  # the shipped models: gan (Bach's), gan-NAME (other styles), arcnn


def file_sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of a file's bytes, read a megabyte at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def in_repository(path: str | os.PathLike) -> str | None:
    """``path`` relative to the workshop's folder (as a/b, the same on every machine), or None
    where it lies outside it."""
    found = Path(path).resolve()
    return found.relative_to(REPOSITORY).as_posix() if found.is_relative_to(REPOSITORY) else None


def numbered_stems(stem: str) -> Iterator[str]:
    """``stem``, then ``stem-2``, ``stem-3``, ...: the names a new file takes beside earlier ones."""
    yield stem
    number = 2
    while True:
        yield f"{stem}-{number}"
        number += 1


def shown(name: str | os.PathLike) -> str:
    """A name as a one-line message shows it: as it is, or quoted where it holds a newline or the like."""
    text = str(name)
    return text if text.isprintable() else repr(text)


@contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence file descriptor 2 (what C++ code such as TensorFlow's prints) for a moment."""
    import sys

    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def rename_new(source: str | os.PathLike, target: str | os.PathLike) -> None:
    """Rename ``source`` to ``target`` unless ``target`` exists (then ``FileExistsError``).

    The name is taken atomically (a hard link, or an exclusive create where the file system has
    no hard links): of two writers racing for one name, exactly one gets it.
    """
    try:
        os.link(source, target)
    except FileExistsError:
        raise
    except OSError:  # no hard links here (some network and FAT file systems): claim, then move in
        os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        try:
            os.replace(source, target)
        except OSError:
            os.unlink(target)
            raise
        return
    os.unlink(source)


def rename_all_new(moves: Mapping[Path, Path]) -> bool:
    """Rename every source to its target, none over an existing file: all of them or none.

    Returns False, with every file back at its source, when a target is taken.
    """
    done: list[tuple[Path, Path]] = []
    try:
        for source, target in moves.items():
            rename_new(source, target)
            done.append((source, target))
    except OSError as exc:
        for source, target in reversed(done):
            os.replace(target, source)
        if isinstance(exc, FileExistsError):
            return False
        raise
    return True


@contextmanager
def atomic_path(path: str | os.PathLike, overwrite: bool = True) -> Iterator[str]:
    """Yield a temporary name beside ``path``; on success it is renamed to ``path``.

    If writing fails, the temporary file is removed and ``path`` is left as it was. Without
    ``overwrite``, an existing ``path`` (even one that appeared while writing) is kept and
    ``FileExistsError`` raised.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=f"{path.suffix}.part", dir=path.parent)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o644)
        if overwrite:
            os.replace(tmp, path)
        else:
            rename_new(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _beside(path: Path, ending: str) -> Path:
    return path.with_name(path.name + ending)


def _writer_alive(scratch: Path, path: Path) -> bool:
    """Whether the process that made ``atomic_folder``'s scratch folder ``PATH.<pid>.<tag>.tmp``
    still runs (on this machine)."""
    parts = scratch.name[len(path.name) + 1 :].split(".")  # [pid, tag, "tmp"]; the tag has no dot
    if len(parts) != 3 or not parts[0].isdigit():
        return True  # not one of ours (another folder's, say "NAME.5"'s): leave it
    pid = parts[0]
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:  # it runs, as another user
        return True
    return True


@contextmanager
def atomic_folder(path: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty scratch folder beside ``path`` to fill; on success it takes the place of ``path``.

    Whenever the process dies, a whole folder is left: ``path`` as it was or as it is now, or,
    between the two renames of the swap, the previous one as ``PATH.old`` (see
    ``complete_folder``). A failure while filling leaves ``path`` as it was. Each writer fills
    its own ``PATH.<pid>.<tag>.tmp`` (those of writers that died are removed), so two writing the
    same folder at once (two trainings making the same shards) both succeed: the first to finish
    puts its folder in place, and one that finds another's folder put there while it swapped
    keeps that one.
    """
    path = Path(path)
    old = _beside(path, ".old")
    path.parent.mkdir(parents=True, exist_ok=True)
    for scratch in path.parent.glob(f"{glob.escape(path.name)}.*.tmp"):
        if not _writer_alive(scratch, path):
            shutil.rmtree(scratch, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        if path.exists():
            shutil.rmtree(old, ignore_errors=True)
            path.rename(old)
        tmp.rename(path)
    except OSError:
        if not path.is_dir():
            raise  # another writer's whole folder did not take the place meanwhile
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # gone where it took the place of path
    shutil.rmtree(old, ignore_errors=True)


def complete_folder(path: str | os.PathLike) -> Path:
    """``path``, or the whole folder ``atomic_folder`` left as ``PATH.old`` if it died mid-swap."""
    path = Path(path)
    old = _beside(path, ".old")
    return old if not path.exists() and old.exists() else path
