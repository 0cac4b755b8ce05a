import CSQLite
import Foundation
import MTXMonCore

/// Connection rows: written with the poll's samples, read by the connections API.
enum ConnectionRows {
    /// The connection's row (created on its first poll), its key. A connection may name its
    /// path only after its first polls (an RTMP publisher is `idle` with no path for its first
    /// seconds), so a path seen later is recorded then; a poll without one keeps the stored path.
    ///
    /// The cache only saves the upsert and the lookup: an id it has forgotten is found again by
    /// its `UNIQUE` id in the table, so it keeps its key and row.
    static func key(_ c: ConnectionSample, pathID: Int64?, ts: Int64, _ db: SQLiteConnection,
                    cache: inout ConnectionKeyCache) throws(SQLiteError) -> Int64 {
        if let key = cache.key(for: c.id) {
            let touch = try db.cached("""
                UPDATE connection SET last_ts_ms = max(last_ts_ms, ?2), role = ?3, path_id = coalesce(?4, path_id)
                WHERE key = ?1
                """)
            touch.bind(1, key)
            touch.bind(2, ts)
            touch.bind(3, c.role.rawValue)
            touch.bind(4, pathID)
            try touch.run()
            // `mtxmon prune` may have deleted the row of a connection long gone that came back.
            if db.changes == 1 { return key }
            cache.forget(c.id)
        }
        let upsert = try db.cached("""
            INSERT INTO connection (id, protocol, role, path_id, remote_addr, user_agent, first_ts_ms, last_ts_ms)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
            ON CONFLICT (id) DO UPDATE SET last_ts_ms = max(last_ts_ms, excluded.last_ts_ms), role = excluded.role,
                path_id = coalesce(excluded.path_id, path_id)
            """)
        upsert.bind(1, storedID(c.id))
        upsert.bind(2, c.proto.rawValue)
        upsert.bind(3, c.role.rawValue)
        upsert.bind(4, pathID)
        upsert.bind(5, c.remoteAddr)
        upsert.bind(6, c.userAgent)
        upsert.bind(7, ts)
        try upsert.run()
        let select = try db.cached("SELECT key FROM connection WHERE id = ?")
        select.bind(1, storedID(c.id))
        defer { select.reset() }
        guard try select.step() else {
            throw SQLiteError(code: SQLITE_INTERNAL, message: "connection row missing after insert", context: c.id)
        }
        let key = select.int64(0)
        cache.remember(key, for: c.id)
        return key
    }

    /// The id as the schema stores it: at most 256 characters as SQLite counts them (code
    /// points; a `Character` may hold several).
    static func storedID(_ id: String) -> String {
        id.unicodeScalars.count <= 256 ? id : String(String.UnicodeScalarView(id.unicodeScalars.prefix(256)))
    }

