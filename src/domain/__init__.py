"""The pure core of taskspool: tasks, their state machine, backoff and lease rules."""
