"""Open311 GeoReport v2: the catalogue as services, orders as service requests (JSON and XML)."""
