"""Side-by-side benchmarks of taskspool and its Python peers (see bench/README.md)."""
