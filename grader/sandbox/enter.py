"""Join a sandbox's cgroups, set its resource limits, then become bubblewrap (runs outside the sandbox).

    python -I -S enter.py SPEC_JSON bwrap ARGS… -- COMMAND…

Started by :class:`grader.sandbox.box.Box` in place of ``bwrap`` itself, so that the sandbox is in
its cgroups and under its limits *before* it starts any process: every process of the sandbox
inherits both; and it closes every descriptor but 0, 1 and 2 before. Deliberately standalone
(standard library only, no site packages: ``-I -S``), it costs a few milliseconds. A limit that
cannot be applied stops the launch (exit 125) rather than run the learner's code with fewer limits
than the instructor was told.
"""
import json
import os
import resource
import signal
import sys


def main() -> None:
    spec = json.loads(sys.argv[1])
    argv = sys.argv[2:]
    try:
        for procs in spec.get("cgroups", []):
            with open(procs, "w") as fh:
                fh.write(str(os.getpid()))
        for name, (soft, hard) in spec.get("rlimits", {}).items():
            resource.setrlimit(getattr(resource, name), (soft, hard))
        signal.signal(signal.SIGXCPU, signal.SIG_DFL)  # the CPU limit ends the process, even if inherited ignored
    except OSError as exc:
        sys.stderr.write(f"driftlab sandbox: could not apply its limits: {exc}\n")
        os._exit(125)
    # Nothing of the grader is handed on but stdin/stdout/stderr (which its launcher made /dev/null and
    # pipes): no log file, no socket, no descriptor of a host folder (bubblewrap needs none of ours).
    os.closerange(3, max(os.sysconf("SC_OPEN_MAX"), 1 << 16))
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main()
