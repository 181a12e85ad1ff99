"""The public contract: event models, the CloudEvents envelope, topics and reference data."""
