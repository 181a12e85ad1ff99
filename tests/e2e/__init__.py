"""End-to-end tests: the system as its users meet it, in a real browser or over the real broker."""
