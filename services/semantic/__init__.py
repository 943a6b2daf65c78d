"""The semantic worker: what the streamer's finished phrases mean (mood, hype, excitement)."""
