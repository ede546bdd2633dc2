"""The tokenizer side of the random-weight GGUFs (`gguf_random`): Qwen2.5's special tokens and
chat templates, a synthetic byte-level BPE or the real Qwen2 vocabulary, and which tokens print."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

QWEN_EOT = 151643   # <|endoftext|>
QWEN_IM_START = 151644
QWEN_IM_END = 151645

# Qwen2.5's added tokens, in id order from 151643 (tokenizer.json "added_tokens").
# Type 3 = CONTROL, 4 = USER_DEFINED (not special in HF: rendered as text).
QWEN25_ADDED: list[tuple[str, int]] = [
    ("<|endoftext|>", 3), ("<|im_start|>", 3), ("<|im_end|>", 3),
    ("<|object_ref_start|>", 3), ("<|object_ref_end|>", 3), ("<|box_start|>", 3), ("<|box_end|>", 3),
    ("<|quad_start|>", 3), ("<|quad_end|>", 3), ("<|vision_start|>", 3), ("<|vision_end|>", 3),
    ("<|vision_pad|>", 3), ("<|image_pad|>", 3), ("<|video_pad|>", 3),
    ("<tool_call>", 4), ("</tool_call>", 4),
    ("<|fim_prefix|>", 4), ("<|fim_middle|>", 4), ("<|fim_suffix|>", 4), ("<|fim_pad|>", 4),
    ("<|repo_name|>", 4), ("<|file_sep|>", 4),
]

TOKEN_NORMAL, TOKEN_CONTROL, TOKEN_USER_DEFINED, TOKEN_UNUSED = 1, 3, 4, 5

# Qwen2.5-7B-Instruct's chat template (as in its tokenizer_config.json; also llama.cpp's
# models/templates/Qwen-Qwen2.5-7B-Instruct.jinja): ChatML with a tools section.
QWEN25_CHAT_TEMPLATE = r"""{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
    {%- else %}
        {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\n<tool_call>\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
"""

CHATML_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


# --- tokenizer ------------------------------------------------------------------------------

def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte → printable character map (the byte-level BPE alphabet)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


# Words that merges build whole (so common English tokenizes to fewer tokens than bytes).
_WORDS = ("the and you for that with show what how are this have from which can please "
          "vendor vendors invoice invoices order orders customer customers meeting room book "
          "server backup ticket report status sales pipeline spend week today top help thanks").split()


@dataclass
class Vocab:
    tokens: list[str]
    types: list[int]
    merges: list[str]
    eot: int
    im_start: int
    im_end: int


def synthetic_vocab(pad_to: int | None) -> Vocab:
    """256 byte tokens, letter-pair and word merges, Qwen2.5's added tokens, then padding.

    pad_to: the id where Qwen's added tokens start is 151643 when pad_to is the real size
    (unused filler tokens sit between the merges and the specials); for `tiny` (None) the added
    tokens follow the merges directly and the total is rounded up to a multiple of 64."""
    b2u = bytes_to_unicode()
    tokens = [b2u[b] for b in range(256)]
    seen = set(tokens)
    merges: list[str] = []

    def add_merge(a: str, b: str) -> None:
        if a + b in seen:
            return
        merges.append(f"{a} {b}")
        tokens.append(a + b)
        seen.add(a + b)

    space = b2u[ord(" ")]  # "Ġ"
    letters = "abcdefghijklmnopqrstuvwxyz"
    for c in letters:
        add_merge(space, c)
    for a in letters:
        for b in letters:
            add_merge(a, b)
    for w in _WORDS:  # left to right: "Ġs"+"h" → "Ġsh", "Ġsh"+"o" → ...; each result is a token
        cur = space + w[0]
        for ch in w[1:]:
            add_merge(cur, ch)
            cur += ch
        cur = w[:2]
        for ch in w[2:]:
            add_merge(cur, ch)
            cur += ch
    types = [TOKEN_NORMAL] * len(tokens)
    if pad_to is not None:
        while len(tokens) < QWEN_EOT:
            tokens.append(f"[UNUSED{len(tokens)}]")
            types.append(TOKEN_UNUSED)
    eot = len(tokens)
    for text, t in QWEN25_ADDED:
        tokens.append(text)
        types.append(t)
    total = pad_to if pad_to is not None else -(-len(tokens) // 64) * 64
    while len(tokens) < total:
        tokens.append(f"[PAD{len(tokens)}]")
        types.append(TOKEN_UNUSED)
    return Vocab(tokens, types, merges, eot, eot + 1, eot + 2)


def vocab_from_gguf(path: Path, pad_to: int) -> Vocab:
    """The real Qwen2 byte-level tokens and merges from a vocab-only GGUF (llama.cpp ships
    models/ggml-vocab-qwen2.gguf), with Qwen2.5's added tokens at 151643.. and padding."""
    import gguf

    r = gguf.GGUFReader(str(path))
    toks = list(r.fields["tokenizer.ggml.tokens"].contents())
    merges = list(r.fields["tokenizer.ggml.merges"].contents())
    types = list(r.fields["tokenizer.ggml.token_type"].contents())
    n_normal = 0
    while n_normal < len(toks) and types[n_normal] == TOKEN_NORMAL and n_normal < QWEN_EOT:
        n_normal += 1
    if n_normal != QWEN_EOT:
        raise SystemExit(f"{path}: expected {QWEN_EOT} normal tokens first (a Qwen2 vocab), found {n_normal}")
    tokens, ttypes = toks[:QWEN_EOT], [TOKEN_NORMAL] * QWEN_EOT
    for text, t in QWEN25_ADDED:
        tokens.append(text)
        ttypes.append(t)
    while len(tokens) < pad_to:
        tokens.append(f"[PAD{len(tokens)}]")
        ttypes.append(TOKEN_UNUSED)
    return Vocab(tokens, ttypes, merges, QWEN_EOT, QWEN_IM_START, QWEN_IM_END)


def readable_rows(tokens: list[str], types: list[int]):
    """A mask over the vocabulary: normal tokens that decode to printable ASCII."""
    import numpy as np

    inv = {c: b for b, c in bytes_to_unicode().items()}
    mask = np.zeros(len(tokens), dtype=bool)
    for i, (t, ty) in enumerate(zip(tokens, types)):
        if ty != TOKEN_NORMAL:
            continue
        try:
            text = bytes(inv[c] for c in t).decode("ascii")
        except (KeyError, UnicodeDecodeError):
            continue
        mask[i] = text.isprintable()
    return mask
