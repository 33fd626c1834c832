"""The stations an order can be for: a read-model of the volunteers stage's organisation tree."""
