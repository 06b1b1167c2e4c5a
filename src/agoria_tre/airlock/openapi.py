"""The airlock's REST API as an OpenAPI 3.1 description, served at ``api/openapi.json``
and written to ``docs/airlock-openapi.json``. A test proves that it names exactly the
routes and methods the service answers."""

from __future__ import annotations

from typing import Any

ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
}
RULE = {
    "type": "object",
    "required": ["rule", "status", "summary"],
    "properties": {
        "rule": {"type": "string"},
        "status": {"enum": ["pass", "review", "fail"]},
        "summary": {"type": "string"},
        "cells": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
        "spans": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
        "asserted": {"type": "boolean"},
    },
}
DECISION = {
    "type": "object",
    "properties": {
        "reviewer": {"type": "string"},
        "decision": {"enum": ["approve", "reject"]},
        "exception": {"type": "boolean"},
        "comment": {"type": "string"},
        "decided_at": {"type": "string"},
    },
}
ITEM = {
    "type": "object",
    "required": ["id", "name", "sha256", "size", "justification", "check", "decisions"],
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "sha256": {"type": ["string", "null"], "description": "of the canonical form"},
        "size": {"type": ["integer", "null"]},
        "upload_sha256": {"type": "string"},
        "upload_size": {"type": "integer"},
        "evidence": {"type": "boolean"},
        "justification": {"type": "string"},
        "kind": {"type": ["string", "null"]},
        "check": {
            "type": ["object", "null"],
            "description": "the item's part of the checker's JSON report",
            "properties": {
                "status": {"enum": ["pass", "review", "fail"]},
                "rules": {"type": "array", "items": {"$ref": "#/components/schemas/Rule"}},
            },
        },
        "outcome": {"enum": [None, "pending", "approved", "rejected", "conflicted"]},
        "released": {"type": "boolean"},
        "decisions": {
            "type": "array",
            "description": "the caller's own until the item has all its decisions",
            "items": {"$ref": "#/components/schemas/Decision"},
        },
        "decisions_missing": {"type": "integer"},
    },
}
STATUSES = ["draft", "submitted", "checking", "in_review", "released", "rejected", "withdrawn"]
SUMMARY_PROPERTIES: dict[str, Any] = {
    "id": {"type": "string"},
    "project": {"type": "string"},
    "title": {"type": "string"},
    "status": {"enum": STATUSES},
    "requester": {"type": "string"},
    "round": {"type": "integer"},
    "created_at": {"type": "string"},
    "submitted_at": {"type": ["string", "null"]},
    "updated_at": {"type": "string"},
    "items": {"type": "integer"},
    "check_status": {"enum": [None, "pass", "review", "fail"]},
    "decisions_missing": {"type": "integer"},
    "awaiting_me": {"type": "boolean"},
}
SUMMARY = {
    "type": "object",
    "required": ["id", "project", "title", "status", "requester"],
    "properties": SUMMARY_PROPERTIES,
}
REQUEST = {
    "type": "object",
    "required": ["id", "project", "title", "status", "requester", "items"],
    "properties": {
        **SUMMARY_PROPERTIES,
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}},
        "from_workspace": {"type": "boolean"},
        "return_comment": {"type": ["string", "null"]},
        "provenance": {"type": "object"},
        "check": {"type": ["object", "null"]},
        "reviewers_needed": {"type": "integer"},
        "release": {"type": ["object", "null"]},
    },
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _errors(*statuses: int) -> dict[str, Any]:
    words = {
        400: "bad input",
        401: "not authenticated",
        403: "not allowed, with the reason",
        404: "no such request or item (or not one of the caller's projects)",
        409: "the request's status does not allow it",
        413: "too large",
    }
    return {
        str(s): {"description": words[s], **_json(_ref("Error"))} for s in (401, 404, *statuses)
    }


