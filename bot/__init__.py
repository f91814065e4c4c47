"""mfbot: reviews MODEL_FAILURES reports of IaC training-data pull requests."""

__version__ = "0.1.0"
