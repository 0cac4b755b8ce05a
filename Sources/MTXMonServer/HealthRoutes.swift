import History
import Hummingbird
import MTXMonCore

/// `GET /api/v1/health?window=1h`: streams ranked by the time they spent degraded or bad, with
/// the time each cause held, summed from the stored health events (see `HealthRanking`).
struct HealthRoutes: Sendable {
    let environment: APIEnvironment
    /// Health events read for one ranking at most; a window with more is answered from its
    /// newest ones and says so (`truncated`).
    static let maxEvents = 50_000
    static let maxWindowMs: Int64 = 31 * 86_400_000

    func add(to router: Router<APIRequestContext>) {
        router.get("/api/v1/health") { request, _ -> Response in
            let now = environment.now()
            let window: Int64
            if let text = RequestInput.query(request, "window") {
                do {
                    window = try DurationParser.milliseconds(text)
                } catch {
                    throw APIError(.badRequest, "bad_window", "window: \(error), e.g. window=1h")
                }
                guard window >= 1_000, window <= Self.maxWindowMs else {
                    throw APIError(.badRequest, "bad_window", "window='\(text.prefix(40))' must be from 1s to 31d, e.g. window=1h")
                }
            } else {
                window = 3_600_000
            }
            let format = try RequestInput.format(request)
            let server = try RequestInput.server(request)
            let from = now - window
            var query = EventQuery(from: from, to: now, server: server, kinds: [.health], limit: EventRoutes.maxLimit)
            var events: [MonitorEvent] = []
            var truncated = false
            while true {
                let (page, more) = try await environment.history.events(query)
                events += page
                guard more, let last = page.last?.id else { break }
                guard events.count < Self.maxEvents else {
                    truncated = true
                    break
                }
                query.before = last
            }
            let (snapshot, _) = try await PathRoutes(environment: environment).shown()
            let current = (snapshot?.paths ?? []).compactMap { path -> HealthRanking.Current? in
                guard server == nil || path.serverName == server, let health = path.health else { return nil }
                return .init(server: path.serverName, path: path.name, verdict: health.verdict, causes: health.causes)
            }
            let ranks = HealthRanking.rank(events: events, current: current, from: from, to: now)
            if format == .csv { return APIServer.csv(Self.csv(ranks, window: window), filename: "health.csv") }
            var w = JSONWriter(capacity: 256 + ranks.count * 200)
            w.beginObject()
            w.key("from"); w.int(from)
            w.key("to"); w.int(now)
            w.key("windowMs"); w.int(window)
            w.key("truncated"); w.bool(truncated)
            w.key("streams")
            w.beginArray()
            for rank in ranks {
                w.beginObject()
                w.key("server"); w.string(rank.server)
                w.key("path"); w.string(rank.path)
                w.key("verdict"); w.string(rank.verdict.rawValue)
                w.key("unhealthyMs"); w.int(rank.unhealthyMs)
                w.key("share"); w.number(Double(rank.unhealthyMs) / Double(window), decimals: 4)
                w.key("degradedMs"); w.int(rank.degradedMs)
                w.key("badMs"); w.int(rank.badMs)
                w.key("changes"); w.int(rank.changes)
                w.key("causes")
                w.beginObject()
                for (cause, ms) in rank.causes.sorted(by: { ($1.value, $0.key.rawValue) < ($0.value, $1.key.rawValue) }) {
                    w.dynamicKey(cause.rawValue)
                    w.int(ms)
                }
                w.endObject()
                w.endObject()
            }
            w.endArray()
            w.endObject()
            return APIServer.json(w)
        }
    }

    static func csv(_ ranks: [HealthRank], window: Int64) -> [UInt8] {
        var out = CSVWriter()
        out.raw("server,path,verdict,unhealthy_s,share,degraded_s,bad_s,changes,causes\n")
        for rank in ranks {
            out.field(rank.server)
            out.field(rank.path)
            out.field(rank.verdict.rawValue)
            out.field(seconds(rank.unhealthyMs))
            out.field(String(Double(rank.unhealthyMs * 10_000 / window) / 10_000))
            out.field(seconds(rank.degradedMs))
            out.field(seconds(rank.badMs))
            out.field(String(rank.changes))
            out.field(rank.causes.sorted { $0.key.rawValue < $1.key.rawValue }
                .map { "\($0.key.rawValue):\(seconds($0.value))" }.joined(separator: ";"), last: true)
        }
        return out.bytes
    }

    static func seconds(_ ms: Int64) -> String {
        ms % 1_000 == 0 ? String(ms / 1_000) : String(Double(ms) / 1_000)
    }
}
