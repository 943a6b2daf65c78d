"""The vod worker: finds and cuts the best moments of a recorded stream (see `job.py`)."""
