"""Residents' orders (点单): placing, reading and cancelling a request, and telling its timeline."""
