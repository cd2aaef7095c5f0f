"""The project package: the pipeline steps over Spark, Delta Lake and MLflow."""
