"""openhands-tools in small."""
