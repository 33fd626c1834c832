"""`python -m services.ratings web|worker`."""

from services.common.runner import main
from services.ratings import SERVICE, create_app, worker_spec

if __name__ == "__main__":
    main(SERVICE, create_app, worker_spec)
