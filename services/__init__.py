"""The services of the loop, one package each, and `common`, the mechanisms they share."""

# The one list of services. The settings, the dead-letter tool, the `civicloop` command, the tests and
# the stack scripts (deploy/local/lib.sh) all read it; this module imports nothing, so any python3 can.
SERVICES: tuple[str, ...] = ("requests", "dispatch", "volunteers", "ratings", "accounts")
