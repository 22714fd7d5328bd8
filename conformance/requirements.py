"""The requirement catalog: every rule the suite checks, with its level and its source.

This is the map of the suite. Every check names the requirement(s) it verifies by ID, and
reports are organised by requirement. IDs are stable: a renamed rule keeps its ID.
`uploads-conformance requirements` prints it, with the emulator's mutants that prove each.

Levels:
    MUST      a documented rule; a failure makes the target non-conformant (exit 1)
    SHOULD    expected behaviour; a failure is reported, not fatal
    INFO      left open by the documentation; never fails, records what was observed

Sources are abbreviated:
    api-ref   the API reference for Uploads (createUpload, addUploadPart, completeUpload,
              cancelUpload) and the objects Upload, UploadPart, File
    openapi   the public OpenAPI document of the API
    sdk       the official Python SDK (`openai`, `client.uploads`)
    rule N    rule N of the documented rules, as the project states them in docs/rules.md

Needs (`NEEDS`): what a target or a run must offer for the requirement to be testable at
all; without it the requirement is reported not testable, never failed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class Level(StrEnum):
    MUST = "MUST"
    SHOULD = "SHOULD"
    INFO = "INFO"


TEST_CONTROLS: Final = "test-controls"
FILE_ENDPOINTS: Final = "file-endpoints"
SDK: Final = "sdk"
CHUNKED_UPLOAD: Final = "chunked-upload"
LARGE_PARTS: Final = "large-parts"
SECOND_KEY: Final = "second-key"
PROXY: Final = "proxy"

NEEDS: Final[dict[str, str]] = {
    # Each is where the suite reports the requirement not testable (plugin.py, target.py,
    # suite/test_limit_bytes.py, suite/test_sdk.py, adapters/chunked.py,
    # suite/test_tenants.py).
    TEST_CONTROLS: "the target's test controls (GET <base>/_conformance: a clock the suite "
                   "can advance), a profile that uses them (not real-api) and -n 1",
    FILE_ENDPOINTS: "the file endpoints: GET /files/{id} and GET /files/{id}/content serve "
                    "a completed upload's file",
    SDK: "an SDK adapter: --sdk or --sdk-driver",
    CHUNKED_UPLOAD: "an SDK with a chunked upload helper (upload_file_chunked)",
    LARGE_PARTS: "a profile that sends real 64 MiB parts (every profile but real-api)",
    SECOND_KEY: "a second API key, of another tenant (another project): --second-api-key "
                "(the embedded emulator's run has one)",
    PROXY: "a client's own traffic, judged by `uploads-conformance proxy` (a run of the "
           "suite sends its own requests: it has no client to judge)",
}
"""Each need's name and what it asks of the target or the run."""


@dataclass(frozen=True, slots=True)
class Requirement:
    id: str
    level: Level
    title: str
    source: str
    needs: tuple[str, ...] = ()  # names from NEEDS
    area: str = ""  # the part of the API it is about: its section of the catalog
    # Requirements of which one must hold for this one's passes to mean anything (its
    # checks cannot see a fault otherwise), and what they would observe.
    observed_by: tuple[str, ...] = ()
    observed_by_why: str = ""

    @property
    def needs_test_controls(self) -> bool:
        return TEST_CONTROLS in self.needs


def _req(id: str, level: Level, title: str, source: str, needs: tuple[str, ...] = (),
         observed_by: tuple[str, ...] = (), observed_by_why: str = "") -> Requirement:
    return Requirement(id, level, title, source, needs, observed_by=observed_by,
                       observed_by_why=observed_by_why)


def _sections(*items: str | Requirement) -> tuple[Requirement, ...]:
    """The requirements, each in the area named last before it."""
    area, found = "", list[Requirement]()
    for item in items:
        if isinstance(item, str):
            area = item
        else:
            found.append(dataclasses.replace(item, area=area))
    return tuple(found)


M, S, INFO = Level.MUST, Level.SHOULD, Level.INFO

