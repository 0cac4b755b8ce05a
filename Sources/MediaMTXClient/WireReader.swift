import MTXMonCore
import NIOCore

/// Reads MediaMTX's JSON replies straight into the wire types, in one pass over the bytes.
///
/// A poll of a thousand paths and two thousand connections is some 3 MB of JSON every two
/// seconds; Foundation's `JSONDecoder` spent over 50 ms of CPU on it, most of it in Codable's
/// generic machinery rather than in reading bytes. This reader knows the few shapes mtxmon
/// reads, skips every other field (MediaMTX adds some in every release) and treats `null` as
/// absent, as the `Decodable` conformances do. Every read is bounds-checked: bad input is an
/// error naming the field and the byte, never a crash.
struct WireReader {
    let bytes: UnsafeRawBufferPointer
    var i = 0
    /// Where the reader is, for errors: the field and the item being read.
    var field = FieldName.none
    var item: Int?
    /// Per `FieldTable.order`: the key at each place of the last object read with that table
    /// (grown as the reader meets each type).
    var orders: [[Int64]] = []

    /// A field's name, kept as where its key lies until an error needs it as text: most
    /// replies have no error and some sixty thousand keys.
    enum FieldName {
        case none
        case bytes(Range<Int>)
        case text(String)
    }

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    func failure(_ what: String) -> Failure {
        let name: String = switch field {
        case .none: ""
        case let .bytes(range): String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        case let .text(text): text
        }
        var place = name.isEmpty ? "" : " for '\(name)'"
        if let item { place += " of item \(item)" }
        return Failure(description: "\(what)\(place) at byte \(i)")
    }

