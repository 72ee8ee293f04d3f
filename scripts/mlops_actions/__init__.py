"""mlops-actions: the Python helpers behind the mlops-actions GitHub Actions."""

__version__ = "0.1.0"
