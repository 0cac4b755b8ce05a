/// The fields of one wire type by the bytes of their JSON keys, found without making a String
/// of each key and comparing it with forty others: a reply of two thousand connections has
/// some sixty thousand keys.
///
/// A lookup gives the field's position in the list it was made from (`WireFields` reads the
/// field at that position). Keys sit in one byte array and slots are plain integers, so a lookup
/// touches no reference count and calls no closure.
struct FieldTable: Sendable {
    /// Per slot: the field's position + 1 (0: empty), and where its key lies in `keys`.
    private let slots: [(field: Int32, start: Int32, count: Int32)]
    private let keys: [UInt8]
    /// Where each field's key lies in `keys`, by position.
    private let spans: [(start: Int32, count: Int32)]
    private let mask: Int
    /// Which of the reader's key orders this table's objects use (see `WireReader.orders`).
    let order: Int

    init(order: Int, _ names: [String]) {
        self.order = order
        var size = 16
        while size < names.count * 4 { size *= 2 }
        var slots = [(field: Int32, start: Int32, count: Int32)](repeating: (0, 0, 0), count: size)
        var keys: [UInt8] = []
        var spans: [(start: Int32, count: Int32)] = []
        for (position, name) in names.enumerated() {
            let key = Array(name.utf8)
            var i = Self.hash(key.withUnsafeBytes { $0 }) & (size - 1)
            while slots[i].field != 0 { i = (i + 1) & (size - 1) }
            slots[i] = (Int32(position + 1), Int32(keys.count), Int32(key.count))
            spans.append((Int32(keys.count), Int32(key.count)))
            keys += key
        }
        self.slots = slots
        self.keys = keys
        self.spans = spans
        mask = size - 1
    }

    /// FNV-1a: a few instructions a byte, and the keys of one type spread well.
    @inline(__always)
    static func hash(_ bytes: UnsafeRawBufferPointer) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    /// The position of the field named by `key`, or `nil` for a key the type does not read.
    func field(_ key: UnsafeRawBufferPointer) -> Int? {
        slots.withUnsafeBufferPointer { slots in
            keys.withUnsafeBytes { keys in
                var i = Self.hash(key) & mask
                while true {
                    let slot = slots[i]
                    if slot.field == 0 { return nil }
                    if Int(slot.count) == key.count,
                       memcmpEqual(keys.baseAddress! + Int(slot.start), key.baseAddress, key.count) {
                        return Int(slot.field) - 1
                    }
                    i = (i + 1) & mask
                }
            }
        }
    }

    /// Whether the key of field `position`, then a closing quote, starts at `bytes[at]`.
    @inline(__always)
    func isKey(_ position: Int, at: Int, in bytes: UnsafeRawBufferPointer) -> Int? {
        let span = spans[position]
        let count = Int(span.count)
        guard at + count < bytes.count, bytes[at + count] == UInt8(ascii: "\"") else { return nil }
        return keys.withUnsafeBytes { keys in
            memcmpEqual(keys.baseAddress! + Int(span.start), bytes.baseAddress! + at, count) ? count : nil
        }
    }

    @inline(__always)
    private func memcmpEqual(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer?, _ count: Int) -> Bool {
        guard let b else { return count == 0 }
        for k in 0..<count where a.load(fromByteOffset: k, as: UInt8.self) != b.load(fromByteOffset: k, as: UInt8.self) {
            return false
        }
        return true
    }
}

/// What the previous object of a type had at a place: a field's position (0 or more), a key
/// the reader skips (where that key lies in the reply, so the next one is matched by its bytes),
/// or nothing known.
enum KeyGuess {
    static let none: Int64 = -1

    static func unknown(_ key: Range<Int>) -> Int64 {
        -2 - (Int64(key.lowerBound) << 16 | Int64(min(key.count, 0xffff)))
    }

    static func unknownKey(_ guess: Int64) -> Range<Int> {
        let packed = -2 - guess
        let start = Int(packed >> 16)
        return start..<(start + Int(packed & 0xffff))
    }
}

extension WireReader {
    /// Reads an object, calling `set` with the position in `fields` of each key it knows and
    /// the reader at its value; unknown keys are skipped.
    @inline(__always)
    mutating func object(_ fields: FieldTable,
                         _ set: (Int, inout WireReader) throws(Failure) -> Void) throws(Failure) {
        try expect(UInt8(ascii: "{"), "an object")
        if try peek() == UInt8(ascii: "}") { i += 1; return }
        var index = 0
        while true {
            var position: Int?
            let name: FieldName
            // MediaMTX writes a type's keys in the same order in every item: the key the previous
            // object had at this place is tried first, by its bytes, without hashing or scanning.
            let guess = fields.order < orders.count && index < orders[fields.order].count
                ? orders[fields.order][index] : KeyGuess.none
            if guess >= 0, try peek() == UInt8(ascii: "\""), let count = fields.isKey(Int(guess), at: i + 1, in: bytes) {
                position = Int(guess)
                name = .bytes((i + 1)..<(i + 1 + count))
                i += count + 2
            } else if guess < KeyGuess.none, try peek() == UInt8(ascii: "\""),
                      let range = sameKey(as: KeyGuess.unknownKey(guess), at: i + 1) {
                // A key this reader skips, as the previous object had it here.
                position = nil
                name = .bytes(range)
                i = range.upperBound + 1
            } else if let raw = try plainKey() {
                position = fields.field(UnsafeRawBufferPointer(rebasing: bytes[raw]))
                name = .bytes(raw)
                remember(position.map(Int64.init) ?? KeyGuess.unknown(raw), at: index, in: fields.order)
            } else {
                // A key with escapes, which MediaMTX does not write: read it whole.
                let text = try string()
                position = Array(text.utf8).withUnsafeBytes { fields.field($0) }
                name = .text(text)
            }
            index += 1
            try expect(UInt8(ascii: ":"), "':' after a key")
            if let position {
                let outer = field
                field = name
                try set(position, &self)
                field = outer
            } else {
                try skip()
            }
            switch try peek() {
            case UInt8(ascii: ","): i += 1
            case UInt8(ascii: "}"): i += 1; return
            default: throw failure("expected ',' or '}' in an object")
            }
        }
    }

    /// Notes the key at place `index` of an object of key order `order` (see `KeyGuess`).
    private mutating func remember(_ value: Int64, at index: Int, in order: Int) {
        while orders.count <= order { orders.append([]) }
        if index < orders[order].count { orders[order][index] = value } else if index == orders[order].count {
            orders[order].append(value)
        }
    }

    /// The range of a key at `at` with the same bytes as the key at `known`, closing quote after it.
    private func sameKey(as known: Range<Int>, at: Int) -> Range<Int>? {
        let count = known.count
        guard at + count < bytes.count, bytes[at + count] == UInt8(ascii: "\"") else { return nil }
        for k in 0..<count where bytes[known.lowerBound + k] != bytes[at + k] { return nil }
        return at..<(at + count)
    }

    /// The bytes of a key without escapes, consumed; `nil` (nothing consumed) if it has some.
    private mutating func plainKey() throws(Failure) -> Range<Int>? {
        guard try peek() == UInt8(ascii: "\"") else { throw failure("expected a key") }
        var k = i + 1
        while k < bytes.count {
            switch bytes[k] {
            case UInt8(ascii: "\""):
                defer { i = k + 1 }
                return (i + 1)..<k
            case UInt8(ascii: "\\"): return nil
            case 0..<0x20: throw failure("a control character in a key")
            default: k += 1
            }
        }
        throw failure("a key that does not end")
    }
}
