"""`/calendar [today|tomorrow|week|next]`: the user's meetings in their time zone, a page at a time."""

from __future__ import annotations

from microsoft_agents.activity import Activity, ActivityTypes
from microsoft_agents.hosting.core import AgentApplication, TurnContext, TurnState

from cards.calendar import calendar_card, calendar_text
from cards.common import card_activity
from graph.calendar import DAY_RANGES, DayRange, get_calendar, next_calendar_page, next_page_from

from .commands import Command, Services, register_command

RANGES: dict[str, DayRange] = {day_range: day_range for day_range in DAY_RANGES}


def register(app: AgentApplication[TurnState], services: Services) -> None:
    async def calendar(context: TurnContext, command: Command, token: str) -> Activity:
        day_range = RANGES.get(command.args.lower() or "today")
        if day_range is None:
            return Activity(type=ActivityTypes.message,
                            text=f"I can show your calendar for {', '.join(RANGES)}: try `/calendar tomorrow`.")
        more = next_page_from(command.value)
        if more is not None:
            page = await next_calendar_page(services.graph, token, more)
        else:
            page = await get_calendar(services.graph, token, day_range, chat_zone=context.activity.local_timezone)
        return card_activity(calendar_card(page), calendar_text(page))

    register_command(app, services, "calendar", calendar, working="Reading your calendar…")
