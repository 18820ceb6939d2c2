"""The `/files` card: recent files or search results, each with its kind, size, who changed it and when."""

from __future__ import annotations

from datetime import datetime

from graph.models import DriveItem, FileKind, FilesPage

from .common import Card, Element, adaptive_card, more_button, open_url_button, text_block

COMMAND = "/files"
KINDS: dict[FileKind, str] = {"folder": "📁 Folder", "word": "📝 Word", "excel": "📊 Excel",
                              "powerpoint": "📽️ PowerPoint", "pdf": "📕 PDF", "image": "🖼️ Image",
                              "text": "📄 Text", "other": "📄 File"}


def human_size(size: int) -> str:
    """`532 bytes`, `1.31 KB`, `12.5 KB`, `345 KB`, `1.00 MB`: as Windows shows a size (StrFormatByteSizeEx, rounded
    to the nearest shown digit: https://learn.microsoft.com/windows/win32/api/shlwapi/nf-shlwapi-strformatbytesizeex),
    in units of 1024 with three significant digits, so a number never has four digits: 1000 KB is `0.98 MB`."""
    if size < 1024:
        return f"{size} byte{'' if size == 1 else 's'}"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB", "PB"):
        value /= 1024
        shown = _three_digits(value)
        if float(shown) < 1000 or unit == "PB":
            return f"{shown} {unit}"
    raise AssertionError("unreachable")


def _three_digits(value: float) -> str:
    decimals = 2 if value < 9.995 else 1 if value < 99.95 else 0
    return f"{value:.{decimals}f}"


def relative_time(when: datetime, now: datetime) -> str:
    """`just now`, `5 minutes ago`, `3 hours ago`, `yesterday`, `2 days ago`, else the date."""
    seconds = (now - when).total_seconds()
    for limit, unit, size in ((3600, "minute", 60), (86400, "hour", 3600)):
        if seconds < limit:
            count = int(seconds // size)
            return "just now" if count < 1 else f"{count} {unit}{'s' if count > 1 else ''} ago"
    days = int(seconds // 86400)
    if days < 30:
        return "yesterday" if days == 1 else f"{days} days ago"
    return f"on {when.day} {when:%b %Y}"


def _facts(item: DriveItem, now: datetime) -> str:
    modified = item.modified_at and f"modified {relative_time(item.modified_at, now)}"
    if modified and item.modified_by:
        modified += f" by {item.modified_by}"
    size = None if item.size is None else human_size(item.size)
    folder = item.folder_path and f"in {'My files' if item.folder_path == '/' else item.folder_path}"
    return " · ".join(filter(None, (KINDS[item.kind], size, modified, folder)))


def _heading(page: FilesPage) -> str:
    return f"Files matching “{page.query}”" if page.query else "Your recent files"


def _empty(page: FilesPage) -> str:
    if page.query:
        return f"No files match “{page.query}”."
    return "No documents you created or changed in OneDrive or SharePoint."


def _item(item: DriveItem, now: datetime) -> Element:
    name = text_block(item.name, weight="Bolder", color="Accent" if item.web_url else "Default")
    element: Element = {"type": "Container", "separator": True,
                        "items": [name, text_block(_facts(item, now), isSubtle=True, spacing="None")]}
    if item.web_url:
        element["selectAction"] = open_url_button(f"Open {item.name}", item.web_url)
    return element


def files_card(page: FilesPage, now: datetime) -> Card:
    """`now` (aware) makes "2 days ago" testable."""
    body = [text_block(_heading(page), size="Large", weight="Bolder")]
    body += [_item(item, now) for item in page.items] or [text_block(_empty(page))]
    command = f"{COMMAND} {page.query}" if page.query else COMMAND
    more = page.more()
    return adaptive_card(body, [more_button(command, more)] if more else None)


def files_text(page: FilesPage, now: datetime) -> str:
    if not page.items:
        return _empty(page)
    lines = [f"{_heading(page)}:"]
    lines += [" · ".join(filter(None, (f"- {item.name}", _facts(item, now), item.web_url))) for item in page.items]
    if page.next_from is not None:
        lines.append("There are more files than shown here.")
    return "\n".join(lines)
