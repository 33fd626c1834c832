"""The claim pool (抢单): requests nobody took along the cascade, open for one volunteer to claim."""
