"""Throughput benchmarks; not tests: they print figures and assert nothing."""
