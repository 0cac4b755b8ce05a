/// One MediaMTX field of a wire type: its key, the property it fills, and how its value is read.
///
/// A type's list of these (`WireObject.fields`) is the one place its keys are named: the one-pass
/// reader and the `Decodable` conformance both read through it, so a field added there is read by
/// both, into the property named beside it, or by neither.
struct WireField<Root>: Sendable {
    /// How a value is read; the property's type follows from it (see the constructors below).
    enum Kind: UInt8, Sendable {
        /// `String?`.
        case string
        /// `String?` that names a path or a connection: `nil` unless valid UTF-8 (`WireReader.optionalName`).
        case identifier
        /// `Int64?`, a whole number.
        case int
        /// `Double?`.
        case double
        /// `Bool?`.
        case bool
        /// `WireTime?`, read from an RFC 3339 string.
        case time
        /// An object or an array of objects of another wire type, read by `Nested`.
        case nested
    }

    /// How a field of another wire type is read and decoded into the property at a pointer.
    struct Nested: Sendable {
        let read: @Sendable (inout WireReader, UnsafeMutableRawPointer) throws(WireReader.Failure) -> Void
        let decode: @Sendable (KeyedDecodingContainer<WireKey>, WireKey, UnsafeMutableRawPointer) throws -> Void
    }

    let name: String
    let kind: Kind
    /// Where the property lies in a `Root`, worked out once from the key path: values are written
    /// through it, a store as the hand-written `switch` made. Applying the key path for each value
    /// instead made `mtxmon-bench --decode` 11 % slower for the whole numbers alone.
    let offset: Int
    let nested: Nested?

    private init<Value>(_ name: String, _ kind: Kind, _ property: WritableKeyPath<Root, Value>, nested: Nested? = nil) {
        guard let offset = MemoryLayout<Root>.offset(of: property) else {
            preconditionFailure("'\(name)' of \(Root.self) must name a stored property")
        }
        self.name = name
        self.kind = kind
        self.offset = offset
        self.nested = nested
    }

    static func string(_ name: String, _ property: WritableKeyPath<Root, String?>) -> Self {
        Self(name, .string, property)
    }

    static func identifier(_ name: String, _ property: WritableKeyPath<Root, String?>) -> Self {
        Self(name, .identifier, property)
    }

    static func int(_ name: String, _ property: WritableKeyPath<Root, Int64?>) -> Self { Self(name, .int, property) }

    static func double(_ name: String, _ property: WritableKeyPath<Root, Double?>) -> Self {
        Self(name, .double, property)
    }

    static func bool(_ name: String, _ property: WritableKeyPath<Root, Bool?>) -> Self { Self(name, .bool, property) }

    static func time(_ name: String, _ property: WritableKeyPath<Root, WireTime?>) -> Self {
        Self(name, .time, property)
    }

    /// An object of another wire type; `null` leaves it `nil`.
    static func object<T: WireObject>(_ name: String, _ property: WritableKeyPath<Root, T?>) -> Self {
        Self(name, .nested, property, nested: Nested(
            read: { r, at throws(WireReader.Failure) in
                at.assumingMemoryBound(to: T?.self).pointee = try r.null() ? nil : try T.read(&r)
            },
            decode: { container, key, at in
                at.assumingMemoryBound(to: T?.self).pointee = try container.decodeIfPresent(T.self, forKey: key)
            }))
    }

    /// An array of objects of another wire type; `null` leaves it `nil`.
    static func array<T: WireObject>(_ name: String, _ property: WritableKeyPath<Root, [T]?>) -> Self {
        Self(name, .nested, property, nested: Nested(
            read: { r, at throws(WireReader.Failure) in
                if try r.null() { return }
                var items: [T] = []
                try r.array { r, _ throws(WireReader.Failure) in try T.append(&r, to: &items) }
                at.assumingMemoryBound(to: [T]?.self).pointee = items
            },
            decode: { container, key, at in
                at.assumingMemoryBound(to: [T]?.self).pointee = try container.decodeIfPresent([T].self, forKey: key)
            }))
    }
}

/// A key of a wire type's `Decodable` conformance: the name of one of its `fields`.
struct WireKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// A wire type's fields, in the order of its properties, with the lookup of their keys.
struct WireFields<Root>: Sendable {
    let fields: [WireField<Root>]
    /// Per field: how it is read and where its property lies, without the name and the closures,
    /// so that the reader copies no reference-counted value per field.
    private let steps: [(kind: WireField<Root>.Kind, offset: Int)]
    /// Per field: its key for `Decodable`, made once rather than for every object decoded.
    private let keys: [WireKey]
    let table: FieldTable

