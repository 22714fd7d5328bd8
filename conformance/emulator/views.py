"""The JSON shapes of the API objects: Upload, UploadPart, File, and a deleted File."""

from __future__ import annotations

from typing import Any

from .records import FileRecord, PartRecord, UploadRecord


def upload_view(upload: UploadRecord) -> dict[str, Any]:
    shows_file = upload.status == "completed" and upload.file is not None
    return {
        "id": upload.id,
        "object": "upload",
        "bytes": upload.bytes,
        "created_at": upload.created_at,
        "expires_at": upload.expires_at,
        "filename": upload.filename,
        "purpose": upload.purpose,
        "status": upload.status,
        "file": file_view(upload.file) if shows_file and upload.file else None,
    }


def part_view(part: PartRecord) -> dict[str, Any]:
    return {
        "id": part.id,
        "object": "upload.part",
        "created_at": part.created_at,
        "upload_id": part.upload_id,
    }


def file_view(file: FileRecord) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": file.id,
        "object": "file",
        "bytes": file.bytes,
        "created_at": file.created_at,
        "filename": file.filename,
        "purpose": file.purpose,
        "status": "processed",
    }
    # Optional, and an integer when present: left out, not null, when the file never expires
    # (the public OpenAPI document types it as a plain integer).
    if file.expires_at is not None:
        view["expires_at"] = file.expires_at
    return view


def deleted_file_view(file_id: str) -> dict[str, Any]:
    return {"id": file_id, "object": "file", "deleted": True}
