import Foundation
import MTXMonCore

/// One path's stored figures at one poll: the columns of the `sample` table, exactly.
public struct StoredPath: Sendable, Equatable {
    public var ts: Int64
    public var online: Bool
    public var reset: Bool
    public var sourceType: String?
    public var inboundBytes: Int64
    public var outboundBytes: Int64
    public var bitrateIn: Double?
    public var bitrateOut: Double?
    public var readers: Int64
    /// JSON object of reader counts by type, as written.
    public var readersByType: String?
    public var framesInError: Int64?
    public var rttMs: Double?
    public var recvRateMbps: Double?
    public var linkCapacityMbps: Double?
    public var tsbpdDelayMs: Int64?
    public var srtPacketsReceived: Int64?
    public var srtPacketsLost: Int64?
    public var srtPacketsRetransmitted: Int64?
    public var srtPacketsDropped: Int64?

    public init(ts: Int64, online: Bool, reset: Bool = false, sourceType: String? = nil, inboundBytes: Int64,
                outboundBytes: Int64, bitrateIn: Double? = nil, bitrateOut: Double? = nil, readers: Int64 = 0,
                readersByType: String? = nil, framesInError: Int64? = nil, rttMs: Double? = nil,
                recvRateMbps: Double? = nil, linkCapacityMbps: Double? = nil, tsbpdDelayMs: Int64? = nil,
                srtPacketsReceived: Int64? = nil, srtPacketsLost: Int64? = nil,
                srtPacketsRetransmitted: Int64? = nil, srtPacketsDropped: Int64? = nil) {
        self.ts = ts
        self.online = online
        self.reset = reset
        self.sourceType = sourceType
        self.inboundBytes = inboundBytes
        self.outboundBytes = outboundBytes
        self.bitrateIn = bitrateIn
        self.bitrateOut = bitrateOut
        self.readers = readers
        self.readersByType = readersByType
        self.framesInError = framesInError
        self.rttMs = rttMs
        self.recvRateMbps = recvRateMbps
        self.linkCapacityMbps = linkCapacityMbps
        self.tsbpdDelayMs = tsbpdDelayMs
        self.srtPacketsReceived = srtPacketsReceived
        self.srtPacketsLost = srtPacketsLost
        self.srtPacketsRetransmitted = srtPacketsRetransmitted
        self.srtPacketsDropped = srtPacketsDropped
    }

    /// The row the writer stores for `sample` at `ts`: negative counters (never reported by a
    /// sound MediaMTX) as 0, non-finite figures as absent, as SQLite columns stored them.
    public init(_ sample: PathSample, ts: Int64) {
        func finite(_ v: Double?) -> Double? { v.flatMap { $0.isFinite ? $0 : nil } }
        self.init(ts: ts, online: sample.online, reset: sample.reset, sourceType: sample.sourceType,
                  inboundBytes: max(0, sample.inboundBytes), outboundBytes: max(0, sample.outboundBytes),
                  bitrateIn: finite(sample.bitrateIn), bitrateOut: finite(sample.bitrateOut),
                  readers: Int64(sample.readers), readersByType: JSONText.counts(sample.readersByType),
                  framesInError: sample.inboundFramesInError, rttMs: finite(sample.srt?.rttMs),
                  recvRateMbps: finite(sample.srt?.recvRateMbps), linkCapacityMbps: finite(sample.srt?.linkCapacityMbps),
                  tsbpdDelayMs: sample.srt?.tsbpdDelayMs, srtPacketsReceived: sample.srt?.packetsReceived,
                  srtPacketsLost: sample.srt?.packetsReceivedLoss,
                  srtPacketsRetransmitted: sample.srt?.packetsReceivedRetrans,
                  srtPacketsDropped: sample.srt?.packetsReceivedDrop)
    }

    /// The sample this row was stored from, as far as the row kept it (no `state`, `since` or
    /// `lastSeen`: those are the path's, not the row's).
    public func sample(name: String) -> PathSample {
        let byType = readersByType.flatMap { try? JSONDecoder().decode([String: Int].self, from: Data($0.utf8)) }
        let srt = rttMs == nil && recvRateMbps == nil && srtPacketsReceived == nil ? nil : SRTLink(
            connectionID: "", rttMs: rttMs, recvRateMbps: recvRateMbps, linkCapacityMbps: linkCapacityMbps,
            tsbpdDelayMs: tsbpdDelayMs, packetsReceived: srtPacketsReceived, packetsReceivedLoss: srtPacketsLost,
            packetsReceivedRetrans: srtPacketsRetransmitted, packetsReceivedDrop: srtPacketsDropped)
        return PathSample(name: name, online: online, sourceType: sourceType, inboundBytes: inboundBytes,
                          outboundBytes: outboundBytes, bitrateIn: bitrateIn, bitrateOut: bitrateOut,
                          readers: Int(readers), readersByType: byType ?? [:], inboundFramesInError: framesInError,
                          reset: reset, srt: srt)
    }

