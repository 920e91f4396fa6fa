"""How the course draws: the palette, matplotlib plots, static figures with alternative text, live (blitted)
figures and the threshold widget."""
