"""The asr service: streaming speech-to-text, one rolling buffer per channel."""
