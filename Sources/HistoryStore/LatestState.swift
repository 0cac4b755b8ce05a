import Foundation
import MTXMonCore

/// A run of failed polls that has not ended: what `/healthz` and `/readyz` of a `serve` without
/// the collector in process know of an outage.
public struct FailureRun: Sendable, Equatable {
    public var since: Int64
    public var polls: Int
    public var lastError: String?
    public var lastReason: String?

    public init(since: Int64, polls: Int, lastError: String? = nil, lastReason: String? = nil) {
        self.since = since
        self.polls = polls
        self.lastError = lastError
        self.lastReason = lastReason
    }
}

extension ReadConnection {
    /// The newest poll attempt, successful or not.
    public func lastPoll() throws -> PollRecord? {
        let statement = try connection.cached(
            "SELECT ts_ms, ok, duration_ms, path_count, error, reason FROM poll ORDER BY ts_ms DESC LIMIT 1")
        defer { statement.reset() }
        guard try statement.step() else { return nil }
        return PollRecord(ts: statement.int64(0), ok: statement.int64(1) != 0, durationMs: statement.int64(2),
                          pathCount: statement.optionalInt64(3).map(Int.init), error: statement.string(4),
                          reason: statement.string(5))
    }

    /// The oldest poll in the file: how far back history reaches.
    public func firstPoll() throws -> Int64? {
        let first = try connection.cached("SELECT min(ts_ms) FROM poll")
        defer { first.reset() }
        guard try first.step() else { return nil }
        return first.optionalInt64(0)
    }

    /// The newest successful poll's time.
    public func lastAnsweredPoll() throws -> Int64? {
        let last = try connection.cached("SELECT max(ts_ms) FROM poll WHERE ok = 1")
        defer { last.reset() }
        guard try last.step() else { return nil }
        return last.optionalInt64(0)
    }

    /// The failed polls since the newest successful one, when the newest poll failed.
    public func failureRun() throws -> FailureRun? {
        let after = try lastAnsweredPoll() ?? .min
        let statement = try connection.cached("SELECT count(*), min(ts_ms) FROM poll WHERE ts_ms > ?")
        statement.bind(1, after)
        defer { statement.reset() }
        guard try statement.step(), statement.int64(0) > 0, let since = statement.optionalInt64(1) else { return nil }
        let count = Int(statement.int64(0))
        let last = try lastPoll()
        return FailureRun(since: since, polls: count, lastError: last?.error, lastReason: last?.reason)
    }

    /// Each path's newest row since `since`, and its figures at the last poll it was online when
    /// that is the newest row or the one before it (the row before an offline marker).
    public func rememberedPaths(since: Int64) throws -> [RememberedPath] {
        try remembered(since: since).map(\.path)
    }

    /// `rememberedPaths` with each path's id, for the lookups that follow.
    func remembered(since: Int64) throws -> [(id: Int64, path: RememberedPath)] {
        let newest = try connection.cached("""
            SELECT ts_ms, online, inbound_bytes, outbound_bytes, source_type, bitrate_in_bps, bitrate_out_bps, readers
            FROM sample WHERE path_id = ?1 AND ts_ms <= ?2 ORDER BY ts_ms DESC LIMIT 1
            """)
        var result: [(id: Int64, path: RememberedPath)] = []
        for (id, name) in try allPaths() {
            func row(before: Int64) throws -> (RememberedPath, LastSeen?)? {
                newest.bind(1, id)
                newest.bind(2, before)
                defer { newest.reset() }
                guard try newest.step() else { return nil }
                let s = newest
                let online = s.int64(1) != 0
                let path = RememberedPath(name: name, ts: s.int64(0), online: online, inboundBytes: s.int64(2),
                                          outboundBytes: s.int64(3), sourceType: s.string(4))
                let seen = online ? LastSeen(ts: s.int64(0), bitrateIn: s.optionalDouble(5), bitrateOut: s.optionalDouble(6),
                                             readers: Int(s.int64(7))) : nil
                return (path, seen)
            }
            guard case var (path, seen)? = try row(before: .max), path.ts >= since else { continue }
            if seen == nil, case let (_, before)? = try row(before: path.ts - 1) { seen = before }
            path.lastSeen = seen
            result.append((id, path))
        }
        return result
    }

    /// The newest state rebuilt from the file: what `serve` shows when the snapshot cache has
    /// nothing (no Redis, or its key expired), so the newest known state is never hidden. Paths
    /// the last answered poll did not list are `offline` (for `forgetAfterMs` after their last
    /// row); when polls failed after it, every path is `unknown`, as the collector says it.
    public func latestSnapshot(forgetAfterMs: Int64 = 86_400_000) throws -> Snapshot? {
        guard let ts = try lastAnsweredPoll() else { return nil }
        // One primary-key lookup per path: `sample` is clustered by path, not by time.
        let statement = try connection.cached("""
            SELECT online, reset, source_type, inbound_bytes, outbound_bytes, bitrate_in_bps, bitrate_out_bps,
                   readers, readers_by_type, frames_in_error, rtt_ms, recv_rate_mbps, link_capacity_mbps,
                   tsbpd_delay_ms, srt_packets_received, srt_packets_lost, srt_packets_retrans, srt_packets_dropped
            FROM sample WHERE path_id = ? AND ts_ms = ?
            """)
        var samples: [PathSample] = []
        for (id, known) in try remembered(since: ts - forgetAfterMs) {
            let name = known.name
            statement.bind(1, id)
            statement.bind(2, ts)
            defer { statement.reset() }
            guard known.ts == ts, try statement.step() else {
                // Not in the last answered poll: offline since its newest row if that row says so.
                var sample = PathSample(name: name, online: false, inboundBytes: known.inboundBytes,
                                        outboundBytes: known.outboundBytes)
                sample.state = .offline
                sample.since = known.online ? nil : known.ts
                sample.lastSeen = known.lastSeen
                sample.listed = false
                samples.append(sample)
                continue
            }
            let s = statement
            let byType = s.string(8).flatMap { try? JSONDecoder().decode([String: Int].self, from: Data($0.utf8)) }
            let srt = s.isNull(10) && s.isNull(11) && s.isNull(14) ? nil : SRTLink(
                connectionID: "", rttMs: s.optionalDouble(10), recvRateMbps: s.optionalDouble(11),
                linkCapacityMbps: s.optionalDouble(12), tsbpdDelayMs: s.optionalInt64(13),
                packetsReceived: s.optionalInt64(14), packetsReceivedLoss: s.optionalInt64(15),
                packetsReceivedRetrans: s.optionalInt64(16), packetsReceivedDrop: s.optionalInt64(17))
            var sample = PathSample(
                name: name, online: s.int64(0) != 0, sourceType: s.string(2), inboundBytes: s.int64(3),
                outboundBytes: s.int64(4), bitrateIn: s.optionalDouble(5), bitrateOut: s.optionalDouble(6),
                readers: Int(s.int64(7)), readersByType: byType ?? [:], inboundFramesInError: s.optionalInt64(9),
                reset: s.int64(1) != 0, srt: srt)
            sample.state = sample.online ? .online : .offline
            sample.lastSeen = known.lastSeen
            samples.append(sample)
        }
        guard let run = try failureRun() else { return Snapshot(ts: ts, paths: samples) }
        let unknown = samples.map { $0.unknown(since: run.since, at: ts) }
        let last = try lastPoll()
        return Snapshot(ts: last?.ts ?? ts, paths: unknown, reachable: false, error: run.lastError)
    }
}
