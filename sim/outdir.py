"""Where exsim writes its results: never over anything it did not write itself.

A user's ``--out`` may name a directory that already holds their work (``--out .``, a
project folder, a file). exsim only ever replaces a *run directory it wrote*: every such
directory carries a small manifest, :data:`MARKER` (``.exsim-run.json``), listing what exsim
put there. An existing target is replaced only when

- it is an empty directory (nothing to lose), or
- its manifest says exsim wrote it and it holds nothing the manifest does not list (a file the
  user added to an old run directory is theirs, and is not deleted), or
- the user passed ``--force``; even then the old content is replaced only after the new run has
  been written completely beside it, so a failed run loses nothing.

Anything else is an :class:`OutputError` with one line for the user (exit 2), checked before the
run starts so nothing is computed, written or deleted.

Files (``report -o``, ``export -o``) follow the same rule: an existing file is overwritten only
when it is recognisably exsim's own output (an exsim report, an exsim event-log export) or with
``--force``.

Temporary files and directories are siblings of the target named ``.<name>.exsim-tmp.<pid>.…``.
A run that is killed outright (SIGKILL, power loss) cannot clean up after itself, so the next
write into the same folder removes those whose process is gone.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

#: Manifest of a run directory written by exsim.
MARKER = ".exsim-run.json"
_TMP = re.compile(r"^\..*\.exsim-tmp\.(\d+)\.")
_REFUSE = "choose another --out or pass --force"


class OutputError(Exception):
    """An output that exsim may not write; the message is one line naming the path."""


# -- directories ------------------------------------------------------------------------------
def check_dir(out: str | os.PathLike, force: bool = False) -> None:
    """Raise :class:`OutputError` unless exsim may (re)place a run directory at ``out``."""
    out = Path(out)
    here = Path.cwd().resolve()
    target = out.resolve()
    if target == here or target in here.parents:
        raise OutputError(f"{out}: is the current directory or contains it; choose another --out")
    parent = target.parent
    for up in (parent, *parent.parents):
        if up.exists():
            if not up.is_dir():
                raise OutputError(f"{out}: {up} is a file, not a directory; choose another --out")
            break
    if not out.exists() and not out.is_symlink():
        return
    if force:
        return
    if out.is_symlink() or not out.is_dir():
        kind = "a link" if out.is_symlink() else "a file"
        raise OutputError(f"{out}: exists and is {kind} exsim did not write; {_REFUSE}")
    foreign = foreign_entries(out)
    if foreign is None:
        raise OutputError(f"{out}: exists and was not written by exsim; {_REFUSE}")
    if foreign:
        raise OutputError(f"{out}: holds {foreign[0]}, which exsim did not write; {_REFUSE}")


def foreign_entries(path: Path) -> list[str] | None:
    """Entries under ``path`` that its manifest does not list (sorted), ``[]`` when every one
    is exsim's; ``None`` when ``path`` is a non-empty directory without a valid manifest."""
    entries = sorted(_entries(path))
    if not entries:
        return []
    try:
        manifest = json.loads((path / MARKER).read_text(encoding="utf-8"))
        listed = set(manifest["entries"]) if manifest.get("written_by") == "exsim" else None
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
        listed = None
    if listed is None:
        return None
    return [e for e in entries if e != MARKER and e not in listed]


def _entries(path: Path) -> list[str]:
    out = []
    for root, dirs, files in os.walk(path):
        rel = Path(root).relative_to(path)
        out += [(rel / n).as_posix() for n in (*dirs, *files)]
    return out


def write_manifest(path: Path) -> None:
    """Record everything under ``path`` as written by exsim."""
    entries = sorted(e for e in _entries(path) if e != MARKER)
    doc = {"written_by": "exsim", "entries": entries}
    (path / MARKER).write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")


def write_run_dir(
    out: str | os.PathLike, files: dict[str, Callable[[Path], None]], force: bool = False
) -> Path:
    """Create run directory ``out`` with the given files, all or nothing.

    Every file is written into a temporary sibling directory, which replaces ``out`` only when
    all writers succeeded, so an interrupted or failed run never leaves a half-written result
    and never costs the previous one. ``out`` must pass :func:`check_dir` (checked again here,
    as the folder may have changed while the run was going).
    """
    out = Path(out)
    check_dir(out, force)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot create its folder: {exc.strerror or exc}") from None
    sweep_stale(out.parent)
    tmp = Path(tempfile.mkdtemp(prefix=_tmp_prefix(out), dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private; a run directory is not
    try:
        for name, writer in files.items():
            writer(tmp / name)
        write_manifest(tmp)
        if out.exists() or out.is_symlink():
            old = Path(tempfile.mkdtemp(prefix=_tmp_prefix(out) + "old.", dir=out.parent))
            os.replace(out, old / "previous")
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def temp_sibling(out: str | os.PathLike, suffix: str) -> Path:
    """A temporary path next to ``out`` that :func:`sweep_stale` removes once this process is
    gone (e.g. a log streamed while a run goes)."""
    out = Path(out)
    return out.parent / f"{_tmp_prefix(out)}{suffix}"


def _tmp_prefix(out: Path) -> str:
    name = out.resolve().name or "out"
    return f".{name}.exsim-tmp.{os.getpid()}."


def sweep_stale(folder: str | os.PathLike) -> list[Path]:
    """Remove exsim's temporary leftovers in ``folder`` whose process no longer runs."""
    removed = []
    try:
        names = list(Path(folder).iterdir())
    except OSError:
        return removed
    for entry in names:
        m = _TMP.match(entry.name)
        if m is None or _alive(int(m.group(1))):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    return True


# -- files ------------------------------------------------------------------------------------
def check_file(path: str | os.PathLike, force: bool = False) -> None:
    """Raise :class:`OutputError` unless exsim may write the file ``path``."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path}: is a directory (give the file to write)")
    for up in path.resolve().parents:
        if up.exists():
            if not up.is_dir():
                raise OutputError(f"{path}: {up} is a file, not a directory")
            break
    if not path.exists() or force:
        return
    if not written_by_exsim(path):
        raise OutputError(f"{path}: exists and was not written by exsim; {_REFUSE}")


#: What exsim's own files start (or, for OCEL, end) with.
_SIGNATURES = (
    b"<title>exsim report",
    b'key="exsim.meta"',
    b"# Calibrated by exsim",
)


def written_by_exsim(path: Path) -> bool:
    """Whether ``path`` is recognisably a file exsim wrote: an HTML report, an event-log
    export (Parquet with exsim metadata, XES, OCEL, CSV with exsim's columns), a calibrated
    scenario."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(65536)
            fh.seek(max(0, size - 65536))
            tail = fh.read(65536)
    except OSError:
        return False
    if head.startswith(b"PAR1"):
        try:
            import pyarrow.parquet as pq

            return b"exsim" in (pq.read_schema(path).metadata or {})
        except Exception:  # not a readable Parquet file: not ours
            return False
    if any(sig in head for sig in _SIGNATURES):
        return True
    if head.startswith(b"{") and b'"exsim":' in tail:
        return True
    from sim.eventlog import SCHEMA

    return head.split(b"\n", 1)[0].rstrip(b"\r").startswith(",".join(SCHEMA.names).encode())
