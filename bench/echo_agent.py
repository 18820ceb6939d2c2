"""The SDK's floor for the turn benchmark: the quickstart sample's echo agent, answering every message with its text.

    python -m bench.echo_agent --env-file PATH     (PORT from the environment)
"""

from __future__ import annotations

from microsoft_agents.hosting.core import TurnContext, TurnState

from bench.sdk_sample import build_agent, load_settings, serve


def main() -> None:
    agent = build_agent(load_settings(__doc__ or ""))

    @agent.app.activity("message")
    async def on_message(context: TurnContext, _state: TurnState) -> None:
        await context.send_activity(f"you said: {context.activity.text}")

    serve(agent)


if __name__ == "__main__":
    main()