_ALL: tuple[Requirement, ...] = _sections(
    "create",
    _req("CREATE-VALID", M,
         "A valid create request is answered 200 with an Upload in status pending that echoes "
         "filename, purpose and bytes.", "api-ref createUpload"),
    _req("CREATE-INVALID", M,
         "A create request with a missing, mistyped or unknown field, or a purpose outside "
         "the enum, is refused with a 4xx.", "rule 10; openapi CreateUploadRequest"),
    _req("UPLOAD-SIZE-LIMIT", M,
         "A declared size of exactly 8 GiB is accepted; one byte more is refused.",
         "rule 2; api-ref createUpload"),
    _req("UPLOAD-EXPIRES-AT", M,
         "An Upload's expires_at is its created_at plus 3600 seconds.", "rule 3"),
    _req("UPLOAD-CREATED-AT", S,
         "An Upload's created_at is the target's current time (within a minute).",
         "api-ref Upload"),
    "objects",
    _req("OBJECT-UPLOAD", M,
         "Every Upload answer has id, object 'upload', bytes, created_at, expires_at, filename, "
         "purpose and a known status, with the documented types; after the create, the same "
         "id, bytes, created_at, filename and purpose.", "api-ref Upload"),
    _req("OBJECT-PART", M,
         "Every UploadPart answer has id, object 'upload.part', created_at and the upload_id "
         "of the upload it was added to.", "api-ref UploadPart"),
    _req("OBJECT-FILE", M,
         "A completed Upload carries a File whose bytes equal the declared size and whose "
         "filename and purpose are the upload's.", "rule 9; api-ref Upload.file"),
    _req("ERROR-ENVELOPE", M,
         "Every refusal is a 4xx answer whose JSON body is an error envelope "
         "{error: {message, type, param, code}}.", "rule 10; api-ref errors"),
    _req("IDS-UNIQUE", M,
         "Upload IDs and part IDs are never reused.", "api-ref Upload.id, UploadPart.id"),
    "parts",
    _req("PART-VALID", M,
         "A part of 1 byte up to 64 MiB added to a pending upload is accepted.",
         "api-ref addUploadPart"),
    _req("PART-SIZE-LIMIT", M,
         "A part of exactly 64 MiB is accepted; a part of 64 MiB + 1 byte is refused.",
         "rule 1; sdk default part size", needs=(LARGE_PARTS,)),
    _req("PART-PARALLEL", M,
         "Parts added in parallel are all accepted and all usable at completion.", "rule 4"),
    _req("PART-AFTER-END", M,
         "No part is accepted by a completed or cancelled upload.", "rule 8"),
    _req("PART-UNKNOWN-UPLOAD", M,
         "A part sent to an unknown upload ID is refused.", "rule 10"),
    _req("PART-INVALID", M,
         "A part request without a 'data' file field, or not multipart, is refused with a 4xx.",
         "rule 10; api-ref addUploadPart"),
    "complete",
    _req("COMPLETE-VALID", M,
         "Completing a pending upload with its parts, sizes matching, is answered 200 with "
         "status completed.", "api-ref completeUpload"),
    _req("COMPLETE-ORDER", M,
         "The completed file's bytes are the listed parts' bytes concatenated in part_ids "
         "order, whatever order the parts were added in.", "rule 5",
         observed_by=("CONTENT-BYTES", "COMPLETE-MD5"),
         observed_by_why="the order shows only in the file's content read back, or in an "
                         "md5 the target checks"),
    _req("COMPLETE-BYTE-COUNT", M,
         "Completion is refused when the listed parts' sizes do not add up to the declared "
         "bytes.", "rule 6"),
    _req("COMPLETE-MD5", M,
         "Completion with a wrong md5 is refused; with the right md5 it succeeds.", "rule 7"),
    _req("COMPLETE-FOREIGN-PART", M,
         "Completion listing an unknown part ID or a part of another upload is refused.",
         "rule 10; rule 5"),
    _req("COMPLETE-STATE", M,
         "Completing an upload that is already completed or cancelled, or an unknown upload, "
         "is refused.", "rule 8; api-ref completeUpload"),
    _req("COMPLETE-INVALID", M,
         "A complete request with missing, mistyped or unknown fields is refused with a 4xx.",
         "rule 10; openapi CompleteUploadRequest"),
    "cancel",
    _req("CANCEL-VALID", M,
         "Cancelling a pending upload is answered 200 with status cancelled.",
         "api-ref cancelUpload"),
    _req("CANCEL-STATE", M,
         "Cancelling a completed upload, or an unknown upload, is refused.",
         "rule 8; api-ref cancelUpload"),
    "expiry",
    _req("EXPIRY-ENFORCED", M,
         "Once an upload's hour has passed it accepts no part, completion or cancel.",
         "rule 3", needs=(TEST_CONTROLS,)),
    "content",
    _req("CONTENT-BYTES", M,
         "Where the target serves GET /files/{id}/content, it returns the assembled bytes "
         "exactly.", "rule 5; rule 9", needs=(FILE_ENDPOINTS,)),
    "races",
    _req("RACE-LINEARIZABLE", M,
         "Operations racing on one upload (a completion or cancel with part additions, "
         "completions with each other, a completion with a cancel) are answered, and end "
         "in a state, as some order of those operations allows.", "rule 4; rule 8"),
    "robustness",
    _req("AUTH-REQUIRED", M,
         "Every operation without credentials, or with a wrong key (one wrong in a single "
         "character among them), is answered 401.",
         "rule 10; api-ref authentication"),
    _req("TENANT-ISOLATION", M,
         "An upload made with one API key is unknown to another tenant's key: its part, "
         "completion and cancel requests, and GET /files/{id} and /content of its file, "
         "are refused with a 4xx, and none of them changes the upload.",
         "rule 10 (unknown IDs); api-ref authentication (keys belong to projects)",
         needs=(SECOND_KEY,)),
    _req("NO-SERVER-ERROR", M,
         "No request, however malformed, is answered with a 5xx or a broken answer.",
         "rule 10"),
    # schemathesis against the project's OpenAPI document
    "schema",
    _req("SCHEMA-RESPONSE", M,
         "Every answer's status code and body conform to the OpenAPI document.",
         "openapi (the project's own document)"),
    _req("SCHEMA-CONTENT-TYPE", S,
         "Every JSON answer is sent with an application/json content type.", "openapi"),
    _req("SCHEMA-NEGATIVE", M,
         "Requests that break the OpenAPI document's request schema are refused with a 4xx.",
         "openapi; rule 10"),
    # --sdk / --sdk-driver
    "sdk",
    _req("SDK-REQUEST-CONFORMS", M,
         "Every operation an SDK runs is one request that conforms to the OpenAPI document: "
         "method, path, content type, a JSON body valid against the schema and holding exactly "
         "the fields the SDK was given, a part as the multipart file field 'data' holding its "
         "bytes, no body on cancel, and Authorization: Bearer <the key>.",
         "openapi (the project's own document); sdk", needs=(SDK,)),
    _req("SDK-RESULT-MATCHES", M,
         "What an SDK gives back matches what the target sent: a result whose fields equal the "
         "answer's; for a refusal, the exception class of its status (400 BadRequestError, 404 "
         "NotFoundError, 409 ConflictError, ...) carrying that status and error body; for no "
         "answer, a connection error.", "sdk", needs=(SDK,)),
    _req("SDK-CHUNKED-UPLOAD", M,
         "An SDK's chunked upload helper sends parts no larger than the part size, holding the "
         "file's bytes in order, completes with their IDs in that order, and leaves a completed "
         "upload holding the file's bytes (an empty file included).",
         "sdk upload_file_chunked", needs=(SDK, CHUNKED_UPLOAD)),
    _req("SDK-CHUNKED-ARGUMENTS", S,
         "An SDK's chunked upload helper refuses a part size of 0 or below before sending "
         "anything; given a part size above the API's 64 MiB part limit, or a bytes= other "
         "than the file's size, it refuses it or still uploads the file whole and correct; "
         "it never sends requests bound to be refused, leaves no upload pending, and ends.",
         "sdk upload_file_chunked (what an SDK should refuse is not documented)",
         needs=(SDK, CHUNKED_UPLOAD)),
    _req("SDK-DEFAULTS", S,
         "Built as its users build it (OpenAI(api_key=..., base_url=...): its own HTTP client "
         "and retries; only the timeout is the run's), an SDK carries an upload from create "
         "to completion.",
         "sdk defaults", needs=(SDK,)),
    _req("SDK-RETRY-SAME-REQUEST", S,
         "A request an SDK sends again after its answer was lost is the request it sent: the "
         "same method, URL and body (a part's bytes included).", "sdk retries", needs=(SDK,)),
    _req("SDK-RETRY-NO-DUPLICATE", S,
         "When the answer to a create or a part is lost after the target took it and the SDK "
         "sends it again, its user holds what the target holds: one upload for one create "
         "(no second one left pending, unseen), and a part that completes the upload with its "
         "bytes.", "sdk retries", needs=(SDK,)),
    _req("SDK-RETRY-TRUTHFUL", S,
         "When the answer to an operation (a create, a part, even the one that fills the "
         "upload, a completion, a cancel) is lost after it took effect and the SDK sends it "
         "again, its user is not told it was refused because the repeat was.", "sdk retries",
         needs=(SDK,)),
    # uploads-conformance proxy: the client whose traffic went through it
    "client",
    _req("CLIENT-REQUEST-CONFORMS", M,
         "Every request a client sends conforms to the OpenAPI document: method, path, content "
         "type, a JSON body valid against the schema, a part as one multipart file field "
         "'data', no body on cancel, and Authorization: Bearer <key>.",
         "openapi (the project's own document)", needs=(PROXY,)),
    _req("CLIENT-PART-SIZE", M,
         "A client sends no part larger than 64 MiB.", "rule 1", needs=(PROXY,)),
    _req("CLIENT-PART-IDS", M,
         "A client's completion lists in part_ids only parts the target accepted for that "
         "upload.", "rule 5; rule 10", needs=(PROXY,)),
    _req("CLIENT-MD5-MATCHES", M,
         "The md5 a client sends at completion is the md5 of the listed parts' bytes, as they "
         "went through, in part_ids order.", "rule 7; rule 5", needs=(PROXY,)),
    _req("CLIENT-NO-FINAL-RETRY", S,
         "A client does not send again a request whose refusal the target marked final "
         "(x-should-retry: false).", "sdk retries (x-should-retry)", needs=(PROXY,)),
    # observed, never failed
    "left open",
    _req("OPEN-REFUSAL-CODE", INFO,
         "Which 4xx code the target uses for each kind of refusal.", "left open"),
    _req("OPEN-ZERO-BYTE-PART", INFO,
         "Whether a zero-byte part is accepted.", "left open"),
    _req("OPEN-EMPTY-UPLOAD", INFO,
         "Whether a zero-byte upload can be created and then completed with part_ids [].",
         "left open; sdk"),
    _req("OPEN-SUBSET-COMPLETION", INFO,
         "Whether completion may list a subset of the added parts.", "left open"),
    _req("OPEN-DUPLICATE-PART-IDS", INFO,
         "Whether duplicate IDs in part_ids are refused.", "left open"),
    _req("OPEN-CANCEL-TWICE", INFO,
         "Whether cancelling a cancelled upload is refused or idempotent.", "left open"),
    _req("OPEN-OVERFLOW-PART", INFO,
         "Whether a part that pushes the total past the declared bytes is refused at once.",
         "left open"),
    _req("OPEN-ID-FORMAT", INFO,
         "The format of upload, part and file IDs, and extra fields in objects.", "left open"),
    _req("OPEN-LENIENCY", INFO,
         "Leniency at the edges of the request format (null optionals, 10.0 for an integer, "
         "extra form fields, JSON without a JSON content type, upper-case md5).", "left open"),
    _req("OPEN-FILE-ENDPOINTS", INFO,
         "Whether GET /files/{id} and GET /files/{id}/content serve the completed file.",
         "left open"),
    _req("OPEN-NESTED-FILE-STATUS", INFO,
         "The status of the nested File on completion.", "left open"),
    _req("OPEN-NONDETERMINISM", INFO,
         "Whether the target answers a replayed sequence the same way (races may resolve "
         "either way); when it does not, exploration stops early.", "left open"),
    _req("OPEN-MIME-TYPE", INFO,
         "Which purpose and mime_type pairs the target accepts.", "left open"),
    _req("OPEN-CONNECTION-REUSE", INFO,
         "Whether the target closes idle keep-alive connections without `Connection: close` "
         "(and after which answers); the suite sends the request again on a new one.",
         "left open (HTTP/1.1 persistent connections)"),
)

CATALOG: dict[str, Requirement] = {r.id: r for r in _ALL}


def get(requirement_id: str) -> Requirement:
    """The requirement with this ID; a KeyError names an ID missing from the catalog."""
    return CATALOG[requirement_id]


def is_fatal(requirement_id: str) -> bool:
    return CATALOG[requirement_id].level is Level.MUST
