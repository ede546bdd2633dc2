"""Talking to llama-server's OpenAI-compatible API."""
