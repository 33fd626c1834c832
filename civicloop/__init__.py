"""The `civicloop` command: tokens, dead letters, demo data, the county report, traces."""
