"""`clip-live eval KIND DATA`: measure Clip Live's detectors on labelled data, through the
same code the live services run. See `command` for the command, and one module per kind."""
