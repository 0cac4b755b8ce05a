import History
import MTXMonCore

/// One connection's stored figures at one poll: every counter MediaMTX reported and, from its
/// second poll on, each counter's increase.
public struct StoredConnection: Sendable, Equatable {
    public var key: Int64
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

    public init(key: Int64, ts: Int64, role: String, inboundBytes: Int64, outboundBytes: Int64,
                bitrateIn: Double? = nil, bitrateOut: Double? = nil, reset: Bool = false, rttMs: Double? = nil,
                recvRateMbps: Double? = nil, sendRateMbps: Double? = nil, linkCapacityMbps: Double? = nil,
                latencyMs: Int64? = nil, jitter: Double? = nil, counters: ConnectionCounters = ConnectionCounters(),
                deltas: ConnectionCounters? = nil) {
        self.key = key
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

    public init(_ c: ConnectionSample, key: Int64, ts: Int64) {
        func finite(_ v: Double?) -> Double? { v.flatMap { $0.isFinite ? $0 : nil } }
        self.init(key: key, ts: ts, role: c.role.rawValue, inboundBytes: max(0, c.inboundBytes),
                  outboundBytes: max(0, c.outboundBytes), bitrateIn: finite(c.bitrateIn), bitrateOut: finite(c.bitrateOut),
                  reset: c.reset, rttMs: finite(c.rttMs), recvRateMbps: finite(c.recvRateMbps),
                  sendRateMbps: finite(c.sendRateMbps), linkCapacityMbps: finite(c.linkCapacityMbps),
                  latencyMs: c.latencyMs, jitter: finite(c.jitter), counters: c.counters, deltas: c.deltas)
    }

    var connectionRole: ConnectionRole { ConnectionRole(rawValue: role) ?? .idle }

    /// The figures without the key, as the history's readers see them.
    var row: ConnectionRow {
        ConnectionRow(ts: ts, role: role, inboundBytes: inboundBytes, outboundBytes: outboundBytes, bitrateIn: bitrateIn,
                      bitrateOut: bitrateOut, reset: reset, rttMs: rttMs, recvRateMbps: recvRateMbps,
                      sendRateMbps: sendRateMbps, linkCapacityMbps: linkCapacityMbps, latencyMs: latencyMs, jitter: jitter,
                      counters: counters, deltas: deltas)
    }

    public var point: ConnectionPoint { row.point }
}

/// Everything one poll stored under one path: the path's own figures (absent when only its
/// connections were listed) and its connections'.
public struct StoredRow: Sendable, Equatable {
    public var ts: Int64
    public var path: StoredPath?
    public var connections: [StoredConnection]

    public init(ts: Int64, path: StoredPath?, connections: [StoredConnection] = []) {
        self.ts = ts
        self.path = path
        self.connections = connections
    }
}
