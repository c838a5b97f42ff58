"""Job bodies: what each Glue entrypoint runs, given a SparkSession and settings."""
