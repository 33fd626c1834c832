"""Hours: the resident's service code at check-in and check-out, the ledger, corrections, exports."""
