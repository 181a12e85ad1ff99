"""The HTTP surface for integrators: publish, receipts, the feed (issue 15)."""
