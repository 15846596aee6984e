"""The window's widgets, one per module: they paint and take the musician's input, and never touch
the database or decode audio (the window hands them what the jobs bring back)."""
