"""Drift Lab: course helpers, exercise engine, build and grading."""
__version__ = "0.1.0"
