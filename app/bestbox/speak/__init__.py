"""Spoken replies: text → speech engines (a Piper ONNX voice run with onnxruntime, espeak-ng as the
fallback), Markdown/table cleaning for the ear, a sentence aggregator over the streamed answer, and a
player that queues sentences, synthesizes the next while the current one plays, and records what was
really heard (for barge-in). No Qt here: the window subscribes."""
