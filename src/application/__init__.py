"""Use cases and ports: what taskspool does, written against what it needs."""
