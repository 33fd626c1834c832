"""Live: server-sent "something changed" notices for the console, to those entitled to know."""
