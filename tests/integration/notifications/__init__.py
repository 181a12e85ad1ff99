"""Integration tests of the notifications service against real SMTP, HTTP, Kafka and PostgreSQL."""
