"""Integration tests of the meetings service on the real broker and database."""
