"""Dispatch's read-model of volunteers and teams, fed by their events, and the index decisions search."""
