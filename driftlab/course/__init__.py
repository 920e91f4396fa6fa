"""The course library: pure maths on the running scenario (simulation, model, drift statistics,
accuracy monitoring, feature importance, retraining, monitoring actions). No widgets, no I/O."""
