"""Ways to deploy Clip Live beyond one machine: Kubernetes manifests and a Grafana dashboard."""