    /// The figures rates and roll-ups count from.
    public var counterRow: CounterRow {
        CounterRow(ts: ts, online: online, reset: reset, inboundBytes: inboundBytes, outboundBytes: outboundBytes,
                   bitrateIn: bitrateIn, bitrateOut: bitrateOut, readers: Int(readers),
                   srtPacketsReceived: srtPacketsReceived, srtPacketsLost: srtPacketsLost,
                   srtPacketsRetransmitted: srtPacketsRetransmitted, srtPacketsDropped: srtPacketsDropped)
    }
}

/// One connection's stored figures at one poll: every counter MediaMTX reported and, from its
/// second poll on, each counter's increase.
public struct ConnectionRow: Sendable, Equatable {
    public var ts: Int64
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
    public var counters: ConnectionCounters
    public var deltas: ConnectionCounters?

    public init(ts: Int64, role: String, inboundBytes: Int64, outboundBytes: Int64, bitrateIn: Double? = nil,
                bitrateOut: Double? = nil, reset: Bool = false, rttMs: Double? = nil, recvRateMbps: Double? = nil,
                sendRateMbps: Double? = nil, linkCapacityMbps: Double? = nil, latencyMs: Int64? = nil,
                jitter: Double? = nil, counters: ConnectionCounters = ConnectionCounters(),
                deltas: ConnectionCounters? = nil) {
        self.ts = ts
        self.role = role
        self.inboundBytes = inboundBytes
        self.outboundBytes = outboundBytes
        self.bitrateIn = bitrateIn
        self.bitrateOut = bitrateOut
        self.reset = reset
        self.rttMs = rttMs
        self.recvRateMbps = recvRateMbps
        self.sendRateMbps = sendRateMbps
        self.linkCapacityMbps = linkCapacityMbps
        self.latencyMs = latencyMs
        self.jitter = jitter
        self.counters = counters
        self.deltas = deltas
    }

    /// The row as a point of connection history: the increases given as lost, retransmitted and
    /// dropped for the connection's role.
    public var point: ConnectionPoint {
        let r = ConnectionRole(rawValue: role) ?? .idle
        return ConnectionPoint(
            t: ts, role: role, inboundBytes: inboundBytes, outboundBytes: outboundBytes, bitrateIn: bitrateIn,
            bitrateOut: bitrateOut, reset: reset, rttMs: rttMs, recvRateMbps: recvRateMbps, sendRateMbps: sendRateMbps,
            linkCapacityMbps: linkCapacityMbps, latencyMs: latencyMs, jitter: jitter, lost: deltas?.lost(r),
            retransmitted: deltas?.retransmitted(r), dropped: deltas?.dropped(r))
    }
}

extension HistoryPoint {
    /// A history answer from a path's stored rows in time order: every row as a point with the
    /// figures of `fields`, or one point per non-empty bucket of `range.step`. For stores that
    /// keep whole rows (the memory store, PostgreSQL); the file reads only the columns asked for.
    public static func answer(_ rows: some Sequence<StoredPath>, range: HistoryRange, fields: PointFields) -> [HistoryPoint] {
        let points = rows.map { s in
            HistoryPoint(t: s.ts, online: s.online, reset: s.reset, inboundBytes: s.inboundBytes,
                         outboundBytes: s.outboundBytes, bitrateIn: s.bitrateIn, bitrateOut: s.bitrateOut,
                         readers: Double(s.readers), rttMs: s.rttMs, recvRateMbps: s.recvRateMbps,
                         linkCapacityMbps: s.linkCapacityMbps).narrowed(to: fields)
        }
        guard let step = range.step else { return points }
        var folder = PointFolder(step: step, aggregation: range.aggregation)
        for point in points { folder.add(point) }
        return folder.finish()
    }
}

extension RememberedPath {
    /// A path as its newest stored row left it, with its figures at the last poll it was online
    /// when that is the newest row or the one `before` it (the row before an offline marker).
    public init(name: String, newest s: StoredPath, before: StoredPath?) {
        self.init(name: name, ts: s.ts, online: s.online, inboundBytes: s.inboundBytes,
                  outboundBytes: s.outboundBytes, sourceType: s.sourceType)
        let seen = s.online ? s : before.flatMap { $0.online ? $0 : nil }
        lastSeen = seen.map { LastSeen(ts: $0.ts, bitrateIn: $0.bitrateIn, bitrateOut: $0.bitrateOut, readers: Int($0.readers)) }
    }
}