    @inline(__always)
    mutating func skipSpace() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x09, 0x0a, 0x0d: i += 1
            default: return
            }
        }
    }

    @inline(__always)
    mutating func peek() throws(Failure) -> UInt8 {
        skipSpace()
        guard i < bytes.count else { throw failure("the reply ends early") }
        return bytes[i]
    }

    @inline(__always)
    mutating func expect(_ byte: UInt8, _ name: String) throws(Failure) {
        guard try peek() == byte else { throw failure("expected \(name)") }
        i += 1
    }

    /// `null` (consumed) or not.
    @inline(__always)
    mutating func null() throws(Failure) -> Bool {
        guard try peek() == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let count = word.utf8CodeUnitCount
        guard bytes.count - i >= count else { throw failure("the reply ends early") }
        for k in 0..<count where bytes[i + k] != word.utf8Start[k] { throw failure("expected \(word)") }
        i += count
    }

    // MARK: Objects and arrays

    /// Calls `body` with each key of an object, positioned at its value.
    mutating func object(_ body: (inout WireReader, String) throws(Failure) -> Void) throws(Failure) {
        try expect(UInt8(ascii: "{"), "an object")
        if try peek() == UInt8(ascii: "}") { i += 1; return }
        while true {
            let key = try string()
            try expect(UInt8(ascii: ":"), "':' after a key")
            let outer = field
            field = .text(key)
            try body(&self, key)
            field = outer
            switch try peek() {
            case UInt8(ascii: ","): i += 1
            case UInt8(ascii: "}"): i += 1; return
            default: throw failure("expected ',' or '}' in an object")
            }
        }
    }

    /// Calls `body` for each element of an array, positioned at it, with its index.
    mutating func array(_ body: (inout WireReader, Int) throws(Failure) -> Void) throws(Failure) {
        try expect(UInt8(ascii: "["), "an array")
        if try peek() == UInt8(ascii: "]") { i += 1; return }
        var index = 0
        while true {
            try body(&self, index)
            index += 1
            switch try peek() {
            case UInt8(ascii: ","): i += 1
            case UInt8(ascii: "]"): i += 1; return
            default: throw failure("expected ',' or ']' in an array")
            }
        }
    }

    /// Skips any value, nested ones included, to a depth that no reply of MediaMTX comes near.
    mutating func skip(depth: Int = 0) throws(Failure) {
        guard depth < 64 else { throw failure("nested too deep") }
        switch try peek() {
        case UInt8(ascii: "{"):
            // Keys are passed over, not made into strings: skipped objects are most of a reply.
            i += 1
            if try peek() == UInt8(ascii: "}") { i += 1; return }
            while true {
                guard try peek() == UInt8(ascii: "\"") else { throw failure("expected a key") }
                try skipString()
                try expect(UInt8(ascii: ":"), "':' after a key")
                try skip(depth: depth + 1)
                switch try peek() {
                case UInt8(ascii: ","): i += 1
                case UInt8(ascii: "}"): i += 1; return
                default: throw failure("expected ',' or '}' in an object")
                }
            }
        case UInt8(ascii: "["): try array { r, _ throws(Failure) in try r.skip(depth: depth + 1) }
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: _ = try numberText()
        }
    }

    /// Nothing but white space may follow the value.
    mutating func end() throws(Failure) {
        skipSpace()
        guard i == bytes.count else { throw failure("unexpected bytes after the reply") }
    }

    // MARK: Values

    mutating func optionalString() throws(Failure) -> String? { try null() ? nil : try string() }

    /// A string that names something (a path, a connection): `nil` unless it is valid UTF-8, so
    /// that two names differing only in broken bytes are never repaired into the same name. The
    /// item is then left out as one without a name.
    mutating func optionalName() throws(Failure) -> String? {
        guard try !null() else { return nil }
        skipSpace()
        let start = i
        let text = try string()
        let raw = UnsafeRawBufferPointer(rebasing: bytes[(start + 1)..<(i - 1)])
        // Escapes are ASCII: the raw bytes are valid UTF-8 exactly when the text was not repaired.
        return String(validating: raw, as: UTF8.self) == nil ? nil : text
    }

    mutating func string() throws(Failure) -> String {
        try expect(UInt8(ascii: "\""), "a string")
        let start = i
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                defer { i += 1 }
                return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
            }
            if b == UInt8(ascii: "\\") { return try escapedString(from: start) }
            if b < 0x20 { throw failure("a control character in a string") }
            i += 1
        }
        throw failure("a string that does not end")
    }

    /// Passes over a string, escapes and all, making nothing of it.
    mutating func skipString() throws(Failure) {
        try expect(UInt8(ascii: "\""), "a string")
        while i < bytes.count {
            let b = bytes[i]
            i += 1
            if b == UInt8(ascii: "\"") { return }
            if b == UInt8(ascii: "\\") {
                guard i < bytes.count else { break }
                i += 1
            } else if b < 0x20 {
                i -= 1
                throw failure("a control character in a string")
            }
        }
        throw failure("a string that does not end")
    }

    /// The rare string with escapes, decoded by hand from its start.
    private mutating func escapedString(from start: Int) throws(Failure) -> String {
        var scalars = String.UnicodeScalarView()
        var utf8: [UInt8] = Array(bytes[start..<i])
        func flush() {
            scalars.append(contentsOf: String(decoding: utf8, as: UTF8.self).unicodeScalars)
            utf8.removeAll()
        }
        while i < bytes.count {
            let b = bytes[i]
            i += 1
            switch b {
            case UInt8(ascii: "\""):
                flush()
                return String(scalars)
            case UInt8(ascii: "\\"):
                guard i < bytes.count else { throw failure("a string that does not end") }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(e)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0c)
                case UInt8(ascii: "n"): utf8.append(0x0a)
                case UInt8(ascii: "r"): utf8.append(0x0d)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"):
                    flush()
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code) {
                        // A high surrogate must be followed by its low one.
                        guard bytes.count - i >= 6, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                            throw failure("a lone surrogate in a string")
                        }
                        i += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw failure("a lone surrogate in a string") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw failure("a lone surrogate in a string") }
                    scalars.append(scalar)
                default: throw failure("a bad escape in a string")
                }
            default:
                if b < 0x20 { throw failure("a control character in a string") }
                utf8.append(b)
            }
        }
        throw failure("a string that does not end")
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard bytes.count - i >= 4 else { throw failure("a string that does not end") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[i]
            i += 1
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
            default: throw failure("a bad \\u escape in a string")
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    mutating func bool() throws(Failure) -> Bool? {
        switch try peek() {
        case UInt8(ascii: "t"): try literal("true"); return true
        case UInt8(ascii: "f"): try literal("false"); return false
        case UInt8(ascii: "n"): try literal("null"); return nil
        default: throw failure("expected true or false")
        }
    }

    /// The bytes of a number, checked against JSON's grammar.
    private mutating func numberText() throws(Failure) -> (range: Range<Int>, integer: Bool) {
        skipSpace()
        let start = i
        var integer = true
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
        func digits(_ r: inout WireReader) -> Int {
            let from = r.i
            while r.i < r.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(r.bytes[r.i]) { r.i += 1 }
            return r.i - from
        }
        guard digits(&self) > 0 else { throw failure("expected a number") }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            integer = false
            guard digits(&self) > 0 else { throw failure("expected digits after '.'") }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            integer = false
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard digits(&self) > 0 else { throw failure("expected digits in an exponent") }
        }
        return (start..<i, integer)
    }

    mutating func int() throws(Failure) -> Int64? {
        if try null() { return nil }
        guard try peek() != UInt8(ascii: "\"") else { throw failure("expected a number, not a string") }
        // The common case in one pass: up to 18 digits cannot overflow, and a byte after them
        // that could continue a number sends it the careful way below.
        var k = i
        var fast: Int64 = 0
        while k < bytes.count, k - i < 18, bytes[k] &- UInt8(ascii: "0") < 10 {
            fast = fast &* 10 &+ Int64(bytes[k] &- UInt8(ascii: "0"))
            k += 1
        }
        if k > i, k < bytes.count {
            switch bytes[k] {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): break
            default:
                i = k
                return fast
            }
        }
        let (range, integer) = try numberText()
        guard integer else { throw failure("expected a whole number") }
        k = range.lowerBound
        let negative = bytes[k] == UInt8(ascii: "-")
        if negative { k += 1 }
        var value: Int64 = 0
        while k < range.upperBound {
            let digit = Int64(bytes[k] - UInt8(ascii: "0"))
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = negative ? times.subtractingReportingOverflow(digit) : times.addingReportingOverflow(digit)
            guard !o1 && !o2 else { throw failure("a number too large for a 64-bit integer") }
            value = sum
            k += 1
        }
        return value
    }

    /// An RFC 3339 string as a `WireTime`, read from the reply's bytes without making a String;
    /// `nil` for `null`.
    mutating func time() throws(Failure) -> WireTime? {
        if try null() { return nil }
        try expect(UInt8(ascii: "\""), "a string")
        let start = i
        while i < bytes.count, bytes[i] != UInt8(ascii: "\""), bytes[i] != UInt8(ascii: "\\"), bytes[i] >= 0x20 { i += 1 }
        guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else {
            // Escapes or worse: the careful reader says what is wrong, if anything.
            i = start - 1
            return WireTime(ms: TimeArgument.rfc3339(try string()))
        }
        defer { i += 1 }
        return WireTime(ms: TimeArgument.rfc3339(bytes: UnsafeBufferPointer(rebasing: bytes.bindMemory(to: UInt8.self)[start..<i])))
    }

    mutating func double() throws(Failure) -> Double? {
        if try null() { return nil }
        guard try peek() != UInt8(ascii: "\"") else { throw failure("expected a number, not a string") }
        let (range, _) = try numberText()
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else { throw failure("a number out of range") }
        return value
    }
}

