"""Adapters to GitHub: the runner's files and annotations, and the REST API."""
