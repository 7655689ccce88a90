"""A ``Publisher`` that keeps what it was asked to send, or refuses as an unconfirming broker would."""

from dataclasses import dataclass

from shared.amqp.publisher import Outgoing, PublishFailed
from shared.topology import ActorRoute


@dataclass(frozen=True)
class SentMessage:
    route: ActorRoute
    payload: dict
    message_id: str


class RecordingPublisher:
    def __init__(self) -> None:
        self.sent: list[SentMessage] = []
        self.refusing = False

    def send(self, route: ActorRoute, payload: dict, *, message_id: str) -> None:
        if self.refusing:
            raise PublishFailed("broker did not confirm (fake)")
        self.sent.append(SentMessage(route, payload, message_id))

    def send_many(self, messages: list[Outgoing]) -> None:
        for message in messages:
            self.send(message.route, message.payload, message_id=message.message_id)
