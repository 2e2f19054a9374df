"""Models the searchers learn or score with: domain features, the GP surrogate."""
