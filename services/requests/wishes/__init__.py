"""Micro-wishes (微心愿): staff post a beneficiary's wish; the wish wall shows them."""
