"""The Kubernetes manifests, and the code that writes the parts of them that follow the mesh's
wiring (`python -m deploy.kubernetes`)."""
