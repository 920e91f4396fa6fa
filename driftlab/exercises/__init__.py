"""The notebook side of exercises: what a course notebook's first cell imports.

``start`` loads the module's exercise bank; ``%%answer`` records an answer; ``check`` judges it with
instant feedback; ``practice`` shows an ungraded widget; ``hint`` and ``results`` (the Test's last cell).
"""
from driftlab.exercises.notebook import check, hint, practice, results, start

__all__ = ["start", "check", "practice", "hint", "results"]
