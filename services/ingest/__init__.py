"""Ingest: reads a live stream, records it in short segments, and sends its audio on the bus.

`python -m services.ingest` runs it. See `service.py` for how the parts fit together.
"""
