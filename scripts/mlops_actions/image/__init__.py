"""build-push-ghcr: image name, tags and labels from the GitHub context; build and push."""
