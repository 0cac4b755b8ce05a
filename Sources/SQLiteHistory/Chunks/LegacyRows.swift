import Foundation
import History
import HistoryChunks
import MTXMonCore

/// Rows of `sample` and `connection_sample`, the tables of files written before chunks: read in
/// place until `mtxmon migrate` (or the collector, once started) has moved them into chunks.
extension ReadConnection {
    static let legacyPathColumns = """
        ts_ms, online, reset, source_type, inbound_bytes, outbound_bytes, bitrate_in_bps, bitrate_out_bps, readers,
        readers_by_type, frames_in_error, rtt_ms, recv_rate_mbps, link_capacity_mbps, tsbpd_delay_ms,
        srt_packets_received, srt_packets_lost, srt_packets_retrans, srt_packets_dropped
        """

    static func legacyPath(_ s: Statement) -> StoredPath {
        StoredPath(ts: s.int64(0), online: s.int64(1) != 0, reset: s.int64(2) != 0, sourceType: s.string(3),
                   inboundBytes: s.int64(4), outboundBytes: s.int64(5), bitrateIn: s.optionalDouble(6),
                   bitrateOut: s.optionalDouble(7), readers: s.int64(8), readersByType: s.string(9),
                   framesInError: s.optionalInt64(10), rttMs: s.optionalDouble(11), recvRateMbps: s.optionalDouble(12),
                   linkCapacityMbps: s.optionalDouble(13), tsbpdDelayMs: s.optionalInt64(14),
                   srtPacketsReceived: s.optionalInt64(15), srtPacketsLost: s.optionalInt64(16),
                   srtPacketsRetransmitted: s.optionalInt64(17), srtPacketsDropped: s.optionalInt64(18))
    }

    func legacyPaths(pathID: Int64, from: Int64, to: Int64) throws -> [StoredPath] {
        let s = try connection.cached(
            "SELECT \(Self.legacyPathColumns) FROM sample WHERE path_id = ? AND ts_ms BETWEEN ? AND ? ORDER BY ts_ms")
        s.bind(1, pathID)
        s.bind(2, from)
        s.bind(3, to)
        defer { s.reset() }
        var rows: [StoredPath] = []
        while try s.step() { rows.append(Self.legacyPath(s)) }
        return rows
    }

    func legacyNewestPath(pathID: Int64, atOrBefore ts: Int64) throws -> StoredPath? {
        let s = try connection.cached(
            "SELECT \(Self.legacyPathColumns) FROM sample WHERE path_id = ? AND ts_ms <= ? ORDER BY ts_ms DESC LIMIT 1")
        s.bind(1, pathID)
        s.bind(2, ts)
        defer { s.reset() }
        return try s.step() ? Self.legacyPath(s) : nil
    }

    static let legacyConnectionColumns = """
        s.conn_key, s.ts_ms, s.role, s.inbound_bytes, s.outbound_bytes, s.bitrate_in_bps, s.bitrate_out_bps, s.reset,
        s.rtt_ms, s.recv_rate_mbps, s.send_rate_mbps, s.link_capacity_mbps, s.latency_ms, s.jitter, s.deltas, s.counters
        """

    static func legacyConnection(_ s: Statement) -> StoredConnection {
        func counters(_ column: Int32) -> ConnectionCounters? {
            guard let text = s.string(column) else { return nil }
            return try? JSONDecoder().decode(ConnectionCounters.self, from: Data(text.utf8))
        }
        return StoredConnection(key: s.int64(0), row: ConnectionRow(
            ts: s.int64(1), role: s.string(2) ?? "idle", inboundBytes: s.int64(3),
            outboundBytes: s.int64(4), bitrateIn: s.optionalDouble(5), bitrateOut: s.optionalDouble(6),
            reset: s.int64(7) != 0, rttMs: s.optionalDouble(8), recvRateMbps: s.optionalDouble(9),
            sendRateMbps: s.optionalDouble(10), linkCapacityMbps: s.optionalDouble(11), latencyMs: s.optionalInt64(12),
            jitter: s.optionalDouble(13), counters: counters(15) ?? ConnectionCounters(), deltas: counters(14)))
    }

    func legacyConnection(key: Int64, from: Int64, to: Int64) throws -> [StoredConnection] {
        let s = try connection.cached("""
            SELECT \(Self.legacyConnectionColumns) FROM connection_sample AS s
            WHERE s.conn_key = ? AND s.ts_ms BETWEEN ? AND ? ORDER BY s.ts_ms
            """)
        s.bind(1, key)
        s.bind(2, from)
        s.bind(3, to)
        defer { s.reset() }
        var rows: [StoredConnection] = []
        while try s.step() { rows.append(Self.legacyConnection(s)) }
        return rows
    }

    /// Legacy rows of every connection that names the path (none: `pathID` 0), in `[from, to]`.
    func legacyConnections(pathID: Int64, from: Int64, to: Int64) throws -> [StoredConnection] {
        let s = try connection.cached("""
            SELECT \(Self.legacyConnectionColumns) FROM connection AS c
            JOIN connection_sample AS s ON s.conn_key = c.key AND s.ts_ms BETWEEN ?2 AND ?3
            WHERE \(pathID == 0 ? "c.path_id IS NULL AND ?1 = 0" : "c.path_id = ?1")
              AND c.last_ts_ms >= ?2 AND c.first_ts_ms <= ?3
            """)
        s.bind(1, pathID)
        s.bind(2, from)
        s.bind(3, to)
        defer { s.reset() }
        var rows: [StoredConnection] = []
        while try s.step() { rows.append(Self.legacyConnection(s)) }
        return rows
    }
}
