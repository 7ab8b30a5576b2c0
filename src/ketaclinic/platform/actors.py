"""Who is acting: handed to every service function so that it can authorise and audit."""

from __future__ import annotations

from dataclasses import dataclass, field

from ketaclinic.platform.roles import Role


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str
    full_name: str = ""
    roles: frozenset[Role] = field(default_factory=frozenset)
    ip: str | None = None
    patient_id: int | None = None  # set for patient accounts: the only record they may see

    def has_any(self, roles: frozenset[Role] | set[Role]) -> bool:
        return bool(self.roles & roles)

    @property
    def patient_only(self) -> bool:
        """A patient account with no staff role: it may reach its own record only."""
        return self.roles == {Role.patient}


SYSTEM = Actor(user_id=None, username="system")
