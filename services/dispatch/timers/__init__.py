"""The dispatch worker's periodic jobs: offer deadlines and the batch assigner."""
