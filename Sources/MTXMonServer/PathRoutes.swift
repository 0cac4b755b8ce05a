import History
import Hummingbird
import MTXMonCore

/// `GET /api/v1/paths` and `GET /api/v1/paths/{name…}`: the latest snapshot.
struct PathRoutes: Sendable {
    let environment: APIEnvironment

    func add(to router: Router<APIRequestContext>) {
        router.get("/api/v1/paths") { request, _ -> Response in
            let server = try RequestInput.server(request)
            let (snapshot, source) = try await shown()
            let historyFrom = try? await environment.history.firstPollTs()
            var writer = JSONWriter(capacity: 256 * (snapshot?.paths.count ?? 1))
            writer.beginObject()
            header(&writer, snapshot, source)
            writer.key("historyFrom")
            writer.int(historyFrom ?? nil)
            writer.key("paths")
            writer.beginArray()
            let byPath = Self.connectionsByPath(snapshot)
            for path in snapshot?.paths ?? [] where server == nil || path.serverName == server {
                Self.write(path, connections: byPath[Self.key(path)] ?? [], to: &writer)
            }
            writer.endArray()
            writer.endObject()
            return APIServer.json(writer)
        }
        router.get("/api/v1/paths/**") { request, context -> Response in
            let name = try RequestInput.pathName(context)
            let server = try RequestInput.server(request)
            let (snapshot, source) = try await shown()
            // `…/connections` names a path's connections, unless a path has that very name.
            if snapshot?.path(named: name, server: server) == nil, name.hasSuffix("/connections") {
                return try await ConnectionRoutes(environment: environment)
                    .current(String(name.dropLast("/connections".count)), server: server, snapshot: snapshot)
            }
            guard let path = try Self.path(name, server: server, in: snapshot) else {
                throw APIError(.notFound, "unknown_path", snapshot == nil
                    ? "no snapshot yet, so no path '\(name)': is the collector running? See GET /healthz"
                    : "no path '\(name)'\(server.map { " on server '\($0)'" } ?? "") in the latest snapshot: "
                        + "list the paths with GET /api/v1/paths")
            }
            var writer = JSONWriter()
            writer.beginObject()
            header(&writer, snapshot, source)
            writer.key("path")
            Self.write(path, connections: snapshot?.connections(of: name, server: path.serverName) ?? [], to: &writer)
            writer.endObject()
            return APIServer.json(writer)
        }
    }

    enum Source: String { case cache, history, none }

    /// The path named `name` on `server`, or on the one server that has it; several servers
    /// with that name and no server named is a 400 listing them.
    static func path(_ name: String, server: String?, in snapshot: Snapshot?) throws -> PathSample? {
        let found = snapshot?.paths.filter { $0.name == name && (server == nil || $0.serverName == server) } ?? []
        if found.count > 1 { throw AmbiguousPath(name: name, servers: found.map(\.serverName).sorted()) }
        return found.first
    }

    /// A path's place in maps of a fleet's paths: its server and name.
    static func key(_ path: PathSample) -> String { key(server: path.server, name: path.name) }

    static func key(server: String?, name: String) -> String {
        guard let server, server != ServerName.default else { return name }
        return server + "\u{0}" + name
    }

    /// The latest snapshot as it may be shown now: past 3 intervals it no longer vouches for
    /// anything, so every path is `unknown` (its last figures in `lastSeen`) rather than shown
    /// online at its last bitrate.
    func shown() async throws -> (Snapshot?, Source) {
        let (snapshot, source) = try await latest()
        guard let snapshot else { return (nil, source) }
        return (snapshot.shown(at: environment.now(), intervalMs: environment.intervalMs), source)
    }

    /// The cache's snapshot, or, when it has none or cannot be reached, the last poll in the
    /// history file: an expired Redis key must not hide what mtxmon last knew.
    ///
    /// Servers no longer configured are left out: their history is kept, their last paths are no
    /// part of what MediaMTX serves now.
    func latest() async throws -> (Snapshot?, Source) {
        let configured = Set(environment.serverURLs.keys)
        if let snapshot = try? await environment.cache.latest() {
            return (configured.isEmpty ? snapshot : snapshot.keeping(servers: configured), .cache)
        }
        do {
            let forget = environment.forgetAfterMs
            let parts = try await environment.history.latestSnapshots(forgetAfterMs: forget)
            let snapshot = Snapshot.fleet(configured.isEmpty ? parts : parts.filter { configured.contains($0.serverName) })
            return (snapshot, snapshot == nil ? .none : .history)
        } catch {
            throw APIError(.serviceUnavailable, "history_unavailable",
                           "neither the snapshot cache nor the history file could be read (\(error)): see GET /healthz")
        }
    }

