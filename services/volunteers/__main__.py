"""`python -m services.volunteers web|worker`."""

from services.common.runner import main
from services.volunteers import SERVICE, create_app, worker_spec

if __name__ == "__main__":
    main(SERVICE, create_app, worker_spec)
