"""The task inbox (接单): offers to volunteers and teams, accepting, declining, and what cancels them."""
