"""A local certificate authority and the broker's TLS key, made once per installation with the openssl tool."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from deploy import system

CA_DAYS = 3650
SERVER_DAYS = 825


@dataclass(frozen=True)
class TlsFiles:
    """`ca` is what clients trust; `keystore` holds the broker's key, certificate and the CA (Kafka's PEM store)."""

    base: Path

    @property
    def ca(self) -> Path:
        return self.base / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.base / "ca.key"

    @property
    def keystore(self) -> Path:
        return self.base / "broker.pem"


def tls_files(state: Path) -> TlsFiles:
    return TlsFiles(state / "kafka" / "tls")


def ensure(state: Path) -> TlsFiles:
    """Make the CA and the broker's certificate (for 127.0.0.1 and localhost) unless they exist."""
    files = tls_files(state)
    if files.ca.is_file() and files.keystore.is_file():
        return files
    openssl = system.require_tool("kafka", "openssl", "openssl")
    files.base.mkdir(mode=0o700, parents=True, exist_ok=True)
    key, request, cert = files.base / "broker.key", files.base / "broker.csr", files.base / "broker.crt"
    extensions = files.base / "broker.ext"
    extensions.write_text(
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        "authorityKeyIdentifier=keyid\n"
        "subjectKeyIdentifier=hash\n"
    )
    system.log(f"kafka: making a local CA and the broker's TLS certificate in {files.base}")
    ca_subject = ["-subj", "/CN=lhl local CA", "-days", str(CA_DAYS)]
    ca_extensions = ["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]
    signing = ["-CA", str(files.ca), "-CAkey", str(files.ca_key), "-CAcreateserial", "-days", str(SERVER_DAYS)]
    steps = [
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(files.ca_key),
            "-out",
            str(files.ca),
            *ca_subject,
            *ca_extensions,
        ],
        [
            openssl,
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(request),
            "-subj",
            "/CN=127.0.0.1",
        ],
        [openssl, "x509", "-req", "-in", str(request), "-out", str(cert), "-extfile", str(extensions), *signing],
    ]
    for step in steps:
        system.run(step, what="kafka: openssl", timeout=60)
    # Kafka's PEM key store: the unencrypted PKCS#8 key, then the certificate chain.
    files.keystore.write_text(key.read_text() + cert.read_text() + files.ca.read_text())
    for path in (files.keystore, files.ca_key, key):
        os.chmod(path, 0o600)
    for path in (request, extensions, key, cert):
        path.unlink(missing_ok=True)
    return files
