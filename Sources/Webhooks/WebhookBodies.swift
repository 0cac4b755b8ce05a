import Foundation
import MTXMonCore

/// Each receiver format's body and headers for one stored event (an incident's, or any event
/// queued before incidents were sent).
public enum WebhookBodies {
    public static func make(_ event: MonitorEvent, format: WebhookFormat) -> (body: [UInt8], headers: [(String, String)]) {
        switch format {
        case .json: (json(event), [("Content-Type", "application/json")])
        case .slack: (slack(event), [("Content-Type", "application/json")])
        case .ntfy: ntfy(event)
        case .email: (json(event), [("Content-Type", "application/json")])
        }
    }

    /// mtxmon's own body: `"type"` (`incident`, or `event`), for an incident its `status`,
    /// `incident` id, `cause`, `start` and `end`, then the members `GET /api/v1/events` lists, in
    /// its order, `null` where absent.
    public static func json(_ event: MonitorEvent) -> [UInt8] {
        func text(_ value: String?) -> String { value.map(JSONText.string) ?? "null" }
        var members: [String]
        if let incident = Incident(event) {
            members = [
                "\"type\":\"incident\"", "\"status\":\(text(incident.status.rawValue))", "\"incident\":\(text(incident.id))",
                "\"cause\":\(text(incident.cause.rawValue))", "\"start\":\(incident.start)",
                "\"end\":\(incident.end.map(String.init) ?? "null")",
            ]
        } else {
            members = ["\"type\":\"event\""]
        }
        members += [
            "\"ts\":\(event.ts)", "\"kind\":\(text(event.kind.rawValue))", "\"path\":\(text(event.path))",
            "\"id\":\(event.id.map(String.init) ?? "null")", "\"severity\":\(text(event.severity.rawValue))",
            "\"server\":\(text(event.server))", "\"connection\":\(text(event.connection))",
            "\"message\":\(text(event.message))", "\"figures\":\(JSONText.figures(event.figures) ?? "{}")",
        ]
        return Array(("{" + members.joined(separator: ",") + "}").utf8)
    }

    /// `[FIRING critical] …` or `[RESOLVED] …` as the text, and an attachment coloured by
    /// severity with the server, path, start and incident id as fields.
    public static func slack(_ event: MonitorEvent) -> [UInt8] {
        let incident = Incident(event)
        let resolved = incident?.status == .resolved
        let head = resolved ? "[RESOLVED]" : "[\(incident == nil ? "EVENT" : "FIRING") \(event.severity.rawValue)]"
        let color: String = if resolved { "#2e7d32" } else {
            switch event.severity {
            case .critical: "#c62828"
            case .warning: "#ef6c00"
            case .info: "#1565c0"
            }
        }
        var fields: [[String: Any]] = []
        if let server = event.server { fields.append(["title": "Server", "value": server, "short": true]) }
        if let path = event.path { fields.append(["title": "Path", "value": path, "short": true]) }
        if let incident {
            fields.append(["title": "Started", "value": TimeArgument.rfc3339(milliseconds: incident.start), "short": true])
            if let end = incident.end {
                fields.append(["title": "Ended", "value": TimeArgument.rfc3339(milliseconds: end), "short": true])
            }
            fields.append(["title": "Incident", "value": incident.id, "short": true])
        }
        let body: [String: Any] = [
            "text": "\(head) \(event.message)",
            "attachments": [["color": color, "fallback": event.message, "title": incident?.cause.rawValue ?? event.kind.rawValue,
                             "fields": fields, "ts": event.ts / 1_000]],
        ]
        return Array((try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data("{}".utf8))
    }

    /// The message as the body; title, priority (5 critical, 4 warning, 3 else; 3 when resolved)
    /// and tags as ntfy's headers.
    public static func ntfy(_ event: MonitorEvent) -> (body: [UInt8], headers: [(String, String)]) {
        let incident = Incident(event)
        let resolved = incident?.status == .resolved
        let priority: String = if resolved { "3" } else {
            switch event.severity {
            case .critical: "5"
            case .warning: "4"
            case .info: "3"
            }
        }
        let subject = [event.server, event.path].compactMap { $0 }.joined(separator: " ")
        let title = (resolved ? "Resolved: " : "") + (incident?.cause.rawValue ?? event.kind.rawValue)
            + (subject.isEmpty ? "" : " on \(subject)")
        let tags = resolved ? "white_check_mark" : event.severity == .critical ? "rotating_light" : "warning"
        // Header values are ASCII: other characters of a path name are left out of the title.
        let asciiTitle = String(title.unicodeScalars.filter { $0.isASCII && $0.value >= 0x20 }.map(Character.init))
        return (Array(event.message.utf8), [("Content-Type", "text/plain; charset=utf-8"), ("Title", asciiTitle),
                                            ("Priority", priority), ("Tags", tags)])
    }
}
