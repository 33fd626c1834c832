"""`python -m services.accounts web|worker`."""

from services.accounts import SERVICE, create_app, worker_spec
from services.common.runner import main

if __name__ == "__main__":
    # Each open live stream holds a thread (docs/adr/0084); 48 streams a worker leave 16 for the rest.
    main(SERVICE, create_app, worker_spec, web_threads=64)
