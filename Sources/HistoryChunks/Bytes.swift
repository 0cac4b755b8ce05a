/// Appends the variable-length integers chunks are made of.
///
/// LEB128 varints: a figure that changes by a little costs one byte, not eight. Signed values
/// go through zigzag first, so that -1 is as cheap as 1.
package struct ByteWriter {
    package var bytes: [UInt8] = []

    package init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    package mutating func byte(_ value: UInt8) { bytes.append(value) }

    package mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    package mutating func varint(_ value: Int) { varint(UInt64(max(0, value))) }

    package mutating func signed(_ value: Int64) { varint(Self.zigzag(value)) }

    package mutating func append(_ other: [UInt8]) { bytes.append(contentsOf: other) }

    package mutating func string(_ value: String) {
        let utf8 = Array(value.utf8)
        varint(utf8.count)
        bytes.append(contentsOf: utf8)
    }

    /// The bytes `varint` writes for `value`.
    @inline(__always)
    package static func size(_ value: UInt64) -> Int { value < 0x80 ? 1 : (70 - value.leadingZeroBitCount) / 7 }

    package static func zigzag(_ value: Int64) -> UInt64 { UInt64(bitPattern: (value << 1) ^ (value >> 63)) }
    package static func unzigzag(_ value: UInt64) -> Int64 { Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1) }
}

/// A chunk that cannot be read: cut short, or not written by this code.
package struct ChunkError: Error, CustomStringConvertible {
    package let detail: String
    package var description: String { "unreadable history chunk: \(detail)" }
}

/// Reads what `ByteWriter` wrote; every read is bounds-checked, so a damaged blob throws
/// rather than traps.
package struct ByteReader {
    package let bytes: [UInt8]
    package var offset: Int

    package init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    package var atEnd: Bool { offset >= bytes.count }

    package mutating func byte() throws(ChunkError) -> UInt8 {
        guard offset < bytes.count else { throw ChunkError(detail: "ends at byte \(offset)") }
        defer { offset += 1 }
        return bytes[offset]
    }

    package mutating func varint() throws(ChunkError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64 else { throw ChunkError(detail: "varint too long at byte \(offset)") }
            result |= UInt64(b & 0x7f) << shift
            if b < 0x80 { return result }
            shift += 7
        }
    }

    /// A count or length: also bounded by what is left, so a damaged count cannot ask for
    /// gigabytes.
    package mutating func count(limit: Int = .max) throws(ChunkError) -> Int {
        let value = try varint()
        guard value <= UInt64(min(limit, bytes.count * 8 + 1_024)) else {
            throw ChunkError(detail: "count \(value) out of range at byte \(offset)")
        }
        return Int(value)
    }

    package mutating func signed() throws(ChunkError) -> Int64 { ByteWriter.unzigzag(try varint()) }

    package mutating func take(_ n: Int) throws(ChunkError) -> ArraySlice<UInt8> {
        guard n >= 0, n <= bytes.count - offset else { throw ChunkError(detail: "\(n) bytes past the end at \(offset)") }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }

    package mutating func string() throws(ChunkError) -> String {
        let n = try count()
        return String(decoding: try take(n), as: UTF8.self)
    }
}
