"""Routing: which agent answers and on which model (RouteDecision, policy, fast path, LLM router,
corrections). Import the submodules; this package does no work at import time."""
