"""Unit tests of the audit service."""
