"""How the course draws: the palette, matplotlib plots, live (blitted) figures and the threshold widget."""
