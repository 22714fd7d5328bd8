"""The HTTP face of the Uploads API: one thin endpoint per operation, over `UploadService`
and `FileStore`.

Endpoints read and check the request, call the service with the tenant of the request's
key (`auth.tenant_of`), and render the answer; the rules themselves live in `uploads` and
`files`.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from .auth import tenant_of
from .errors import bad_request, error_response
from .files import FileStore
from .json_body import read_empty_or_json_object, read_json_object
from .part_reader import receive_part
from .records import UploadRecord
from .rules import Rules
from .uploads import UploadService
from .validation import parse_complete, parse_create
from .views import deleted_file_view, file_view, part_view, upload_view


class UploadRoutes:
    def __init__(self, service: UploadService, files: FileStore, rules: Rules,
                 body_timeout: float | None = None) -> None:
        self._service = service
        self._files = files
        self._rules = rules
        self._body_timeout = body_timeout  # a body that stalls this long is abandoned

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/v1/uploads", self.create_upload, methods=["POST"]),
            Route("/v1/uploads/{upload_id}/parts", self.add_part, methods=["POST"]),
            Route("/v1/uploads/{upload_id}/complete", self.complete_upload, methods=["POST"]),
            Route("/v1/uploads/{upload_id}/cancel", self.cancel_upload, methods=["POST"]),
            Route("/v1/files/{file_id}", self.file, methods=["GET", "DELETE"]),
            Route("/v1/files/{file_id}/content", self.file_content, methods=["GET"]),
        ]

    async def create_upload(self, request: Request) -> Response:
        body = await read_json_object(request, self._rules, self._body_timeout)
        upload = self._service.create(parse_create(body, self._rules), tenant_of(request.scope))
        return self._upload_answer(upload)

    async def add_part(self, request: Request) -> Response:
        part = await self._service.start_part(request.path_params["upload_id"],
                                              tenant_of(request.scope))
        try:
            await receive_part(request, part.spool, part.limits, self._body_timeout)
            record = await self._service.finish_part(part)
        except ClientDisconnect:
            await self._service.abandon_part(part)
            # Nobody is left to read this; answering keeps the server's bookkeeping simple.
            return error_response(bad_request("The client went away mid-part.",
                                              code="client_disconnected"))
        except BaseException:
            await self._service.abandon_part(part)
            raise
        return self._answer(part_view(record))

    async def complete_upload(self, request: Request) -> Response:
        upload_id, tenant = request.path_params["upload_id"], tenant_of(request.scope)
        self._service.find(upload_id, tenant)  # an unknown upload is 404 whatever the body says
        body = await read_json_object(request, self._rules, self._body_timeout)
        completion = parse_complete(body, self._rules)
        upload = await self._service.complete(upload_id, completion, tenant)
        return self._upload_answer(upload)

    async def cancel_upload(self, request: Request) -> Response:
        upload_id, tenant = request.path_params["upload_id"], tenant_of(request.scope)
        self._service.find(upload_id, tenant)
        body = await read_empty_or_json_object(request, self._rules, self._body_timeout)
        if body:
            name = sorted(body)[0]
            raise bad_request(f"Unknown field: {name}; cancel takes no body.", param=name,
                              code="unknown_parameter")
        upload = await self._service.cancel(upload_id, tenant)
        return self._upload_answer(upload)

    async def file(self, request: Request) -> Response:
        file_id, tenant = request.path_params["file_id"], tenant_of(request.scope)
        if request.method == "DELETE":
            await self._files.delete(file_id, tenant)
            return self._answer(deleted_file_view(file_id))
        return self._answer(file_view(await self._files.find(file_id, tenant)))

    async def file_content(self, request: Request) -> Response:
        file = await self._files.find(request.path_params["file_id"], tenant_of(request.scope))
        length = sum(part.size for part in file.pieces)
        headers = {"Content-Length": str(length)}
        if request.method == "HEAD":  # no body, so no download to keep the data alive for
            return Response(media_type="application/octet-stream", headers=headers)
        return StreamingResponse(self._files.content(file),
                                 media_type="application/octet-stream", headers=headers)

    def _upload_answer(self, upload: UploadRecord) -> Response:
        return self._answer(self._rules.upload_answer(upload_view(upload)))

    def _answer(self, view: dict[str, Any]) -> Response:
        return JSONResponse(view)
