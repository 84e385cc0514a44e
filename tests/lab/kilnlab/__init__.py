"""The kiln lab: a real single-node Kubernetes cluster built on this machine from upstream sources."""
