"""session-sync LiveKit Agents worker."""
