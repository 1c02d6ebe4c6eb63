"""Process-wide configuration of the service (settings only; nothing runs at import)."""
