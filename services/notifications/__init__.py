"""The notifications service: tells each party of each step once, by e-mail or webhook."""
