"""Unit tests of the notifications service: pure rules, texts, signatures and the seed."""
