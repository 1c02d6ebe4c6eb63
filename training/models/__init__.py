"""The models behind the engine: churn, calibration, uplift and value."""
