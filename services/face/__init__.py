"""The face worker: finds the streamer's face in sampled frames and reads its emotion."""
