/// One figure of a held sample, as the codec compares and writes it.
enum Slot: Sendable, Equatable {
    case none
    case int(Int64)
    case double(Double)
    case string(String)

    init(_ v: Int64?) { self = v.map { .int($0) } ?? .none }
    init(_ v: Int?) { self = v.map { .int(Int64($0)) } ?? .none }
    init(_ v: Double?) { self = v.map { .double($0) } ?? .none }
    init(_ v: String?) { self = v.map { .string($0) } ?? .none }
    init(_ v: Bool?) { self = v.map { .int($0 ? 1 : 0) } ?? .none }

    var int: Int64? { if case let .int(v) = self { v } else { nil } }
    var double: Double? { if case let .double(v) = self { v } else { nil } }
    var string: String? { if case let .string(v) = self { v } else { nil } }
    var bool: Bool? { int.map { $0 != 0 } }

    /// `d` as an integer when it is one that a double holds exactly (bitrates are whole).
    static func whole(_ d: Double) -> Int64? {
        guard d.isFinite, d == d.rounded(), abs(d) < 9_007_199_254_740_992 else { return nil }
        return Int64(d)
    }
}

enum SlotKind: Sendable, Equatable {
    case int, double, string
}

/// A path sample's figures in slots: what the history store writes of it and what decides
/// whether it is written (its state, when, whether MediaMTX listed it, whether it is sane).
enum PathSlots {
    static let layout: [SlotKind] = [
        .int, .string, .string, .int, .int, .double, .double, .int, .string, .int, .int,  // 0–10
        .string, .double, .double, .double, .int, .int, .int, .int, .int,  // 11–19: SRT
        .string, .int, .int, .string, .string,  // 20–24: state, since, listed, invalid, server
    ]

    static func slots(_ p: PathSample) -> [Slot] {
        [
            Slot(p.online), Slot(p.sourceType), Slot(p.sourceID), Slot(p.inboundBytes), Slot(p.outboundBytes),
            Slot(p.bitrateIn), Slot(p.bitrateOut), Slot(p.readers), Slot(readersText(p.readersByType)),
            Slot(p.inboundFramesInError), Slot(p.reset),
            Slot(p.srt?.connectionID), Slot(p.srt?.rttMs), Slot(p.srt?.recvRateMbps), Slot(p.srt?.linkCapacityMbps),
            Slot(p.srt?.tsbpdDelayMs), Slot(p.srt?.packetsReceived), Slot(p.srt?.packetsReceivedLoss),
            Slot(p.srt?.packetsReceivedRetrans), Slot(p.srt?.packetsReceivedDrop),
            Slot(p.state?.rawValue), Slot(p.since), Slot(p.listed), Slot(p.invalid), Slot(p.server),
        ]
    }

    static func sample(name: String, _ s: [Slot]) -> PathSample {
        var p = PathSample(name: name, online: s[0].bool ?? false, sourceType: s[1].string, sourceID: s[2].string,
                           inboundBytes: s[3].int ?? 0, outboundBytes: s[4].int ?? 0, bitrateIn: s[5].double,
                           bitrateOut: s[6].double, readers: Int(truncatingIfNeeded: s[7].int ?? 0),
                           readersByType: readers(s[8].string), inboundFramesInError: s[9].int,
                           reset: s[10].bool ?? false)
        if let id = s[11].string {
            p.srt = SRTLink(connectionID: id, rttMs: s[12].double, recvRateMbps: s[13].double,
                            linkCapacityMbps: s[14].double, tsbpdDelayMs: s[15].int, packetsReceived: s[16].int,
                            packetsReceivedLoss: s[17].int, packetsReceivedRetrans: s[18].int,
                            packetsReceivedDrop: s[19].int)
        }
        p.state = s[20].string.flatMap(PathState.init(rawValue:))
        p.since = s[21].int
        p.listed = s[22].bool
        p.invalid = s[23].string
        p.server = s[24].string
        return p
    }

    /// Reader counts by type in one canonical string (`hlsSession=2,rtspSession=1`).
    static func readersText(_ counts: [String: Int]) -> String? {
        counts.isEmpty ? nil : counts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    static func readers(_ text: String?) -> [String: Int] {
        guard let text else { return [:] }
        var counts: [String: Int] = [:]
        for part in text.split(separator: ",") {
            guard let eq = part.lastIndex(of: "="), let n = Int(part[part.index(after: eq)...]) else { continue }
            counts[String(part[..<eq])] = n
        }
        return counts
    }
}

/// A connection sample's figures in slots: every one the history store writes.
enum ConnectionSlots {
    /// 0–11: identity and bytes; 12–30: counters; 31: deltas present; 32–50: deltas; 51–58 gauges.
    static let layout: [SlotKind] = [.string, .string, .string, .string, .string, .string, .int, .int, .double,
                                     .double, .int, .string]
        + [SlotKind](repeating: .int, count: ConnectionCounters.count) + [.int]
        + [SlotKind](repeating: .int, count: ConnectionCounters.count)
        + [.double, .double, .double, .double, .int, .double, .int, .int]

