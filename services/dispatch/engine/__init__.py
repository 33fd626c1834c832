"""The decision engine: who may serve, how well, in which order, jointly in batches. All pure."""
