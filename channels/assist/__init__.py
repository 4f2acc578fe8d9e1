"""The 12345 hotline agent-assist console: live suggestions over a WebSocket, and the handoff desk."""
