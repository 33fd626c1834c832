"""The catalogue of services residents can order: categories, skills, deadlines per urgency."""
