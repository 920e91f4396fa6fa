"""Finding submissions in what an instructor downloads: a folder or a zip.

Understood layouts (``MODULE`` is one of the course's module ids, e.g. ``02_detecting_drift``):

========== ======================================================== ==================================
pattern    path (relative to the folder / zip root)                 student id
========== ======================================================== ==================================
nbgrader   ``[…/]submitted/STUDENT/MODULE/*.ipynb``                  ``STUDENT``
           (also ``STUDENT/MODULE/*.ipynb`` without ``submitted/``)
moodle     ``[…/]Full Name_ID_assignsubmission_file_/FILE.ipynb``    ``ID`` (Moodle's participant id)
canvas     ``[…/]name[_LATE]_USERID_SUBMISSIONID_FILE.ipynb``        ``USERID``
plain      ``[…/]STUDENT__MODULE.ipynb`` (two underscores)           ``STUDENT``
========== ======================================================== ==================================

For moodle and canvas the module is read from the file name (it must contain a module id, e.g.
``02_detecting_drift-1.ipynb``), or is the ``default_module`` given on the command line.

Who a file belongs to is read only from the level the LMS (or nbgrader) writes: the OUTERMOST match
of a layout above, scanning a path's parts from the root (wrapper folders above it are fine). Inside
a learner's own submission nothing changes the owner: a file there named or filed like another
learner's (a Moodle folder, ``submitted/carol/08_test/``, a Canvas or ``STUDENT__MODULE`` name) is
listed as an extra file of the submitter, never graded as the classmate's; so are notebooks in
subfolders of nbgrader's assignment folder (nbgrader grades the notebooks directly in it). Moodle
submissions may hold subfolders: a notebook there is the learner's. Without ``submitted/`` the
``STUDENT/MODULE/`` level is inferred from a folder named like a module: do not put the download in
a folder named like a module inside another folder (the outer folder would be read as the learner).

Every other file is *listed* as unmatched with the reason (unknown name pattern, unknown module,
not a notebook, system file, symbolic link, a zip entry skipped as unsafe or too large, superseded
by a later submission, a copy …), never silently dropped. When one learner has several files for one
module, one is graded and the others are listed with the reason: a later Canvas submission (higher
submission id) wins; within one submission (and in every other layout) the file named like the
release (``08_test.ipynb``) wins over copies (``08_test-Copy1.ipynb``, ``08_test (1).ipynb``,
``Copy of 08_test.ipynb``), as plain nbgrader grades the release-named file; among files none of
which is named like the release, the newest (modification time, then name) wins.

Canvas marks a late submission with ``_LATE`` in its file name: the row's ``late`` is ``yes`` or
``no``. Moodle's download folders carry no late flag (``late`` is empty: unknown), nor do the
nbgrader and plain layouts. The learner's name is kept where the download gives it (Moodle's full
name; Canvas's name part, e.g. ``doejane``).

Student ids keep every learner distinct: letters of any script are kept (``学生一``), other
characters become ``_``, and when two different names still come out the same (``a b`` and
``a_b``), each gets a short suffix from its own name and the collision is noted on both rows.
Symbolic links are never followed or read: a link named like a submission is listed, not graded.
"""
from __future__ import annotations

import hashlib
import json
import lzma
import os
import stat
import re
import shutil
import time
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import nbformat

from driftlab.errors import DriftLabError
from grader.duplicates import keep_lowest_copies

MOODLE_DIR = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_(?:file|onlinetext)_?$")
CANVAS_FILE = re.compile(r"^(?P<name>[^_]+?)(?P<late>_late)?_(?P<uid>\d+)_(?P<subid>\d+)_(?P<file>.+)$", re.I)
PLAIN_FILE = re.compile(r"^(?P<student>.+?)__(?P<module>[^_].*)\.ipynb$")
SYSTEM_PARTS = {"__MACOSX", ".ipynb_checkpoints", "__pycache__", ".DS_Store", "Thumbs.db"}
SAFE_ID = re.compile(r"[^\w.@+-]")  # \w: letters and digits of every script
MAX_ENTRY_BYTES = 64 * 1024 * 1024  # a zip entry larger than this is not extracted (a notebook is far smaller)
MAX_TOTAL_BYTES = 4 * 1024**3  # a zip extracts to at most this much in all (counted as extracted, not as declared)


