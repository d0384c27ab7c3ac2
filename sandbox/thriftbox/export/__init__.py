"""Exports: what ``serve --runtime docker`` runs, as files other tools deploy (Compose, Swarm, Kubernetes)."""
