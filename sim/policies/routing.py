"""Routing: the ownership matrix that says which team owns a case.

Most specific first: a site's own table (local teams), then the category table (central
specialist teams), then the default desk.
"""

from __future__ import annotations

from sim.policies.schema import Routing


def owner(routing: Routing, category: str, site: str | None) -> str:
    local = routing.by_site.get(site or "")
    if local and category in local:
        return local[category]
    return routing.by_category.get(category, routing.default)
