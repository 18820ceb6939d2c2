"""Offline checks of the agent's configuration (`python bot.py doctor`)."""
