"""The course library: pure maths on the running scenario (simulation, model, drift statistics,
accuracy monitoring, label-free performance estimation, data validation and skew, slices,
feature importance, retraining, monitoring actions). No widgets, no I/O."""