@dataclass
class Submission:
    """One learner's notebook for one module, as found in the input."""

    student: str
    module: str
    path: Path  # the file on disk (inside the extracted zip when the input is a zip)
    origin: str  # its path relative to the input root, for messages
    pattern: str
    order: tuple = ()  # larger = later submission
    raw_student: str = ""  # the learner's name or id as the input gave it
    note: str = ""  # e.g. how the student id was made unique
    name: str = ""  # the learner's name where the download gives it (Moodle, Canvas)
    late: str = ""  # "yes" / "no" where the download says (Canvas), else "" (unknown)
    lms_id: str = ""  # the LMS's own id of the learner (Canvas user id, Moodle participant id)

    @property
    def key(self) -> tuple[str, str]:
        return (self.student, self.module)


@dataclass
class Unmatched:
    """A file of the input that is not graded, and why."""

    origin: str
    reason: str


@dataclass
class Intake:
    submissions: list[Submission] = field(default_factory=list)
    unmatched: list[Unmatched] = field(default_factory=list)


def safe_student_id(raw: str) -> str:
    """A student id usable as an nbgrader folder name: letters and digits of any script, ``_.@+-``."""
    cleaned = SAFE_ID.sub("_", raw.strip()).strip("._")
    return cleaned or "unknown"


def _zip_skip_reason(info: zipfile.ZipInfo) -> str | None:
    """Why a zip entry is not extracted (None: extract it)."""
    name = PurePosixPath(info.filename)
    mode = info.external_attr >> 16
    if not name.parts:
        return "zip entry without a name (not extracted)"
    if name.is_absolute() or info.filename.startswith(("/", "\\")) or ":" in name.parts[0]:
        return "zip entry with an absolute path (not extracted)"
    if ".." in name.parts:
        return "zip entry that points outside the archive (path traversal, not extracted)"
    kind = stat.S_IFMT(mode)  # 0: no file type recorded (Windows tools, ZipFile.writestr): an ordinary file
    if kind == stat.S_IFLNK:
        return "symbolic link in the zip (never followed or read)"
    if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
        return "device, pipe or other special file in the zip (not extracted)"
    if info.file_size > MAX_ENTRY_BYTES:
        return f"zip entry larger than {MAX_ENTRY_BYTES // 2**20} MiB (not extracted)"
    return None


# What opening or reading a damaged or lying zip entry raises: BadZipFile (bad CRC-32, bad header),
# zlib.error, EOFError (a stored entry shorter than declared), LZMAError, OSError (bz2), RuntimeError
# (encrypted), NotImplementedError (an unknown compression method).
ZIP_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, lzma.LZMAError, RuntimeError, NotImplementedError)


class _TooLarge(Exception):
    pass


def _extract(zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, budget: int) -> int:
    """Copy one entry to ``dest``, counting the bytes really read (a header may lie about its size).

    Raises :class:`_TooLarge` past ``MAX_ENTRY_BYTES`` or ``budget``, or one of ``ZIP_READ_ERRORS``.
    """
    written = 0
    with zf.open(info) as src, open(dest, "wb") as out:
        while True:
            try:
                chunk = src.read(1 << 20)
            except (*ZIP_READ_ERRORS, OSError) as exc:  # a read error, not a write error: the entry is damaged
                raise zipfile.BadZipFile(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__) from exc
            if not chunk:
                return written
            written += len(chunk)
            if written > MAX_ENTRY_BYTES or written > budget:
                raise _TooLarge(written)
            out.write(chunk)


