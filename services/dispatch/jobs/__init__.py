"""The dispatch of one request: its job, the offers along the cascade, the answers, its record."""
