"""The grading sandbox (bubblewrap): learner code at grading time sees only its own scratch folder.

See :mod:`grader.sandbox.box` (the configurable :class:`Sandbox` and one :class:`Box`),
:mod:`grader.sandbox.view` (what is visible inside), :mod:`grader.sandbox.limits` (memory, CPU,
processes), :mod:`grader.sandbox.streams` (bounded pipes, no inherited descriptor),
:mod:`grader.sandbox.output` (output bounded as it arrives), :mod:`grader.sandbox.messages` (unreadable
kernel messages become notes) and :mod:`grader.sandbox.kernel` (nbgrader and jupyter_client integration).
"""
from .box import Box, LimitExceeded, Sandbox, SandboxUnavailable

__all__ = ["Box", "LimitExceeded", "Sandbox", "SandboxUnavailable"]
