"""Speech: faster-whisper transcription, the domain glossary, ASR cleanup on the light model,
and the voice turn that ties them to the answering pipeline. No Qt here."""
