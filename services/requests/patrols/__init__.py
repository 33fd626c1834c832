"""Alley stewards' patrol reports (小巷管家) and how each is settled."""
