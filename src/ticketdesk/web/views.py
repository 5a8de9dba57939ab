"""The desk's saved views: each is a preset of the API's list filters."""

from dataclasses import dataclass, field

UNSOLVED = "open,in_progress,waiting_on_customer,reopened"


@dataclass(frozen=True)
class View:
    key: str
    name: str
    preset: dict[str, object] = field(default_factory=dict)


VIEWS = (
    View("my_open", "My open", {"assigned_to_id": "me", "status": UNSOLVED, "sort": "due"}),
    View("unassigned", "Unassigned", {"assigned_to_id": "none", "status": UNSOLVED}),
    View("all_open", "All open", {"status": UNSOLVED}),
    View("waiting", "Waiting on customer", {"status": "waiting_on_customer"}),
    View("breaching", "Breaching soon", {"status": UNSOLVED, "sla": "breaching", "sort": "due"}),
    View("recent", "Recently updated", {"sort": "-updated_at"}),
)
BY_KEY = {view.key: view for view in VIEWS}
DEFAULT = VIEWS[0]