def open_input(source: Path, scratch: Path) -> tuple[Path, list["Unmatched"]]:
    """The folder to scan — ``source`` itself, or a zip extracted (safely) into ``scratch`` — and
    every zip entry that was not extracted, with the reason.

    A damaged entry (bad CRC, a size that lies, broken compressed data) is listed as unreadable and
    the rest is extracted. Sizes are counted as extracted, not as declared: an entry past
    ``MAX_ENTRY_BYTES`` and every entry past ``MAX_TOTAL_BYTES`` in all are not extracted.
    """
    if source.is_dir():
        return source, []
    if zipfile.is_zipfile(source):
        target = scratch / "input"
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        skipped: list[Unmatched] = []
        total = 0
        try:
            zf = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
            raise DriftLabError(f"{source} is a damaged zip file (its table of contents cannot be read: {exc})"
                                ) from None
        with zf:
            for info in zf.infolist():
                if info.is_dir():
                    continue
                reason = _zip_skip_reason(info)
                if reason:
                    skipped.append(Unmatched(info.filename, reason))
                    continue
                name = PurePosixPath(info.filename)
                dest = target.joinpath(*name.parts)
                try:
                    dest.parent.mkdir(parents=True, exist_ok=True)
                except (FileExistsError, NotADirectoryError):
                    skipped.append(Unmatched(info.filename,
                                             "zip entry inside a path that is also a file (not extracted)"))
                    continue
                if dest.is_dir():
                    skipped.append(Unmatched(info.filename, "zip entry named like a folder of the zip (not extracted)"))
                    continue
                try:
                    total += _extract(zf, info, dest, MAX_TOTAL_BYTES - total)
                except _TooLarge as exc:
                    dest.unlink(missing_ok=True)
                    total += exc.args[0]  # read, then thrown away: counted, so the work stays bounded too
                    which = (f"larger than {MAX_ENTRY_BYTES // 2**20} MiB when extracted"
                             if exc.args[0] > MAX_ENTRY_BYTES else
                             f"past the {MAX_TOTAL_BYTES // 2**30} GiB the whole zip may extract to")
                    skipped.append(Unmatched(info.filename, f"zip entry {which} (not extracted)"))
                    continue
                except ZIP_READ_ERRORS as exc:
                    dest.unlink(missing_ok=True)
                    skipped.append(Unmatched(info.filename, f"unreadable zip entry: damaged or its declared size lies "
                                                            f"({exc}); the rest of the zip is graded"))
                    continue
                stamp = time.mktime(info.date_time + (0, 0, -1))
                os.utime(dest, (stamp, stamp))
        return target, skipped
    if source.suffix.lower() == ".zip":
        raise DriftLabError(f"{source} is a damaged zip file (no readable table of contents)")
    raise DriftLabError(f"{source} is neither a folder nor a zip file")


def module_in_name(name: str, modules: list[str]) -> str | None:
    """The course module whose id appears in a file name (the longest match), if any."""
    found = [m for m in modules if m.lower() in name.lower()]
    return max(found, key=len) if found else None


@dataclass(frozen=True)
class _Level:
    """Where a known layout starts in a path: whose submission, and how many parts it spans."""

    pattern: str
    student: str
    end: int  # parts[:end] is the submission: a folder (nbgrader, Moodle) or the file itself (Canvas, plain)
    module: str | None = None
    extra: dict = field(default_factory=dict)
    problem: str = ""  # the layout is recognised but cannot be graded (e.g. an unknown module)

    def owner(self) -> str:
        """Whose submission this is, for a message."""
        if self.pattern == "moodle":
            return f"Moodle participant {self.student} ({self.extra['name']})"
        if self.pattern == "canvas":
            return f"Canvas user {self.student} ({self.extra['name']})"
        return f"learner {self.student!r}"

    def looks(self) -> str:
        """What a file at this level looks like, for a message about a file nested inside another's."""
        return {"moodle": f"the Moodle folder of {self.owner()}",
                "nbgrader": f"nbgrader's folder of {self.owner()}",
                "canvas": f"a Canvas file of {self.owner()}"}.get(self.pattern,
                                                                  f"a file of {self.owner()} (STUDENT__MODULE)")


