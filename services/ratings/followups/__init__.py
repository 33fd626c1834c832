"""Follow-ups (回访): township staff call residents back after a low score, and on a sample."""
