"""The dispatch policy: the weights and limits the engine reads, and how an admin changes them."""
