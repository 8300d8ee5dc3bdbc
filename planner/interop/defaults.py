"""Defaults of the importers, in a module light enough for the command line's start-up."""

# the round-trip budget of the user groups placed at a source's regions, ms
DEFAULT_MAX_LATENCY_MS = 100.0
# the storage assumed for a bucket, which a Terraform plan does not state, GB
DEFAULT_BUCKET_GB = 100.0
# the round-trip budget from an imported load balancer to each backend it fronts, ms. Every
# request crosses this hop once more, so the balancer belongs in its backends' region or metro:
# Azure builds the zones of one region to be under 2 ms apart (learn.microsoft.com, "What are
# availability zones?"), VMware's validated design asks for under 5 ms between the zones of a
# region, and the catalog's distance model puts two regions of one metro at 2.9 ms (the median
# measured pair within 80 km, docs/latency.md) and two more than 80 km apart at 5.9 ms or more.
# 5 ms keeps the balancer in its backends' region or a neighbour in the same city
# (aws/ap-northeast-2 beside naver/KR), never a continent away.
BALANCER_LATENCY_MS = 5.0
