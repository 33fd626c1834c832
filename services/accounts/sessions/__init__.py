"""Login sessions: password logins, access tokens, the refresh cookie, logout, the gateway's check."""