def _level(parts: tuple[str, ...], start: int, modules: list[str], default_module: str | None) -> _Level | None:
    """The outermost known layout in ``parts[start:]``, scanning from the root (None: none)."""
    last = len(parts) - 1
    for i in range(start, last):  # folders: Moodle's per-learner folder, nbgrader's STUDENT/MODULE
        part = parts[i]
        match = MOODLE_DIR.match(part)
        if match:
            return _Level("moodle", match.group("id"), i + 1,
                          extra={"name": match.group("name"), "late": "", "lms_id": match.group("id")})
        if part == "submitted" and last >= i + 3:
            module = parts[i + 2]
            problem = "" if module in modules else f"nbgrader layout, but {module!r} is not a module of this course"
            return _Level("nbgrader", parts[i + 1], i + 3, module, problem=problem)
        if part != "submitted" and last >= i + 2 and parts[i + 1] in modules:
            return _Level("nbgrader", part, i + 2, parts[i + 1])
    name = parts[last]  # the file itself: Canvas's prefix (written first, by the LMS), else STUDENT__MODULE
    match = CANVAS_FILE.match(name)
    if match:
        module = module_in_name(match.group("file"), modules) or default_module
        problem = "" if module else "Canvas name, but the file name names no module (use --module)"
        return _Level("canvas", match.group("uid"), last + 1, module, problem=problem,
                      extra={"name": match.group("name"), "late": "yes" if match.group("late") else "no",
                             "lms_id": match.group("uid"), "file": match.group("file"), "subid": match.group("subid")})
    match = PLAIN_FILE.match(name)
    if match:
        problem = "" if match.group("module") in modules else \
            f"STUDENT__MODULE name, but {match.group('module')!r} is not a module of this course"
        return _Level("plain", match.group("student"), last + 1, match.group("module"), problem=problem)
    return None


def classify(rel: PurePosixPath, modules: list[str], default_module: str | None = None
             ) -> tuple[str, str, str, tuple] | tuple[str, str, str, tuple, dict] | str:
    """``(pattern, student, module, order[, extra])`` for a file path, or the reason it is not understood.

    Who the file belongs to is read from the OUTERMOST known layout, scanning the path from the root
    (the level the LMS or nbgrader writes); folders and names inside a learner's own submission never
    change it: a file there that looks like another learner's is listed as an extra file of the
    submitter. ``extra`` (Moodle and Canvas) holds what the download says of the learner: ``name``,
    ``late``, ``lms_id`` and ``file`` (the learner's own file name, without the LMS's prefix).
    """
    parts = rel.parts
    if any(p in SYSTEM_PARTS or p.startswith("._") for p in parts):
        return "system or checkpoint file (ignored)"
    if rel.suffix.lower() != ".ipynb":
        return "not a notebook (.ipynb)"
    level = _level(parts, 0, modules, default_module)
    if level is None:
        return "file name does not follow a known pattern (see `driftlab grade --help`)"
    if level.problem:
        return level.problem
    if level.end < len(parts):  # a file inside a learner's folder (nbgrader, Moodle)
        where = f"inside the submission of {level.owner()} ({'/'.join(parts[:level.end])}/)"
        other = _level(parts, level.end, modules, default_module)
        if other is not None and not (other.problem and other.end == len(parts)):
            return (f"an extra file {where}: it looks like {other.looks()}, but who a file belongs to is read "
                    "only from the download's own level (not graded, never counted as that learner's)")
        if level.pattern == "nbgrader" and level.end < len(parts) - 1:
            return (f"an extra file {where}, in a subfolder (not graded: only notebooks directly in the "
                    "assignment folder are the learner's submission)")
    if level.pattern == "moodle":
        module = module_in_name(rel.name, modules) or default_module
        if module is None:
            return "Moodle folder, but the file name names no module (use --module)"
        return ("moodle", level.student, module, (), {**level.extra, "file": rel.name})
    if level.pattern == "canvas":
        extra = dict(level.extra)
        return ("canvas", level.student, level.module, (int(extra.pop("subid")),), extra)
    return (level.pattern, level.student, level.module, ())


def _files(root: Path) -> tuple[list[Path], list[Path]]:
    """Regular files under ``root`` and symbolic links (files or folders), never following a link."""
    files, links = [], []
    for folder, dirs, names in os.walk(root, followlinks=False):
        for name in sorted(dirs + names):
            path = Path(folder) / name
            if path.is_symlink():
                links.append(path)
            elif name in names and path.is_file():
                files.append(path)
    return sorted(files), sorted(links)


def _unique_ids(raw_names: set[str]) -> dict[str, tuple[str, str]]:
    """``{raw name: (student id, note)}``: distinct names always get distinct ids."""
    by_id: dict[str, list[str]] = {}
    for raw in sorted(raw_names):
        by_id.setdefault(safe_student_id(raw), []).append(raw)
    out = {}
    for sid, raws in by_id.items():
        if len(raws) == 1:
            out[raws[0]] = (sid, "")
            continue
        names = ", ".join(repr(r) for r in raws)
        for raw in raws:
            suffix = hashlib.sha256(raw.encode()).hexdigest()[:6]
            out[raw] = (f"{sid}-{suffix}", f"student id made unique: the names {names} give the same id {sid!r}")
    return out


