"""Exercises on the instructor's side: the spec format, its compilation into typed entries, reading
instructor notebooks, the learner's prompt, the instructor's kernel extension, authoring helpers."""
