"""lhl: the one command-line tool for operators and integrators."""
