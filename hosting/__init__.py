"""How the agent answers on the wire where the SDK's aiohttp hosting does not (Copilot Studio's `stream` delivery)."""
