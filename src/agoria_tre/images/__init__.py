"""Workspace images: the ones the platform built and recorded, which are the only ones the
hub runs. Building them is ``agoria_tre.images.build``; this module only reads the record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from agoria_tre.errors import ConfigurationError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

REPOSITORY = "localhost/agoria-workspace"


@dataclass(frozen=True)
class RecordedImage:
    reference: str
    image_id: str
    content_hash: str


def recorded_image(session: Session, reference: str | None = None) -> RecordedImage:
    """The image named ``reference`` if the catalog records it, else the newest recorded."""
    from sqlalchemy import select

    from agoria_tre.catalog.models import WorkspaceImage

    query = select(WorkspaceImage)
    if reference:
        query = query.where(WorkspaceImage.reference == reference)
    found = session.scalar(query.order_by(WorkspaceImage.built_at.desc(), WorkspaceImage.id.desc()))
    if found is None:
        raise ConfigurationError(
            "no workspace image is ready; ask a platform administrator to run"
            " 'agoria-tre image build'",
            f"workspace image {reference!r} is not recorded in the catalog"
            if reference
            else "no workspace image is recorded in the catalog",
        )
    return RecordedImage(found.reference, found.image_id, found.content_hash)