    func header(_ writer: inout JSONWriter, _ snapshot: Snapshot?, _ source: Source) {
        writer.key("ts")
        writer.int(snapshot?.ts)
        writer.key("stale")
        writer.bool(snapshot.map { !$0.cadence(fallback: environment.intervalMs).isCurrent($0.ts, at: environment.now()) }
            ?? true)
        writer.key("source")
        writer.string(source.rawValue)
        // With several servers the fields below are the fleet's (see `Snapshot.fleet`).
        writer.key("scope")
        writer.string((snapshot?.servers?.count ?? 0) > 1 ? "fleet" : "server")
        writer.key("serverVersion")
        writer.string(snapshot?.serverVersion)
        writer.key("serverVersionNote")
        writer.string(snapshot?.serverVersionNote)
        writer.key("reachable")
        if let snapshot { writer.bool(snapshot.answered) } else { writer.null() }
        writer.key("error")
        writer.string(snapshot?.error)
        writer.key("serverCounts")
        Self.counts(snapshot?.servers, now: environment.now(), intervalMs: environment.intervalMs).write(&writer)
        writer.key("servers")
        Self.writeServers(snapshot?.servers, now: environment.now(), intervalMs: environment.intervalMs, &writer)
    }

    /// The servers of a snapshot by state: `down` when its newest poll was not answered, `stale`
    /// when its newest answer is no longer current, `up` otherwise.
    static func counts(_ servers: [ServerSummary]?, now: Int64, intervalMs: Int64) -> ServerCounts {
        var counts = ServerCounts()
        for s in servers ?? [] {
            counts.add(!s.reachable ? "down" : Cadence(intervalMs: s.intervalMs ?? intervalMs).isCurrent(s.ts, at: now)
                ? "up" : "stale")
        }
        return counts
    }

    /// Each server's newest poll: `[{name, ts, stale, reachable, error, serverVersion, paths, connections,
    /// intervalMs}]`, stale by the server's own cadence (`intervalMs` for one that does not tell its own).
    static func writeServers(_ servers: [ServerSummary]?, now: Int64, intervalMs: Int64, _ writer: inout JSONWriter) {
        writer.beginArray()
        for s in servers ?? [] {
            writer.beginObject()
            writer.key("name"); writer.string(s.name)
            writer.key("ts"); writer.int(s.ts)
            let cadence = Cadence(intervalMs: s.intervalMs ?? intervalMs)
            writer.key("stale"); writer.bool(!cadence.isCurrent(s.ts, at: now))
            writer.key("reachable"); writer.bool(s.reachable)
            writer.key("error"); writer.string(s.error)
            writer.key("serverVersion"); writer.string(s.serverVersion)
            writer.key("serverVersionNote"); writer.string(s.serverVersionNote)
            writer.key("paths"); writer.int(s.paths)
            writer.key("connections"); writer.int(s.connections)
            writer.key("intervalMs"); writer.int(cadence.intervalMs)
            writer.endObject()
        }
        writer.endArray()
    }

    /// Each path's connections, publisher first, by `key(server:name:)`.
    static func connectionsByPath(_ snapshot: Snapshot?) -> [String: [ConnectionSample]] {
        var byPath: [String: [ConnectionSample]] = [:]
        for connection in snapshot?.connections ?? [] {
            guard let path = connection.path else { continue }
            byPath[key(server: connection.server, name: path), default: []].append(connection)
        }
        for (path, list) in byPath {
            byPath[path] = list.sorted { ($0.role == .publisher ? 0 : 1, $0.id) < ($1.role == .publisher ? 0 : 1, $1.id) }
        }
        return byPath
    }

