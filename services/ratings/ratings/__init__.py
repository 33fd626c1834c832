"""Rating a completed service once (评单): the rating slot of each request, and the low-score flag."""
