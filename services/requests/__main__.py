"""`python -m services.requests web|worker`."""

from services.common.runner import main
from services.requests import SERVICE, create_app, worker_spec

if __name__ == "__main__":
    main(SERVICE, create_app, worker_spec)
