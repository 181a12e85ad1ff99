"""The services; each is a package with its own composition root, and none imports another."""
