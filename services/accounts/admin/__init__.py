"""What administrators do with accounts: make them, change them, reset passwords, unlock, disable."""
