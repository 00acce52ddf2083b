"""The invoices folder on Google Drive: at most one Drive request per tick to look at it.

The cursor (kept in the state's meta, committed with the tick's journal) says where the
folder's reading stands; each tick makes exactly one of these requests:

1. `files.get` of the folder: it exists, is a folder and is shared with the service account;
2. `changes.getStartPageToken`: from now on every change is in the changes feed;
3. `files.list` of one folder's children, one page at a time, until the folder and its
   subfolders (found on the way) have been walked: the files already there;
4. then, every tick, `changes.list` from the saved page token: the files added, renamed or
   moved since, kept when one of their parents is the folder or a subfolder of it (a folder
   moved in is walked as in 3). An idle tick gets an empty page: one small request.

Each new PDF (not yet in `seen`) is then downloaded to read its text (`files.get?alt=media`,
one request per PDF, at most MAX_BYTES). A file is known by its Drive ID, so renaming or
moving it within the folder never makes a second row. Errors: a folder that is missing or not
shared is a scan with a problem (the tick goes on); other failures raise after retries.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable, Container
from typing import Any

from gspread.exceptions import APIError
from gspread.urls import DRIVE_FILES_API_V3_URL
from requests import ConnectionError as RequestsConnectionError
from requests import Timeout
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from functions.adapters.folders.pdf_text import MAX_BYTES, pdf_text
from functions.adapters.google_calls import ApiFailure, transient
from functions.model import JSON, FolderFile, FolderScan

CHANGES_URL = "https://www.googleapis.com/drive/v3/changes"
FOLDER = "application/vnd.google-apps.folder"
FILE_FIELDS = (
    "id,name,mimeType,parents,webViewLink,trashed,size,"
    "owners(emailAddress),lastModifyingUser(emailAddress)"
)
PAGE_SIZE = 50  # files or changes per request, so at most 50 PDFs downloaded per tick
_LINK_ID = re.compile(r"(?:/folders/|/d/|[?&]id=)([A-Za-z0-9_-]{10,})")
_BARE_ID = re.compile(r"[A-Za-z0-9_-]{10,}")


def drive_id(location: str) -> str | None:
    """The folder ID in a Drive folder URL, or a bare ID; None for anything else."""
    found = _LINK_ID.search(location)
    if found:
        return found.group(1)
    bare = location.strip()
    return bare if _BARE_ID.fullmatch(bare) else None


class DriveFolder:
    """Reads the invoices folder as the service account (scope drive.readonly)."""

    def __init__(
        self,
        http: Any,
        service_account: str,
        *,
        attempts: int = 5,
        max_wait: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._http = http  # gspread's HTTPClient: its authorised session
        self.service_account = service_account
        self.attempts, self.max_wait, self._sleep = attempts, max_wait, sleep
        self.requests = 0  # every HTTP attempt, downloads included
        self.downloads = 0  # of which PDF downloads (alt=media)

    def scan(self, location: str, cursor: JSON, seen: Container[str]) -> FolderScan:
        root = drive_id(location)
        if root is None:
            return FolderScan(location, problem="missing", detail="not a Drive folder link or ID")
        state: JSON = dict(cursor) if cursor.get("root") == root else {"root": root}
        try:
            found = self._step(root, state)
        except ApiFailure as exc:
            if exc.status in (403, 404):
                return FolderScan(
                    location, cursor={"root": root}, problem="not_shared", detail=self._account()
                )
            raise
        if isinstance(found, str):
            return FolderScan(location, cursor={"root": root}, problem=found, detail=location)
        files = [self._file(f) for f in found if f"drive:{f['id']}" not in seen]
        return FolderScan(location, files, state)

    def _account(self) -> str:
        return self.service_account or "the service account"

    def _step(self, root: str, state: JSON) -> list[JSON] | str:
        """One Drive request: the files it showed, or a problem (not_a_folder | missing)."""
        if not state.get("checked"):
            folder = self._get(
                f"{DRIVE_FILES_API_V3_URL}/{root}",
                {"fields": "id,mimeType,trashed", "supportsAllDrives": "true"},
            )
            if folder.get("trashed"):
                return "missing"
            if folder.get("mimeType") != FOLDER:
                return "not_a_folder"
            state.update(checked=True, folders=[root])
            return []
        if not state.get("token"):
            answer = self._get(f"{CHANGES_URL}/startPageToken", {"supportsAllDrives": "true"})
            state.update(token=answer["startPageToken"], queue=[root], page=None)
            return []
        folders: list[str] = state.setdefault("folders", [root])
        queue: list[str] = state.setdefault("queue", [])
        if queue:
            params = {
                "q": f"'{queue[0]}' in parents and trashed = false",
                "pageSize": str(PAGE_SIZE),
                "fields": f"nextPageToken,files({FILE_FIELDS})",
                "supportsAllDrives": "true",
                "includeItemsFromAllDrives": "true",
            }
            if state.get("page"):
                params["pageToken"] = state["page"]
            answer = self._get(DRIVE_FILES_API_V3_URL, params)
            state["page"] = answer.get("nextPageToken")
            if not state["page"]:
                queue.pop(0)
            return self._keep(answer.get("files") or [], folders, queue)
        params = {
            "pageToken": state["token"],
            "pageSize": str(PAGE_SIZE),
            "fields": "nextPageToken,newStartPageToken,"
            f"changes(fileId,removed,file({FILE_FIELDS}))",
            "supportsAllDrives": "true",
            "includeItemsFromAllDrives": "true",
        }
        answer = self._get(CHANGES_URL, params)
        state["token"] = answer.get("nextPageToken") or answer.get("newStartPageToken")
        changed = [c["file"] for c in answer.get("changes") or [] if c.get("file")]
        return self._keep([f for f in changed if not f.get("trashed")], folders, queue)

    def _keep(self, files: list[JSON], folders: list[str], queue: list[str]) -> list[JSON]:
        """Files inside the folder tree; subfolders found join it (and are walked)."""
        kept = []
        for file in files:
            if not set(file.get("parents") or ()) & set(folders):
                continue
            if file.get("mimeType") == FOLDER:
                if file["id"] not in folders:
                    folders.append(file["id"])
                    queue.append(file["id"])
                continue
            kept.append(file)
        return kept

    def _file(self, file: JSON) -> FolderFile:
        mime = str(file.get("mimeType") or "")
        kind = (
            "pdf"
            if mime == "application/pdf"
            else "image"
            if mime.startswith("image/")
            else "other"
        )
        text, problem = "", None
        if kind == "pdf":
            size = int(file.get("size") or 0)
            if size > MAX_BYTES:
                problem = "too_big"
            else:
                try:
                    data = self._media(file["id"])
                except ApiFailure:
                    problem = "not_downloaded"
                else:
                    text, problem = pdf_text(io.BytesIO(data), len(data))
        people = [o.get("emailAddress") for o in file.get("owners") or []]
        people.append((file.get("lastModifyingUser") or {}).get("emailAddress"))
        return FolderFile(
            f"drive:{file['id']}",
            str(file.get("name") or file["id"]),
            str(file.get("webViewLink") or f"https://drive.google.com/file/d/{file['id']}/view"),
            kind,
            added_by=tuple(p for p in people if p),
            text=text,
            problem=problem,
        )

    def _media(self, file_id: str) -> bytes:
        self.downloads += 1
        url = f"{DRIVE_FILES_API_V3_URL}/{file_id}"
        answer = self._send(url, {"alt": "media", "supportsAllDrives": "true"}, raw=True)
        return bytes(answer)

    def _get(self, url: str, params: dict[str, str]) -> JSON:
        answer: JSON = self._send(url, params, raw=False)
        return answer

    def _send(self, url: str, params: dict[str, str], *, raw: bool) -> Any:
        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_random_exponential(multiplier=0.5, max=self.max_wait),
            retry=retry_if_exception(transient),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    self.requests += 1
                    response = self._http.request("get", url, params=params)
                    return response.content if raw else response.json()
        except APIError as exc:
            raise ApiFailure(exc) from exc
        except (RequestsConnectionError, Timeout) as exc:
            raise ApiFailure(exc) from exc
        raise AssertionError("tenacity stopped without an outcome")
