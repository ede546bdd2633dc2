"""PySide6 widgets. They call the services (servers, pipeline, voice) and subscribe to their events;
the services never import Qt widgets. Asyncio runs on the Qt loop through qasync."""
