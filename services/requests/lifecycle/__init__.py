"""The later stages' events on a request: its timeline, its status, closing it once rated."""
