"""openhands-agent-server in small."""
