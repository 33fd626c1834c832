"""The county's rollout figures: facts kept per request, the report of a period, their gauges."""
