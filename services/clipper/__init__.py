"""The clipper: cuts highlight clips out of the recorded stream (see `service.py`)."""
