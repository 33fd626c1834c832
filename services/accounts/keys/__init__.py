"""Signing keys: access tokens signed with the keyring's newest key, and the JWKS that publishes them."""
