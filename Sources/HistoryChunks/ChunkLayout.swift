import History
import MTXMonCore

/// How one column of a chunk is encoded (see `Columns`).
package enum ColumnKind: Sendable {
    case bools, ints, optionalInts, doubles, strings
    /// Doubles kept as the difference from the bitrate that the byte counter in column `of`
    /// gives (`ChunkCodec.guess`): the counter is read whenever the bitrate is.
    case bitrate(of: Int)
}

/// One column's values, as written or read.
package enum ColumnValues {
    case bools([Bool]), ints([Int64]), optionalInts([Int64?]), doubles([Double?]), strings([String?])
}

/// The columns of one series in a chunk, in the order of their bytes: the only place that order
/// is written. The encoder writes `allCases` in turn; the decoders and the readers that skip
/// columns a query did not ask for walk the same list, each column by its kind.
///
/// Columns are written back to back without lengths (a length would cost more than it saves on
/// columns of a few bytes), so the list is the format: a column is only ever added at the end.
package protocol ChunkColumn: CaseIterable, Hashable, RawRepresentable where RawValue == Int, AllCases == [Self] {
    var kind: ColumnKind { get }
}

/// A path's own figures, as `ChunkCodec` keeps them.
package enum PathColumn: Int, ChunkColumn {
    case online, reset, sourceType, inboundBytes, outboundBytes, bitrateIn, bitrateOut, readers, readersByType,
         framesInError, rttMs, recvRateMbps, linkCapacityMbps, tsbpdDelayMs, srtPacketsReceived, srtPacketsLost,
         srtPacketsRetransmitted, srtPacketsDropped

    package var kind: ColumnKind {
        switch self {
        case .online, .reset: .bools
        case .sourceType, .readersByType: .strings
        case .inboundBytes, .outboundBytes, .readers: .ints
        case .bitrateIn: .bitrate(of: PathColumn.inboundBytes.rawValue)
        case .bitrateOut: .bitrate(of: PathColumn.outboundBytes.rawValue)
        case .rttMs, .recvRateMbps, .linkCapacityMbps: .doubles
        case .framesInError, .tsbpdDelayMs, .srtPacketsReceived, .srtPacketsLost, .srtPacketsRetransmitted,
             .srtPacketsDropped: .optionalInts
        }
    }

    package func values(_ p: RowsOf<StoredPath>) -> ColumnValues {
        switch self {
        case .online: .bools(p.map(\.online))
        case .reset: .bools(p.map(\.reset))
        case .sourceType: .strings(p.map(\.sourceType))
        case .inboundBytes: .ints(p.map(\.inboundBytes))
        case .outboundBytes: .ints(p.map(\.outboundBytes))
        case .bitrateIn: .doubles(p.map(\.bitrateIn))
        case .bitrateOut: .doubles(p.map(\.bitrateOut))
        case .readers: .ints(p.map(\.readers))
        case .readersByType: .strings(p.map(\.readersByType))
        case .framesInError: .optionalInts(p.map(\.framesInError))
        case .rttMs: .doubles(p.map(\.rttMs))
        case .recvRateMbps: .doubles(p.map(\.recvRateMbps))
        case .linkCapacityMbps: .doubles(p.map(\.linkCapacityMbps))
        case .tsbpdDelayMs: .optionalInts(p.map(\.tsbpdDelayMs))
        case .srtPacketsReceived: .optionalInts(p.map(\.srtPacketsReceived))
        case .srtPacketsLost: .optionalInts(p.map(\.srtPacketsLost))
        case .srtPacketsRetransmitted: .optionalInts(p.map(\.srtPacketsRetransmitted))
        case .srtPacketsDropped: .optionalInts(p.map(\.srtPacketsDropped))
        }
    }
}

