"""ECS deploy: render the task definition, update the service, wait, explain, roll back."""
