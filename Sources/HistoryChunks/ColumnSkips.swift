import History
/// Walking past columns a query does not ask for: a chunk's columns are written one after
/// another without lengths (a length would cost more than it saves on columns of a few bytes),
/// so a reader that wants the seventh figure steps over the six before it without building them.
extension Columns {
    /// How many rows `readPresence` would mark present, without building the flags.
    package static func presentCount(_ n: Int, _ r: inout ByteReader) throws(ChunkError) -> Int {
        switch try r.byte() {
        case 0: return n
        case 1: return 0
        case 2:
            let count = try r.count(limit: n + 1)
            var covered = 0, present = 0
            for k in 0..<count {
                let run = try r.count(limit: n)
                covered += run
                if k % 2 == 0 { present += run }
            }
            guard covered == n else { throw ChunkError(detail: "presence runs cover \(covered) of \(n) rows") }
            return present
        case let kind: throw ChunkError(detail: "presence kind \(kind)")
        }
    }

    package static func skipInts(_ n: Int, _ r: inout ByteReader) throws(ChunkError) {
        let order = try r.byte()
        guard order <= 2 else { throw ChunkError(detail: "integer order \(order)") }
        var seen = 0
        while seen < n {
            if try r.varint() == 0 {
                seen += try r.count(limit: n) + 1
            } else {
                seen += 1
            }
        }
        guard seen == n else { throw ChunkError(detail: "zero run past \(n) values") }
    }

    package static func skipOptionalInts(_ n: Int, _ r: inout ByteReader) throws(ChunkError) {
        let count = try presentCount(n, &r)
        if count > 0 { try skipInts(count, &r) }
    }

    package static func skipDoubles(_ n: Int, _ r: inout ByteReader) throws(ChunkError) {
        let count = try presentCount(n, &r)
        guard count > 0 else { return }
        switch try r.byte() {
        case 0...UInt8(scales.count): try skipInts(count, &r)
        case 0xff: try skipXOR(count, &r)
        case let mode: throw ChunkError(detail: "double mode \(mode)")
        }
    }

    package static func skipStrings(_ n: Int, _ r: inout ByteReader) throws(ChunkError) {
        let count = try presentCount(n, &r)
        guard count > 0 else { return }
        let distinct = try r.count(limit: count)
        for _ in 0..<distinct { _ = try r.take(try r.count()) }
        try skipInts(count, &r)
    }

    private static func skipXOR(_ n: Int, _ r: inout ByteReader) throws(ChunkError) {
        var seen = 0
        while seen < n {
            let token = try r.byte()
            if token == 0 {
                seen += try r.count(limit: n) + 1
                continue
            }
            let lead = Int(token >> 4), middle = Int(token & 0x0f)
            guard middle >= 1, lead + middle <= 8 else { throw ChunkError(detail: "XOR token \(token)") }
            _ = try r.take(middle)
            seen += 1
        }
        guard seen == n else { throw ChunkError(detail: "zero run past \(n) values") }
    }
}
