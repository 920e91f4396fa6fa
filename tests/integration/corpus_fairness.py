"""Hostile-corpus cases: Right answers written as people write them (fullwidth, Cyrillic look-alikes, invisible
characters, a letter followed by prose, comments holding a placeholder): each must earn full marks.

Each case is registered into :mod:`tests.integration.hostile` (graded by plain nbgrader in test_judge.py
and by ``driftlab grade`` in test_grade_pipeline.py).
"""
from __future__ import annotations

from tests.integration import hostile  # noqa: F401 - register(...) cases below
