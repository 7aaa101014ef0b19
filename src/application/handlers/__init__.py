"""Handlers for the task types taskspool ships, each written against ports."""