def _operation(
    summary: str,
    ok: int,
    schema: dict[str, Any] | None,
    errors: tuple[int, ...],
    body: dict[str, Any] | None = None,
    parameters: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": summary}
    if schema is not None:
        answer |= _json(schema)
    operation: dict[str, Any] = {
        "summary": summary,
        "responses": {str(ok): answer, **_errors(*errors)},
    }
    if body is not None:
        operation["requestBody"] = body
    if parameters:
        operation["parameters"] = parameters
    return operation


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


REQUEST_ID = _path("request_id")
ITEM_ID = _path("item_id")
COMMENT = {
    "type": "object",
    "required": ["comment"],
    "properties": {"comment": {"type": "string", "minLength": 1, "maxLength": 4000}},
}


def paths() -> dict[str, dict[str, Any]]:
    """Every route and method of the API, with what it takes and answers."""
    one = [REQUEST_ID]
    return {
        "/api/requests": {
            "get": _operation(
                "The caller's requests, and those of the projects they review or lead",
                200,
                {
                    "type": "object",
                    "properties": {"requests": {"type": "array", "items": _ref("Summary")}},
                },
                (400,),
                parameters=[
                    {"name": "project", "in": "query", "schema": {"type": "string"}},
                    {"name": "status", "in": "query", "schema": {"enum": STATUSES}},
                ],
            ),
            "post": _operation(
                "Create a draft request (from a workspace, in the workspace's project)",
                201,
                _ref("Request"),
                (400, 403, 413),
                body={
                    "required": True,
                    **_json(
                        {
                            "type": "object",
                            "required": ["title"],
                            "properties": {
                                "project": {"type": "string"},
                                "title": {"type": "string", "minLength": 1, "maxLength": 200},
                            },
                        }
                    ),
                },
            ),
        },
        "/api/requests/{request_id}": {
            "get": _operation(
                "A request as the caller may see it", 200, _ref("Request"), (403,), parameters=one
            )
        },
        "/api/requests/{request_id}/items": {
            "post": _operation(
                "Add a file (or a new version of one) to a draft",
                201,
                _ref("Item"),
                (400, 403, 409, 413),
                body={
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {
                                    "file": {"type": "string", "format": "binary"},
                                    "evidence": {"type": "string", "format": "binary"},
                                    "justification": {"type": "string"},
                                },
                            }
                        }
                    },
                },
                parameters=one,
            )
        },
        "/api/requests/{request_id}/items/{item_id}/review": {
            "post": _operation(
                "One reviewer's decision on one item",
                200,
                _ref("Request"),
                (400, 403, 409),
                body={
                    "required": True,
                    **_json(
                        {
                            "type": "object",
                            "required": ["decision"],
                            "properties": {
                                "decision": {"enum": ["approve", "reject"]},
                                "comment": {"type": "string", "maxLength": 4000},
                                "exception": {"type": "boolean"},
                            },
                        }
                    ),
                },
                parameters=[REQUEST_ID, ITEM_ID],
            )
        },
        "/api/requests/{request_id}/submit": {
            "post": _operation(
                "Submit a draft; answers once the automated check has run",
                200,
                _ref("Request"),
                (403, 409),
                parameters=one,
            )
        },
        "/api/requests/{request_id}/return": {
            "post": _operation(
                "Return a request in review to its requester, with a comment",
                200,
                _ref("Request"),
                (400, 403, 409),
                body={"required": True, **_json(COMMENT)},
                parameters=one,
            )
        },
        "/api/requests/{request_id}/release": {
            "post": _operation(
                "Release the approved items", 200, _ref("Request"), (403, 409), parameters=one
            )
        },
        "/api/requests/{request_id}/release.zip": {
            "get": {
                **_operation(
                    "The release: approved items and release.json",
                    200,
                    None,
                    (403, 409),
                    parameters=one,
                ),
                "responses": {
                    "200": {
                        "description": "The release zip",
                        "content": {
                            "application/zip": {"schema": {"type": "string", "format": "binary"}}
                        },
                    },
                    **_errors(403, 409),
                },
            }
        },
        "/api/requests/{request_id}/withdraw": {
            "post": _operation(
                "Withdraw a request before its release",
                200,
                _ref("Request"),
                (403, 409),
                parameters=one,
            )
        },
        "/api/openapi.json": {"get": _operation("This description", 200, {"type": "object"}, ())},
    }


def document(prefix: str = "/services/airlock/") -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Agoria TRE airlock",
            "version": "1",
            "description": "Export requests: create, add files, submit (checked on the server),"
            " two-person review, release. Authenticate with a hub API token"
            " (`Authorization: token …`).",
        },
        "servers": [{"url": prefix.rstrip("/")}],
        "security": [{"hubToken": []}],
        "paths": paths(),
        "components": {
            "securitySchemes": {
                "hubToken": {"type": "apiKey", "in": "header", "name": "Authorization"}
            },
            "schemas": {
                "Error": ERROR,
                "Rule": RULE,
                "Decision": DECISION,
                "Item": ITEM,
                "Summary": SUMMARY,
                "Request": REQUEST,
            },
        },
    }


if __name__ == "__main__":
    import json
    import sys

    json.dump(document(), sys.stdout, indent=2)
    sys.stdout.write("\n")
