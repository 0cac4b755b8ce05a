import CSQLite
import Foundation
import History
import HistoryChunks
import MTXMonCore

/// Connection rows: written with the poll's samples, read by the connections API.
enum ConnectionRows {
    /// The connection's row (created on its first poll), its key. A connection may name its
    /// path only after its first polls (an RTMP publisher is `idle` with no path for its first
    /// seconds), so a path seen later is recorded then; a poll without one keeps the stored path.
    ///
    /// A connection polled again with the same role and path costs nothing here: its
    /// `last_ts_ms` is brought up to date when its rows are sealed. The cache only saves the
    /// upsert and the lookup: an id it has forgotten is found again by its `UNIQUE` id in the
    /// table, so it keeps its key and row.
    static func key(_ c: ConnectionSample, serverID: Int64, pathID: Int64?, ts: Int64, _ db: SQLiteConnection,
                    cache: inout ConnectionKeyCache) throws(SQLiteError) -> Int64 {
        let cached = ConnectionKeyCache.id(c.id, serverID: serverID)
        if let known = cache.entry(for: cached) {
            if known.role == c.role.rawValue && (pathID == nil || pathID == known.pathID) { return known.key }
            let touch = try db.cached("""
                UPDATE connection SET last_ts_ms = max(last_ts_ms, ?2), role = ?3, path_id = coalesce(?4, path_id)
                WHERE key = ?1
                """)
            touch.bind(1, known.key)
            touch.bind(2, ts)
            touch.bind(3, c.role.rawValue)
            touch.bind(4, pathID)
            try touch.run()
            // `mtxmon prune` may have deleted the row of a connection long gone that came back.
            if db.changes == 1 {
                cache.remember(.init(key: known.key, role: c.role.rawValue, pathID: pathID ?? known.pathID), for: cached)
                return known.key
            }
            cache.forget(cached)
        }
        let upsert = try db.cached("""
            INSERT INTO connection (id, protocol, role, path_id, remote_addr, user_agent, first_ts_ms, last_ts_ms, server_id)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8)
            ON CONFLICT (server_id, id) DO UPDATE SET last_ts_ms = max(last_ts_ms, excluded.last_ts_ms), role = excluded.role,
                path_id = coalesce(excluded.path_id, path_id)
            """)
        upsert.bind(1, storedID(c.id))
        upsert.bind(2, c.proto.rawValue)
        upsert.bind(3, c.role.rawValue)
        upsert.bind(4, pathID)
        upsert.bind(5, c.remoteAddr)
        upsert.bind(6, c.userAgent)
        upsert.bind(7, ts)
        upsert.bind(8, serverID)
        try upsert.run()
        let select = try db.cached("SELECT key, path_id FROM connection WHERE server_id = ? AND id = ?")
        select.bind(1, serverID)
        select.bind(2, storedID(c.id))
        defer { select.reset() }
        guard try select.step() else {
            throw SQLiteError(code: SQLITE_INTERNAL, message: "connection row missing after insert", context: c.id)
        }
        let key = select.int64(0)
        cache.remember(.init(key: key, role: c.role.rawValue, pathID: select.optionalInt64(1)), for: cached)
        return key
    }

    /// The id as the schema stores it: at most 256 characters as SQLite counts them (code
    /// points; a `Character` may hold several).
    static func storedID(_ id: String) -> String {
        id.unicodeScalars.count <= 256 ? id : String(String.UnicodeScalarView(id.unicodeScalars.prefix(256)))
    }
}

/// The writer's memory of connection keys, so that a connection polled again costs no SQL.
///
/// Viewers come and go all day, each under a connection id of its own, so an id not seen for
/// `forgetAfterPolls` to twice as many polls is forgotten: the memory holds the connections of
/// the last polls, not every one since the writer opened. Two generations swapped every
/// `forgetAfterPolls` polls do that without scanning the entries.
struct ConnectionKeyCache {
    struct Entry {
        var key: Int64
        var role: String
        var pathID: Int64?
    }

    /// A minute of polls at the default interval: a connection missing from a poll or two
    /// (a failed poll, a reader reconnecting) is still remembered.
    static let forgetAfterPolls = 30

    private var recent: [String: Entry] = [:]
    private var older: [String: Entry] = [:]
    private var pollsSinceSwap = 0

    /// The cache's name for a connection: its id, prefixed by its server's row for servers
    /// other than the `default` one (whose ids stay as they are, at no cost).
    static func id(_ id: String, serverID: Int64) -> String {
        serverID == 1 ? id : "\(serverID)\u{0}\(id)"
    }

    mutating func entry(for id: String) -> Entry? {
        if let entry = recent[id] { return entry }
        guard let entry = older.removeValue(forKey: id) else { return nil }
        recent[id] = entry
        return entry
    }

