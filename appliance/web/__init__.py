"""The web config page."""
