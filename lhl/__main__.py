"""`python -m lhl` runs the CLI, for machines where the `lhl` script is not on PATH."""

from lhl.cli import main

main()
