"""Widgets the console's screens share, kept apart from any one screen."""
