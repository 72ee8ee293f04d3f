"""containerized-train: run training inside the exact built image and record its lineage."""
