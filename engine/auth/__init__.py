"""API keys: who may call which part of the service."""
