"""The numbers of the API: size limits, lifetimes, and the request-size limits of the emulator."""

from __future__ import annotations

MIB = 1024 * 1024
GIB = 1024 * MIB

# Rule 1: a part is at most 64 MB, read as 64 MiB because the SDK's default part size is that.
PART_MAX_BYTES = 64 * MIB
# Rule 2: an upload accepts at most 8 GB, read as 8 GiB.
UPLOAD_MAX_BYTES = 8 * GIB
# Rule 3: an upload expires an hour after it is created.
UPLOAD_LIFETIME_SECONDS = 3600
# expires_after.seconds: from one hour to 30 days.
FILE_EXPIRY_MIN_SECONDS = 3600
FILE_EXPIRY_MAX_SECONDS = 2_592_000

# The emulator's own bounds on what it reads: no JSON request is larger than this...
JSON_BODY_MAX_BYTES = 1 * MIB
# ...and a part request may carry this much multipart framing around its data.
PART_FRAMING_MAX_BYTES = 1 * MIB

