"""Pairing visits (结对帮扶) that fall due become orders for the paired volunteers."""
