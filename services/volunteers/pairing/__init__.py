"""Pairing (结对帮扶): beneficiaries, volunteers paired with them, and the visits that fall due."""
