"""Placeholder: being written."""

from aiohttp import web


def create_app(cloud) -> web.Application:
    return web.Application()


def create_ui_app(cloud) -> web.Application:
    return web.Application()


def add_say_arguments(parser) -> None:
    pass


async def run_say(args) -> int:
    return 2
