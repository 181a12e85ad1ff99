"""Integration tests of the local stack launcher (deploy/stack.py)."""
