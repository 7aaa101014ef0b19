"""Who is asking: the owner of tasks, or an admin who sees them all."""

from __future__ import annotations

from attrs import frozen

from domain.task import Task


@frozen(kw_only=True)
class Actor:
    """An authenticated caller."""

    name: str
    is_admin: bool = False

    def can_see(self, task: Task) -> bool:
        """Users see their own tasks; admins see every task."""
        return self.is_admin or task.owner == self.name

    @property
    def owner_filter(self) -> str | None:
        """The owner to restrict listings to, or None for an admin."""
        return None if self.is_admin else self.name
