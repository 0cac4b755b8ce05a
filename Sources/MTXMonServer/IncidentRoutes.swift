import Foundation
import History
import Hummingbird
import MTXMonCore

/// `GET /api/v1/incidents`: what receivers are paged for, folded from the `incident` events
/// (each carries its whole incident, so the newest one of each id is the incident as it stands).
struct IncidentRoutes: Sendable {
    let environment: APIEnvironment
    /// How far back an incident still open may have started.
    static let lookbackMs: Int64 = 30 * 86_400_000

    func add(to router: Router<APIRequestContext>) {
        router.get("/api/v1/incidents") { request, _ -> Response in
            let now = environment.now()
            let (from, to) = try RequestInput.listingRange(request, now: now)
            let state = RequestInput.query(request, "state") ?? "all"
            guard ["open", "resolved", "all"].contains(state) else {
                throw APIError(.badRequest, "bad_state", "state='\(state.prefix(40))' is not open, resolved or all, e.g. state=open")
            }
            var cause: Incident.Cause?
            if let text = RequestInput.query(request, "cause") {
                guard let known = Incident.Cause(rawValue: text) else {
                    throw APIError(.badRequest, "bad_cause", "cause='\(text.prefix(40))' is not one of "
                        + Incident.Cause.allCases.map(\.rawValue).joined(separator: ", ") + ", e.g. cause=offline")
                }
                cause = known
            }
            let format = try RequestInput.format(request)
            let server = try RequestInput.server(request)
            let incidents = try await Self.incidents(environment.history, server: server, to: to).filter { incident in
                incident.start <= to && (incident.end.map { $0 >= from } ?? true)
                    && (state == "all" || incident.status.rawValue == (state == "open" ? "firing" : "resolved"))
                    && (cause.map { $0 == incident.cause } ?? true)
            }
            if format == .csv { return APIServer.csv(Self.csv(incidents), filename: "incidents.csv") }
            var w = JSONWriter(capacity: 256 + incidents.count * 400)
            w.beginObject()
            w.key("from"); w.int(from)
            w.key("to"); w.int(to)
            w.key("open"); w.int(incidents.filter { $0.status == .firing }.count)
            w.key("incidents")
            w.beginArray()
            for incident in incidents { Self.write(incident, now: now, &w) }
            w.endArray()
            w.endObject()
            return APIServer.json(w)
        }
    }

    /// Every incident whose events reach back within the lookback, newest start first.
    static func incidents(_ history: any HistoryReader, server: String?, to: Int64) async throws -> [Incident] {
        var newest: [String: Incident] = [:]
        var query = EventQuery(from: to - lookbackMs, to: to, server: server, kinds: [.incident], limit: 5_000)
        while true {
            let (events, more) = try await history.events(query)
            for event in events {
                guard let incident = Incident(event), newest[incident.id] == nil else { continue }
                newest[incident.id] = incident
            }
            guard more, let last = events.last?.id else { break }
            query.before = last
        }
        return newest.values.sorted { ($0.start, $0.id) > ($1.start, $1.id) }
    }

    static func write(_ incident: Incident, now: Int64, _ w: inout JSONWriter) {
        w.beginObject()
        w.key("id"); w.string(incident.id)
        w.key("status"); w.string(incident.status.rawValue)
        w.key("cause"); w.string(incident.cause.rawValue)
        w.key("severity"); w.string(incident.severity.rawValue)
        w.key("peak"); w.string(incident.peak.rawValue)
        w.key("server"); w.string(incident.server)
        w.key("path"); w.string(incident.path)
        w.key("subject"); w.string(incident.subject)
        w.key("start"); w.int(incident.start)
        w.key("end"); w.int(incident.end)
        w.key("durationMs"); w.int((incident.end ?? now) - incident.start)
        w.key("count"); w.int(Int64(incident.count))
        w.key("suppressed"); w.int(Int64(incident.suppressed))
        w.key("notified"); w.string(incident.notified?.rawValue)
        w.key("paths")
        w.beginArray()
        for path in incident.paths { w.string(path) }
        w.endArray()
        w.key("message"); w.string(incident.message)
        w.endObject()
    }

    static func csv(_ incidents: [Incident]) -> [UInt8] {
        var out = CSVWriter()
        out.raw("id,status,cause,severity,peak,server,path,start,start_time,end,end_time,count,suppressed,paths,message\n")
        for i in incidents {
            out.field(i.id)
            out.field(i.status.rawValue)
            out.field(i.cause.rawValue)
            out.field(i.severity.rawValue)
            out.field(i.peak.rawValue)
            out.field(i.server)
            out.field(i.path)
            out.field(String(i.start))
            out.field(TimeArgument.rfc3339(milliseconds: i.start))
            out.field(i.end.map(String.init))
            out.field(i.end.map { TimeArgument.rfc3339(milliseconds: $0) })
            out.field(String(i.count))
            out.field(String(i.suppressed))
            out.field(i.paths.joined(separator: " "))
            out.field(i.message, last: true)
        }
        return out.bytes
    }
}

