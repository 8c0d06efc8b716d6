"""One room participant on the official MeshAgent Python SDK, driven by a test.

Runs meshagent-api's RoomClient unmodified against the room at --url/--room
with --token. The test writes commands to stdin, one JSON object a line:

    {"seq": 1, "op": "enable"}
    {"seq": 2, "op": "send", "to": "<participant id>", "type": "chat", "message": {...}}

and reads events from stdout, one JSON object a line, each with an "event"
key: "ready", "added", "removed", "attributes", "message", "result" (the
answer to command `seq`), "disconnected", "reconnected", "stream_*", "fatal",
"closed". Nothing else is written to stdout; logs go to stderr.

Attachments are described, never inlined: a command asks for {"size": N}
(N bytes of the pattern below), and a received attachment is reported as its
length and SHA-256, which the test computes for the same pattern.
"""

import argparse
import asyncio
import hashlib
import json
import logging
import sys
from typing import Any

from meshagent.api import RoomClient, RoomException, WebSocketClientProtocol
from meshagent.api.participant import Participant
from meshagent.api.urls import websocket_room_url


def pattern(size: int) -> bytes:
    """The attachment bytes the test expects for `size`: byte i is (31 i + 7) mod 256."""
    return bytes((i * 31 + 7) % 256 for i in range(size))


