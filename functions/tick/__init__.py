"""One tick: read → diff → plan → journal → write → deliver (pure but for the ports it is given)."""