/// `GET`, `POST /api/v1/silences` and `DELETE /api/v1/silences/{id}`: an operator's "not now".
/// Stored in the history, so every node and the collector see the same ones.
struct SilenceRoutes: Sendable {
    let environment: APIEnvironment

    /// What a client sends; every matcher optional, at least one required.
    struct Body: Decodable {
        var server: String?
        var path: String?
        var cause: String?
        var startsAt: Int64?
        var endsAt: Int64?
        /// Instead of `endsAt`: how long from `startsAt` (or now), e.g. `30m`.
        var duration: String?
        var comment: String?
        var createdBy: String?
    }

    func add(to router: Router<APIRequestContext>) {
        router.get("/api/v1/silences") { _, _ -> Response in
            let silences = try await environment.history.silences(endingAfter: environment.now())
            var w = JSONWriter(capacity: 128 + silences.count * 200)
            w.beginObject()
            w.key("silences")
            w.beginArray()
            for silence in silences { Self.write(silence, now: environment.now(), &w) }
            w.endArray()
            w.endObject()
            return APIServer.json(w)
        }
        router.post("/api/v1/silences") { request, context -> Response in
            guard let writer = environment.writer else {
                throw APIError(.serviceUnavailable, "read_only", "this node reads the history only: send silences to an "
                    + "mtxmon that writes it (run, collect or serve with a writable history)")
            }
            let now = environment.now()
            let bytes = try await request.body.collect(upTo: 16 << 10)
            let body: Body
            do {
                body = try JSONDecoder().decode(Body.self, from: Data(buffer: bytes))
            } catch {
                throw APIError(.badRequest, "bad_body", "the body is not a silence: send JSON such as "
                    + #"{"server": "a", "path": "live/*", "cause": "offline", "duration": "30m", "comment": "planned restart"}"#)
            }
            let start = body.startsAt ?? now
            let month: Int64 = 30 * 86_400_000
            guard start >= now - 86_400_000, start <= now + month else {
                throw APIError(.badRequest, "bad_silence", "startsAt must be from a day before now to 30 days after "
                    + "(unix ms), or left out for now")
            }
            var end = body.endsAt
            if let text = body.duration {
                guard end == nil else {
                    throw APIError(.badRequest, "bad_body", "give endsAt or duration, not both")
                }
                let ms: Int64
                do {
                    ms = try DurationParser.milliseconds(text)
                } catch {
                    throw APIError(.badRequest, "bad_duration", "duration: \(error)")
                }
                guard ms > 0, ms <= month else {
                    throw APIError(.badRequest, "bad_duration", "duration '\(text.prefix(40))' must be more than 0 and at most 30d, e.g. 30m")
                }
                end = start + ms
            }
            guard let endsAt = end else {
                throw APIError(.badRequest, "bad_body", #"a silence needs an end: "duration": "30m" or "endsAt": <unix ms>"#)
            }
            if let server = body.server, let problem = ServerName.problem(server) {
                throw APIError(.badRequest, "bad_server", "server: \(problem)")
            }
            let silence = Silence(id: Self.newID(), server: body.server, path: body.path, cause: body.cause,
                                  startsAt: start, endsAt: endsAt, comment: body.comment ?? "",
                                  createdBy: body.createdBy.map { String($0.prefix(200)) }
                                      ?? context.channel.remoteAddress?.ipAddress)
            if let problem = silence.problem(now: now) { throw APIError(.badRequest, "bad_silence", problem) }
            try await writer.saveSilence(silence)
            var w = JSONWriter(capacity: 256)
            Self.write(silence, now: now, &w)
            return APIServer.json(w, status: .created)
        }
        router.delete("/api/v1/silences/{id}") { _, context -> Response in
            guard let writer = environment.writer else {
                throw APIError(.serviceUnavailable, "read_only", "this node reads the history only: end silences on an "
                    + "mtxmon that writes it")
            }
            let id = context.parameters.get("id") ?? ""
            guard try await writer.endSilence(id: id, at: environment.now()) else {
                throw APIError(.notFound, "no_silence", "no silence '\(id.prefix(64))' is active or to come: "
                    + "GET /api/v1/silences lists them")
            }
            return Response(status: .noContent)
        }
    }

    static func newID() -> String {
        "sil-" + (0..<12).map { _ in String("0123456789abcdef".randomElement()!) }.joined()
    }

    static func write(_ silence: Silence, now: Int64, _ w: inout JSONWriter) {
        w.beginObject()
        w.key("id"); w.string(silence.id)
        w.key("server"); w.string(silence.server)
        w.key("path"); w.string(silence.path)
        w.key("cause"); w.string(silence.cause)
        w.key("startsAt"); w.int(silence.startsAt)
        w.key("endsAt"); w.int(silence.endsAt)
        w.key("active"); w.bool(silence.active(at: now))
        w.key("comment"); w.string(silence.comment)
        w.key("createdBy"); w.string(silence.createdBy)
        w.endObject()
    }
}
