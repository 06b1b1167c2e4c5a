"""Builders of catalog states for tests: "a project with these members", "a version"."""

from __future__ import annotations

import hashlib
from datetime import date

from agoria_tre.catalog import datasets, grants, projects
from agoria_tre.catalog.db import Catalog
from agoria_tre.catalog.models import Role
from agoria_tre.names import DatasetRef

ADMIN = "admin-ops"


def make_project(
    catalog: Catalog,
    slug: str = "cardio-eap",
    members: dict[str, list[Role]] | None = None,
) -> None:
    with catalog.write() as session:
        projects.create_project(
            session, slug=slug, title=f"Project {slug}", legal_basis="MR-004", actor=ADMIN
        )
        for user, roles in (members or {}).items():
            for role in roles:
                projects.add_member(session, slug=slug, username=user, role=role, actor=ADMIN)


def make_version(catalog: Catalog, name: str = "patients", rows: int = 1000) -> DatasetRef:
    with catalog.write() as session:
        version = datasets.register_dataset_version(
            session,
            name=name,
            content_hash=hashlib.sha256(f"{name}{rows}".encode()).hexdigest(),
            row_count=rows,
            schema={"columns": {"patient_pseudonym": "string", "year_of_birth": "int32"}},
            storage_path=f"datasets/{name}/v",
            provenance={"source": "synthetic test extract"},
            actor="data-manager",
        )
        return DatasetRef(name, version.version)


def make_grant(
    catalog: Catalog,
    slug: str,
    ref: DatasetRef,
    until: date,
    start: date | None = None,
) -> None:
    with catalog.write() as session:
        grants.add_grant(
            session,
            slug=slug,
            ref=ref,
            reference="CESREES-2026-042",
            valid_until=until,
            valid_from=start,
            actor=ADMIN,
            tz=catalog.settings.timezone,
        )
