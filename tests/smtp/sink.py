#!/usr/bin/env python3
"""A real SMTP server on loopback for coocenterd's mail tests (aiosmtpd).

Every accepted message is saved as JSON ({"mail_from", "rcpt_tos", "subject", "from", "to",
"body", "data"}) in --dir,
written to a temporary name and renamed, so a reader never sees half a file. Recipients
whose address starts with "reject" are refused with 550, as a real server refuses an unknown
mailbox. With --tls-cert/--tls-key the server requires STARTTLS (or, with --implicit-tls,
speaks TLS from the first byte); with --user/--password it requires that login (over TLS).

Prints "PORT <n>" once it accepts connections, and stops when its standard input closes, so
it never outlives the test that started it.
"""

import argparse
import email
import email.policy
import json
import os
import socket
import ssl
import sys
import threading
import logging

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class SavingHandler:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().startswith("reject"):
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            number = self.count
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            # The headers decoded (RFC 2047 encoded words), and the text part decoded.
            "subject": str(message["subject"]),
            "from": str(message["from"]),
            "to": str(message["to"]),
            "body": body.get_content() if body is not None else "",
            "data": envelope.content.decode("utf-8", "replace"),
        }
        final = os.path.join(self.folder, f"{number:04d}.json")
        temporary = final + ".tmp"
        with open(temporary, "w", encoding="utf-8") as out:
            json.dump(record, out, ensure_ascii=False)
        os.rename(temporary, final)
        return f"250 2.0.0 Ok: queued as sink-{number:04d}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    # aiosmtpd logs a warning about its own use of a deprecated attribute at every login.
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--implicit-tls", action="store_true")
    parser.add_argument("--user")
    parser.add_argument("--password")
    args = parser.parse_args()

    kwargs = {}
    context = None
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        if args.implicit_tls:
            kwargs["ssl_context"] = context
        else:
            kwargs["tls_context"] = context
            kwargs["require_starttls"] = True
    if args.user:
        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (
                isinstance(auth_data, LoginPassword)
                and auth_data.login.decode() == args.user
                and auth_data.password.decode() == args.password
            )
            # handled=False: aiosmtpd answers the failure itself (535).
            return AuthResult(success=ok, handled=False)

        kwargs["authenticator"] = authenticator
        kwargs["auth_required"] = True
        kwargs["auth_require_tls"] = context is not None

    port = free_port()
    controller = Controller(
        SavingHandler(args.dir), hostname="127.0.0.1", port=port, server_hostname="sink.test", **kwargs
    )
    controller.start()
    print(f"PORT {port}", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