    mutating func remember(_ entry: Entry, for id: String) {
        recent[id] = entry
    }

    mutating func forget(_ id: String) {
        recent.removeValue(forKey: id)
        older.removeValue(forKey: id)
    }

    /// Called once per poll written with a snapshot, whether or not it had connections.
    mutating func endPoll() {
        pollsSinceSwap += 1
        guard pollsSinceSwap >= Self.forgetAfterPolls else { return }
        pollsSinceSwap = 0
        older = recent
        recent = [:]
    }

    mutating func removeAll() {
        recent.removeAll()
        older.removeAll()
    }

    var count: Int { recent.count + older.count }
}

/// A connection's identity with the key of its rows in the file.
@dynamicMemberLookup
struct KeyedConnection {
    var key: Int64
    var info: ConnectionInfo

    subscript<T>(dynamicMember member: KeyPath<ConnectionInfo, T>) -> T { info[keyPath: member] }
}

extension ReadConnection {
    func connectionKeys(firstSeenBefore: Int64) throws -> [Int64] {
        let s = try connection.cached("SELECT key FROM connection WHERE first_ts_ms < ?")
        s.bind(1, firstSeenBefore)
        defer { s.reset() }
        var keys: [Int64] = []
        while try s.step() { keys.append(s.int64(0)) }
        return keys
    }

    /// The connection with MediaMTX's `id`, on `server` or on the one server that has it
    /// (several throw `AmbiguousPath`: ids are MediaMTX's own, and two servers may share one).
    public func connection(id: String, server: String? = nil) throws -> ConnectionInfo? {
        try keyedConnection(id: id, server: server)?.info
    }

    /// `connection(id:server:)` with the row's key, which reads of its polls need.
    /// The file's key for MediaMTX's connection `id` on `server`, without its description: what a
    /// history read needs, one indexed lookup.
    func connectionKey(id: String, server: String) throws -> Int64? {
        let s = try connection.cached("""
            SELECT c.key FROM connection AS c JOIN server AS v ON v.id = c.server_id WHERE c.id = ?1 AND v.name = ?2
            """)
        s.bind(1, id)
        s.bind(2, server)
        defer { s.reset() }
        return try s.step() ? s.int64(0) : nil
    }

    func keyedConnection(id: String, server: String? = nil) throws -> KeyedConnection? {
        let s = try connection.cached("""
            SELECT c.key, c.id, c.protocol, c.role, p.name, c.remote_addr, c.user_agent, c.first_ts_ms, c.last_ts_ms,
                   c.path_id, v.name
            FROM connection AS c LEFT JOIN path AS p ON p.id = c.path_id JOIN server AS v ON v.id = c.server_id
            WHERE c.id = ?1 AND (?2 IS NULL OR v.name = ?2) ORDER BY v.name
            """)
        s.bind(1, id)
        s.bind(2, server)
        defer { s.reset() }
        guard try s.step() else { return nil }
        let key = s.int64(0)
        var info = ConnectionInfo(server: s.string(10) ?? ServerName.default, id: s.string(1) ?? id,
                                  proto: s.string(2) ?? "", role: s.string(3) ?? "", path: s.string(4),
                                  remoteAddr: s.string(5), userAgent: s.string(6), firstTs: s.int64(7),
                                  lastTs: s.int64(8))
        let pathID = s.optionalInt64(9)
        if try s.step() {
            var servers = [info.server]
            repeat { servers.append(s.string(10) ?? "") } while try s.step()
            throw AmbiguousPath("connection", name: id, servers: servers)
        }
        // `last_ts_ms` is brought up to date when rows are sealed; recent polls may be newer. Only
        // their times are needed: read no further than the first figure, and no sealed chunk.
        let sealed = try watermarks().sealedUntil
        if let newest = try storedConnection(key: key, pathID: pathID, from: max(info.lastTs, sealed + 1),
                                             to: .max, through: .bitrateIn).last {
            info.lastTs = max(info.lastTs, newest.ts)
        }
        return KeyedConnection(key: key, info: info)
    }

    /// The path a connection's rows are kept under.
    func connectionPathID(key: Int64) throws -> Int64? {
        let s = try connection.cached("SELECT path_id FROM connection WHERE key = ?")
        s.bind(1, key)
        defer { s.reset() }
        return try s.step() ? s.optionalInt64(0) : nil
    }

    /// The stored polls of one connection in `[from, to]`, in time order.
    /// With `through`, sealed polls carry only the figures up to that column (see `ConnectionColumn`).
    public func connectionPoints(key: Int64, from: Int64, to: Int64,
                                 through: ConnectionColumn = .counters) throws -> [ConnectionPoint] {
        try storedConnection(key: key, pathID: try connectionPathID(key: key), from: from, to: to, through: through,
                             ts: \.t, row: \.point, fromBlock: { $0.point($1) })
    }

