"""Retention decision engine: the real-time service, decision pipeline, scoring and rules."""

__version__ = "0.1.0"
