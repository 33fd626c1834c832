"""The authorization matrix covers every route the services serve, and every cell has one outcome."""

from __future__ import annotations

from tests.authz import OWNERSHIP, ROLES, load_matrix, served_routes

# Routes anyone may call: the catalogue, the signing keys, logging in and out, the local dev inbox,
# and the gateway's own check (which the gateway never routes: 404 for all).
PUBLIC = {
    "/api/v1/catalog",
    "/.well-known/jwks.json",
    "/api/v1/auth/login",
    "/api/v1/auth/code",
    "/api/v1/auth/code/verify",
    "/api/v1/auth/refresh",
    "/api/v1/auth/logout",
    "/api/v1/dev/inbox",
    "/internal/auth/check",
}


def test_every_served_route_has_a_row_and_every_row_a_route():
    rows = set(load_matrix())
    served = served_routes()
    assert not served - rows, f"routes with no row in tests/authz_matrix.yaml: {sorted(served - rows)}"
    assert not rows - served, f"rows for routes nobody serves: {sorted(rows - served)}"


def test_every_cell_has_exactly_one_outcome():
    cells = [cell for row in load_matrix().values() for cell in row.cells()]
    assert len({(c.route, c.role, c.ownership) for c in cells}) == len(cells)
    roles_per_route = {}
    for cell in cells:
        roles_per_route.setdefault(cell.route, set()).add(cell.role)
    assert all(roles == set(ROLES) for roles in roles_per_route.values())
    with_records = {c.route for c in cells if c.ownership is not None}
    for route in with_records:
        assert {c.ownership for c in cells if c.route == route} == set(OWNERSHIP)


def test_anonymous_callers_get_nothing_but_the_public_routes():
    """A row cannot quietly open a route: anonymous is refused everywhere but the public routes."""
    for row in load_matrix().values():
        public = row.path in PUBLIC or row.path.startswith("/open311/")
        for cell in row.cells():
            if cell.role == "anonymous" and not public:
                assert cell.expected == 401, cell
