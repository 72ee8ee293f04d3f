"""mlops-actions: the Python helpers behind the mlops-actions GitHub Actions."""

__version__ = "0.2.0.dev0"  # = pyproject.toml's; a release sets both to the tag