def discover(root: Path, modules: list[str], default_module: str | None = None,
             release_names: dict[str, str] | None = None) -> Intake:
    """Every submission under ``root``, one per (student, module), and everything else, listed.

    ``release_names`` maps a module to its release notebook's file name (default ``MODULE.ipynb``).
    """
    intake = Intake()
    candidates: dict[tuple[str, str], list[Submission]] = {}
    found_subs: list[tuple[Path, PurePosixPath, tuple]] = []
    files, links = _files(root)
    for link in links:
        rel = PurePosixPath(link.relative_to(root).as_posix())
        intake.unmatched.append(Unmatched(str(rel), "symbolic link (never followed or read as a submission)"))
    for path in files:
        rel = PurePosixPath(path.relative_to(root).as_posix())
        found = classify(rel, modules, default_module)
        if isinstance(found, str):
            intake.unmatched.append(Unmatched(str(rel), found))
            continue
        found_subs.append((path, rel, found))
    ids = _unique_ids({found[1] for _, _, found in found_subs})
    names = release_names or {}
    for path, rel, found in found_subs:
        pattern, student, module, order = found[:4]
        extra = found[4] if len(found) > 4 else {}
        own = extra.get("file") or rel.name
        if pattern == "plain":
            own = f"{module}.ipynb"  # STUDENT__MODULE.ipynb is the release name by construction
        release = names.get(module, f"{module}.ipynb")
        preferred = 1 if is_release_name(own, release, canvas=pattern == "canvas") else 0
        sid, note = ids[student]
        # a later Canvas submission first; then the release-named file; then the newest file
        order = order + (preferred, path.stat().st_mtime, str(rel))
        sub = Submission(sid, module, path, str(rel), pattern, order=order, raw_student=student, note=note,
                         name=extra.get("name", ""), late=extra.get("late", ""), lms_id=extra.get("lms_id", ""))
        candidates.setdefault(sub.key, []).append(sub)
    for key, subs in sorted(candidates.items()):
        subs.sort(key=lambda s: s.order)
        chosen = subs[-1]
        intake.submissions.append(chosen)
        chosen_release = _release_flag(chosen)
        for other in subs[:-1]:
            if chosen.pattern == "canvas" and other.order[0] < chosen.order[0]:
                why = f"superseded by {chosen.origin} (a later Canvas submission of the same learner and module)"
            elif chosen_release and not _release_flag(other):
                why = (f"a copy: {chosen.origin} is named like the release and is graded instead "
                       "(as plain nbgrader grades the release-named file)")
            else:
                why = f"superseded by {chosen.origin} (a newer file of the same learner and module)"
            intake.unmatched.append(Unmatched(other.origin, why))
    return intake


def _release_flag(sub: Submission) -> bool:
    return bool(sub.order[-3]) if len(sub.order) >= 3 else False


def is_release_name(file_name: str, release: str, canvas: bool = False) -> bool:
    """True when a submitted file is named like the module's release notebook (not a copy of it).

    Canvas renames a resubmitted file ``NAME-1.ipynb``, ``NAME-2.ipynb`` …: that suffix still counts as
    the release name there. Copies (``-Copy1``, `` (1)``, ``Copy of``) never do.
    """
    if file_name == release:
        return True
    if canvas:
        stem, suffix = release.rsplit(".", 1) if "." in release else (release, "")
        return re.fullmatch(re.escape(stem) + r"-\d+" + (r"\." + re.escape(suffix) if suffix else ""), file_name) is not None
    return False


