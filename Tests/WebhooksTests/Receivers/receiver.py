#!/usr/bin/env python3
"""A local stand-in for the receivers mtxmon's webhook formats target, holding each body to the
rules the real services document, and answering as they do:

- /slack/...: Slack's incoming webhooks (also Mattermost's and Rocket.Chat's): a JSON object with a
  non-empty "text" (or attachments with a fallback); attachments a list of objects, each field a
  title and a string value. Slack answers "ok" (200) or 400 "invalid_payload" / "no_text".
- /ntfy/<topic>: ntfy's publish API (POST to the topic's URL): the message as the body (UTF-8,
  at most 4096 bytes), X-Title/Title ASCII, Priority 1-5 or a name, Tags comma-separated.
  ntfy answers the published message as JSON, or 400 with {"code": 40007, ...} for a bad priority.
- /json: mtxmon's own body, any JSON object.

Every accepted request is appended to the file named by the second argument, one JSON line each.
Usage: receiver.py PORT LOG
"""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, LOG = int(sys.argv[1]), sys.argv[2]
PRIORITIES = {"1", "2", "3", "4", "5", "min", "low", "default", "high", "max", "urgent"}


def slack_problem(body):
    try:
        payload = json.loads(body)
    except ValueError:
        return "invalid_payload"
    if not isinstance(payload, dict):
        return "invalid_payload"
    attachments = payload.get("attachments", [])
    if not isinstance(attachments, list) or not all(isinstance(a, dict) for a in attachments):
        return "invalid_attachments"
    for a in attachments:
        for f in a.get("fields", []):
            if not isinstance(f, dict) or not isinstance(f.get("title"), str) or not isinstance(f.get("value"), str):
                return "invalid_attachments"
    text = payload.get("text")
    if not (isinstance(text, str) and text.strip()) and not any(a.get("fallback") for a in attachments):
        return "no_text"
    return None


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, code, body, content_type="text/plain"):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        record = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                  "body": body.decode("utf-8", "replace")}
        if self.path.startswith("/slack/"):
            problem = slack_problem(body)
            if problem:
                return self.answer(400, problem)
            self.keep(record)
            return self.answer(200, "ok")
        if self.path.startswith("/ntfy/"):
            topic = self.path[len("/ntfy/"):]
            priority = self.headers.get("Priority") or self.headers.get("X-Priority") or "3"
            title = self.headers.get("Title") or self.headers.get("X-Title") or ""
            if priority not in PRIORITIES:
                return self.answer(400, json.dumps({"code": 40007, "http": 400, "error": "invalid priority"}),
                                   "application/json")
            if not topic or len(body) == 0 or len(body) > 4096:
                return self.answer(400, json.dumps({"code": 40001, "http": 400, "error": "invalid request"}),
                                   "application/json")
            try:
                message = body.decode("utf-8")
                title.encode("ascii")
            except (UnicodeDecodeError, UnicodeEncodeError):
                return self.answer(400, json.dumps({"code": 40001, "http": 400, "error": "invalid request"}),
                                   "application/json")
            self.keep(record)
            tags = [t for t in (self.headers.get("Tags") or "").split(",") if t]
            return self.answer(200, json.dumps({"id": "x", "time": int(time.time()), "event": "message", "topic": topic,
                                                "message": message, "title": title, "priority": priority,
                                                "tags": tags}), "application/json")
        if self.path == "/json":
            try:
                if not isinstance(json.loads(body), dict):
                    raise ValueError
            except ValueError:
                return self.answer(400, "not a JSON object")
            self.keep(record)
            return self.answer(204, "")
        return self.answer(404, "no such receiver")

    def keep(self, record):
        with open(LOG, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
