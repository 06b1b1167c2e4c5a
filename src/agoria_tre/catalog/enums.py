"""The catalog's enumerations, apart from the ORM models so that importing them is cheap
(the command line's option choices need them; SQLAlchemy is loaded only when a command runs).
``agoria_tre.catalog.models`` re-exports them."""

from __future__ import annotations

import enum


class ProjectStatus(enum.StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"


class Role(enum.StrEnum):
    """What a member does in a project. One person may hold several roles."""

    RESEARCHER = "researcher"
    REVIEWER = "reviewer"
    LEAD = "lead"
