import Foundation
import History
import Logging
import MTXMonCore
import ServiceLifecycle
import SQLiteHistory
import Testing
import TestSupport
@testable import Webhooks

/// Mail through libcurl's SMTP to a real local mail server (Python's aiosmtpd): an incident's
/// firing and resolution arrive as two messages, in clear to a loopback relay and under STARTTLS
/// to one that requires it.
@Suite struct MailTests {
    static let logger = quietLogger("test.mail")

    /// Runs aiosmtpd on `port`, writing to `log`; with `tls`, a certificate it requires STARTTLS with.
    static func mailServer(port: Int, log: String, tls: (cert: String, key: String)? = nil) async throws -> LocalReceiver {
        // Debian's python3 (python3-aiosmtpd), whatever python3 comes first on PATH.
        try await LocalReceiver.start("smtp.py", python: URL(fileURLWithPath: "/usr/bin/python3"), port: port,
                                      arguments: [String(port), log] + (tls.map { [$0.cert, $0.key] } ?? []))
    }

    static func send(_ settings: MailSettings, store: SQLiteHistory, dir: TemporaryDirectory) async throws {
        let t0 = WallClock.nowMs()
        try await store.append(WebhookFormatTests.incidentBatches(from: t0), deliverTo: [settings.key])
        var webhooks = WebhookSettings(targets: [settings.url], requestTimeout: .seconds(10), maxBackoff: .milliseconds(200))
        webhooks.mail = settings
        let sender = WebhookSender(store: store, settings: webhooks, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [sender], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { Task { await group.triggerGracefulShutdown() } }
            try await eventually("both messages taken") { try store.deliveryBacklog().isEmpty }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(sender.status.receivers.first?.delivered == 2, "\(sender.status.receivers)")
    }

    static func received(_ log: String) throws -> [[String: Any]] {
        try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    @Test func firingAndResolvedArriveAsMail() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let port = try freePort()
        let log = dir.file("mail.jsonl")
        let server = try await Self.mailServer(port: port, log: log)
        defer { server.kill() }
        let settings = MailSettings(url: "smtp://127.0.0.1:\(port)", from: "mtxmon <mtxmon@example.net>",
                                    to: ["oncall@example.net", "ops@example.net"], startTLS: false)
        try await Self.send(settings, store: try SQLiteHistory(path: dir.file("m.sqlite")), dir: dir)
        try await server.stop()
        let mails = try Self.received(log)
        #expect(mails.count == 2)
        #expect(mails.first?["from"] as? String == "mtxmon@example.net")
        #expect(mails.first?["to"] as? [String] == ["oncall@example.net", "ops@example.net"])
        let messages = mails.compactMap { $0["message"] as? String }
        #expect(messages.first?.contains("Subject: =?utf-8?B?") == true, "a non-ASCII subject is an encoded word")
        #expect(messages.first?.contains("live/ü-cam is offline (MediaMTX lists no publisher for it)") == true)
        #expect(messages.last?.contains("Ended: ") == true && messages.first?.contains("Ended: ") == false)
        let subjects = try messages.map { message in
            let line = try #require(message.split(separator: "\r\n").first { $0.hasPrefix("Subject: =?utf-8?B?") })
            let encoded = line.dropFirst("Subject: =?utf-8?B?".count).dropLast(2)
            return String(decoding: try #require(Data(base64Encoded: String(encoded))), as: UTF8.self)
        }
        #expect(subjects.map { $0.hasPrefix("[mtxmon] FIRING critical: ") } == [true, false])
        #expect(subjects.last?.hasPrefix("[mtxmon] RESOLVED: ") == true)
    }

    @Test func aRelayThatRequiresStartTLSGetsItUnderTLS() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let cert = dir.file("cert.pem"), key = dir.file("key.pem")
        let made = try await runToEnd(try which("openssl"), ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                                                               "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                                                               "-keyout", key, "-out", cert])
        #expect(made.status == 0, "\(made.stderr)")
        let port = try freePort()
        let log = dir.file("mail.jsonl")
        let server = try await Self.mailServer(port: port, log: log, tls: (cert, key))
        defer { server.kill() }
        let settings = MailSettings(url: "smtp://127.0.0.1:\(port)", from: "mtxmon@example.net", to: ["oncall@example.net"],
                                    startTLS: true, caFile: cert)
        try await Self.send(settings, store: try SQLiteHistory(path: dir.file("m.sqlite")), dir: dir)
        try await server.stop()
        let mails = try Self.received(log)
        #expect(mails.count == 2)
        #expect(mails.allSatisfy { $0["tls"] as? Bool == true }, "sent after STARTTLS")
    }
}
