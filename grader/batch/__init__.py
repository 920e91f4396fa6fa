"""Batch grading for instructors: ``driftlab grade SUBMISSIONS --out DIR``.

intake (find submissions in a folder or zip) → workers (parallel real ``nbgrader autograde``, one
scratch course and gradebook per worker) → results (a status for every learner and module) →
feedback (``nbgrader generate_feedback``, no hidden tests) → report (class report with plots).
"""
