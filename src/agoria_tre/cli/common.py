"""What the command's groups share: settings and catalog, the actor, the common options."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click

from agoria_tre.errors import InvalidInput
from agoria_tre.names import check_actor

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from agoria_tre.catalog.db import Catalog

F = TypeVar("F", bound=Callable[..., Any])


def default_actor() -> str:
    """The invoking user, from the process's uid (the environment is the caller's to set):
    under sudo, the user sudo ran for. Empty when the uid has no name."""
    from agoria_tre.identity import invoking_user

    return invoking_user() or ""


class State:
    """What every command shares: settings, resolved once, and the catalog, opened lazily."""

    def __init__(self) -> None:
        self._catalog: Catalog | None = None

    def catalog(self, *, require_ready: bool = True) -> Catalog:
        if self._catalog is None:
            from agoria_tre.catalog.db import Catalog  # SQLAlchemy: only when a command runs
            from agoria_tre.config import Settings

            self._catalog = Catalog(Settings.from_env())
        if require_ready:
            self._catalog.require_ready()
        return self._catalog

    def close(self) -> None:
        if self._catalog is not None:
            self._catalog.dispose()

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self.catalog().write() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self.catalog().read() as session:
            yield session

    def effective_ids(self, session: Session, slug: str) -> set[int]:
        from agoria_tre.catalog import grants

        tz = self.catalog().settings.timezone
        return {g.id for g in grants.effective_grants(session, slug, tz=tz)}


pass_state = click.make_pass_decorator(State, ensure=True)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(func)


def actor_option(func: F) -> F:
    return click.option(
        "--actor",
        default=None,
        show_default="the invoking user",
        help="Who is acting, recorded in the audit log (and as granted_by): only root and"
        " members of the agoria-admins group may name someone else.",
    )(func)


def check_actor_option(actor: str | None) -> str:
    """The actor to record: the invoking user, or the one ``--actor`` names when the invoking
    user may act for others (root, or a member of the admin group)."""
    from agoria_tre.identity import ADMIN_GROUP, may_name_actor

    own = default_actor()
    if actor is None or actor == own:
        if not own:
            raise InvalidInput("cannot tell who is acting: pass --actor NAME")
        return check_actor(own)
    check_actor(actor)
    if not may_name_actor():
        raise InvalidInput(
            f"only members of the admin group {ADMIN_GROUP!r} may act as someone else:"
            f" run without --actor to act as {own or 'yourself'}"
        )
    return actor
