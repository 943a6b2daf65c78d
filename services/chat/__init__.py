"""The chat service: reads Twitch chat and publishes how busy and hyped it is, per second
(see `service.py`). `offline.py` finds the same spikes in a saved chat log."""
