import History
import Hummingbird
import MTXMonCore

/// `GET /api/v1/events`: what happened, newest first, a page at a time.
struct EventRoutes: Sendable {
    let environment: APIEnvironment
    static let maxLimit = 1_000

    func add(to router: Router<APIRequestContext>) {
        router.get("/api/v1/events") { request, _ -> Response in
            let now = environment.now()
            let (from, to) = try RequestInput.listingRange(request, now: now)
            let format = try RequestInput.format(request)
            var query = EventQuery(from: from, to: to, server: try RequestInput.server(request))
            if let path = RequestInput.query(request, "path") {
                query.path = try RequestInput.validatePathName(Array(path.utf8))
            }
            if let text = RequestInput.query(request, "kind") {
                var kinds = Set<MonitorEvent.Kind>()
                for name in text.split(separator: ",", omittingEmptySubsequences: false) {
                    guard let kind = MonitorEvent.Kind(rawValue: String(name)) else {
                        throw APIError(.badRequest, "bad_kind", "kind: '\(name)' is not an event kind: use any of "
                            + MonitorEvent.Kind.allCases.map(\.rawValue).joined(separator: ",") + ", e.g. kind=offline,reset")
                    }
                    kinds.insert(kind)
                }
                query.kinds = kinds
            }
            if let text = RequestInput.query(request, "severity") {
                guard let severity = MonitorEvent.Severity(rawValue: text) else {
                    throw APIError(.badRequest, "bad_severity", "severity: '\(text)' is not one of info, warning, critical "
                        + "(the lowest severity listed), e.g. severity=warning")
                }
                query.minSeverity = severity
            }
            if let text = RequestInput.query(request, "limit") {
                guard let limit = Int(text), (1...Self.maxLimit).contains(limit) else {
                    throw APIError(.badRequest, "bad_limit", "limit='\(text)' must be a whole number from 1 to "
                        + "\(Self.maxLimit), e.g. limit=100")
                }
                query.limit = limit
            }
            if let text = RequestInput.query(request, "cursor") {
                guard let id = Int64(text), id > 0 else {
                    throw APIError(.badRequest, "bad_cursor", "cursor='\(text.prefix(40))' is not one this API gave: "
                        + "pass the nextCursor of the previous page as it is")
                }
                query.before = id
            }
            let asked = query
            let (events, more) = try await environment.history.events(asked)
            let next = more ? events.last?.id.map(String.init) : nil
            if format == .csv { return APIServer.csv(Self.csv(events), filename: "events.csv") }
            var w = JSONWriter(capacity: 256 + events.count * 320)
            w.beginObject()
            w.key("from"); w.int(from)
            w.key("to"); w.int(to)
            w.key("events")
            w.beginArray()
            for event in events {
                w.beginObject()
                w.key("ts"); w.int(event.ts)
                w.key("kind"); w.string(event.kind.rawValue)
                w.key("path"); w.string(event.path)
                Self.fields(event, &w)
                w.endObject()
            }
            w.endArray()
            w.key("nextCursor"); w.string(next)
            w.endObject()
            return APIServer.json(w)
        }
    }

    /// The members every form of an event shares after `ts`, its kind and `path`.
    static func fields(_ event: MonitorEvent, _ w: inout JSONWriter) {
        w.key("id"); w.int(event.id)
        w.key("severity"); w.string(event.severity.rawValue)
        w.key("server"); w.string(event.server)
        w.key("connection"); w.string(event.connection)
        w.key("message"); w.string(event.message)
        w.key("figures")
        w.beginObject()
        for (key, figure) in event.figures.sorted(by: { $0.key < $1.key }) {
            w.dynamicKey(key)
            switch figure {
            case let .number(value): w.number(value, decimals: 6)
            case let .text(text): w.string(text)
            }
        }
        w.endObject()
    }

    static func csv(_ events: [MonitorEvent]) -> [UInt8] {
        var out = CSVWriter()
        out.raw("id,ts,time,kind,severity,server,path,connection,message\n")
        for e in events {
            out.field(e.id.map(String.init))
            out.field(String(e.ts))
            out.field(TimeArgument.rfc3339(milliseconds: e.ts))
            out.field(e.kind.rawValue)
            out.field(e.severity.rawValue)
            out.field(e.server)
            out.field(e.path)
            out.field(e.connection)
            out.field(e.message, last: true)
        }
        return out.bytes
    }
}