# Code a learner has no reason to write: tampering with imports, builtins, the standard library, the
# display hook, tracers, the call stack or the exercise bank. Cheap text patterns, shown in the notes
# column as HINTS for the instructor, never as verdicts: they are trivially hidden
# (`getattr(sys, "set" + "trace")`, `importlib` with a built name, `exec` of a built string), an honest
# learner can trip one, and they never change points (the judge, outside the kernel, decides those).
HINT_NOTE = "hint for review, not a verdict (easy to hide, never changes points): "
SUSPICIOUS = {
    "import hook (sys.meta_path / path_hooks)": re.compile(r"\b(meta_path|path_hooks|path_importer_cache)\b"),
    "IPython input history edited": re.compile(r"\b(history_manager|input_hist_raw|input_hist_parsed)\b"),
    "sys.modules edited": re.compile(r"sys\.modules\s*\["),
    "builtins replaced": re.compile(r"^\s*(__)?builtins(__)?\.\w+\s*=(?!=)|setattr\(\s*(__)?builtins|"
                                    r"\bimport\s+builtins\s+as\b|\b__import__\s*=(?!=)", re.M),
    "standard library patched": re.compile(
        r"^\s*(json|zlib|base64|hashlib|math|re|os|sys|io|inspect|types|importlib|random|secrets)\.\w+\s*=(?!=)", re.M),
    "grader internals replaced": re.compile(r"^\s*(grader|driftlab)\.[\w.]+\s*=(?!=)|setattr\(\s*(grader|driftlab)\b|"
                                            r"^\s*\w+\._?(display|check|run_cases|assess)\s*=(?!=)", re.M),
    "check() redefined": re.compile(r"^\s*(def\s+check\s*\(|check\s*=(?!=))", re.M),
    "display hook used or replaced": re.compile(r"\bdisplayhook\b|\bdisplay_pub\b"),
    "tracer installed": re.compile(r"\b(settrace|setprofile)\s*\("),
    "call stack inspected": re.compile(r"\b(_getframe|f_back|currentframe)\b|\binspect\.stack\s*\("),
    "exercise bank decoded": re.compile(r"\b(zlib\.decompress|b64decode)\b|\.session\(\)\.entries\b"),
    "process exit": re.compile(r"\bos\._exit\b|\bos\.kill\b"),
    "IPython execution rewired": re.compile(
        r"\b(input_transformers_(cleanup|post)|ast_transformers|run_cell(_async)?\s*=|events\.register)\b"),
}


def suspicious(nb: object) -> list[str]:
    """Names of the tampering patterns whose text appears in a notebook's code cells (hints, not proof)."""
    found = []
    code = "\n".join(c.source for c in getattr(nb, "cells", []) if c.cell_type == "code")
    for name, pattern in SUSPICIOUS.items():
        if pattern.search(code):
            found.append(name)
    return found


@dataclass
class Prepared:
    """A submission checked and normalised for nbgrader, or the reason it cannot be graded."""

    content: bytes | None
    reason: str = ""
    notes: list[str] = field(default_factory=list)


def prepare(raw: bytes) -> Prepared:
    """Read a submitted file: reject empty or corrupt files, upgrade old formats, fix duplicate cells.

    Duplicate nbgrader cells (a copied answer or test cell): the lowest copy keeps the nbgrader
    metadata, the others become ordinary cells (:func:`grader.duplicates.keep_lowest_copies`, which
    plain ``nbgrader autograde`` runs too, as :class:`grader.duplicates.KeepLowestCopy`).
    """
    if not raw.strip():
        return Prepared(None, "empty file")
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return Prepared(None, f"corrupt file: not valid JSON ({exc})")
    if not isinstance(data, dict) or "cells" not in data and "worksheets" not in data:
        return Prepared(None, "corrupt file: JSON but not a notebook")
    notes = []
    try:
        major = int(data.get("nbformat", 0))
        with warnings.catch_warnings():  # duplicate / missing cell ids are repaired below
            warnings.simplefilter("ignore")
            nb = nbformat.reads(json.dumps(data), as_version=4)
    except Exception as exc:  # noqa: BLE001 - any reader failure means we cannot grade it
        return Prepared(None, f"corrupt file: not a readable notebook ({type(exc).__name__}: {exc})")
    if major < 4:
        notes.append(f"upgraded from nbformat {major}")
    dropped = keep_lowest_copies(nb)
    flags = suspicious(nb)
    if flags:
        notes.append(HINT_NOTE + ", ".join(flags))
    if dropped:
        notes.append("duplicated cells " + ", ".join(dropped) + " (the lowest copy is graded)")
    ids: set[str] = set()
    for index, cell in enumerate(nb.cells):  # duplicate or missing cell ids upset nbformat
        if not cell.get("id") or cell["id"] in ids:
            cell["id"] = f"dl-cell-{index}"
        ids.add(cell["id"])
    if not nb.cells:
        return Prepared(None, "corrupt file: the notebook has no cells")
    return Prepared(nbformat.writes(nb).encode(), notes=notes)
