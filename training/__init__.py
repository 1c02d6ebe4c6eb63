"""Training side: data contract, synthetic book, models, evaluation and the MLflow registry."""
