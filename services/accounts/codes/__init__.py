"""Residents' logins: one-time codes sent to their phone; the first verified code makes the account."""
