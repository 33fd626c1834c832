"""HTTP entrypoint of the catalogue: `GET /api/v1/catalog`, open to everyone."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from services.common.schemas import Problem
from services.requests.catalog.schemas import CatalogView, catalog_view

catalog_api = APIBlueprint(
    "catalog",
    __name__,
    url_prefix="/api/v1/catalog",
    abp_tags=[Tag(name="catalog", description="the services residents can order")],
    # flask-openapi3 lists a 422 on every operation; ours would be problem+json like every error.
    abp_responses={422: Problem},
)


@catalog_api.get("", responses={200: CatalogView})
def list_catalog() -> CatalogView:
    """The services residents can order, with Chinese and English names."""
    return catalog_view()
