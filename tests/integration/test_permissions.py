"""Who may do what: truth tables over roles, project status and authorship."""

from __future__ import annotations

import pytest

from agoria_tre import permissions as perms
from agoria_tre.catalog import projects
from agoria_tre.catalog.db import Catalog
from agoria_tre.catalog.models import Role
from agoria_tre.errors import PermissionDenied
from agoria_tre.permissions import Actor
from tests.factories import ADMIN, make_project

MEMBERS = {
    "rita": [Role.RESEARCHER],
    "vic": [Role.REVIEWER],
    "lea": [Role.LEAD],
    "max": [Role.RESEARCHER, Role.REVIEWER],
}

# actor -> (view, spawn, submit, review a request by rita, review own request, audit)
TRUTH = {
    Actor("rita"): (True, True, True, False, False, False),
    Actor("vic"): (True, False, False, True, False, False),
    Actor("lea"): (True, False, False, False, False, True),
    Actor("max"): (True, True, True, True, False, False),
    Actor("stranger"): (False, False, False, False, False, False),
    Actor("root-admin", is_admin=True): (True, False, False, False, False, True),
}


@pytest.fixture
def roles_catalog(catalog: Catalog) -> Catalog:
    make_project(catalog, "cardio-eap", MEMBERS)
    return catalog


def _answers(catalog: Catalog, actor: Actor) -> tuple[bool, ...]:
    with catalog.read() as session:
        project = projects.get_project(session, "cardio-eap")
        return (
            perms.can_view_project(session, actor, project),
            perms.can_spawn(session, actor, project),
            perms.can_submit_export(session, actor, project),
            perms.can_review_export(session, actor, project, requested_by="rita"),
            perms.can_review_export(session, actor, project, requested_by=actor.name),
            perms.can_view_project_audit(session, actor, project),
        )


@pytest.mark.parametrize("actor", list(TRUTH), ids=lambda a: a.name)
def test_truth_table(roles_catalog: Catalog, actor: Actor) -> None:
    assert _answers(roles_catalog, actor) == TRUTH[actor]


@pytest.mark.parametrize("actor", list(TRUTH), ids=lambda a: a.name)
def test_check_raises_exactly_when_can_says_no(roles_catalog: Catalog, actor: Actor) -> None:
    with roles_catalog.read() as session:
        project = projects.get_project(session, "cardio-eap")
        pairs = [
            (perms.can_view_project, perms.check_view_project, ()),
            (perms.can_spawn, perms.check_spawn, ()),
            (perms.can_submit_export, perms.check_submit_export, ()),
            (perms.can_review_export, perms.check_review_export, ("rita",)),
            (perms.can_view_project_audit, perms.check_view_project_audit, ()),
        ]
        for can, check, extra in pairs:
            allowed = can(session, actor, project, *extra)  # type: ignore[operator]
            if allowed:
                check(session, actor, project, *extra)  # type: ignore[operator]
            else:
                with pytest.raises(PermissionDenied) as denied:
                    check(session, actor, project, *extra)  # type: ignore[operator]
                assert "cardio-eap" in denied.value.user_message
                assert actor.name in denied.value.log_message  # who, for the log only


def test_archiving_stops_spawn_submit_and_review(roles_catalog: Catalog) -> None:
    with roles_catalog.write() as session:
        projects.archive_project(session, slug="cardio-eap", actor=ADMIN)
    assert _answers(roles_catalog, Actor("max")) == (True, False, False, False, False, False)


def test_removal_takes_effect_at_the_next_question(roles_catalog: Catalog) -> None:
    with roles_catalog.write() as session:
        projects.remove_member(session, slug="cardio-eap", username="rita", role=None, actor=ADMIN)
    assert _answers(roles_catalog, Actor("rita")) == (False,) * 6


def test_denial_messages_keep_reasons_out_of_the_users_view(roles_catalog: Catalog) -> None:
    with roles_catalog.read() as session:
        project = projects.get_project(session, "cardio-eap")
        with pytest.raises(PermissionDenied) as denied:
            perms.check_review_export(session, Actor("vic"), project, requested_by="vic")
    assert denied.value.user_message == (
        "you may not review this export request in project 'cardio-eap'"
    )
    assert "never review their own requests" in denied.value.log_message
