"""How a client reaches and logs in to the broker: SASL/SCRAM-SHA-512, over TLS when a CA file is given."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import Any

from faststream.security import BaseSecurity, SASLScram512

MECHANISM = "SCRAM-SHA-512"


@dataclass(frozen=True)
class KafkaAccess:
    """One principal's way in; built from settings and handed to every client, never read from the environment."""

    bootstrap_servers: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    cafile: str | None = None
    """TLS (SASL_SSL) trusting this CA when set; SASL_PLAINTEXT otherwise."""

    def _ssl_context(self) -> ssl.SSLContext | None:
        return ssl.create_default_context(cafile=self.cafile) if self.cafile else None

    def options(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka's producer, consumer and admin client."""
        if self.username is None:
            # Anonymous: the broker refuses it, which is what the tests of that show.
            return {"bootstrap_servers": self.bootstrap_servers}
        return {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": "SASL_SSL" if self.cafile else "SASL_PLAINTEXT",
            "sasl_mechanism": MECHANISM,
            "sasl_plain_username": self.username,
            "sasl_plain_password": self.password or "",
            "ssl_context": self._ssl_context(),
        }

    def security(self) -> BaseSecurity | None:
        """The same for FastStream's KafkaBroker."""
        if self.username is None:
            return None
        context = self._ssl_context()
        return SASLScram512(self.username, self.password or "", ssl_context=context, use_ssl=context is not None)

    def as_user(self, username: str, password: str) -> KafkaAccess:
        return KafkaAccess(self.bootstrap_servers, username, password, self.cafile)