    static func slots(_ c: ConnectionSample) -> [Slot] {
        var slots: [Slot] = [
            Slot(c.proto.rawValue), Slot(c.role.rawValue), Slot(c.path), Slot(c.remoteAddr), Slot(c.state),
            Slot(c.userAgent), Slot(c.inboundBytes), Slot(c.outboundBytes), Slot(c.bitrateIn), Slot(c.bitrateOut),
            Slot(c.reset), Slot(c.server),
        ]
        slots.reserveCapacity(layout.count)
        for k in 0..<ConnectionCounters.count { slots.append(Slot(c.counters[k])) }
        slots.append(Slot(c.deltas != nil))
        for k in 0..<ConnectionCounters.count { slots.append(Slot(c.deltas?[k])) }
        slots += [Slot(c.rttMs), Slot(c.recvRateMbps), Slot(c.sendRateMbps), Slot(c.linkCapacityMbps),
                  Slot(c.latencyMs), Slot(c.jitter), Slot(c.isCDN), Slot(c.createdMs)]
        return slots
    }

    static func sample(id: String, _ s: [Slot]) throws(HoldError) -> ConnectionSample {
        guard let proto = s[0].string.flatMap(ConnectionProtocol.init(rawValue:)),
              let role = s[1].string.flatMap(ConnectionRole.init(rawValue:)) else {
            throw HoldError("a connection of a protocol or role this mtxmon does not know")
        }
        var counters = ConnectionCounters()
        for k in 0..<ConnectionCounters.count { counters[k] = s[12 + k].int }
        var c = ConnectionSample(id: id, proto: proto, role: role, path: s[2].string, remoteAddr: s[3].string,
                                 state: s[4].string, userAgent: s[5].string, inboundBytes: s[6].int ?? 0,
                                 outboundBytes: s[7].int ?? 0, counters: counters)
        c.bitrateIn = s[8].double
        c.bitrateOut = s[9].double
        c.reset = s[10].bool ?? false
        c.server = s[11].string
        let base = 12 + ConnectionCounters.count
        if s[base].bool == true {
            var deltas = ConnectionCounters()
            for k in 0..<ConnectionCounters.count { deltas[k] = s[base + 1 + k].int }
            c.deltas = deltas
        }
        let g = base + 1 + ConnectionCounters.count
        c.rttMs = s[g].double
        c.recvRateMbps = s[g + 1].double
        c.sendRateMbps = s[g + 2].double
        c.linkCapacityMbps = s[g + 3].double
        c.latencyMs = s[g + 4].int
        c.jitter = s[g + 5].double
        c.isCDN = s[g + 6].bool
        c.createdMs = s[g + 7].int
        return c
    }
}

/// Appends varints, zigzag integers and length-prefixed text to a record.
struct HoldWriter {
    var bytes: [UInt8] = []

    mutating func byte(_ b: UInt8) { bytes.append(b) }

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func signed(_ value: Int64) { varint(Self.zigzag(value)) }

    mutating func raw(_ value: UInt64) {
        for k in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(8 * k))) }
    }

    mutating func text(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            varint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    static func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }
}

/// Reads what `HoldWriter` wrote; every read is bounds-checked.
struct HoldReader {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func byte() throws(HoldError) -> UInt8 {
        guard offset < bytes.count else { throw HoldError("the record ends at byte \(offset)") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func varint() throws(HoldError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64 else { throw HoldError("a number too long at byte \(offset)") }
            result |= UInt64(b & 0x7f) << shift
            if b < 0x80 { return result }
            shift += 7
        }
    }

    mutating func signed() throws(HoldError) -> Int64 { Self.unzigzag(try varint()) }

    mutating func count(limit: Int = .max) throws(HoldError) -> Int {
        let n = try varint()
        guard n <= UInt64(min(limit, bytes.count * 8 + 64)) else { throw HoldError("a count of \(n) at byte \(offset)") }
        return Int(n)
    }

    mutating func raw() throws(HoldError) -> UInt64 {
        guard bytes.count - offset >= 8 else { throw HoldError("the record ends at byte \(offset)") }
        var value: UInt64 = 0
        for k in 0..<8 { value |= UInt64(bytes[offset + k]) << UInt64(8 * k) }
        offset += 8
        return value
    }

    mutating func text() throws(HoldError) -> String {
        let n = try varint()
        guard n <= UInt64(bytes.count - offset) else { throw HoldError("text past the record's end at byte \(offset)") }
        let count = Int(n)
        defer { offset += count }
        return String(decoding: bytes[offset..<offset + count], as: UTF8.self)
    }

    static func unzigzag(_ v: UInt64) -> Int64 { Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1) }
}
