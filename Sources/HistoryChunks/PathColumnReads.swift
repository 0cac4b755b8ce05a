import History
import MTXMonCore

extension PathColumn {
    /// The columns behind `fields` (a bitrate's counter is added by `ColumnTable.read`).
    package static func columns(_ fields: PointFields) -> [PathColumn] {
        let pairs: [(PointFields, PathColumn)] = [
            (.online, .online), (.reset, .reset), (.inboundBytes, .inboundBytes), (.outboundBytes, .outboundBytes),
            (.bitrateIn, .bitrateIn), (.bitrateOut, .bitrateOut), (.readers, .readers), (.rttMs, .rttMs),
            (.recvRateMbps, .recvRateMbps), (.linkCapacityMbps, .linkCapacityMbps),
        ]
        return pairs.compactMap { fields.contains($0.0) ? $0.1 : nil }
    }
}

extension ChunkCodec {
    /// The path's rows as history points with the figures of `fields`; the others keep neutral
    /// values (false, 0, nil) that an answer does not print.
    ///
    /// A raw history query usually asks for one or two figures of eighteen (the dashboard's
    /// bitrate, a panel's RTT); reading only those, and stopping after the last of them, is most
    /// of what makes a raw range fast. Points hold no strings, so building them costs no
    /// reference counting.
    package static func decodePoints(_ bytes: [UInt8], fields: PointFields) throws(ChunkError) -> [HistoryPoint] {
        var r = ByteReader(bytes)
        let ts = try readPathTimes(&r)
        let t = try ColumnTable<PathColumn>.read(ts, wanted: PathColumn.columns(fields), &r)
        var points = ts.map { HistoryPoint(t: $0, online: false, inboundBytes: 0, outboundBytes: 0) }
        func fill<T>(_ field: PointFields, _ values: [T], _ set: (inout HistoryPoint, T) -> Void) {
            guard fields.contains(field) else { return }
            for i in points.indices { set(&points[i], values[i]) }
        }
        fill(.online, t.bools(.online)) { $0.online = $1 }
        fill(.reset, t.bools(.reset)) { $0.reset = $1 }
        fill(.inboundBytes, t.ints(.inboundBytes)) { $0.inboundBytes = $1 }
        fill(.outboundBytes, t.ints(.outboundBytes)) { $0.outboundBytes = $1 }
        fill(.bitrateIn, t.doubles(.bitrateIn)) { $0.bitrateIn = $1 }
        fill(.bitrateOut, t.doubles(.bitrateOut)) { $0.bitrateOut = $1 }
        fill(.readers, t.ints(.readers)) { $0.readers = Double($1) }
        fill(.rttMs, t.doubles(.rttMs)) { $0.rttMs = $1 }
        fill(.recvRateMbps, t.doubles(.recvRateMbps)) { $0.recvRateMbps = $1 }
        fill(.linkCapacityMbps, t.doubles(.linkCapacityMbps)) { $0.linkCapacityMbps = $1 }
        return points
    }
}
