"""Profile cards for the web front end, read from the Users service through a thriftpy2 client."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import thriftpy2
from thriftpy2.rpc import make_client

users_thrift: Any = thriftpy2.load(str(Path(__file__).with_name("users.thrift")), module_name="users_thrift")


@dataclass(frozen=True)
class Card:
    handle: str
    name: str
    verified: bool


class Profiles:
    """Reads users through a connected thriftpy2 client of ``users_thrift.Users``."""

    def __init__(self, client: Any) -> None:
        self.client = client

    @classmethod
    def connect(cls, host: str, port: int) -> Profiles:
        return cls(make_client(users_thrift.Users, host, port))

    def card(self, user_id: int) -> Card | None:
        """The card of a user; None when the user does not exist."""
        try:
            user = self.client.getUser(user_id)
        except users_thrift.NotFound:
            return None
        name = " ".join(part for part in (user.firstName, user.lastName) if part) or user.handle
        return Card(user.handle, name, bool(user.isVerified))

    def search(self, text: str, limit: int = 10) -> list[str]:
        """Handles of the users matching ``text``; none when the service refuses the query."""
        try:
            users = self.client.searchUsers(text, limit)
        except users_thrift.InvalidRequest:
            return []
        return [user.handle for user in users]
