"""The ``driftlab`` command: open the course, build the learner release, grade submissions."""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from grader.batch.cli import add_grade_command
from grader.nbgrader import ROOT


# JupyterLab asks "get notified about official Jupyter news?" in a toast on every start until someone
# answers (it covers the notebook) and checks for updates. The course answers "no" for both, as a package's default
# settings (jupyterlab_server reads <app settings dir>/overrides.d/*.json before the user's own
# overrides.json, so an administrator's choice still wins; the learner can change it in Settings).
LAB_OVERRIDES = {"@jupyterlab/apputils-extension:notification": {"checkForUpdates": False, "fetchNews": "false"}}
LAB_OVERRIDES_FILE = "driftlab.json"


def _write_lab_overrides(settings_dir: Path) -> None:
    """Put the course's default settings in ``settings_dir/overrides.d/`` (atomically, only if they differ)."""
    target = settings_dir / "overrides.d" / LAB_OVERRIDES_FILE
    text = json.dumps(LAB_OVERRIDES, indent=2) + "\n"
    if target.is_file() and target.read_text(encoding="utf-8") == text:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_name(f".{target.name}.{os.getpid()}")
    scratch.write_text(text, encoding="utf-8")
    os.replace(scratch, target)


def _lab_settings_args() -> list[str]:
    """Install the course's JupyterLab defaults where JupyterLab reads them; extra options if needed.

    The usual place is the app settings folder of this environment (``<sys.prefix>/share/jupyter/lab/
    settings``, or below ``$JUPYTERLAB_DIR``). When it is read-only (a system-wide install), a private
    copy of it with the course's file added (in the user's cache folder) is used instead, through
    ``--LabApp.app_settings_dir``.
    """
    from jupyterlab.commands import get_app_dir

    settings = Path(get_app_dir()) / "settings"
    try:
        _write_lab_overrides(settings)
        return []
    except OSError:
        cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        private = Path(cache) / "driftlab" / "lab-settings"
        if settings.is_dir():
            shutil.copytree(settings, private, dirs_exist_ok=True)
        _write_lab_overrides(private)
        return [f"--LabApp.app_settings_dir={private}"]


def _lab_command(ip: str, port: int, no_browser: bool) -> list[str]:
    """The JupyterLab command line that ``driftlab lab`` runs (after installing its settings)."""
    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={ROOT / 'notebooks'}",
           f"--ServerApp.ip={ip}", f"--ServerApp.port={port}", *_lab_settings_args()]
    if no_browser or not (os.environ.get("DISPLAY") or sys.platform in ("darwin", "win32")):
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--ServerApp.allow_root=True")
    return cmd


def _lab(args: argparse.Namespace) -> int:
    """Open JupyterLab on notebooks/ (prints the URL; no browser is needed), without the news toast."""
    cmd = _lab_command(args.ip, args.port, args.no_browser)
    print("Starting JupyterLab on the course notebooks; open the URL it prints below.", flush=True)
    os.execv(sys.executable, cmd)
    return 0  # not reached


def _build(args: argparse.Namespace) -> int:
    from grader.build import build

    return build(check=args.check, only=args.module)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console command."""
    parser = argparse.ArgumentParser(prog="driftlab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("lab", help="open the course in JupyterLab")
    p.add_argument("--ip", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8888)
    p.add_argument("--no-browser", action="store_true")
    p.set_defaults(func=_lab)
    p = sub.add_parser("build", help="regenerate notebooks/ from solutions/ with nbgrader")
    p.add_argument("--check", action="store_true", help="exit 1, naming the files, if notebooks/ is stale")
    p.add_argument("--module", action="append", help="only this module (repeatable)")
    p.set_defaults(func=_build)
    add_grade_command(sub)
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
