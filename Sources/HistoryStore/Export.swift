import MTXMonCore

/// One stored row of a path, named, as `mtxmon export` writes it.
public struct ExportedPath: Sendable {
    public var server: String
    public var path: String
    public var row: StoredPath
}

/// One stored row of a connection, with what identifies it.
public struct ExportedConnection: Sendable {
    public var server: String
    public var id: String
    public var proto: String
    public var path: String?
    public var remoteAddr: String?
    public var row: StoredConnection
}

extension HistoryStore {
    /// Every stored row of every path (or of `path`) in `[from, to]`, path by path, in time order,
    /// a slice of `sliceMs` at a time so memory holds one slice, however long the range.
    public func exportPaths(from: Int64, to: Int64, path: String? = nil, server: String? = nil,
                            sliceMs: Int64 = 3_600_000, _ body: (ExportedPath) throws -> Void) throws {
        let paths = try read { db in try db.allPaths(server: server) }.filter { path == nil || $0.name == path }
        // No row is newer than the newest poll: the slices end there.
        let to = min(to, try read { db in try db.lastPoll()?.ts } ?? .min)
        for (id, name, server) in paths {
            var start = max(from, try read { db in try db.oldestStoredTs(pathID: id) } ?? .max)
            while start <= to {
                let end = to - start < sliceMs ? to : start + sliceMs - 1
                for row in try read({ db in try db.storedPaths(pathID: id, from: start, to: end) }) {
                    try body(ExportedPath(server: server, path: name, row: row))
                }
                if end == to { break }
                start = end + 1
            }
        }
    }

    /// Every stored row of every connection (or of the one with `id`) in `[from, to]`,
    /// connection by connection, in time order.
    public func exportConnections(from: Int64, to: Int64, id: String? = nil, server: String? = nil,
                                  sliceMs: Int64 = 3_600_000, _ body: (ExportedConnection) throws -> Void) throws {
        let connections = try read { db in try db.connections(overlapping: from, to, id: id, server: server) }
        let to = min(to, try read { db in try db.lastPoll()?.ts } ?? .min)
        for (info, pathID, server) in connections {
            var start = max(from, info.firstTs)
            let last = min(to, info.lastTs)
            while start <= last {
                let end = last - start < sliceMs ? last : start + sliceMs - 1
                for row in try read({ db in try db.storedConnection(key: info.key, pathID: pathID, from: start, to: end) }) {
                    try body(ExportedConnection(server: server, id: info.id, proto: info.proto, path: info.path,
                                                remoteAddr: info.remoteAddr, row: row))
                }
                if end == last { break }
                start = end + 1
            }
        }
    }
}

extension ReadConnection {
    /// Connections seen in `[from, to]` as far as their rows tell (the newest polls may be
    /// sealed later than `last_ts_ms` says, so the end of the range is always searched).
    func connections(overlapping from: Int64, _ to: Int64, id: String?,
                     server: String? = nil) throws -> [(ConnectionInfo, Int64?, String)] {
        let s = try connection.cached("""
            SELECT c.key, c.id, c.protocol, c.role, p.name, c.remote_addr, c.user_agent, c.first_ts_ms, c.last_ts_ms,
                   c.path_id, v.name
            FROM connection AS c LEFT JOIN path AS p ON p.id = c.path_id JOIN server AS v ON v.id = c.server_id
            WHERE c.first_ts_ms <= ?2 AND (?3 IS NULL OR c.id = ?3) AND (?4 IS NULL OR v.name = ?4)
            ORDER BY c.first_ts_ms, c.key
            """)
        s.bind(1, from)
        s.bind(2, to)
        s.bind(3, id)
        s.bind(4, server)
        defer { s.reset() }
        var result: [(ConnectionInfo, Int64?, String)] = []
        let sealed = try watermarks().sealedUntil
        while try s.step() {
            var info = ConnectionInfo(key: s.int64(0), id: s.string(1) ?? "", proto: s.string(2) ?? "",
                                      role: s.string(3) ?? "", path: s.string(4), remoteAddr: s.string(5),
                                      userAgent: s.string(6), firstTs: s.int64(7), lastTs: s.int64(8))
            // Recent rows may be newer than `last_ts_ms`: read to the end of the range then.
            if info.lastTs >= sealed { info.lastTs = .max }
            guard info.lastTs >= from else { continue }
            result.append((info, s.optionalInt64(9), s.string(10) ?? ServerName.default))
        }
        return result
    }
}

/// The text forms of `mtxmon export`: every stored figure at full detail, floats as the
/// shortest decimal that reads back to the same bits, `nil` as an empty CSV field or `null`.
public enum ExportFormat: String, Sendable, CaseIterable {
    case csv, jsonl

    public static let pathColumns = [
        "server", "path", "ts_ms", "online", "reset", "source_type", "inbound_bytes", "outbound_bytes", "bitrate_in_bps",
        "bitrate_out_bps", "readers", "readers_by_type", "frames_in_error", "rtt_ms", "recv_rate_mbps",
        "link_capacity_mbps", "tsbpd_delay_ms", "srt_packets_received", "srt_packets_lost", "srt_packets_retrans",
        "srt_packets_dropped",
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
    ] + counterNames + counterNames.map { "delta_" + $0 }

    /// A field's value; `nil` is absent.
    public enum Value: Sendable, Equatable {
        case text(String), int(Int64), real(Double), bool(Bool)
    }

    public static func values(_ e: ExportedPath) -> [Value?] {
        let r = e.row
        return [.text(e.server), .text(e.path), .int(r.ts), .bool(r.online), .bool(r.reset), r.sourceType.map(Value.text),
                .int(r.inboundBytes), .int(r.outboundBytes), r.bitrateIn.map(Value.real), r.bitrateOut.map(Value.real),
                .int(r.readers), r.readersByType.map(Value.text), r.framesInError.map(Value.int), r.rttMs.map(Value.real),
                r.recvRateMbps.map(Value.real), r.linkCapacityMbps.map(Value.real), r.tsbpdDelayMs.map(Value.int),
                r.srtPacketsReceived.map(Value.int), r.srtPacketsLost.map(Value.int),
                r.srtPacketsRetransmitted.map(Value.int), r.srtPacketsDropped.map(Value.int)]
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
        return values
    }

    public func header(_ columns: [String]) -> String? {
        self == .csv ? columns.joined(separator: ",") : nil
    }

    public func line(_ columns: [String], _ values: [Value?]) -> String {
        switch self {
        case .csv:
            return values.map { v -> String in
                switch v {
                case nil: ""
                case let .text(t)?: Self.csvField(t)
                case let .int(i)?: String(i)
                case let .real(d)?: "\(d)"
                case let .bool(b)?: b ? "1" : "0"
                }
            }.joined(separator: ",")
        case .jsonl:
            let fields = zip(columns, values).map { name, v -> String in
                let value: String = switch v {
                case nil: "null"
                case let .text(t)?: Self.jsonString(t)
                case let .int(i)?: String(i)
                case let .real(d)?: "\(d)"
                case let .bool(b)?: b ? "true" : "false"
                }
                return "\"\(name)\":\(value)"
            }
            return "{" + fields.joined(separator: ",") + "}"
        }
    }

    static func csvField(_ text: String) -> String { CSVCell.text(text) }

    public static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
