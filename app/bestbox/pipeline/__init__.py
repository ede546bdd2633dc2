"""A turn: (speech) → route → answer, as a stream of events; and the conversation history."""
