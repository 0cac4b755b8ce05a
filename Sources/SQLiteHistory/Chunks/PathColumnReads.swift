import History
import MTXMonCore

/// The path's columns a history answer needs, read out of a chunk without the rest.
///
/// A raw history query usually asks for one or two figures of nineteen (the dashboard's
/// bitrate, a panel's RTT); reading only those, and stopping after the last of them, is most of
/// what makes a raw range fast. Columns are in `ChunkCodec.writePaths`'s order.
struct PathColumns: OptionSet, Sendable {
    let rawValue: UInt32

    static let online = PathColumns(rawValue: 1 << 0)
    static let reset = PathColumns(rawValue: 1 << 1)
    static let inbound = PathColumns(rawValue: 1 << 3)
    static let outbound = PathColumns(rawValue: 1 << 4)
    static let bitrateIn = PathColumns(rawValue: 1 << 5)
    static let bitrateOut = PathColumns(rawValue: 1 << 6)
    static let readers = PathColumns(rawValue: 1 << 7)
    static let rtt = PathColumns(rawValue: 1 << 10)
    static let recvRate = PathColumns(rawValue: 1 << 11)
    static let linkCapacity = PathColumns(rawValue: 1 << 12)

    /// The columns behind `fields`: a bitrate is stored against the guess its counter gives, so
    /// it needs the counter too.
    init(_ fields: PointFields) {
        var c = PathColumns()
        if fields.contains(.online) { c.insert(.online) }
        if fields.contains(.reset) { c.insert(.reset) }
        if fields.contains(.inboundBytes) { c.insert(.inbound) }
        if fields.contains(.outboundBytes) { c.insert(.outbound) }
        if fields.contains(.bitrateIn) { c.formUnion([.inbound, .bitrateIn]) }
        if fields.contains(.bitrateOut) { c.formUnion([.outbound, .bitrateOut]) }
        if fields.contains(.readers) { c.insert(.readers) }
        if fields.contains(.rttMs) { c.insert(.rtt) }
        if fields.contains(.recvRateMbps) { c.insert(.recvRate) }
        if fields.contains(.linkCapacityMbps) { c.insert(.linkCapacity) }
        self = c
    }

    init(rawValue: UInt32) { self.rawValue = rawValue }
}

extension ChunkCodec {
    /// The path's rows as history points with the figures of `fields`; the others keep neutral
    /// values (false, 0, nil) that an answer does not print. Points hold no strings, so building
    /// them costs no reference counting.
    static func decodePoints(_ bytes: [UInt8], fields: PointFields) throws(ChunkError) -> [HistoryPoint] {
        let columns = PathColumns(fields)
        var r = ByteReader(bytes)
        let ts = try readPathTimes(&r)
        let n = ts.count
        guard n > 0 else { return [] }
        var points = ts.map { HistoryPoint(t: $0, online: false, inboundBytes: 0, outboundBytes: 0) }
        var inbound: [Int64] = [], outbound: [Int64] = []
        let last = 31 - columns.rawValue.leadingZeroBitCount
        guard last >= 0 else { return points }
        for column in 0...last {
            let wanted = columns.rawValue & (1 << UInt32(column)) != 0
            switch column {
            case 0, 1:
                guard wanted else { try Columns.skipInts(n, &r); continue }
                let values = try Columns.readInts(n, &r)
                for i in 0..<n {
                    if column == 0 { points[i].online = values[i] != 0 } else { points[i].reset = values[i] != 0 }
                }
            case 2: try Columns.skipStrings(n, &r)
            case 3:
                guard wanted else { try Columns.skipInts(n, &r); continue }
                inbound = try Columns.readInts(n, &r)
                if fields.contains(.inboundBytes) { for i in 0..<n { points[i].inboundBytes = inbound[i] } }
            case 4:
                guard wanted else { try Columns.skipInts(n, &r); continue }
                outbound = try Columns.readInts(n, &r)
                if fields.contains(.outboundBytes) { for i in 0..<n { points[i].outboundBytes = outbound[i] } }
            case 5, 6:
                guard wanted else { try Columns.skipDoubles(n, &r); continue }
                let counter = column == 5 ? inbound : outbound
                let values = try Columns.readDoubles(n, predicted: { i in
                    i == 0 ? nil : guess(counter[i - 1], counter[i], ts[i - 1], ts[i]) }, &r)
                for i in 0..<n {
                    if column == 5 { points[i].bitrateIn = values[i] } else { points[i].bitrateOut = values[i] }
                }
            case 7:
                guard wanted else { try Columns.skipInts(n, &r); continue }
                let values = try Columns.readInts(n, &r)
                for i in 0..<n { points[i].readers = Double(values[i]) }
            case 8: try Columns.skipStrings(n, &r)
            case 9: try Columns.skipOptionalInts(n, &r)
            case 10, 11, 12:
                guard wanted else { try Columns.skipDoubles(n, &r); continue }
                let values = try Columns.readDoubles(n, &r)
                for i in 0..<n {
                    switch column {
                    case 10: points[i].rttMs = values[i]
                    case 11: points[i].recvRateMbps = values[i]
                    default: points[i].linkCapacityMbps = values[i]
                    }
                }
            default: break
            }
        }
        return points
    }
}
