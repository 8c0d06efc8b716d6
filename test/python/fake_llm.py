"""A model-free LLM adapter for the agent-turn interop tests (ours, not the package's).

It plays a streaming model to meshagent-agents' LLMAgentProcess: each response
echoes the latest user text back in three text deltas, sleeping `delay`
seconds before each delta and before the end. Between deltas it calls the
process's steering callback; a steer applied there appends its text to the
answer. An interrupt cancels the response task (the process then ends the
turn as cancelled).
"""

import asyncio
import uuid
from typing import Any

from meshagent.agents.adapter import LLMAdapter
from meshagent.agents.messages import (
    AGENT_EVENT_TEXT_CONTENT_DELTA,
    AGENT_EVENT_TEXT_CONTENT_ENDED,
    AGENT_EVENT_TEXT_CONTENT_STARTED,
    AgentTextContentDelta,
    AgentTextContentEnded,
    AgentTextContentStarted,
)


def three_parts(text: str) -> list[str]:
    size = -(-len(text) // 3)
    if size == 0:
        return []
    return [part for part in (text[:size], text[size : 2 * size], text[2 * size :]) if part != ""]


def user_texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m["content"] for m in messages if m.get("role") == "user" and isinstance(m.get("content"), str)]


class EchoStreamingAdapter(LLMAdapter[Any]):
    def __init__(self, *, delay: float) -> None:
        self.delay = delay

    def default_model(self) -> str:
        return "fake-echo"

    def provider_name(self) -> str | None:
        return "fake"

    async def project_agent_messages(self, *, messages, file_reader=None, callbacks=None) -> list[dict[str, Any]]:
        # A turn's or a steer's input becomes one user message of plain text.
        projected = []
        for message in messages:
            content = getattr(message, "content", None)
            if isinstance(content, list):
                text = "".join(getattr(item, "text", "") for item in content if getattr(item, "type", None) == "text")
                projected.append({"role": "user", "content": text})
        return projected

    async def create_response(
        self,
        *,
        context,
        caller,
        toolkits,
        output_schema=None,
        event_handler=None,
        steering_callback=None,
        model=None,
        on_behalf_of=None,
        tool_choice=None,
        options=None,
    ) -> Any:
        thread_id = context.metadata["thread_id"]
        turn_id = context.metadata["turn_id"]
        item_id = str(uuid.uuid4())

        def publish(message) -> None:
            if event_handler is not None:
                event_handler(message)

        texts = user_texts(context.messages)
        parts = three_parts(texts[-1] if texts else "")
        seen = len(context.messages)
        answer: list[str] = []
        publish(AgentTextContentStarted(type=AGENT_EVENT_TEXT_CONTENT_STARTED, thread_id=thread_id, turn_id=turn_id, item_id=item_id))
        while True:
            await asyncio.sleep(self.delay)
            if steering_callback is not None and await steering_callback():
                parts.extend(f" {text}" for text in user_texts(context.messages[seen:]))
                seen = len(context.messages)
            if not parts:
                break
            part = parts.pop(0)
            answer.append(part)
            publish(AgentTextContentDelta(type=AGENT_EVENT_TEXT_CONTENT_DELTA, thread_id=thread_id, turn_id=turn_id, item_id=item_id, text=part))
        publish(AgentTextContentEnded(type=AGENT_EVENT_TEXT_CONTENT_ENDED, thread_id=thread_id, turn_id=turn_id, item_id=item_id))
        context.append_assistant_message("".join(answer))
        return "".join(answer)
