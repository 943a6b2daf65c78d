"""`clip-live vod`: the highlights of a recorded stream, ranked, faster than real time."""
