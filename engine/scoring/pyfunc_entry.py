"""MLflow "models from code" entry point; MLflow executes this file when loading the model."""

from mlflow.models import set_model

from engine.scoring.pyfunc import RetentionBundleModel

set_model(RetentionBundleModel())