    static func write(_ path: PathSample, connections: [ConnectionSample], to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("server")
        writer.string(path.serverName)
        writer.key("name")
        writer.string(path.name)
        let state = path.currentState
        writer.key("state")
        writer.string(state.rawValue)
        writer.key("since")
        writer.int(path.since)
        // Kept for clients written before `state`: true only when the path is online now.
        writer.key("online")
        writer.bool(state == .online)
        writer.key("sourceType")
        writer.string(path.sourceType)
        writer.key("bitrateIn")
        writer.number(state == .online ? path.bitrateIn : nil, decimals: 0)
        writer.key("bitrateOut")
        writer.number(state == .online ? path.bitrateOut : nil, decimals: 0)
        writer.key("lastSeen")
        if let seen = path.lastSeen {
            writer.beginObject()
            writer.key("ts"); writer.int(seen.ts)
            writer.key("bitrateIn"); writer.number(seen.bitrateIn, decimals: 0)
            writer.key("bitrateOut"); writer.number(seen.bitrateOut, decimals: 0)
            writer.key("readers"); writer.int(seen.readers)
            writer.endObject()
        } else {
            writer.null()
        }
        writer.key("readers")
        writer.int(path.readers)
        writer.key("readersByType")
        writer.beginObject()
        for (type, count) in path.readersByType.sorted(by: { $0.key < $1.key }) {
            writer.dynamicKey(type)
            writer.int(count)
        }
        writer.endObject()
        writer.key("hiddenReaders")
        writer.int(path.hiddenReaders ?? 0)
        writer.key("available")
        if let available = path.available { writer.bool(available) } else { writer.null() }
        writer.key("health")
        writeHealth(path.health, &writer)
        writer.key("hls")
        if let hls = path.hls {
            writer.beginObject()
            writer.key("outboundBytes"); writer.int(hls.outboundBytes)
            writer.key("bitrateOut"); writer.number(hls.bitrateOut, decimals: 0)
            writer.key("framesDiscarded"); writer.int(hls.framesDiscarded)
            writer.endObject()
        } else {
            writer.null()
        }
        writer.key("forwards")
        writer.beginArray()
        for dest in path.forwards ?? [] {
            writer.beginObject()
            writer.key("id"); writer.string(dest.id)
            writer.key("pos"); writer.int(dest.pos)
            writer.key("type"); writer.string(dest.type)
            writer.key("state"); writer.string(dest.state)
            writer.key("outboundBytes"); writer.int(dest.outboundBytes)
            writer.key("bitrateOut"); writer.number(dest.bitrateOut, decimals: 0)
            writer.key("readAt"); writer.int(dest.readAt)
            writer.key("error"); writer.string(dest.error)
            writer.endObject()
        }
        writer.endArray()
        writer.key("inboundBytes")
        writer.int(path.inboundBytes)
        writer.key("outboundBytes")
        writer.int(path.outboundBytes)
        writer.key("inboundFramesInError")
        writer.int(path.inboundFramesInError)
        writer.key("reset")
        writer.bool(path.reset)
        writer.key("srt")
        if let srt = path.srt {
            writer.beginObject()
            writer.key("rttMs")
            writer.number(srt.rttMs)
            writer.key("recvRateMbps")
            writer.number(srt.recvRateMbps)
            writer.key("linkCapacityMbps")
            writer.number(srt.linkCapacityMbps)
            writer.key("tsbpdDelayMs")
            writer.int(srt.tsbpdDelayMs)
            writer.key("packetsReceived")
            writer.int(srt.packetsReceived)
            writer.key("packetsLost")
            writer.int(srt.packetsReceivedLoss)
            writer.key("packetsRetransmitted")
            writer.int(srt.packetsReceivedRetrans)
            writer.key("packetsDropped")
            writer.int(srt.packetsReceivedDrop)
            writer.endObject()
        } else {
            writer.null()
        }
        writer.key("connections")
        writer.beginArray()
        for connection in connections { ConnectionRoutes.write(connection, full: false, &writer) }
        writer.endArray()
        writer.endObject()
    }

    /// A stream's verdict, its reasons and its readers in trouble; `null` where it was not judged.
    static func writeHealth(_ health: StreamHealth?, _ writer: inout JSONWriter) {
        guard let health else { return writer.null() }
        writer.beginObject()
        writer.key("verdict"); writer.string(health.verdict.rawValue)
        writer.key("reasons")
        writer.beginArray()
        for reason in health.reasons {
            writer.beginObject()
            writer.key("cause"); writer.string(reason.cause.rawValue)
            writer.key("verdict"); writer.string(reason.verdict.rawValue)
            writer.key("value"); writer.number(reason.value)
            writer.key("unit"); writer.string(reason.unit)
            writer.key("text"); writer.string(reason.text)
            writer.key("hint"); writer.string(reason.hint)
            writer.endObject()
        }
        writer.endArray()
        writer.key("readers")
        writer.beginArray()
        for issue in health.readers {
            writer.beginObject()
            writer.key("connection"); writer.string(issue.connection)
            writer.key("protocol"); writer.string(issue.proto.rawValue)
            writer.key("remoteAddr"); writer.string(issue.remoteAddr)
            writer.key("cause"); writer.string(issue.cause.rawValue)
            writer.key("value"); writer.number(issue.value)
            writer.key("text"); writer.string(issue.text)
            writer.key("hint"); writer.string(issue.hint)
            writer.endObject()
        }
        writer.endArray()
        writer.key("rates")
        if let rates = health.rates {
            writer.beginObject()
            writer.key("windowMs"); writer.int(rates.windowMs)
            writer.key("rtpLossPercent"); writer.number(rates.rtpLossPercent)
            writer.key("rtpErrorPercent"); writer.number(rates.rtpErrorPercent)
            writer.key("srtDropPercent"); writer.number(rates.srtDropPercent)
            writer.key("framesInError"); writer.int(rates.framesInError)
            writer.endObject()
        } else {
            writer.null()
        }
        writer.endObject()
    }
}
