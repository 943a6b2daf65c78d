"""The `clip-live` command: it starts the mesh and talks to it."""
