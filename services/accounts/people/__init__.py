"""Accounts: who may log in, in which role and township, their password, and the lockout."""
