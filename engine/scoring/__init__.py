"""Scoring: the model bundle the engine loads, calibration, and customer value."""
