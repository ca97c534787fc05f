"""openhands-sdk in small."""
