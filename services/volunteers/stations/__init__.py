"""Stations (新时代文明实践站): the village, community and family-education stations, and their identity."""
