"""Local development stack: a KRaft Kafka broker and a private PostgreSQL cluster without Docker."""
