"""Champion promotion: the record of the model that is live, written after a stable deploy, and
read back as the next gate's baseline."""
