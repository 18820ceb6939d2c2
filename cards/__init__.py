"""Adaptive Cards (1.5, the highest version Teams renders): pure functions from data to card dicts."""
