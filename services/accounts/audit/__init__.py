"""The audit trail: staff actions on others' records, append-only, readable by admins."""