    static func insert(_ c: ConnectionSample, key: Int64, ts: Int64, _ db: SQLiteConnection) throws(SQLiteError) {
        let statement = try db.cached("""
            INSERT INTO connection_sample (conn_key, ts_ms, role, inbound_bytes, outbound_bytes, bitrate_in_bps,
                bitrate_out_bps, reset, rtt_ms, recv_rate_mbps, send_rate_mbps, link_capacity_mbps, latency_ms, jitter,
                lost, retransmitted, dropped, deltas, counters)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (conn_key, ts_ms) DO NOTHING
            """)
        statement.bind(1, key)
        statement.bind(2, ts)
        statement.bind(3, c.role.rawValue)
        statement.bind(4, max(0, c.inboundBytes))
        statement.bind(5, max(0, c.outboundBytes))
        statement.bind(6, c.bitrateIn)
        statement.bind(7, c.bitrateOut)
        statement.bind(8, c.reset)
        statement.bind(9, c.rttMs)
        statement.bind(10, c.recvRateMbps)
        statement.bind(11, c.sendRateMbps)
        statement.bind(12, c.linkCapacityMbps)
        statement.bind(13, c.latencyMs)
        statement.bind(14, c.jitter)
        statement.bind(15, c.deltas?.lost(c.role))
        statement.bind(16, c.deltas?.retransmitted(c.role))
        statement.bind(17, c.deltas?.dropped(c.role))
        statement.bind(18, c.deltas.flatMap(json))
        statement.bind(19, json(c.counters))
        try statement.run()
        guard db.changes == 1 else { return }  // a retried write adds nothing to its minute
        let minute = try db.cached("""
            INSERT INTO connection_1m (conn_key, minute_ms, samples, last_ts_ms, role, inbound_bytes, outbound_bytes,
                resets, bitrate_in_sum, bitrate_in_n, bitrate_in_min, bitrate_in_max, bitrate_out_sum, bitrate_out_n,
                bitrate_out_min, bitrate_out_max, rtt_sum, rtt_n, rtt_min, rtt_max, latency_ms, lost, retransmitted,
                dropped)
            SELECT conn_key, ts_ms - ts_ms % 60000, 1, ts_ms, role, inbound_bytes, outbound_bytes, reset,
                   bitrate_in_bps, bitrate_in_bps IS NOT NULL, bitrate_in_bps, bitrate_in_bps,
                   bitrate_out_bps, bitrate_out_bps IS NOT NULL, bitrate_out_bps, bitrate_out_bps,
                   rtt_ms, rtt_ms IS NOT NULL, rtt_ms, rtt_ms, latency_ms, lost, retransmitted, dropped
            FROM connection_sample WHERE conn_key = ?1 AND ts_ms = ?2
            ON CONFLICT (conn_key, minute_ms) DO UPDATE SET
                samples = samples + 1,
                role = CASE WHEN excluded.last_ts_ms >= last_ts_ms THEN excluded.role ELSE role END,
                inbound_bytes = CASE WHEN excluded.last_ts_ms >= last_ts_ms THEN excluded.inbound_bytes ELSE inbound_bytes END,
                outbound_bytes = CASE WHEN excluded.last_ts_ms >= last_ts_ms THEN excluded.outbound_bytes ELSE outbound_bytes END,
                latency_ms = CASE WHEN excluded.last_ts_ms >= last_ts_ms AND excluded.latency_ms IS NOT NULL
                                  THEN excluded.latency_ms ELSE latency_ms END,
                last_ts_ms = max(last_ts_ms, excluded.last_ts_ms),
                resets = resets + excluded.resets,
                bitrate_in_sum = coalesce(bitrate_in_sum, 0) + coalesce(excluded.bitrate_in_sum, 0),
                bitrate_in_n = bitrate_in_n + excluded.bitrate_in_n,
                bitrate_in_min = min(coalesce(bitrate_in_min, excluded.bitrate_in_min), coalesce(excluded.bitrate_in_min, bitrate_in_min)),
                bitrate_in_max = max(coalesce(bitrate_in_max, excluded.bitrate_in_max), coalesce(excluded.bitrate_in_max, bitrate_in_max)),
                bitrate_out_sum = coalesce(bitrate_out_sum, 0) + coalesce(excluded.bitrate_out_sum, 0),
                bitrate_out_n = bitrate_out_n + excluded.bitrate_out_n,
                bitrate_out_min = min(coalesce(bitrate_out_min, excluded.bitrate_out_min), coalesce(excluded.bitrate_out_min, bitrate_out_min)),
                bitrate_out_max = max(coalesce(bitrate_out_max, excluded.bitrate_out_max), coalesce(excluded.bitrate_out_max, bitrate_out_max)),
                rtt_sum = coalesce(rtt_sum, 0) + coalesce(excluded.rtt_sum, 0),
                rtt_n = rtt_n + excluded.rtt_n,
                rtt_min = min(coalesce(rtt_min, excluded.rtt_min), coalesce(excluded.rtt_min, rtt_min)),
                rtt_max = max(coalesce(rtt_max, excluded.rtt_max), coalesce(excluded.rtt_max, rtt_max)),
                lost = CASE WHEN excluded.lost IS NULL THEN lost ELSE coalesce(lost, 0) + excluded.lost END,
                retransmitted = CASE WHEN excluded.retransmitted IS NULL THEN retransmitted
                                     ELSE coalesce(retransmitted, 0) + excluded.retransmitted END,
                dropped = CASE WHEN excluded.dropped IS NULL THEN dropped ELSE coalesce(dropped, 0) + excluded.dropped END
            """)
        // The row just written, folded into its minute.
        minute.bind(1, key)
        minute.bind(2, ts)
        try minute.run()
    }

