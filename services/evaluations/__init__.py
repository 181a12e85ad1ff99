"""The evaluations service: regional status reports, the annual evaluation and the agreement's term."""
