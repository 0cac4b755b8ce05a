/// Column encodings of a chunk: each figure of a series is written as one column, so a figure
/// that does not change costs a few bytes per chunk whatever its length.
///
/// Integers are stored as values, deltas or deltas of deltas (whichever is shortest for the
/// column), as zigzag varints where a run of zeros is one token. Doubles keep their exact bits:
/// whole numbers (bitrates are rounded to whole bit/s) and decimals of up to four places go the
/// integer way, anything else is XORed with its predecessor and only the bytes that changed are
/// kept, as Gorilla does. Every column records where it has a value: `nil` is kept, not zero.
package enum Columns {
    // MARK: Presence

    /// Where a column has values: all rows, none, or alternating runs starting with present.
    package static func writePresence(_ present: [Bool], _ w: inout ByteWriter) {
        if present.allSatisfy({ $0 }) { w.byte(0); return }
        if !present.contains(true) { w.byte(1); return }
        w.byte(2)
        var runs: [Int] = []
        var current = true
        var run = 0
        for p in present {
            if p == current { run += 1 } else {
                runs.append(run)
                current = p
                run = 1
            }
        }
        runs.append(run)
        w.varint(runs.count)
        for r in runs { w.varint(r) }
    }

    package static func readPresence(_ n: Int, _ r: inout ByteReader) throws(ChunkError) -> [Bool] {
        switch try r.byte() {
        case 0: return [Bool](repeating: true, count: n)
        case 1: return [Bool](repeating: false, count: n)
        case 2:
            let count = try r.count(limit: n + 1)
            var result: [Bool] = []
            result.reserveCapacity(n)
            var current = true
            for _ in 0..<count {
                let run = try r.count(limit: n)
                guard result.count + run <= n else { throw ChunkError(detail: "presence runs exceed \(n) rows") }
                result.append(contentsOf: repeatElement(current, count: run))
                current.toggle()
            }
            guard result.count == n else { throw ChunkError(detail: "presence runs cover \(result.count) of \(n) rows") }
            return result
        case let kind: throw ChunkError(detail: "presence kind \(kind)")
        }
    }

    // MARK: Integers

    /// Writes `values` as the shortest of order 0 (values), 1 (deltas) or 2 (deltas of deltas):
    /// the three sizes are counted in one pass and only the shortest is written, so sealing a
    /// column allocates nothing.
    package static func writeInts(_ values: [Int64], _ w: inout ByteWriter) {
        var costs = (RunCost(), RunCost(), RunCost())
        var previous: Int64 = 0, previousDelta: Int64 = 0
        for (i, v) in values.enumerated() {
            let d1 = i == 0 ? v : v &- previous
            let d2 = i == 0 ? v : d1 &- previousDelta
            costs.0.add(v)
            costs.1.add(d1)
            costs.2.add(d2)
            previous = v
            previousDelta = d1
        }
        let sizes = [costs.0.total, costs.1.total, costs.2.total]
        var order = 0
        for k in 1...2 where sizes[k] < sizes[order] { order = k }
        w.byte(UInt8(order))
        var runs = ZeroRuns()
        previous = 0
        previousDelta = 0
        for (i, v) in values.enumerated() {
            let d1 = i == 0 ? v : v &- previous
            let d2 = i == 0 ? v : d1 &- previousDelta
            runs.add(order == 0 ? v : order == 1 ? d1 : d2, &w)
            previous = v
            previousDelta = d1
        }
        runs.flush(&w)
    }

    /// The bytes `ZeroRuns` would write for the values added so far.
    private struct RunCost {
        var bytes = 0
        var zeros = 0

        @inline(__always)
        mutating func add(_ value: Int64) {
            if value == 0 { zeros += 1; return }
            if zeros > 0 { bytes += 1 + ByteWriter.size(UInt64(zeros - 1)); zeros = 0 }
            bytes += ByteWriter.size(ByteWriter.zigzag(value))
        }

        var total: Int { zeros > 0 ? bytes + 1 + ByteWriter.size(UInt64(zeros - 1)) : bytes }
    }

    /// Zigzag varints, with a run of zeros as a 0 byte and the run's length less one.
    private struct ZeroRuns {
        var zeros = 0

        @inline(__always)
        mutating func add(_ value: Int64, _ w: inout ByteWriter) {
            if value == 0 { zeros += 1; return }
            flush(&w)
            w.signed(value)
        }

        mutating func flush(_ w: inout ByteWriter) {
            guard zeros > 0 else { return }
            w.byte(0)
            w.varint(zeros - 1)
            zeros = 0
        }
    }

    package static func readInts(_ n: Int, _ r: inout ByteReader) throws(ChunkError) -> [Int64] {
        let order = try r.byte()
        guard order <= 2 else { throw ChunkError(detail: "integer order \(order)") }
        var values = try readZeroRuns(n, &r)
        for _ in 0..<order {
            for i in values.indices.dropFirst() { values[i] = values[i] &+ values[i - 1] }
        }
        return values
    }

    private static func readZeroRuns(_ n: Int, _ r: inout ByteReader) throws(ChunkError) -> [Int64] {
        var values: [Int64] = []
        values.reserveCapacity(n)
        while values.count < n {
            let token = try r.varint()
            if token == 0 {
                let run = try r.count(limit: n) + 1
                guard values.count + run <= n else { throw ChunkError(detail: "zero run past \(n) values") }
                values.append(contentsOf: repeatElement(0, count: run))
            } else {
                values.append(ByteWriter.unzigzag(token))
            }
        }
        return values
    }

    package static func writeOptionalInts(_ values: [Int64?], _ w: inout ByteWriter) {
        guard !values.isEmpty else { w.byte(0); return }
        var missing = 0
        for v in values where v == nil { missing += 1 }
        // The common columns (a counter this protocol lacks, one every row has) without copies.
        if missing == values.count { w.byte(1); return }
        if missing == 0 {
            w.byte(0)
            writeInts(values.map { $0 ?? 0 }, &w)
            return
        }
        writePresence(values.map { $0 != nil }, &w)
        writeInts(values.compactMap { $0 }, &w)
    }

    package static func readOptionalInts(_ n: Int, _ r: inout ByteReader) throws(ChunkError) -> [Int64?] {
        let present = try readPresence(n, &r)
        let count = present.lazy.filter { $0 }.count
        guard count > 0 else { return [Int64?](repeating: nil, count: n) }
        let values = try readInts(count, &r)
        var result = [Int64?](repeating: nil, count: n)
        var k = 0
        for i in 0..<n where present[i] {
            result[i] = values[k]
            k += 1
        }
        return result
    }

    // MARK: Doubles

    /// The bits of `value` as a whole number when it is one that round-trips exactly.
    @inline(__always)
    package static func whole(_ value: Double) -> Int64? {
        guard value.isFinite, abs(value) < 9.0e15 else { return nil }
        let i = Int64(value)
        return Double(i).bitPattern == value.bitPattern ? i : nil
    }

    package static let scales: [Double] = [10, 100, 1_000, 10_000]

    /// `values` with their `nil`s; `predicted`, when given, is a guess per row (a bitrate from
    /// the counters, say) that the decoder can make as well: whole numbers are stored as their
    /// difference from it.
    package static func writeDoubles(_ values: [Double?], predicted: [Double?]? = nil, _ w: inout ByteWriter) {
        if !values.isEmpty, !values.contains(where: { $0 != nil }) { w.byte(1); return }
        writePresence(values.map { $0 != nil }, &w)
        var present: [Double] = []
        var guesses: [Int64] = []
        for (i, v) in values.enumerated() {
            guard let v else { continue }
            present.append(v)
            guesses.append(predicted?[i].flatMap(whole) ?? 0)
        }
        guard !present.isEmpty else { return }
        if let ints = wholeNumbers(present) {
            w.byte(0)
            writeInts(zip(ints, guesses).map { $0 &- $1 }, &w)
            return
        }
        for (k, scale) in scales.enumerated() {
            if let ints = scaled(present, by: scale) {
                w.byte(UInt8(k + 1))
                writeInts(ints, &w)
                return
            }
        }
        w.byte(0xff)
        writeXOR(present, &w)
    }

    /// `predicted` must give the guesses the writer was given, from columns read before this one.
    package static func readDoubles(_ n: Int, predicted: ((Int) -> Double?)? = nil,
                            _ r: inout ByteReader) throws(ChunkError) -> [Double?] {
        let present = try readPresence(n, &r)
        let count = present.lazy.filter { $0 }.count
        var result = [Double?](repeating: nil, count: n)
        guard count > 0 else { return result }
        let mode = try r.byte()
        var values: [Double]
        switch mode {
        case 0: values = try readInts(count, &r).map { Double($0) }
        case 1...UInt8(scales.count): values = try readInts(count, &r).map { Double($0) / scales[Int(mode) - 1] }
        case 0xff: values = try readXOR(count, &r)
        default: throw ChunkError(detail: "double mode \(mode)")
        }
        var k = 0
        for i in 0..<n where present[i] {
            if mode == 0, let predicted, let guess = predicted(i).flatMap(whole) {
                values[k] = Double(Int64(values[k]) &+ guess)
            }
            result[i] = values[k]
            k += 1
        }
        return result
    }

    private static func wholeNumbers(_ values: [Double]) -> [Int64]? {
        var ints: [Int64] = []
        ints.reserveCapacity(values.count)
        for v in values {
            guard let i = whole(v) else { return nil }
            ints.append(i)
        }
        return ints
    }

    private static func scaled(_ values: [Double], by scale: Double) -> [Int64]? {
        var ints: [Int64] = []
        ints.reserveCapacity(values.count)
        for v in values {
            let s = (v * scale).rounded()
            guard let i = whole(s), (Double(i) / scale).bitPattern == v.bitPattern else { return nil }
            ints.append(i)
        }
        return ints
    }

    private static func writeXOR(_ values: [Double], _ w: inout ByteWriter) {
        var previous: UInt64 = 0
        var zeros = 0
        func flush(_ w: inout ByteWriter) {
            guard zeros > 0 else { return }
            w.byte(0)
            w.varint(zeros - 1)
            zeros = 0
        }
        for v in values {
            let x = v.bitPattern ^ previous
            previous = v.bitPattern
            if x == 0 { zeros += 1; continue }
            flush(&w)
            let lead = x.leadingZeroBitCount / 8
            let trail = x.trailingZeroBitCount / 8
            let middle = 8 - lead - trail
            w.byte(UInt8(lead << 4 | middle))
            for b in stride(from: middle - 1, through: 0, by: -1) {
                w.byte(UInt8(truncatingIfNeeded: x >> UInt64((trail + b) * 8)))
            }
        }
        flush(&w)
    }

    private static func readXOR(_ n: Int, _ r: inout ByteReader) throws(ChunkError) -> [Double] {
        var values: [Double] = []
        values.reserveCapacity(n)
        var previous: UInt64 = 0
        while values.count < n {
            let token = try r.byte()
            if token == 0 {
                let run = try r.count(limit: n) + 1
                guard values.count + run <= n else { throw ChunkError(detail: "zero run past \(n) values") }
                values.append(contentsOf: repeatElement(Double(bitPattern: previous), count: run))
                continue
            }
            let lead = Int(token >> 4), middle = Int(token & 0x0f)
            guard middle >= 1, lead + middle <= 8 else { throw ChunkError(detail: "XOR token \(token)") }
            let trail = 8 - lead - middle
            var x: UInt64 = 0
            for _ in 0..<middle { x = x << 8 | UInt64(try r.byte()) }
            x <<= UInt64(trail * 8)
            previous ^= x
            values.append(Double(bitPattern: previous))
        }
        return values
    }

    // MARK: Strings and flags

    /// A dictionary of the distinct strings, then the index of each row's.
    package static func writeStrings(_ values: [String?], _ w: inout ByteWriter) {
        writePresence(values.map { $0 != nil }, &w)
        var dictionary: [String: Int64] = [:]
        var order: [String] = []
        var indices: [Int64] = []
        for v in values {
            guard let v else { continue }
            if let i = dictionary[v] { indices.append(i); continue }
            let i = Int64(order.count)
            dictionary[v] = i
            order.append(v)
            indices.append(i)
        }
        guard !indices.isEmpty else { return }
        w.varint(order.count)
        for s in order { w.string(s) }
        writeInts(indices, &w)
    }

    package static func readStrings(_ n: Int, _ r: inout ByteReader) throws(ChunkError) -> [String?] {
        let present = try readPresence(n, &r)
        let count = present.lazy.filter { $0 }.count
        var result = [String?](repeating: nil, count: n)
        guard count > 0 else { return result }
        let distinct = try r.count(limit: count)
        var order: [String] = []
        for _ in 0..<distinct { order.append(try r.string()) }
        let indices = try readInts(count, &r)
        var k = 0
        for i in 0..<n where present[i] {
            guard indices[k] >= 0, indices[k] < order.count else { throw ChunkError(detail: "string index \(indices[k])") }
            result[i] = order[Int(indices[k])]
            k += 1
        }
        return result
    }

    package static func writeBools(_ values: [Bool], _ w: inout ByteWriter) { writeInts(values.map { $0 ? 1 : 0 }, &w) }

    package static func readBools(_ n: Int, _ r: inout ByteReader) throws(ChunkError) -> [Bool] {
        try readInts(n, &r).map { $0 != 0 }
    }
}
