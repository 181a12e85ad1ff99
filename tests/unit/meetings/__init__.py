"""Unit tests of the meetings service: its pure rules, without broker or database."""
