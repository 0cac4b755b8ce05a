import MTXMonCore
import NIOCore

/// Writes JSON straight into bytes. History answers hold up to a million numbers; going through
/// `Codable` would cost several times the SQLite query that produced them.
///
/// The caller writes the structure in order; commas are placed by `key` and `element`.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []
    /// Whether the innermost open object or array already holds a member.
    private var hasMember: [Bool] = []

    init(capacity: Int = 1_024) {
        bytes.reserveCapacity(capacity)
    }

    var buffer: ByteBuffer { ByteBuffer(bytes: bytes) }

    mutating func beginObject() { separate(); bytes.append(UInt8(ascii: "{")); hasMember.append(false) }
    mutating func endObject() { bytes.append(UInt8(ascii: "}")); hasMember.removeLast() }
    mutating func beginArray() { separate(); bytes.append(UInt8(ascii: "[")); hasMember.append(false) }
    mutating func endArray() { bytes.append(UInt8(ascii: "]")); hasMember.removeLast() }

    /// Starts a member of the current object; the next value written is its value.
    mutating func key(_ name: StaticString) {
        comma()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        pendingValue = true
    }

    /// A member whose name is data (a reader type, a path name): escaped like any string.
    mutating func dynamicKey(_ name: String) {
        comma()
        pendingValue = true
        string(name)
        bytes.append(UInt8(ascii: ":"))
        pendingValue = true
    }

    /// Set after `key`: the value that follows needs no comma of its own.
    private var pendingValue = false

    private mutating func comma() {
        if let last = hasMember.last {
            if last { bytes.append(UInt8(ascii: ",")) }
            hasMember[hasMember.count - 1] = true
        }
    }

    private mutating func separate() {
        if pendingValue { pendingValue = false } else { comma() }
    }

    mutating func null() { separate(); bytes.append(contentsOf: "null".utf8) }

    /// A value already written as JSON (by `JSONEncoder`, for small nested objects).
    mutating func json(_ encoded: [UInt8]) { separate(); bytes.append(contentsOf: encoded) }

    mutating func bool(_ value: Bool) { separate(); bytes.append(contentsOf: value ? "true".utf8 : "false".utf8) }

    mutating func int(_ value: Int64) {
        separate()
        JSONText.append(value, to: &bytes)
    }

    mutating func int(_ value: Int) { int(Int64(value)) }

    mutating func int(_ value: Int64?) { if let value { int(value) } else { null() } }

    /// A number rounded to `decimals` places, trailing zeros dropped; `null` when absent or not finite.
    mutating func number(_ value: Double?, decimals: Int = 3) {
        guard let value, value.isFinite else { null(); return }
        separate()
        JSONText.append(value, decimals: decimals, to: &bytes)
    }

    mutating func string(_ value: String?) {
        guard let value else { null(); return }
        separate()
        JSONText.append(value, to: &bytes)
    }
}
