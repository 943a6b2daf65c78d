"""Post-ready shorts: a 9:16 video of a clip, the face framed, the words burned in."""
