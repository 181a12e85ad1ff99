"""`lhl demo`: the whole agreement term replayed on a simulated clock, for a newcomer to watch."""
