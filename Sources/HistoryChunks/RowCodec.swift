import History
import MTXMonCore

/// The binary form of one recent row (one path at one poll, with its connections).
///
/// Recent rows are written every poll and read back until they are sealed, so they are made
/// for speed, not size: a field mask, then each present field as a varint or a double's eight
/// bytes, in one pass each way. Chunks, written once and kept for days, are made for size
/// (`ChunkCodec`).
package enum RowCodec {
    package static let version: UInt8 = 0x81

    package static func encode(_ row: StoredRow) -> [UInt8] {
        var bytes: [UInt8] = []
        encode(row, into: &bytes)
        return bytes
    }

    /// Encodes `row` over `buffer`'s bytes, keeping its memory: a poll encodes a thousand rows.
    package static func encode(_ row: StoredRow, into buffer: inout [UInt8]) {
        var w = ByteWriter()
        buffer.removeAll(keepingCapacity: true)
        swap(&w.bytes, &buffer)
        defer { swap(&w.bytes, &buffer) }
        w.byte(version)
        w.signed(row.ts)
        if let p = row.path {
            w.byte(1)
            writePath(p, &w)
        } else {
            w.byte(0)
        }
        w.varint(row.connections.count)
        for c in row.connections { writeConnection(c, &w) }
    }

    package static func decode(_ bytes: [UInt8]) throws(ChunkError) -> StoredRow {
        var r = ByteReader(bytes)
        let ts = try header(&r)
        let path = try r.byte() == 1 ? try readPath(ts, &r) : nil
        let count = try r.count(limit: 1 << 20)
        var connections: [StoredConnection] = []
        connections.reserveCapacity(count)
        for _ in 0..<count { connections.append(try readConnection(ts, &r)) }
        return StoredRow(ts: ts, path: path, connections: connections)
    }

    /// The path's own figures only; the connections are not read.
    package static func decodePath(_ bytes: [UInt8]) throws(ChunkError) -> StoredPath? {
        var r = ByteReader(bytes)
        let ts = try header(&r)
        return try r.byte() == 1 ? try readPath(ts, &r) : nil
    }

    private static func header(_ r: inout ByteReader) throws(ChunkError) -> Int64 {
        let v = try r.byte()
        guard v == version else { throw ChunkError(detail: "recent row version \(v), this mtxmon reads \(version)") }
        return try r.signed()
    }

    // MARK: Fields

    private static func double(_ value: Double, _ w: inout ByteWriter) {
        var bits = value.bitPattern
        for _ in 0..<8 {
            w.byte(UInt8(truncatingIfNeeded: bits))
            bits >>= 8
        }
    }

    private static func double(_ r: inout ByteReader) throws(ChunkError) -> Double {
        var bits: UInt64 = 0
        for i in 0..<8 { bits |= UInt64(try r.byte()) << UInt64(i * 8) }
        return Double(bitPattern: bits)
    }

    /// Writes a mask of which of `values` are present, then the present ones.
    private struct Fields {
        var mask: UInt64 = 0
        var body = ByteWriter(capacity: 64)
        var bit: UInt64 = 1

        mutating func flag(_ on: Bool) {
            if on { mask |= bit }
            bit <<= 1
        }

        mutating func int(_ value: Int64?) {
            if let value { mask |= bit; body.signed(value) }
            bit <<= 1
        }

        mutating func real(_ value: Double?) {
            if let value { mask |= bit; RowCodec.double(value, &body) }
            bit <<= 1
        }

        mutating func text(_ value: String?) {
            if let value { mask |= bit; body.string(value) }
            bit <<= 1
        }

        func write(_ w: inout ByteWriter) {
            w.varint(mask)
            w.append(body.bytes)
        }
    }

    private struct Reading {
        let mask: UInt64
        var bit: UInt64 = 1

        mutating func has() -> Bool {
            defer { bit <<= 1 }
            return mask & bit != 0
        }

        mutating func int(_ r: inout ByteReader) throws(ChunkError) -> Int64? { has() ? try r.signed() : nil }
        mutating func real(_ r: inout ByteReader) throws(ChunkError) -> Double? { has() ? try RowCodec.double(&r) : nil }
        mutating func text(_ r: inout ByteReader) throws(ChunkError) -> String? { has() ? try r.string() : nil }
    }

    private static func writePath(_ p: StoredPath, _ w: inout ByteWriter) {
        var f = Fields()
        f.flag(p.online)
        f.flag(p.reset)
        f.text(p.sourceType)
        f.int(p.inboundBytes)
        f.int(p.outboundBytes)
        f.real(p.bitrateIn)
        f.real(p.bitrateOut)
        f.int(p.readers)
        f.text(p.readersByType)
        f.int(p.framesInError)
        f.real(p.rttMs)
        f.real(p.recvRateMbps)
        f.real(p.linkCapacityMbps)
        f.int(p.tsbpdDelayMs)
        f.int(p.srtPacketsReceived)
        f.int(p.srtPacketsLost)
        f.int(p.srtPacketsRetransmitted)
        f.int(p.srtPacketsDropped)
        f.write(&w)
    }

    private static func readPath(_ ts: Int64, _ r: inout ByteReader) throws(ChunkError) -> StoredPath {
        var f = Reading(mask: try r.varint())
        let online = f.has(), reset = f.has()
        let sourceType = try f.text(&r)
        let inbound = try f.int(&r) ?? 0, outbound = try f.int(&r) ?? 0
        let bitrateIn = try f.real(&r), bitrateOut = try f.real(&r)
        let readers = try f.int(&r) ?? 0
        let byType = try f.text(&r)
        let frames = try f.int(&r)
        let rtt = try f.real(&r), recv = try f.real(&r), link = try f.real(&r)
        let tsbpd = try f.int(&r)
        let received = try f.int(&r), lost = try f.int(&r), retrans = try f.int(&r), dropped = try f.int(&r)
        return StoredPath(ts: ts, online: online, reset: reset, sourceType: sourceType, inboundBytes: inbound,
                          outboundBytes: outbound, bitrateIn: bitrateIn, bitrateOut: bitrateOut, readers: readers,
                          readersByType: byType, framesInError: frames, rttMs: rtt, recvRateMbps: recv,
                          linkCapacityMbps: link, tsbpdDelayMs: tsbpd, srtPacketsReceived: received, srtPacketsLost: lost,
                          srtPacketsRetransmitted: retrans, srtPacketsDropped: dropped)
    }

    private static func writeConnection(_ c: StoredConnection, _ w: inout ByteWriter) {
        w.signed(c.key)
        var f = Fields()
        f.flag(c.reset)
        f.flag(c.deltas != nil)
        f.text(c.role)
        f.int(c.inboundBytes)
        f.int(c.outboundBytes)
        f.real(c.bitrateIn)
        f.real(c.bitrateOut)
        f.real(c.rttMs)
        f.real(c.recvRateMbps)
        f.real(c.sendRateMbps)
        f.real(c.linkCapacityMbps)
        f.int(c.latencyMs)
        f.real(c.jitter)
        f.write(&w)
        var counters = Fields()
        for k in 0..<ConnectionCounters.count { counters.int(c.counters[k]) }
        counters.write(&w)
        guard let deltas = c.deltas else { return }
        var increases = Fields()
        for k in 0..<ConnectionCounters.count { increases.int(deltas[k]) }
        increases.write(&w)
    }

    private static func readConnection(_ ts: Int64, _ r: inout ByteReader) throws(ChunkError) -> StoredConnection {
        let key = try r.signed()
        var f = Reading(mask: try r.varint())
        let reset = f.has(), hasDeltas = f.has()
        let role = try f.text(&r) ?? "idle"
        let inbound = try f.int(&r) ?? 0, outbound = try f.int(&r) ?? 0
        let bitrateIn = try f.real(&r), bitrateOut = try f.real(&r)
        let rtt = try f.real(&r), recv = try f.real(&r), send = try f.real(&r), link = try f.real(&r)
        let latency = try f.int(&r)
        let jitter = try f.real(&r)
        var counters = ConnectionCounters()
        var c = Reading(mask: try r.varint())
        for k in 0..<ConnectionCounters.count { counters[k] = try c.int(&r) }
        var deltas: ConnectionCounters?
        if hasDeltas {
            var increases = ConnectionCounters()
            var d = Reading(mask: try r.varint())
            for k in 0..<ConnectionCounters.count { increases[k] = try d.int(&r) }
            deltas = increases
        }
        return StoredConnection(key: key, row: ConnectionRow(ts: ts, role: role, inboundBytes: inbound, outboundBytes: outbound,
                                bitrateIn: bitrateIn, bitrateOut: bitrateOut, reset: reset, rttMs: rtt,
                                recvRateMbps: recv, sendRateMbps: send, linkCapacityMbps: link, latencyMs: latency,
                                jitter: jitter, counters: counters, deltas: deltas))
    }
}
