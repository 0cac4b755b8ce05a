import Foundation
@testable import MediaMTXClient
import NIOCore
import Testing

/// Each wire type's `fields` is the one list of MediaMTX's keys it reads: a key fills the property
/// of its own name, through the one-pass reader and `Decodable` alike, and no property is left out.
@Suite struct WireFieldTests {
    /// A value of the field's kind, as JSON; for an object or an array, both are tried.
    func samples(_ kind: WireField<some Any>.Kind) -> [String] {
        switch kind {
        case .string, .identifier: [#""x""#]
        case .int: ["7"]
        case .double: ["1.5"]
        case .bool: ["true"]
        case .time: [#""2026-01-02T03:04:05.123456789Z""#]
        case .nested: ["{}", "[]"]
        }
    }

    /// The properties that are not `nil` in `value`.
    func filled(_ value: Any) -> [String] {
        Mirror(reflecting: value).children.compactMap { child in
            String(describing: child.value) == "nil" ? nil : child.label
        }
    }

    func check<T: WireObject>(_ type: T.Type) throws {
        let properties = Mirror(reflecting: T()).children.compactMap(\.label)
        #expect(T.fields.fields.map(\.name) == properties, "\(T.self): one field per property, in their order")
        for field in T.fields.fields {
            var read = false
            for sample in samples(field.kind) {
                let json = #"{"\#(field.name)": \#(sample)}"#
                guard let fast = try? WireReader.decode(T.self, ByteBuffer(string: json)) else { continue }
                let slow = try JSONDecoder().decode(T.self, from: Data(json.utf8))
                #expect(filled(fast) == [field.name], "\(T.self): '\(field.name)' fills the property of its name")
                #expect(filled(slow) == [field.name], "\(T.self): '\(field.name)' decodes into its property")
                read = true
            }
            #expect(read, "\(T.self): '\(field.name)' reads a value of its kind")
        }
    }

    @Test func everyFieldFillsThePropertyOfItsNameAndEveryPropertyHasOne() throws {
        try check(WirePath.self)
        try check(WirePath.Ref.self)
        try check(WireConnection.self)
        try check(WireInfo.self)
        try check(WireForwardDest.self)
        try check(WireHLSMuxer.self)
    }

    /// The reader remembers each type's key order under its `order`; two types sharing one would
    /// try each other's keys.
    @Test func everyTypeRemembersItsKeyOrderApart() {
        let orders = [WirePath.fields.table.order, WirePath.Ref.fields.table.order, WireConnection.fields.table.order,
                      WireInfo.fields.table.order, WireForwardDest.fields.table.order,
                      WireHLSMuxer.fields.table.order]
        #expect(Set(orders).count == orders.count)
    }

    @Test func aValueOfTheWrongTypeIsAnErrorInBothReaders() {
        let json = #"{"id": "a", "inboundBytes": "12"}"#
        #expect(throws: (any Error).self) { try WireReader.decode(WireConnection.self, ByteBuffer(string: json)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(WireConnection.self, from: Data(json.utf8)) }
    }
}
