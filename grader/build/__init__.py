"""The build: instructor notebooks → learner release, hidden tests and banks, through nbgrader."""
from grader.build.release import build, differences, fresh_build

__all__ = ["build", "differences", "fresh_build"]


def one_line(message: str) -> str:
    """A build failure as one line: the module, the exercise id and the cell, and the cause.

    nbgrader ends its log with "Please see the above traceback…"; the cause is the traceback's last
    line (e.g. ``driftlab.errors.SpecError: cell 6: tiny-choice: answer 'Q' … is not an option``),
    shown without the exception's module path.
    """
    import re

    lines = [ln.rstrip() for ln in str(message).splitlines() if ln.strip()]
    if not lines:
        return "build failed (no message)"
    head = lines[0]
    if "Please see" in head or head.endswith(":"):
        causes = [ln.strip() for ln in lines if re.match(r"\s*[\w.]*(Error|Exception): ", ln)]
        if causes:
            head = re.sub(r"could not be built: .*", "could not be built: " + causes[-1], head) \
                if "could not be built" in head else causes[-1]
    return re.sub(r"\b(?:[a-z_]\w*\.)+(?=\w*(?:Error|Exception): )", "", head)[:400]


__all__.append("one_line")
