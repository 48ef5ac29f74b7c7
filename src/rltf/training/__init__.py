"""Supervised warm start and the online RLTF actor/learner loop."""
