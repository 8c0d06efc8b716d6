"""meshagent-agents 0.56.0, unmodified, on a roomstate server, for the agent-turn interop tests.

    agents.py agent --url U --room R --token T --backend chat|fake [--delay S]
        A process agent: AgentSupervisor with a MessagingChatChannel and either
        the model-free ChatBackend (model chat/none) or an LLMBackend on our
        fake streaming adapter (test/python/fake_llm.py). Writes
        {"event": "ready", "id": ...} once it serves; runs until stdin closes.

    agents.py ask --url U --room R --token T --agent NAME --thread PATH --text TEXT [--steer TEXT | --interrupt]
        MessagingChatClient: opens the thread, asks, steers or interrupts on the
        first text delta when told. Writes {"event": "message", "message": {...}}
        per agent message, then {"event": "done", "text": ...} or
        {"event": "error", "error": ..., "code": ...}.

Every line on stdout is one JSON object; logs go to stderr.
"""

import argparse
import asyncio
import json
import logging
import sys
import uuid
from typing import Any

from meshagent.api import RoomClient, RoomException, WebSocketClientProtocol
from meshagent.api.urls import websocket_room_url
from meshagent.agents import LLMProvider, MessagingChatChannel, MessagingChatClient
from meshagent.agents.messages import AgentTextContentDelta
from meshagent.agents.process import AgentSupervisor, ChatBackend, LLMAgentProcess, LLMBackend

from fake_llm import EchoStreamingAdapter


def emit(event: str, **fields: Any) -> None:
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


async def connect(args) -> RoomClient:
    factory = WebSocketClientProtocol(url=websocket_room_url(room_name=args.room, base_url=args.url), token=args.token).create_factory()
    client = RoomClient(protocol_factory=factory, reconnect_timeout=0)
    await client.__aenter__()
    return client


async def wait_for_stdin_close() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while await reader.readline():
        pass


async def run_agent(args) -> int:
    room = await connect(args)

    async def create_thread_id(start_thread, sender) -> str:
        return f".threads/{uuid.uuid4()}"

    if args.backend == "chat":
        backend = ChatBackend(thread_id_factory=create_thread_id)
    else:
        provider = LLMProvider(name="fake", adapter=EchoStreamingAdapter(delay=args.delay))
        backend = LLMBackend(
            providers=[provider],
            default_provider=provider,
            process_factory=lambda thread_id, backend_name: LLMAgentProcess(
                thread_id=thread_id,
                participant=room.local_participant,
                llm_providers=[provider],
                default_provider=provider,
                backend_name=backend_name,
                # The model sees the text as sent, without the "NAME said at TIME:" prefix.
                format_message=lambda **kw: kw["message"],
            ),
            thread_id_factory=create_thread_id,
        )
    supervisor = AgentSupervisor(agent_backends=[backend])
    supervisor.add_channel(MessagingChatChannel(room=room))
    await supervisor.start()
    emit("ready", id=room.local_participant.id)
    try:
        await wait_for_stdin_close()
    finally:
        await supervisor.stop()
        await room.__aexit__(None, None, None)
        emit("closed")
    return 0


async def run_ask(args) -> int:
    room = await connect(args)
    client = MessagingChatClient(room=room, participant_name=args.agent, timeout=30)
    try:
        await client.start()
        session = await client.open_thread(args.thread)
        acted = False

        def on_message(message) -> None:
            nonlocal acted
            emit("message", message=message.model_dump(mode="json", exclude_none=True))
            if acted or not isinstance(message, AgentTextContentDelta):
                return
            acted = True
            if args.steer is not None:
                session.steer(prompt=args.steer, on_rejected=lambda error: emit("steer_rejected", error=str(error), code=error.code))
            if args.interrupt:
                session.interrupt()

        try:
            text = await session.ask(prompt=args.text, on_message=on_message)
            emit("done", text=text)
        except RoomException as error:
            emit("error", error=str(error), code=error.code)
    finally:
        await client.stop()
        await room.__aexit__(None, None, None)
    return 0


async def main() -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="mode", required=True)
    for name in ("agent", "ask"):
        p = sub.add_parser(name)
        p.add_argument("--url", required=True)
        p.add_argument("--room", required=True)
        p.add_argument("--token", required=True)
    agent = sub.choices["agent"]
    agent.add_argument("--backend", choices=["chat", "fake"], required=True)
    agent.add_argument("--delay", type=float, default=0.2)
    ask = sub.choices["ask"]
    ask.add_argument("--agent", required=True)
    ask.add_argument("--thread", required=True)
    ask.add_argument("--text", required=True)
    ask.add_argument("--steer")
    ask.add_argument("--interrupt", action="store_true")
    args = parser.parse_args()
    return await (run_agent(args) if args.mode == "agent" else run_ask(args))


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    sys.exit(asyncio.run(main()))
