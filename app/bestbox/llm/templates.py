"""What a server's chat template can do, read once from llama-server's /props, and the per-request
fields that follow from it.

    profile = await server_profile(base_url, api_key)
    body.update(request_fields(profile, thinking=False))

- Thinking templates (Qwen3, Qwen3.5, GLM-4.x, Gemma 4, …) think before every answer unless told
  not to. Routing, cleanup and quick answers ask with `chat_template_kwargs: {"enable_thinking":
  false}` (the switch these templates read) and `reasoning_budget_tokens: 0` (llama-server ends a
  thinking block at once where a template has no switch).
- End markers: llama-server stops at the model's end-of-generation tokens and the template's own
  extra stops. A GGUF without a chat template falls back to ChatML, whose `<|im_end|>` is plain text
  to a model of another family: the model then writes `<|im_end|>user …` until the token limit. The
  end markers found in the template go into `stop`, so such a run ends at the first marker.
- A GGUF without a chat template is recognisable here too: /props then shows llama.cpp's built-in
  ChatML fallback, character for character.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import httpx

# llama.cpp's common/chat.cpp CHATML_TEMPLATE_SRC: what /props shows when the GGUF has no template
# and the server was given none.
CHATML_FALLBACK = (
    "{%- for message in messages -%}\n"
    "  {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>\n' -}}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}\n"
    "  {{- '<|im_start|>assistant\n' -}}\n"
    "{%- endif -%}"
)

# Turn-end (or next-turn) markers of the families BestBox meets, as they appear in templates. Not
# gpt-oss's `<|end|>`: it ends a channel (the reasoning) inside one reply.
END_MARKERS = ("<|im_end|>", "<|im_start|>", "<end_of_turn>", "<start_of_turn>", "<turn|>", "<|turn>", "<|eot_id|>",
               "<|start_header_id|>", "<|user|>", "<|observation|>", "<|endoftext|>", "[INST]")

_THINKING_HINTS = ("enable_thinking", "<think>", "reasoning_content", "<|channel|>")


@dataclass
class ServerProfile:
    """One server's chat template as llama-server reports it."""

    reachable: bool = False
    template: str = ""
    caps: dict = field(default_factory=dict)
    slot_ctx: int | None = None           # context per slot (n_ctx / parallel)
    slots: int | None = None
    model_path: str = ""
    error: str = ""

    @property
    def fallback_template(self) -> bool:
        """The GGUF has no chat template and none was given: llama.cpp's ChatML fallback is in use."""
        return self.reachable and _norm(self.template) == _norm(CHATML_FALLBACK)

    @property
    def native_tools(self) -> bool:
        return bool(self.caps.get("supports_tool_calls") or self.caps.get("supports_tools"))

    @property
    def thinking(self) -> bool:
        """The template can think (and so should be told not to where it only costs time)."""
        return any(h in self.template for h in _THINKING_HINTS)

    @property
    def stops(self) -> list[str]:
        return [m for m in END_MARKERS if m in self.template]

    def to_dict(self) -> dict:
        return {"reachable": self.reachable, "fallback_template": self.fallback_template,
                "native_tools": self.native_tools, "thinking": self.thinking, "stops": self.stops,
                "slot_ctx": self.slot_ctx, "slots": self.slots, "caps": self.caps, "error": self.error}


def _norm(s: str) -> str:
    return "".join(s.split())


def profile_from_props(props: dict) -> ServerProfile:
    gen = props.get("default_generation_settings") or {}
    return ServerProfile(reachable=True, template=str(props.get("chat_template") or ""),
                         caps=dict(props.get("chat_template_caps") or {}), slot_ctx=gen.get("n_ctx"),
                         slots=props.get("total_slots"), model_path=str(props.get("model_path") or ""))


_CACHE: dict[str, tuple[float, ServerProfile]] = {}
_TTL_S = 120.0


async def server_profile(base_url: str, api_key: str = "", timeout: float = 3.0, *,
                         fresh: bool = False, http: httpx.AsyncClient | None = None) -> ServerProfile:
    """The server's profile, remembered per URL for a while (a turn makes several requests; one /props
    is enough). An unreachable server gives an empty profile that is not remembered."""
    key = base_url.rstrip("/")
    hit = _CACHE.get(key)
    if hit and not fresh and time.monotonic() - hit[0] < _TTL_S:
        return hit[1]
    headers = {"Authorization": f"Bearer {api_key}"} if api_key and api_key != "none" else {}
    try:
        if http is not None:  # a remote server's own client: its CA bundle and timeouts
            r = await http.get(key + "/props", headers=headers, timeout=timeout)
        else:
            async with httpx.AsyncClient(timeout=timeout, verify=not key.startswith("http://")) as own:
                r = await own.get(key + "/props", headers=headers)
        if r.status_code == 404:  # not a llama-server (vLLM, generic): nothing to adapt, and that stays so
            prof = ServerProfile(reachable=True)
            _CACHE[key] = (time.monotonic(), prof)
            return prof
        r.raise_for_status()
        prof = profile_from_props(r.json() or {})
    except (httpx.HTTPError, ValueError, AttributeError) as e:
        return ServerProfile(error=f"{type(e).__name__}: {str(e)[:160]}")
    _CACHE[key] = (time.monotonic(), prof)
    return prof


def forget(base_url: str | None = None) -> None:
    """Drop remembered profiles (a server restarted with another model or template)."""
    if base_url is None:
        _CACHE.clear()
    else:
        _CACHE.pop(base_url.rstrip("/"), None)


NO_THINKING = {"chat_template_kwargs": {"enable_thinking": False}, "reasoning_budget_tokens": 0}


def request_fields(profile: ServerProfile | None, thinking: bool | None) -> dict:
    """Extra body fields for one request. thinking: False = answer at once; True = let the template
    think (its reasoning comes back apart as `reasoning_content`); None = the template's default."""
    out: dict = {}
    if profile is None:
        return out
    if profile.stops:
        out["stop"] = list(profile.stops)
    if thinking is False and profile.thinking:
        out.update(NO_THINKING)
    elif thinking is True and profile.thinking:
        out["chat_template_kwargs"] = {"enable_thinking": True}
    return out
