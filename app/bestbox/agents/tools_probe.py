"""Native tool calls or the schema-forced call, for a remote server, detected without the user choosing.

A llama-server says so in `/props` (`chat_template_caps`). vLLM and generic OpenAI-compatible
servers have no such field: there, native only when one probe call with `tools` really comes back
as a tool call (vLLM answers in prose, or 400, unless it was started with
`--enable-auto-tool-choice --tool-call-parser hermes` for Qwen2.5: docs/team-server.md).
"""
from __future__ import annotations

import httpx
import openai

PROBE_TOOL = {"type": "function", "function": {
    "name": "get_order_status", "description": "Look up the status of a purchase order by its number.",
    "parameters": {"type": "object", "properties": {"order": {"type": "string", "description": "order number"}},
                   "required": ["order"]}}}
PROBE_MESSAGES = [{"role": "system", "content": "Use the tool to answer."},
                  {"role": "user", "content": "What is the status of purchase order PO-1042?"}]


async def probe_remote(client, timeout: float = 3.0) -> str:
    """'native' or 'schema' for a remote server reached through `client` (its key, model and CA)."""
    headers = {"Authorization": f"Bearer {client.api_key}"}
    try:
        r = await client.http.get(client.base_url + "/props", headers=headers, timeout=timeout)
        caps = (r.json() or {}).get("chat_template_caps") if r.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError):
        caps = None
    if isinstance(caps, dict):  # a llama-server: its template says it
        return "native" if caps.get("supports_tool_calls") or caps.get("supports_tools") else "schema"
    try:
        comp = await client.complete(PROBE_MESSAGES, tools=[PROBE_TOOL], max_tokens=48, timeout=max(timeout, 10.0))
    except (openai.APIError, httpx.HTTPError):
        return "schema"  # e.g. vLLM without --enable-auto-tool-choice answers 400 to `tools`
    return "native" if any(c.get("name") == "get_order_status" for c in comp.tool_calls) else "schema"
