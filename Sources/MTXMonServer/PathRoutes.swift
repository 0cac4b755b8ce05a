import HistoryStore
import Hummingbird
import MTXMonCore

/// `GET /api/v1/paths` and `GET /api/v1/paths/{name…}`: the latest snapshot.
struct PathRoutes: Sendable {
    let environment: APIEnvironment

    func add(to router: Router<APIRequestContext>) {
        router.get("/api/v1/paths") { _, _ -> Response in
            let (snapshot, source) = try await shown()
            let historyFrom = try? await environment.store.readOffThread { try $0.firstPoll() }
            var writer = JSONWriter(capacity: 256 * (snapshot?.paths.count ?? 1))
            writer.beginObject()
            header(&writer, snapshot, source)
            writer.key("historyFrom")
            writer.int(historyFrom ?? nil)
            writer.key("paths")
            writer.beginArray()
            let byPath = Self.connectionsByPath(snapshot)
            for path in snapshot?.paths ?? [] { Self.write(path, connections: byPath[path.name] ?? [], to: &writer) }
            writer.endArray()
            writer.endObject()
            return APIServer.json(writer)
        }
        router.get("/api/v1/paths/**") { _, context -> Response in
            let name = try RequestInput.pathName(context)
            let (snapshot, source) = try await shown()
            // `…/connections` names a path's connections, unless a path has that very name.
            if snapshot?.path(named: name) == nil, name.hasSuffix("/connections") {
                return try await ConnectionRoutes(environment: environment)
                    .current(String(name.dropLast("/connections".count)), snapshot: snapshot)
            }
            guard let path = snapshot?.path(named: name) else {
                throw APIError(.notFound, "unknown_path", snapshot == nil
                    ? "no snapshot yet, so no path '\(name)': is the collector running? See GET /healthz"
                    : "no path '\(name)' in the latest snapshot: list the paths with GET /api/v1/paths")
            }
            var writer = JSONWriter()
            writer.beginObject()
            header(&writer, snapshot, source)
            writer.key("path")
            Self.write(path, connections: snapshot?.connections(of: name) ?? [], to: &writer)
            writer.endObject()
            return APIServer.json(writer)
        }
    }

    enum Source: String { case cache, history, none }

    /// The latest snapshot as it may be shown now: past 3 intervals it no longer vouches for
    /// anything, so every path is `unknown` (its last figures in `lastSeen`) rather than shown
    /// online at its last bitrate.
    func shown() async throws -> (Snapshot?, Source) {
        let (snapshot, source) = try await latest()
        guard let snapshot, isStale(snapshot) else { return (snapshot, source) }
        return (snapshot.unknown(), source)
    }

    func isStale(_ snapshot: Snapshot) -> Bool {
        environment.now() - snapshot.ts > APIEnvironment.staleAfterIntervals * environment.intervalMs
    }

    /// The cache's snapshot, or, when it has none or cannot be reached, the last poll in the
    /// history file: an expired Redis key must not hide what mtxmon last knew.
    func latest() async throws -> (Snapshot?, Source) {
        if let snapshot = try? await environment.cache.latest() { return (snapshot, .cache) }
        do {
            let forget = environment.forgetAfterMs
            let snapshot = try await environment.store.readOffThread { try $0.latestSnapshot(forgetAfterMs: forget) }
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
        let age = snapshot.map { environment.now() - $0.ts }
        writer.bool(age.map { $0 > APIEnvironment.staleAfterIntervals * environment.intervalMs } ?? true)
        writer.key("source")
        writer.string(source.rawValue)
        writer.key("serverVersion")
        writer.string(snapshot?.serverVersion)
        writer.key("serverVersionNote")
        writer.string(snapshot?.serverVersionNote)
        writer.key("reachable")
        if let snapshot { writer.bool(snapshot.answered) } else { writer.null() }
        writer.key("error")
        writer.string(snapshot?.error)
    }

    /// Each path's connections, publisher first.
    static func connectionsByPath(_ snapshot: Snapshot?) -> [String: [ConnectionSample]] {
        var byPath: [String: [ConnectionSample]] = [:]
        for connection in snapshot?.connections ?? [] {
            guard let path = connection.path else { continue }
            byPath[path, default: []].append(connection)
        }
        for (path, list) in byPath {
            byPath[path] = list.sorted { ($0.role == .publisher ? 0 : 1, $0.id) < ($1.role == .publisher ? 0 : 1, $1.id) }
        }
        return byPath
    }

    static func write(_ path: PathSample, connections: [ConnectionSample], to writer: inout JSONWriter) {
        writer.beginObject()
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
}