/// A connection's figures in its block, before its counters (which follow as a section of their
/// own, as wide as `ConnectionCounters`). Reading stops after `ConnectionColumn`'s position.
package enum ConnectionField: Int, ChunkColumn {
    case role, inboundBytes, outboundBytes, bitrateIn, bitrateOut, reset, rttMs, recvRateMbps, sendRateMbps,
         linkCapacityMbps, latencyMs, jitter

    package var kind: ColumnKind {
        switch self {
        case .role: .strings
        case .inboundBytes, .outboundBytes: .ints
        case .bitrateIn: .bitrate(of: ConnectionField.inboundBytes.rawValue)
        case .bitrateOut: .bitrate(of: ConnectionField.outboundBytes.rawValue)
        case .reset: .bools
        case .rttMs, .recvRateMbps, .sendRateMbps, .linkCapacityMbps, .jitter: .doubles
        case .latencyMs: .optionalInts
        }
    }

    package func values(_ c: RowsOf<ConnectionRow>) -> ColumnValues {
        switch self {
        case .role: .strings(c.map(\.role))
        case .inboundBytes: .ints(c.map(\.inboundBytes))
        case .outboundBytes: .ints(c.map(\.outboundBytes))
        case .bitrateIn: .doubles(c.map(\.bitrateIn))
        case .bitrateOut: .doubles(c.map(\.bitrateOut))
        case .reset: .bools(c.map(\.reset))
        case .rttMs: .doubles(c.map(\.rttMs))
        case .recvRateMbps: .doubles(c.map(\.recvRateMbps))
        case .sendRateMbps: .doubles(c.map(\.sendRateMbps))
        case .linkCapacityMbps: .doubles(c.map(\.linkCapacityMbps))
        case .latencyMs: .optionalInts(c.map(\.latencyMs))
        case .jitter: .doubles(c.map(\.jitter))
        }
    }

    /// The fields a read `through` a column gives; `.counters` gives them all, and the counters.
    package static func through(_ column: ConnectionColumn) -> [ConnectionField] {
        allCases.filter { $0.rawValue <= column.rawValue }
    }
}

/// Rows seen with indices from 0 whatever they are a slice of: a seal encodes each chunk's rows
/// where they lie, and a path's rows are lent, not copied (a row holds its figures inline).
package struct RowsOf<Row>: RandomAccessCollection {
    package let base: ArraySlice<Row>
    package init(_ base: ArraySlice<Row>) { self.base = base }
    package init(_ base: [Row]) { self.base = base[...] }
    package var startIndex: Int { 0 }
    package var endIndex: Int { base.count }
    package subscript(i: Int) -> Row { _read { yield base[base.startIndex + i] } }
}