    static func json(_ counters: ConnectionCounters) -> String? {
        guard let data = try? encoder.encode(counters), data.count > 2 else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()
}

/// The writer's memory of connection keys, so that a connection polled again costs one
/// `UPDATE` rather than an upsert and a lookup.
///
/// Viewers come and go all day, each under a connection id of its own, so an id not seen for
/// `forgetAfterPolls` to twice as many polls is forgotten: the memory holds the connections of
/// the last polls, not every one since the writer opened. Two generations swapped every
/// `forgetAfterPolls` polls do that without scanning the entries.
struct ConnectionKeyCache {
    /// A minute of polls at the default interval: a connection missing from a poll or two
    /// (a failed poll, a reader reconnecting) is still remembered.
    static let forgetAfterPolls = 30

    private var recent: [String: Int64] = [:]
    private var older: [String: Int64] = [:]
    private var pollsSinceSwap = 0

    mutating func key(for id: String) -> Int64? {
        if let key = recent[id] { return key }
        guard let key = older.removeValue(forKey: id) else { return nil }
        recent[id] = key
        return key
    }

    mutating func remember(_ key: Int64, for id: String) {
        recent[id] = key
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

/// One stored poll of a connection.
public struct ConnectionPoint: Sendable, Equatable {
    public var t: Int64
    public var role: String
    public var inboundBytes: Int64
    public var outboundBytes: Int64
    public var bitrateIn: Double?
    public var bitrateOut: Double?
    public var reset: Bool
    public var rttMs: Double?
    public var recvRateMbps: Double?
    public var sendRateMbps: Double?
    public var linkCapacityMbps: Double?
    public var latencyMs: Int64?
    public var jitter: Double?
    public var lost: Int64?
    public var retransmitted: Int64?
    public var dropped: Int64?
}

/// One minute rollup of a connection. It keeps sums, counts and extremes of the bitrates and
/// the RTT only: receive and send rate, link capacity and jitter are not rolled up, and no
/// gauge keeps its last value.
public struct ConnectionMinute: Sendable, Equatable {
    public struct Gauge: Sendable, Equatable {
        public var sum: Double
        /// Polls of the minute that reported the figure.
        public var count: Int
        public var min: Double?
        public var max: Double?

        public var mean: Double? { count > 0 ? sum / Double(count) : nil }
    }

    /// The minute's start, its averages, its counters at its newest poll, its summed increases.
    public var point: ConnectionPoint
    public var samples: Int
    public var bitrateIn: Gauge
    public var bitrateOut: Gauge
    public var rtt: Gauge
}

/// A connection's identity as stored.
public struct ConnectionInfo: Sendable, Equatable {
    public var key: Int64
    public var id: String
    public var proto: String
    public var role: String
    public var path: String?
    public var remoteAddr: String?
    public var userAgent: String?
    public var firstTs: Int64
    public var lastTs: Int64
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

    public func connection(id: String) throws -> ConnectionInfo? {
        let s = try connection.cached("""
            SELECT c.key, c.id, c.protocol, c.role, p.name, c.remote_addr, c.user_agent, c.first_ts_ms, c.last_ts_ms
            FROM connection AS c LEFT JOIN path AS p ON p.id = c.path_id WHERE c.id = ?
            """)
        s.bind(1, id)
        defer { s.reset() }
        guard try s.step() else { return nil }
        return ConnectionInfo(key: s.int64(0), id: s.string(1) ?? id, proto: s.string(2) ?? "", role: s.string(3) ?? "",
                              path: s.string(4), remoteAddr: s.string(5), userAgent: s.string(6), firstTs: s.int64(7),
                              lastTs: s.int64(8))
    }

    /// The stored polls of one connection in `[from, to]`, in time order.
    public func connectionPoints(key: Int64, from: Int64, to: Int64) throws -> [ConnectionPoint] {
        let s = try connection.cached("""
            SELECT ts_ms, role, inbound_bytes, outbound_bytes, bitrate_in_bps, bitrate_out_bps, reset, rtt_ms,
                   recv_rate_mbps, send_rate_mbps, link_capacity_mbps, latency_ms, jitter, lost, retransmitted, dropped
            FROM connection_sample WHERE conn_key = ? AND ts_ms BETWEEN ? AND ? ORDER BY ts_ms
            """)
        s.bind(1, key)
        s.bind(2, from)
        s.bind(3, to)
        defer { s.reset() }
        var points: [ConnectionPoint] = []
        while try s.step() {
            points.append(ConnectionPoint(
                t: s.int64(0), role: s.string(1) ?? "", inboundBytes: s.int64(2), outboundBytes: s.int64(3),
                bitrateIn: s.optionalDouble(4), bitrateOut: s.optionalDouble(5), reset: s.int64(6) != 0,
                rttMs: s.optionalDouble(7), recvRateMbps: s.optionalDouble(8), sendRateMbps: s.optionalDouble(9),
                linkCapacityMbps: s.optionalDouble(10), latencyMs: s.optionalInt64(11), jitter: s.optionalDouble(12),
                lost: s.optionalInt64(13), retransmitted: s.optionalInt64(14), dropped: s.optionalInt64(15)))
        }
        return points
    }

    /// One point per minute of a connection in `[from, to]`, from its rollups: averages of the
    /// gauges (maxima are not kept per point), sums of the per-poll increases.
    public func connectionMinutes(key: Int64, from: Int64, to: Int64) throws -> [ConnectionPoint] {
        try connectionMinuteRows(key: key, from: from, to: to).map(\.point)
    }

    /// The minute rollups of a connection in `[from, to]` with their gauges' sums, counts and
    /// extremes, so that a bucket of several minutes weighs each minute by its polls and can
    /// answer `min` and `max`.
    public func connectionMinuteRows(key: Int64, from: Int64, to: Int64) throws -> [ConnectionMinute] {
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
        while try s.step() {
            let bitrateIn = gauge(10), bitrateOut = gauge(14), rtt = gauge(18)
            let point = ConnectionPoint(
                t: s.int64(0), role: s.string(1) ?? "", inboundBytes: s.int64(2), outboundBytes: s.int64(3),
                bitrateIn: bitrateIn.mean, bitrateOut: bitrateOut.mean, reset: s.int64(4) > 0, rttMs: rtt.mean,
                latencyMs: s.optionalInt64(5), lost: s.optionalInt64(6), retransmitted: s.optionalInt64(7),
                dropped: s.optionalInt64(8))
            minutes.append(ConnectionMinute(point: point, samples: Int(s.int64(9)), bitrateIn: bitrateIn,
                                            bitrateOut: bitrateOut, rtt: rtt))
        }
        return minutes
    }

    /// The samples link health judges, for every connection in `ids`, over the minute before `now`,
    /// with each connection's first poll (from which its RTT settles).
    public func linkSamples(ids: [String], now: Int64) throws -> [String: (firstTs: Int64, samples: [LinkSample])] {
        var result: [String: (firstTs: Int64, samples: [LinkSample])] = [:]
        for id in ids {
            guard let info = try connection(id: id) else { continue }
            result[id] = (info.firstTs, try connectionPoints(key: info.key, from: now - 60_000, to: now).map {
                LinkSample(ts: $0.t, rttMs: $0.rttMs, latencyMs: $0.latencyMs, lost: $0.lost,
                           retransmitted: $0.retransmitted, dropped: $0.dropped)
            })
        }
        return result
    }
}
