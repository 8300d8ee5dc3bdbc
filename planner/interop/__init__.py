"""Meeting the tools architects already use: specs in from Terraform and Kubernetes, plans out as
Terraform, Karmada and Infracost-shaped JSON.

The pure API (no files written; the dashboard and the commands call these):

    import_terraform(plan_json, regions) -> ImportResult    # .text() is the spec with its comments
    import_kubernetes(read_manifests(path), regions) -> ImportResult
    export_terraform(plan_json) -> {relative path: text}
    export_karmada(plan_json) -> {relative path: text}
    export_infracost(plan_json) -> dict                      # json.dumps it
    infracost_diff(base_plan_json, head_plan_json) -> dict
    zip_files({relative path: text}) -> bytes                # one download for a folder

`plan_json` is the plan's JSON contract (docs/json.md), as `planner.plan_to_dict` returns it.
"""

from __future__ import annotations

import io
import zipfile
from typing import TYPE_CHECKING, Any

# public name -> the module defining it, imported on first use: the command line registers its
# sub-commands through this package and must not pay for the formats at start-up
_EXPORTS = {
    "ImportResult": "imported",
    "Skipped": "imported",
    "export_infracost": "infracost",
    "infracost_diff": "infracost",
    "strategy_diff": "infracost",
    "export_karmada": "karmada",
    "import_kubernetes": "kubernetes_in",
    "read_manifests": "kubernetes_in",
    "import_terraform": "terraform_in",
    "export_terraform": "terraform_out",
}

if TYPE_CHECKING:
    from .imported import ImportResult as ImportResult
    from .imported import Skipped as Skipped
    from .infracost import export_infracost as export_infracost
    from .infracost import infracost_diff as infracost_diff
    from .infracost import strategy_diff as strategy_diff
    from .karmada import export_karmada as export_karmada
    from .kubernetes_in import import_kubernetes as import_kubernetes
    from .kubernetes_in import read_manifests as read_manifests
    from .terraform_in import import_terraform as import_terraform
    from .terraform_out import export_terraform as export_terraform


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ImportResult",
    "Skipped",
    "export_infracost",
    "export_karmada",
    "export_terraform",
    "import_kubernetes",
    "import_terraform",
    "infracost_diff",
    "read_manifests",
    "strategy_diff",
    "zip_files",
]


def zip_files(files: dict[str, str], folder: str = "") -> bytes:
    """A zip archive of {relative path: text}, under `folder/` when given; entries sorted and
    dated 1980-01-01 so the same files give the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(f"{folder}/{name}" if folder else name, (1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name].encode("utf-8"))
    return buffer.getvalue()
