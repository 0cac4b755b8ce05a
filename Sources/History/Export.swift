import MTXMonCore

/// One stored row of a path, named, as `mtxmon export` writes it.
public struct ExportedPath: Sendable {
    public var server: String
    public var path: String
    public var row: StoredPath

    public init(server: String, path: String, row: StoredPath) {
        self.server = server
        self.path = path
        self.row = row
    }
}

/// One stored row of a connection, with what identifies it.
public struct ExportedConnection: Sendable {
    public var server: String
    public var id: String
    public var proto: String
    public var path: String?
    public var remoteAddr: String?
    public var row: ConnectionRow

    public init(server: String, id: String, proto: String, path: String?, remoteAddr: String?, row: ConnectionRow) {
        self.server = server
        self.id = id
        self.proto = proto
        self.path = path
        self.remoteAddr = remoteAddr
        self.row = row
    }
}

/// The text forms of `mtxmon export`: every stored figure at full detail, floats as the
/// shortest decimal that reads back to the same bits, `nil` as an empty CSV field or `null`.
/// `time` repeats `ts_ms` as RFC 3339 for people and tools that read dates, not epoch numbers; it
/// is the last column so that the columns before it keep their places.
public enum ExportFormat: String, Sendable, CaseIterable {
    case csv, jsonl

    public static let pathColumns = [
        "server", "path", "ts_ms", "online", "reset", "source_type", "inbound_bytes", "outbound_bytes", "bitrate_in_bps",
        "bitrate_out_bps", "readers", "readers_by_type", "frames_in_error", "rtt_ms", "recv_rate_mbps",
        "link_capacity_mbps", "tsbpd_delay_ms", "srt_packets_received", "srt_packets_lost", "srt_packets_retrans",
        "srt_packets_dropped", "time",
    ]

    public static let counterNames = [
        "packetsReceived", "packetsReceivedLoss", "packetsReceivedRetrans", "packetsReceivedDrop",
        "packetsReceivedBelated", "packetsReceivedUndecrypt", "packetsSent", "packetsSendLoss", "packetsRetrans",
        "packetsSendDrop", "rtpPacketsReceived", "rtpPacketsLost", "rtpPacketsInError", "rtcpPacketsReceived",
        "rtcpPacketsInError", "rtpPacketsSent", "rtpPacketsReportedLost", "rtpPacketsDiscarded", "framesDiscarded",
    ]

    public static let connectionColumns = [
        "server", "id", "protocol", "path", "remote_addr", "ts_ms", "role", "inbound_bytes", "outbound_bytes", "bitrate_in_bps",
        "bitrate_out_bps", "reset", "rtt_ms", "recv_rate_mbps", "send_rate_mbps", "link_capacity_mbps", "latency_ms",
        "jitter", "lost", "retransmitted", "dropped",
    ] + counterNames + counterNames.map { "delta_" + $0 } + ["time"]

    /// A field's value; `nil` is absent. `json` is JSON text mtxmon wrote itself: a CSV field holds
    /// it as text, a JSON line as the value it is, not as a string to parse a second time.
    public enum Value: Sendable, Equatable {
        case text(String), int(Int64), real(Double), bool(Bool), json(String)
    }

    public static func values(_ e: ExportedPath) -> [Value?] {
        let r = e.row
        return [.text(e.server), .text(e.path), .int(r.ts), .bool(r.online), .bool(r.reset), r.sourceType.map(Value.text),
                .int(r.inboundBytes), .int(r.outboundBytes), r.bitrateIn.map(Value.real), r.bitrateOut.map(Value.real),
                .int(r.readers), r.readersByType.map(Value.json), r.framesInError.map(Value.int), r.rttMs.map(Value.real),
                r.recvRateMbps.map(Value.real), r.linkCapacityMbps.map(Value.real), r.tsbpdDelayMs.map(Value.int),
                r.srtPacketsReceived.map(Value.int), r.srtPacketsLost.map(Value.int),
                r.srtPacketsRetransmitted.map(Value.int), r.srtPacketsDropped.map(Value.int), time(r.ts)]
    }

    public static func values(_ e: ExportedConnection) -> [Value?] {
        let r = e.row
        let p = r.point
        var values: [Value?] = [
            .text(e.server), .text(e.id), .text(e.proto), e.path.map(Value.text), e.remoteAddr.map(Value.text), .int(r.ts), .text(r.role),
            .int(r.inboundBytes), .int(r.outboundBytes), r.bitrateIn.map(Value.real), r.bitrateOut.map(Value.real),
            .bool(r.reset), r.rttMs.map(Value.real), r.recvRateMbps.map(Value.real), r.sendRateMbps.map(Value.real),
            r.linkCapacityMbps.map(Value.real), r.latencyMs.map(Value.int), r.jitter.map(Value.real),
            p.lost.map(Value.int), p.retransmitted.map(Value.int), p.dropped.map(Value.int),
        ]
        for key in ConnectionCounters.all { values.append(r.counters[keyPath: key].map(Value.int)) }
        for key in ConnectionCounters.all { values.append(r.deltas?[keyPath: key].map(Value.int)) }
        values.append(time(r.ts))
        return values
    }

    /// UTC to the millisecond, as `ts_ms` holds it: 2026-12-01T02:00:00.000Z.
    static func time(_ ms: Int64) -> Value { .text(TimeArgument.rfc3339(milliseconds: ms)) }

    public func header(_ columns: [String]) -> String? {
        self == .csv ? columns.joined(separator: ",") : nil
    }

    public func line(_ columns: [String], _ values: [Value?]) -> String {
        switch self {
        case .csv:
            var out = CSVWriter()
            for (i, v) in values.enumerated() {
                let last = i == values.count - 1
                switch v {
                case nil: out.field(nil, last: last)
                case let .text(t)?, let .json(t)?: out.field(t, last: last)
                case let .int(n)?: out.integer(n, last: last)
                case let .real(d)?: out.raw("\(d)"); out.end(last: last)
                case let .bool(b)?: out.integer(b ? 1 : 0, last: last)
                }
            }
            if !values.isEmpty { out.bytes.removeLast() }
            return String(decoding: out.bytes, as: UTF8.self)
        case .jsonl:
            let fields = zip(columns, values).map { name, v -> String in
                let value: String = switch v {
                case nil: "null"
                case let .text(t)?: Self.jsonString(t)
                // Written by mtxmon as an object; anything else (a file from elsewhere) stays a string.
                case let .json(j)?: j.hasPrefix("{") && j.hasSuffix("}") ? j : Self.jsonString(j)
                case let .int(i)?: String(i)
                case let .real(d)?: "\(d)"
                case let .bool(b)?: b ? "true" : "false"
                }
                return "\"\(name)\":\(value)"
            }
            return "{" + fields.joined(separator: ",") + "}"
        }
    }

    public static func jsonString(_ text: String) -> String { JSONText.string(text) }
}
