/// The fields of one wire type by the bytes of their JSON keys, found without making a String
/// of each key and comparing it with forty others: a reply of two thousand connections has
/// some sixty thousand keys.
struct FieldTable<Value>: Sendable {
    typealias Setter = @Sendable (inout Value, inout WireReader) throws(WireReader.Failure) -> Void

    private let slots: [(key: [UInt8], set: Setter)?]
    private let mask: Int

    init(_ fields: [(String, Setter)]) {
        var size = 16
        while size < fields.count * 4 { size *= 2 }
        var slots = [(key: [UInt8], set: Setter)?](repeating: nil, count: size)
        for (name, set) in fields {
            let key = Array(name.utf8)
            var i = Self.hash(key.withUnsafeBytes { $0 }) & (size - 1)
            while slots[i] != nil { i = (i + 1) & (size - 1) }
            slots[i] = (key, set)
        }
        self.slots = slots
        mask = size - 1
    }

    /// FNV-1a: a few instructions a byte, and the keys of one type spread well.
    static func hash(_ bytes: UnsafeRawBufferPointer) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    func setter(_ key: UnsafeRawBufferPointer) -> Setter? {
        var i = Self.hash(key) & mask
        while let slot = slots[i] {
            if slot.key.count == key.count && slot.key.withUnsafeBytes({ $0.elementsEqual(key) }) { return slot.set }
            i = (i + 1) & mask
        }
        return nil
    }
}

extension WireReader {
    /// Reads an object into `value`, each key through `fields`; unknown keys are skipped.
    mutating func object<Value>(into value: inout Value, _ fields: FieldTable<Value>) throws(Failure) {
        try expect(UInt8(ascii: "{"), "an object")
        if try peek() == UInt8(ascii: "}") { i += 1; return }
        while true {
            let setter: FieldTable<Value>.Setter?
            let name: FieldName
            if let raw = try plainKey() {
                setter = fields.setter(UnsafeRawBufferPointer(rebasing: bytes[raw]))
                name = .bytes(raw)
            } else {
                // A key with escapes, which MediaMTX does not write: read it whole.
                let text = try string()
                setter = Array(text.utf8).withUnsafeBytes { fields.setter($0) }
                name = .text(text)
            }
            try expect(UInt8(ascii: ":"), "':' after a key")
            if let setter {
                let outer = field
                field = name
                try setter(&value, &self)
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