def describe(data: bytes | None) -> dict[str, Any] | None:
    if data is None or len(data) == 0:
        return None
    return {"len": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def emit(event: str, **fields: Any) -> None:
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


def participant_json(p) -> dict[str, Any]:
    return {"id": p.id, "role": p.role, "attributes": p.attributes}


class Peer:
    def __init__(self, room: RoomClient, stream_policy: str):
        self.room = room
        self.messaging = room.messaging
        self.stream_policy = stream_policy
        self.streams: dict[str, Any] = {}
        self.tasks: set[asyncio.Task] = set()

    def spawn(self, coroutine) -> asyncio.Task:
        task = asyncio.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def listen(self) -> None:
        m = self.messaging
        m.on("participant_added", lambda participant: emit("added", **participant_json(participant)))
        m.on("participant_removed", lambda participant: emit("removed", id=participant.id))
        m.on(
            "participant_attributes_updated",
            lambda participant: emit("attributes", id=participant.id, attributes=participant.attributes),
        )
        m.on("messaging_enabled", lambda: emit("enabled", participants=[participant_json(p) for p in m.get_participants()]))
        m.on(
            "message",
            lambda message: emit(
                "message",
                **{"from": message.from_participant_id},
                type=message.type,
                message=message.message,
                attachment=describe(message.attachment),
            ),
        )
        m.on("stream_requested", lambda request: self.spawn(self.on_stream_request(request)))
        self.room.on("disconnected", lambda reason=None: emit("disconnected", reason=reason))
        self.room.on("reconnected", lambda: emit("reconnected", id=self.room.local_participant.id))

    def target(self, participant_id: str):
        # A participant the SDK knows is resolved against its presence; an
        # unknown id goes to the server as is, so the server answers for it.
        return self.messaging.get_participant(participant_id) or Participant(id=participant_id, attributes={})

    @staticmethod
    def attachment(command: dict) -> bytes | None:
        spec = command.get("attachment")
        return None if spec is None else pattern(int(spec["size"]))

    async def on_stream_request(self, request) -> None:
        emit(
            "stream_request",
            stream_id=request.stream_id,
            **{"from": request.from_participant_id},
            type=request.type,
            message=request.message,
            attachment=describe(request.attachment),
        )
        if self.stream_policy == "reject":
            await request.reject(message="rejected by the test peer")
            return
        stream = await request.accept()
        self.streams[stream.stream_id] = stream
        await self.read_stream(stream, echo=self.stream_policy == "echo")

    async def read_stream(self, stream, *, echo: bool) -> None:
        async for event in stream:
            if hasattr(event, "from_participant_id"):
                emit(
                    "stream_message",
                    stream_id=stream.stream_id,
                    **{"from": event.from_participant_id},
                    type=event.type,
                    message=event.message,
                    attachment=describe(event.attachment),
                )
                if echo:
                    await stream.send_message(type="echo", message=event.message, attachment=event.attachment)
            else:
                emit(
                    "stream_event",
                    stream_id=stream.stream_id,
                    kind=type(event).__name__,
                    reason=getattr(event, "reason", None),
                    message=getattr(event, "message", None),
                )
        emit("stream_end", stream_id=stream.stream_id)

    async def run(self, command: dict) -> Any:
        op = command["op"]
        m = self.messaging
        if op == "enable":
            await m.enable()
            return None
        if op == "disable":
            await m.disable()
            return None
        if op == "participants":
            return [participant_json(p) for p in m.get_participants()]
        if op == "set_attribute":
            await self.room.local_participant.set_attribute(command["name"], command["value"])
            return None
        if op == "send":
            await m.send_message(
                to=self.target(command["to"]),
                type=command["type"],
                message=command["message"],
                attachment=self.attachment(command),
            )
            return None
        if op == "send_nowait":
            m.send_message_nowait(
                to=self.target(command["to"]),
                type=command["type"],
                message=command["message"],
                attachment=self.attachment(command),
            )
            return None
        if op == "send_many":
            # Queued in order without awaiting each: the SDK pipelines them.
            to = self.target(command["to"])
            sends = [
                asyncio.ensure_future(m.send_message(to=to, type=command["type"], message={"i": i}))
                for i in range(int(command["count"]))
            ]
            await asyncio.gather(*sends)
            return len(sends)
        if op == "broadcast":
            await m.broadcast_message(type=command["type"], message=command["message"], attachment=self.attachment(command))
            return None
        if op == "stream_open":
            stream = await m.stream(
                to=self.target(command["to"]),
                type=command["type"],
                message=command["message"],
                attachment=self.attachment(command),
            )
            self.streams[stream.stream_id] = stream
            self.spawn(self.read_stream(stream, echo=False))
            return stream.stream_id
        if op == "stream_send":
            await self.streams[command["stream_id"]].send_message(
                type=command["type"], message=command["message"], attachment=self.attachment(command)
            )
            return None
        if op == "stream_close":
            await self.streams[command["stream_id"]].close()
            return None
        if op == "close":
            return None
        raise ValueError(f"unknown op {op!r}")

    async def answer(self, command: dict) -> None:
        seq = command.get("seq")
        try:
            value = await self.run(command)
            emit("result", seq=seq, ok=True, value=value)
        except RoomException as ex:
            emit("result", seq=seq, ok=False, error=str(ex), code=ex.code, kind=type(ex).__name__)
        except Exception as ex:  # reported to the test, which decides
            emit("result", seq=seq, ok=False, error=str(ex), code=getattr(ex, "code", None), kind=type(ex).__name__)


async def read_commands():
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            return
        if line.strip():
            yield json.loads(line)


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True, help="ws://host:port of the room server")
    parser.add_argument("--room", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--streams", choices=["accept", "reject", "echo"], default="accept")
    parser.add_argument("--reconnect-timeout", type=float, default=None)
    args = parser.parse_args()

    factory = WebSocketClientProtocol(url=websocket_room_url(room_name=args.room, base_url=args.url), token=args.token).create_factory()
    client = RoomClient(protocol_factory=factory, reconnect_timeout=args.reconnect_timeout)
    try:
        await client.__aenter__()
    except Exception as ex:
        emit("fatal", error=str(ex), code=getattr(ex, "code", None), status=getattr(ex, "status_code", None), kind=type(ex).__name__)
        return 2
    peer = Peer(client, args.streams)
    peer.listen()
    me = client.local_participant
    emit("ready", id=me.id, attributes=me.attributes, room_name=client.room_name, session_id=client.session_id)
    try:
        async for command in read_commands():
            if command["op"] == "close":
                emit("result", seq=command.get("seq"), ok=True, value=None)
                break
            # Commands run concurrently, as an application's tasks would.
            peer.spawn(peer.answer(command))
    finally:
        for stream in list(peer.streams.values()):
            await stream.close()
        await client.__aexit__(None, None, None)
        emit("closed")
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    sys.exit(asyncio.run(main()))