/// A wire type the reader can fill.
protocol WireReadable {
    static func read(_ r: inout WireReader) throws(WireReader.Failure) -> Self
    /// Reads one more item onto the end of `items`.
    static func append(_ r: inout WireReader, to items: inout [Self]) throws(WireReader.Failure)
}

extension WireReadable {
    static func append(_ r: inout WireReader, to items: inout [Self]) throws(WireReader.Failure) {
        items.append(try read(&r))
    }
}

extension WireReader {
    /// One reply: a page of a list, or `/v3/info`.
    static func decode<T>(_ type: T.Type, _ buffer: ByteBuffer) throws(Failure) -> T? {
        guard let readable = type as? any WireReadable.Type else { return nil }
        do {
            return try buffer.withUnsafeReadableBytes { raw throws(Failure) -> T? in
                var r = WireReader(raw)
                let value = try readable.read(&r)
                try r.end()
                return value as? T
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(description: "\(error)")
        }
    }
}

extension ListPage: WireReadable where Item: WireReadable {
    static func read(_ r: inout WireReader) throws(WireReader.Failure) -> ListPage<Item> {
        var page = ListPage<Item>()
        try r.object { r, key throws(WireReader.Failure) in
            switch key {
            case "pageCount": page.pageCount = try r.int().map(Int.init)
            case "itemCount": page.itemCount = try r.int().map(Int.init)
            case "items":
                if try r.null() { return }
                var items: [Item] = []
                // MediaMTX writes the count before the items; a page holds at most that many.
                items.reserveCapacity(min(max(0, page.itemCount ?? 0), 4_096))
                try r.array { r, index throws(WireReader.Failure) in
                    r.item = index
                    try Item.append(&r, to: &items)
                    r.item = nil
                }
                page.items = items
            default: try r.skip()
            }
        }
        return page
    }
}