/// The columns of one series as read from a chunk: those asked for, the rest left unread.
package struct ColumnTable<C: ChunkColumn> {
    private var columns: [ColumnValues?]
    package let count: Int

    package static func write(_ values: (C) -> ColumnValues, ts: [Int64], _ w: inout ByteWriter) {
        var counters: [Int: [Int64]] = [:]
        for column in C.allCases {
            switch values(column) {
            case .bools(let v): Columns.writeBools(v, &w)
            case .ints(let v):
                Columns.writeInts(v, &w)
                counters[column.rawValue] = v
            case .optionalInts(let v): Columns.writeOptionalInts(v, &w)
            case .strings(let v): Columns.writeStrings(v, &w)
            case .doubles(let v):
                if case .bitrate(let of) = column.kind, let counter = counters[of] {
                    Columns.writeDoubles(v, predicted: ChunkCodec.guesses(ts, counter), &w)
                } else {
                    Columns.writeDoubles(v, &w)
                }
            }
        }
    }

    /// Reads the columns of `wanted` (and the counters their bitrates are guessed from) for rows
    /// at `ts`, walking past the others, and stops after the last one needed: a raw history answer
    /// usually wants two figures of eighteen.
    package static func read(_ ts: [Int64], wanted: [C] = C.allCases, _ r: inout ByteReader) throws(ChunkError) -> ColumnTable {
        let n = ts.count
        var needed = [Bool](repeating: false, count: C.allCases.count)
        for column in wanted {
            needed[column.rawValue] = true
            if case .bitrate(let of) = column.kind { needed[of] = true }
        }
        var table = ColumnTable(columns: [ColumnValues?](repeating: nil, count: needed.count), count: n)
        guard n > 0, let last = needed.lastIndex(of: true) else { return table }
        for column in C.allCases.prefix(last + 1) {
            guard needed[column.rawValue] else {
                try skip(column.kind, n, &r)
                continue
            }
            switch column.kind {
            case .bools: table.columns[column.rawValue] = .bools(try Columns.readBools(n, &r))
            case .ints: table.columns[column.rawValue] = .ints(try Columns.readInts(n, &r))
            case .optionalInts: table.columns[column.rawValue] = .optionalInts(try Columns.readOptionalInts(n, &r))
            case .strings: table.columns[column.rawValue] = .strings(try Columns.readStrings(n, &r))
            case .doubles: table.columns[column.rawValue] = .doubles(try Columns.readDoubles(n, &r))
            case .bitrate(let of):
                let counter = table.ints(C(rawValue: of)!)
                table.columns[column.rawValue] = .doubles(try Columns.readDoubles(n, predicted: { i in
                    i == 0 ? nil : ChunkCodec.guess(counter[i - 1], counter[i], ts[i - 1], ts[i]) }, &r))
            }
        }
        return table
    }

    /// Walks past every column of `n` rows without building one.
    package static func skip(_ n: Int, _ r: inout ByteReader) throws(ChunkError) {
        guard n > 0 else { return }
        for column in C.allCases { try skip(column.kind, n, &r) }
    }

    private static func skip(_ kind: ColumnKind, _ n: Int, _ r: inout ByteReader) throws(ChunkError) {
        switch kind {
        case .bools, .ints: try Columns.skipInts(n, &r)
        case .optionalInts: try Columns.skipOptionalInts(n, &r)
        case .strings: try Columns.skipStrings(n, &r)
        case .doubles, .bitrate: try Columns.skipDoubles(n, &r)
        }
    }

    package func has(_ column: C) -> Bool { columns[column.rawValue] != nil }

    // A column not read gives neutral values (false, 0, absent), which no answer prints.

    package func bools(_ column: C) -> [Bool] {
        if case .bools(let v)? = columns[column.rawValue] { return v }
        return [Bool](repeating: false, count: count)
    }

    package func ints(_ column: C) -> [Int64] {
        if case .ints(let v)? = columns[column.rawValue] { return v }
        return [Int64](repeating: 0, count: count)
    }

    package func optionalInts(_ column: C) -> [Int64?] {
        if case .optionalInts(let v)? = columns[column.rawValue] { return v }
        return [Int64?](repeating: nil, count: count)
    }

    package func doubles(_ column: C) -> [Double?] {
        if case .doubles(let v)? = columns[column.rawValue] { return v }
        return [Double?](repeating: nil, count: count)
    }

    package func strings(_ column: C) -> [String?] {
        if case .strings(let v)? = columns[column.rawValue] { return v }
        return [String?](repeating: nil, count: count)
    }
}

extension StoredPath {
    /// The path's rows from its columns; a column not read keeps neutral values.
    package static func rows(_ t: ColumnTable<PathColumn>, ts: [Int64]) -> [StoredPath] {
        let online = t.bools(.online), reset = t.bools(.reset), sourceType = t.strings(.sourceType)
        let inbound = t.ints(.inboundBytes), outbound = t.ints(.outboundBytes)
        let bitrateIn = t.doubles(.bitrateIn), bitrateOut = t.doubles(.bitrateOut)
        let readers = t.ints(.readers), byType = t.strings(.readersByType), frames = t.optionalInts(.framesInError)
        let rtt = t.doubles(.rttMs), recv = t.doubles(.recvRateMbps), link = t.doubles(.linkCapacityMbps)
        let tsbpd = t.optionalInts(.tsbpdDelayMs), received = t.optionalInts(.srtPacketsReceived)
        let lost = t.optionalInts(.srtPacketsLost), retransmitted = t.optionalInts(.srtPacketsRetransmitted)
        let dropped = t.optionalInts(.srtPacketsDropped)
        return ts.indices.map { i in
            StoredPath(ts: ts[i], online: online[i], reset: reset[i], sourceType: sourceType[i],
                       inboundBytes: inbound[i], outboundBytes: outbound[i], bitrateIn: bitrateIn[i],
                       bitrateOut: bitrateOut[i], readers: readers[i], readersByType: byType[i],
                       framesInError: frames[i], rttMs: rtt[i], recvRateMbps: recv[i], linkCapacityMbps: link[i],
                       tsbpdDelayMs: tsbpd[i], srtPacketsReceived: received[i], srtPacketsLost: lost[i],
                       srtPacketsRetransmitted: retransmitted[i], srtPacketsDropped: dropped[i])
        }
    }
}
