"""Defaults of the importers, in a module light enough for the command line's start-up."""

# the round-trip budget of the user groups placed at a source's regions, ms
DEFAULT_MAX_LATENCY_MS = 100.0
# the storage assumed for a bucket, which a Terraform plan does not state, GB
DEFAULT_BUCKET_GB = 100.0
