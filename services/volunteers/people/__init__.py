"""Volunteers: their profiles, skills, availability and registration."""
