"""Mechanisms shared by the four services; no stage's domain rules live here."""
