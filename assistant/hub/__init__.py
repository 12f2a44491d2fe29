"""The hub: the platform as an HTTP API."""
