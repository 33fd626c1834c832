"""`python -m services.accounts web|worker`."""

from services.accounts import SERVICE, create_app, worker_spec
from services.common.runner import main

if __name__ == "__main__":
    main(SERVICE, create_app, worker_spec)
