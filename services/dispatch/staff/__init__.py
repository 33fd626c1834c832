"""What dispatchers do: their queue, assigning by hand, reviewing requests held for review."""
