"""The OpenAPI 3.1 description of ``/api/v1/``, served as-is and used by the tests."""

from __future__ import annotations

from typing import Any

from learning.accounts.models import ROLES
from learning.api.params import CERTIFICATE_STATUSES, MAX_PER_PAGE, PER_PAGE


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": [kind, "null"], **extra}


def _object(properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    schema = {"type": "object", "required": sorted(properties), "properties": properties,
              "additionalProperties": False}
    return {"description": description, **schema} if description else schema


def _param(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": {"type": "string", **schema}}


def _list(summary: str, description: str, page: str, *filters: str) -> dict[str, Any]:
    return {"get": {
        "summary": summary, "description": description,
        "parameters": [{"$ref": "#/components/parameters/cursor"},
                       {"$ref": "#/components/parameters/per_page"},
                       {"$ref": "#/components/parameters/updated_since"},
                       *({"$ref": f"#/components/parameters/{f}"} for f in filters)],
        "responses": {"200": {"description": "One page, oldest first; follow `next` for more.",
                              "content": {"application/json": {"schema": _ref(page)}}},
                      "400": {"$ref": "#/components/responses/BadRequest"},
                      "401": {"$ref": "#/components/responses/Unauthorized"}}}}


def _one(summary: str, schema: str, id_description: str) -> dict[str, Any]:
    return {"get": {
        "summary": summary,
        "parameters": [{"name": "id", "in": "path", "required": True,
                        "description": id_description,
                        "schema": {"type": "integer", "minimum": 1}}],
        "responses": {"200": {"description": "Found.",
                              "content": {"application/json": {"schema": _ref(schema)}}},
                      "401": {"$ref": "#/components/responses/Unauthorized"},
                      "404": {"$ref": "#/components/responses/NotFound"}}}}


def _page(item: str) -> dict[str, Any]:
    return _object({"data": {"type": "array", "items": _ref(item)},
                    "next": _nullable("string", format="uri",
                                      description="The next page, or null on the last one.")})


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": _ref("Error")}}}


DATE_TIME = {"type": "string", "format": "date-time"}
DATE = {"type": "string", "format": "date"}
OFFICER_REF = _object({"id": {"type": "integer"}, "email": {"type": "string"}})

SCHEMAS: dict[str, Any] = {
    "Error": _object({
        "error": {"type": "string", "description": "A stable code, such as `invalid_token`."},
        "message": {"type": "string", "description": "What went wrong, for a person."}}),
    "Officer": _object({
        "id": {"type": "integer"}, "email": {"type": "string"}, "name": {"type": "string"},
        "role": {"enum": list(ROLES)}, "active": {"type": "boolean"},
        "unit": {"oneOf": [_object({"id": {"type": "integer"}, "name": {"type": "string"}}),
                           {"type": "null"}]},
        "created_at": DATE_TIME}, "A person of the agency."),
    "Assignment": _object({
        "id": {"type": "integer"}, "course": {"type": "string", "description": "Course slug."},
        "due_on": DATE, "recurrence": {"enum": ["none", "months", "on_expiry"]},
        "every_months": _nullable("integer"), "active": {"type": "boolean"},
        "created_at": DATE_TIME,
        "units": {"type": "array", "description": "Whole units: everyone in them, now and later.",
                  "items": _object({"id": {"type": "integer"}, "name": {"type": "string"}})},
        "officers": {"type": "array", "description": "Officers named one by one.",
                     "items": OFFICER_REF}}, "A course the agency requires by a date."),
    "Completion": _object({
        "id": {"type": "integer"}, "officer_id": {"type": "integer"},
        "officer_email": {"type": "string"}, "course": {"type": "string"},
        "course_version": {"type": "integer"},
        "cycle": {"type": "integer", "minimum": 0,
                  "description": "0 for the first completion, n for the n-th recertification."},
        "completed_at": DATE_TIME, "score": _nullable("number")},
        "The moment an officer met a course's completion rule."),
    "Certificate": _object({
        "id": {"type": "integer"},
        "code": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
        "officer_id": {"type": "integer"}, "officer_email": {"type": "string"},
        "holder_name": {"type": "string", "description": "The name as printed."},
        "course": {"type": "string"}, "course_title": {"type": "string"},
        "course_version": {"type": "integer"}, "score": _nullable("number"),
        "issued_on": DATE,
        "expires_on": _nullable("string", format="date",
                                description="Valid up to the day before; null: never expires."),
        "status": {"enum": list(CERTIFICATE_STATUSES),
                   "description": "On today's date (UTC)."},
        "revoked_at": _nullable("string", format="date-time"),
        "verify_url": {"type": "string", "format": "uri"}},
        "A certificate: is this officer certified for this course, and until when?"),
    "OfficerPage": _page("Officer"),
    "AssignmentPage": _page("Assignment"),
    "CompletionPage": _page("Completion"),
    "CertificatePage": _page("Certificate"),
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Waymark agency API",
        "version": "1.0.0",
        "description": (
            "Read-only data of one agency for its HR systems. Agency managers create tokens "
            "at /agency/tokens/; send one as `Authorization: Bearer <token>`. Every list is "
            "paginated oldest first: follow `next` until it is null. `updated_since` returns "
            "rows created since then (officers and assignments, by creation time; "
            "completions, by completion time); for certificates also those revoked or "
            "expired since then. Errors are JSON: `{\"error\": ..., \"message\": ...}`."),
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearer": []}],
    "paths": {
        "/officers": _list("The agency's people", "Officers and managers of the agency.",
                           "OfficerPage", "email"),
        "/officers/{id}": _one("One person of the agency", "Officer", "The person's id."),
        "/assignments": _list("The agency's assignments", "Active and inactive.",
                              "AssignmentPage", "course"),
        "/completions": _list("Completions by the agency's people",
                              "Every completion, including recertifications.",
                              "CompletionPage", "officer_email", "course"),
        "/certificates": _list(
            "Certificates of the agency's people",
            "Is this officer certified for course X, and until when? Filter by "
            "`officer_email`, `course` and `status`.",
            "CertificatePage", "officer_email", "course", "status"),
        "/certificates/{id}": _one("One certificate", "Certificate", "The certificate's id."),
        "/openapi.json": {"get": {
            "summary": "This document", "security": [],
            "responses": {"200": {"description": "The OpenAPI document.",
                                  "content": {"application/json": {
                                      "schema": {"type": "object"}}}}}}},
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                       "description": "A token from /agency/tokens/."}},
        "parameters": {
            "cursor": _param("cursor", "Where the page starts; take it from `next`.",
                             pattern="^[0-9]+$"),
            "per_page": {"name": "per_page", "in": "query", "required": False,
                         "description": "Rows per page.",
                         "schema": {"type": "integer", "minimum": 1,
                                    "maximum": MAX_PER_PAGE, "default": PER_PAGE}},
            "updated_since": _param("updated_since",
                                    "ISO-8601 date or date-time (UTC unless it has an offset)."),
            "email": _param("email", "Only the person with this email."),
            "officer_email": _param("officer_email", "Only this officer's rows."),
            "course": _param("course", "A course slug; an unknown slug is a 400."),
            "status": _param("status", "Certificate status today.",
                             enum=list(CERTIFICATE_STATUSES)),
        },
        "responses": {
            "BadRequest": _error_response("A malformed parameter."),
            "Unauthorized": _error_response(
                "No token, or an unknown, revoked or expired one (a token works for at "
                "most a year)."),
            "NotFound": _error_response("Nothing with this id in the agency."),
        },
        "schemas": SCHEMAS,
    },
}
