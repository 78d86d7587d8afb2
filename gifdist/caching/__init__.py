"""In-process caches and their cross-node invalidation."""
