"""Drive v3 folders and files for the double: the invoices folder's side of Google.

Implements `files.get` (metadata and `alt=media`), `files.list` with the one query the
adapter sends (`'<folder>' in parents and trashed = false`), `changes.getStartPageToken` and
`changes.list`, each validated against drive.v3.json (query parameters by the server, the
`fields` selection here against the response schema). Rules Drive enforces are modelled: a
file is visible to its owner and to whom it (or a folder above it) is shared with, others
get Drive's 404 "File not found"; every upload, rename, move or trash is one change in the
feed, shown to a user only for files they can see (a file they no longer see is `removed`);
`pageToken` is required for `changes.list`; `pageSize` is 1..1000. Another `q` is refused
as not implemented (never faked).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from . import fields
from .discovery import Validator
from .state import ApiError

JSON = dict[str, Any]
FOLDER = "application/vnd.google-apps.folder"
_QUERY = re.compile(r"^\s*'([^']+)' in parents and trashed = false\s*$")
_EPOCH = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass
class DriveFile:
    id: str
    name: str
    mime: str
    parents: list[str]
    owner: str
    modifier: str
    content: bytes = b""
    trashed: bool = False
    shared_with: set[str] = field(default_factory=set)
    modified: int = 0  # the change number of its last change


def _error(code: int, reason: str, message: str, location: str | None = None) -> ApiError:
    detail: JSON = {"domain": "global", "reason": reason, "message": message}
    if location:
        detail.update(location=location, locationType="parameter")
    return ApiError(code, "", message, errors=[detail])


def _not_found(file_id: str) -> ApiError:
    return _error(404, "notFound", f"File not found: {file_id}.", "fileId")


class DriveStore:
    """The files of the double's Drive and its changes feed."""

    def __init__(self, validator: Validator) -> None:
        self.validator = validator
        self.files: dict[str, DriveFile] = {}
        self.changes: list[str] = []  # file id per change, in order (change n = index + 1)
        self._ids = itertools.count(1)

    # -- what people do ----------------------------------------------------------------------
    def _new_id(self) -> str:
        return f"1drv{next(self._ids):06d}AbCdEfGhIjKlMnOpQrStU"  # Drive IDs: 33 characters

    def _changed(self, file: DriveFile) -> None:
        self.changes.append(file.id)
        file.modified = len(self.changes)

    def folder(
        self, name: str, parent: str | None = None, *, owner: str, shared_with: tuple[str, ...] = ()
    ) -> str:
        file = DriveFile(self._new_id(), name, FOLDER, [parent] if parent else [], owner, owner)
        file.shared_with.update(shared_with)
        self.files[file.id] = file
        self._changed(file)
        return file.id

    def upload(
        self, name: str, data: bytes, parent: str, *, by: str, mime: str = "application/pdf"
    ) -> str:
        self._check_writer(parent, by)
        file = DriveFile(self._new_id(), name, mime, [parent], by, by, data)
        self.files[file.id] = file
        self._changed(file)
        return file.id

    def rename(self, file_id: str, name: str, *, by: str) -> None:
        file = self.files[file_id]
        file.name, file.modifier = name, by
        self._changed(file)

    def move(self, file_id: str, parent: str, *, by: str) -> None:
        self._check_writer(parent, by)
        file = self.files[file_id]
        file.parents, file.modifier = [parent], by
        self._changed(file)

    def trash(self, file_id: str, *, by: str) -> None:
        file = self.files[file_id]
        file.trashed, file.modifier = True, by
        self._changed(file)

    def _check_writer(self, parent: str, user: str) -> None:
        if not self.visible(self.files[parent], user):
            raise PermissionError(f"{user} cannot add files to {parent}")

    # -- access ------------------------------------------------------------------------------
    def visible(self, file: DriveFile, user: str) -> bool:
        seen: set[str] = set()
        current: DriveFile | None = file
        while current is not None and current.id not in seen:
            if user == current.owner or user in current.shared_with:
                return True
            seen.add(current.id)
            current = self.files.get(current.parents[0]) if current.parents else None
        return False

    # -- the API -----------------------------------------------------------------------------
    def answer(self, kind: str, args: list[str], query: dict[str, str], user: str) -> Any:
        if kind == "drive.files.get":
            file = self.files.get(args[0])
            if file is None or not self.visible(file, user):
                raise _not_found(args[0])
            if query.get("alt") == "media":
                if file.mime == FOLDER or file.mime.startswith("application/vnd.google-apps"):
                    raise _error(
                        403,
                        "fileNotDownloadable",
                        "Only files with binary content can be downloaded.",
                        "alt",
                    )
                return file.content
            return self._select(self.resource(file), query, "File")
        if kind == "drive.files.list":
            return self._select(self._list(query, user), query, "FileList")
        if kind == "drive.changes.getStartPageToken":
            return self._select(
                {"kind": "drive#startPageToken", "startPageToken": str(len(self.changes) + 1)},
                query,
                "StartPageToken",
            )
        if kind == "drive.changes.list":
            return self._select(self._changes(query, user), query, "ChangeList")
        raise ApiError(404, "NOT_FOUND", f"The Google test double does not implement {kind}.")

    def _select(self, result: JSON, query: dict[str, str], schema: str) -> JSON:
        if "fields" not in query:
            return result
        tree = fields.parse(query["fields"])
        try:
            fields.check(tree, self.validator, schema)
        except ApiError as exc:
            raise _error(400, "invalidParameter", exc.message, "fields") from None
        selected: JSON = fields.select(result, tree)
        return selected

    def _page_size(self, query: dict[str, str], default: int) -> int:
        size = int(query.get("pageSize", default))
        if not 1 <= size <= 1000:
            raise _error(
                400,
                "invalid",
                f"Invalid value '{size}'. Values must be within the range: [1, 1000]",
                "pageSize",
            )
        return size

    def _list(self, query: dict[str, str], user: str) -> JSON:
        match = _QUERY.match(query.get("q", ""))
        if match is None:  # Drive may well accept it: refuse to fake rather than say invalid
            raise ApiError(
                404,
                "NOT_FOUND",
                f"The Google test double does not implement files.list q={query.get('q')!r}.",
            )
        size = self._page_size(query, 100)
        parent = match.group(1)
        children = [
            f
            for f in self.files.values()
            if parent in f.parents and not f.trashed and self.visible(f, user)
        ]
        start = int(query.get("pageToken") or 0)
        page = children[start : start + size]
        out: JSON = {
            "kind": "drive#fileList",
            "incompleteSearch": False,
            "files": [self.resource(f) for f in page],
        }
        if start + size < len(children):
            out["nextPageToken"] = str(start + size)
        return out

    def _changes(self, query: dict[str, str], user: str) -> JSON:
        token = query.get("pageToken")
        if not token:
            raise _error(400, "required", "Required parameter: pageToken", "pageToken")
        if not token.isdigit() or not 1 <= int(token) <= len(self.changes) + 1:
            raise _error(400, "invalid", "Invalid Value", "pageToken")
        size = self._page_size(query, 100)
        start = int(token) - 1
        entries = []
        for number, file_id in enumerate(self.changes[start : start + size], start + 1):
            file = self.files[file_id]
            if file.modified != number:
                continue  # a later change of the same file shows it (Drive reports the latest)
            time = (_EPOCH + timedelta(minutes=number)).isoformat().replace("+00:00", "Z")
            entry: JSON = {
                "kind": "drive#change",
                "changeType": "file",
                "time": time,
                "fileId": file.id,
                "removed": not self.visible(file, user),
            }
            if not entry["removed"]:
                entry["file"] = self.resource(file)
            entries.append(entry)
        out: JSON = {"kind": "drive#changeList", "changes": entries}
        if start + size < len(self.changes):
            out["nextPageToken"] = str(start + size + 1)
        else:
            out["newStartPageToken"] = str(len(self.changes) + 1)
        return out

    def resource(self, file: DriveFile) -> JSON:
        link = (
            f"https://drive.google.com/drive/folders/{file.id}"
            if file.mime == FOLDER
            else f"https://drive.google.com/file/d/{file.id}/view?usp=drivesdk"
        )
        stamp = (_EPOCH + timedelta(minutes=file.modified)).isoformat().replace("+00:00", "Z")
        out: JSON = {
            "kind": "drive#file",
            "id": file.id,
            "name": file.name,
            "mimeType": file.mime,
            "parents": list(file.parents),
            "webViewLink": link,
            "trashed": file.trashed,
            "modifiedTime": stamp,
            "owners": [{"kind": "drive#user", "emailAddress": file.owner}],
            "lastModifyingUser": {"kind": "drive#user", "emailAddress": file.modifier},
        }
        if file.mime != FOLDER:
            out["size"] = str(len(file.content))
        return out
