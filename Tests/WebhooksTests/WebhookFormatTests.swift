import Foundation
import History
import Logging
import MTXMonCore
import ServiceLifecycle
import SQLiteHistory
import Testing
import TestSupport
@testable import Webhooks

/// Each receiver format against a real local receiver (`Receivers/receiver.py`, a Python HTTP
/// server holding bodies to the rules Slack's incoming webhooks and ntfy's publish API document):
/// an incident's firing and its resolution reach each one, in its shape.
@Suite struct WebhookFormatTests {
    static let logger = quietLogger("test.webhook-formats")

    static func incidentBatches(from t0: Int64) -> [PollBatch] {
        var incident = Incident(id: Incident.makeID(cause: .offline, server: "edge", path: "live/ü-cam", subject: nil, start: t0),
                                cause: .offline, server: "edge", path: "live/ü-cam", start: t0, severity: .critical,
                                detail: "MediaMTX lists no publisher for it")
        incident.notified = .critical
        let firing = incident.event(at: t0 + 6_000)
        incident.end = t0 + 20_000
        let resolved = incident.event(at: t0 + 30_000)
        return [firing, resolved].map { event in
            PollBatch(poll: PollRecord(ts: event.ts, ok: true, durationMs: 1, server: "edge"), snapshot: nil,
                      events: [event], notify: [0])
        }
    }

    @Test func slackNtfyAndJSONReceiversTakeFiringAndResolved() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteHistory(path: dir.file("w.sqlite"))
        let port = try freePort()
        let log = dir.file("received.jsonl")
        let receiver = try await LocalReceiver.start("receiver.py", python: try which("python3"), port: port,
                                                     arguments: [String(port), log])
        defer { receiver.kill() }
        let targets = ["http://127.0.0.1:\(port)/json", "slack+http://127.0.0.1:\(port)/slack/T0/B0/x",
                       "ntfy+http://u:secret@127.0.0.1:\(port)/ntfy/mtxmon-alerts"]
        let t0 = WallClock.nowMs()
        try await store.append(Self.incidentBatches(from: t0), deliverTo: targets.map(WebhookTarget.key))
        let status = WebhookStatus(entries: targets)
        let sender = WebhookSender(store: store, settings: WebhookSettings(targets: targets, secret: "k",
                                                                           requestTimeout: .seconds(5),
                                                                           maxBackoff: .milliseconds(200)),
                                   logger: Self.logger, status: status)
        let group = ServiceGroup(configuration: .init(services: [sender], logger: Self.logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { Task { await group.triggerGracefulShutdown() } }
            try await eventually("every notification taken") { try store.deliveryBacklog().isEmpty }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        try await receiver.stop()
        #expect(status.receivers.map(\.delivered) == [2, 2, 2], "\(status.receivers)")
        #expect(status.receivers.allSatisfy { $0.failingSince == nil && $0.refused == 0 })
        let received = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        func bodies(_ prefix: String) -> [[String: Any]] {
            received.filter { ($0["path"] as? String)?.hasPrefix(prefix) == true }
        }
        // mtxmon's own JSON: the incident's status, id and bounds first.
        let json = try bodies("/json").map {
            try #require(try JSONSerialization.jsonObject(with: Data(($0["body"] as? String ?? "").utf8)) as? [String: Any])
        }
        #expect(json.map { $0["status"] as? String } == ["firing", "resolved"])
        #expect(json.map { $0["type"] as? String } == ["incident", "incident"])
        #expect(Set(json.compactMap { $0["incident"] as? String }).count == 1)
        #expect(json.last?["end"] as? Int64 == t0 + 20_000 && json.first?["end"] is NSNull)
        #expect(json.first?["start"] as? Int64 == t0)
        // Slack's shape: text headed by the status, an attachment coloured by severity.
        let slack = try bodies("/slack/").map {
            try #require(try JSONSerialization.jsonObject(with: Data(($0["body"] as? String ?? "").utf8)) as? [String: Any])
        }
        #expect(slack.count == 2)
        #expect((slack.first?["text"] as? String)?.hasPrefix("[FIRING critical] live/ü-cam is offline") == true)
        #expect((slack.last?["text"] as? String)?.hasPrefix("[RESOLVED] resolved after 20 s: live/ü-cam is offline") == true)
        let attachment = (slack.first?["attachments"] as? [[String: Any]])?.first
        #expect(attachment?["color"] as? String == "#c62828")
        // ntfy: the message as the body, priority and tags as headers, credentials as basic auth.
        let ntfy = bodies("/ntfy/")
        #expect(ntfy.count == 2)
        let headers = ntfy.compactMap { $0["headers"] as? [String: String] }
        #expect(headers.map { $0["priority"] } == ["5", "3"])
        #expect(headers.map { $0["tags"] } == ["rotating_light", "white_check_mark"])
        #expect(headers.first?["title"] == "offline on edge live/-cam", "ASCII only in a header")
        #expect(headers.first?["authorization"] == "Basic " + Data("u:secret".utf8).base64EncodedString())
        #expect((ntfy.first?["body"] as? String)?.hasPrefix("live/ü-cam is offline") == true)
        #expect(headers.allSatisfy { $0["x-mtxmon-signature"]?.hasPrefix("sha256=") == true })
    }

    @Test func aFormatNamesItsReceiverAndNoCredentialLeavesTheURL() {
        #expect(WebhookTarget.split("slack+https://hooks.slack.com/services/T/B/X") == (.slack, "https://hooks.slack.com/services/T/B/X"))
        #expect(WebhookTarget.split("https://a.example/x").format == .json)
        #expect(WebhookTarget.split("teams+https://a.example/x").format == .json, "unknown: the settings refuse it")
        #expect(WebhookTarget.key("ntfy+https://u:pw@ntfy.example/topic") == "ntfy+https://ntfy.example/topic")
    }
}
