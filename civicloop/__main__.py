"""`python -m civicloop`, the same as the `civicloop` script."""

from civicloop.cli import main

main()