    /// `order`: which of the reader's remembered key orders this type's objects use (`FieldTable.order`).
    init(order: Int, _ fields: [WireField<Root>]) {
        self.fields = fields
        steps = fields.map { ($0.kind, $0.offset) }
        keys = fields.map { WireKey(stringValue: $0.name) }
        table = FieldTable(order: order, fields.map(\.name))
    }

    /// Reads the value of field `position` into `root`'s property.
    @inline(__always)
    func read(_ position: Int, into root: inout Root, _ r: inout WireReader) throws(WireReader.Failure) {
        let step = steps[position]
        switch step.kind {
        case .string: Self.store(try r.optionalString(), at: step.offset, in: &root)
        case .identifier: Self.store(try r.optionalName(), at: step.offset, in: &root)
        case .int: Self.store(try r.int(), at: step.offset, in: &root)
        case .double: Self.store(try r.double(), at: step.offset, in: &root)
        case .bool: Self.store(try r.bool(), at: step.offset, in: &root)
        case .time: Self.store(try r.time(), at: step.offset, in: &root)
        case .nested:
            let nested = fields[position].nested!
            try withUnsafeMutableBytes(of: &root) { raw throws(WireReader.Failure) in
                try nested.read(&r, raw.baseAddress! + step.offset)
            }
        }
    }

    /// Decodes every field into `root` as Swift's synthesized conformance would: in order, `null`
    /// or a missing key leaving the property `nil`, a value of the wrong type an error.
    func decode(_ decoder: any Decoder, into root: inout Root) throws {
        let container = try decoder.container(keyedBy: WireKey.self)
        for position in steps.indices {
            let (kind, at) = steps[position]
            let key = keys[position]
            switch kind {
            case .string, .identifier:
                Self.store(try container.decodeIfPresent(String.self, forKey: key), at: at, in: &root)
            case .int: Self.store(try container.decodeIfPresent(Int64.self, forKey: key), at: at, in: &root)
            case .double: Self.store(try container.decodeIfPresent(Double.self, forKey: key), at: at, in: &root)
            case .bool: Self.store(try container.decodeIfPresent(Bool.self, forKey: key), at: at, in: &root)
            case .time: Self.store(try container.decodeIfPresent(WireTime.self, forKey: key), at: at, in: &root)
            case .nested:
                let nested = fields[position].nested!
                try withUnsafeMutableBytes(of: &root) { raw in
                    try nested.decode(container, key, raw.baseAddress! + at)
                }
            }
        }
    }

    /// Writes `value` into the property at `offset`; the field's constructor checked that the
    /// property there has `value`'s type.
    @inline(__always)
    private static func store<Value>(_ value: Value, at offset: Int, in root: inout Root) {
        withUnsafeMutableBytes(of: &root) { raw in
            (raw.baseAddress! + offset).assumingMemoryBound(to: Value.self).pointee = value
        }
    }
}

/// A wire type read through its list of fields, by the one-pass reader and by `Decodable` alike.
protocol WireObject: WireReadable, Decodable {
    init()
    /// MediaMTX's keys that the type reads, each with its property: the one list of them.
    static var fields: WireFields<Self> { get }
}

extension WireObject {
    static func read(_ r: inout WireReader) throws(WireReader.Failure) -> Self {
        var value = Self()
        try r.object(fields, into: &value)
        return value
    }

    /// Filled where it lies in the array: a connection is some seven hundred bytes of fields.
    static func append(_ r: inout WireReader, to items: inout [Self]) throws(WireReader.Failure) {
        items.append(Self())
        try r.object(fields, into: &items[items.count - 1])
    }

    /// The `Decodable` conformance's body: each conforming type's `init(from:)` calls it.
    init(fieldsFrom decoder: any Decoder) throws {
        self.init()
        try Self.fields.decode(decoder, into: &self)
    }
}

extension WireReader {
    /// Reads an object of a wire type into `root`, field by field; keys not in `fields` are skipped.
    @inline(__always)
    mutating func object<Root>(_ fields: WireFields<Root>, into root: inout Root) throws(Failure) {
        try object(fields.table) { position, r throws(Failure) in try fields.read(position, into: &root, &r) }
    }
}
