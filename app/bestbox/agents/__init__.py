"""Agents: the demo company database (`agents.data`), typed tools (`agents.tools`) and the agent
loop (`agents.loop.AgentRunner`), which calls tools natively or through a JSON-schema-forced call.

    from bestbox.agents.data import ensure_database
    from bestbox.agents.loop import AgentRunner
    runner = AgentRunner(heavy_client, ensure_database(config), config.servers.heavy.tools_mode)
"""
