"""Hostile-corpus cases: Submissions that flood output, hold the grader's descriptors, or send malformed reports.

Each case is registered into :mod:`tests.integration.hostile` (graded by plain nbgrader in test_judge.py
and by ``driftlab grade`` in test_grade_pipeline.py).
"""
from __future__ import annotations

from tests.integration import hostile  # noqa: F401 - register(...) cases below
