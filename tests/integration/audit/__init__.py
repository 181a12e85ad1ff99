"""Integration tests of the audit service on the real broker and database."""
