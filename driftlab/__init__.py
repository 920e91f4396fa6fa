"""Drift Lab, the learner's side: the course library and the notebook side of exercises.

``driftlab.course`` (scenario, model, drift statistics, accuracy, importance, retraining, actions),
``driftlab.lab`` (the capstone simulation and its widget), ``driftlab.viz`` (palette, plots, live
figures, widgets) and ``driftlab.exercises`` (start, check, practice, hint, results). Everything
here may run in a learner's kernel; nothing here imports the instructor's package ``grader``.
"""
__version__ = "0.2.0"
