#!/usr/bin/env python3
"""A local mail server (aiosmtpd, as Debian packages it) that keeps every message it accepts.

Usage: smtp.py PORT LOG [CERT KEY]
With CERT and KEY it requires STARTTLS before MAIL (and refuses mail in clear, as a relay that
insists on TLS does). Each accepted message is appended to LOG as one JSON line: the envelope's
sender and recipients, whether the session was under TLS, and the message as received.
"""
import asyncio
import json
import ssl
import sys

from aiosmtpd.controller import Controller

PORT, LOG = int(sys.argv[1]), sys.argv[2]
tls = None
if len(sys.argv) > 4:
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(sys.argv[3], sys.argv[4])


class Keep:
    async def handle_DATA(self, server, session, envelope):
        with open(LOG, "a", encoding="utf-8") as f:
            f.write(json.dumps({"from": envelope.mail_from, "to": envelope.rcpt_tos,
                                "tls": session.ssl is not None,
                                "message": envelope.content.decode("utf-8", "replace")}) + "\n")
        return "250 OK"


controller = Controller(Keep(), hostname="127.0.0.1", port=PORT, tls_context=tls, require_starttls=tls is not None)
controller.start()
try:
    asyncio.get_event_loop().run_forever()
except KeyboardInterrupt:
    pass
finally:
    controller.stop()
