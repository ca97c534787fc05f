"""openhands-workspace in small."""