    /// One point per minute of a connection in `[from, to]`, from its rollups: averages of the
    /// gauges (maxima are not kept per point), sums of the per-poll increases.
    public func connectionMinutes(key: Int64, from: Int64, to: Int64) throws -> [ConnectionPoint] {
        try connectionMinuteRows(key: key, from: from, to: to).map(\.point)
    }

    /// The minute rollups of a connection in `[from, to]` with their gauges' sums, counts and
    /// extremes, so that a bucket of several minutes weighs each minute by its polls and can
    /// answer `min` and `max`.
    /// With `through`, the minutes after the last roll-up, folded from raw polls, carry only the
    /// figures up to that column, as raw answers do.
    public func connectionMinuteRows(key: Int64, from: Int64, to: Int64,
                                     through: ConnectionColumn = .counters) throws -> [ConnectionMinute] {
        let s = try connection.cached("""
            SELECT minute_ms, role, inbound_bytes, outbound_bytes, resets, latency_ms, lost, retransmitted, dropped,
                   samples, bitrate_in_sum, bitrate_in_n, bitrate_in_min, bitrate_in_max,
                   bitrate_out_sum, bitrate_out_n, bitrate_out_min, bitrate_out_max, rtt_sum, rtt_n, rtt_min, rtt_max
            FROM connection_1m WHERE conn_key = ? AND minute_ms BETWEEN ? AND ? ORDER BY minute_ms
            """)
        s.bind(1, key)
        s.bind(2, from - from % 60_000)
        s.bind(3, to)
        defer { s.reset() }
        func gauge(_ column: Int32) -> ConnectionMinute.Gauge {
            let count = Int(s.int64(column + 1))
            return ConnectionMinute.Gauge(sum: count > 0 ? s.optionalDouble(column) ?? 0 : 0, count: count,
                                          min: s.optionalDouble(column + 2), max: s.optionalDouble(column + 3))
        }
        var minutes: [ConnectionMinute] = []
        var unsettled: [Int64: ConnectionMinute] = [:]
        let rolled = try watermarks().rolledUntil
        while try s.step() {
            let bitrateIn = gauge(10), bitrateOut = gauge(14), rtt = gauge(18)
            let point = ConnectionPoint(
                t: s.int64(0), role: s.string(1) ?? "", inboundBytes: s.int64(2), outboundBytes: s.int64(3),
                bitrateIn: bitrateIn.mean, bitrateOut: bitrateOut.mean, reset: s.int64(4) > 0, rttMs: rtt.mean,
                latencyMs: s.optionalInt64(5), lost: s.optionalInt64(6), retransmitted: s.optionalInt64(7),
                dropped: s.optionalInt64(8))
            let minute = ConnectionMinute(point: point, samples: Int(s.int64(9)), bitrateIn: bitrateIn,
                                          bitrateOut: bitrateOut, rtt: rtt)
            // A minute from the last roll-up on may have more rows to come: read raw while they are there.
            guard point.t < rolled else {
                unsettled[point.t] = minute
                continue
            }
            minutes.append(minute)
        }
        s.reset()
        // Minutes after the last roll-up, folded from the raw rows as a roll-up would fold them:
        // whole, as rolled-up minutes are, also the one `to` falls in.
        let rawFrom = max(from - from % 60_000, rolled)
        guard rawFrom <= to else { return minutes }
        let rawTo = to > .max - 60_000 ? to : to - to % 60_000 + 59_999
        var folded: [ConnectionMinuteFold] = []
        ConnectionMinuteFold.minutes(try storedConnection(key: key, pathID: try connectionPathID(key: key), from: rawFrom,
                                                          to: rawTo, through: through).lazy.map(\.row), into: &folded)
        for m in folded {
            unsettled[m.start] = nil
            minutes.append(m.minute)
        }
        // Minutes whose raw rows were pruned already: their rollups are all there is.
        minutes += unsettled.values
        return minutes.sorted { $0.point.t < $1.point.t }
    }

    /// The samples link health judges, for every connection in `ids`, over the minute before `now`,
    /// with each connection's first poll (from which its RTT settles).
    public func linkSamples(ids: [String], server: String? = nil,
                            now: Int64) throws -> [String: (firstTs: Int64, samples: [LinkSample])] {
        var result: [String: (firstTs: Int64, samples: [LinkSample])] = [:]
        for id in ids {
            guard let found = try keyedConnection(id: id, server: server) else { continue }
            result[id] = (found.info.firstTs, try connectionPoints(key: found.key, from: now - 60_000, to: now).map {
                LinkSample(ts: $0.t, rttMs: $0.rttMs, latencyMs: $0.latencyMs, lost: $0.lost,
                           retransmitted: $0.retransmitted, dropped: $0.dropped)
            })
        }
        return result
    }
}
