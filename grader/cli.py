"""The ``driftlab`` command: open the course, build the learner release, grade submissions."""
from __future__ import annotations

import argparse
import os
import sys

from grader.batch.cli import add_grade_command
from grader.nbgrader import ROOT


def _lab(args: argparse.Namespace) -> int:
    """Open JupyterLab on notebooks/ (prints the URL; no browser is needed)."""
    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={ROOT / 'notebooks'}",
           f"--ServerApp.ip={args.ip}", f"--ServerApp.port={args.port}"]
    if args.no_browser or not (os.environ.get("DISPLAY") or sys.platform in ("darwin", "win32")):
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--ServerApp.allow_root=True")
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
