/// The one JSON string escaper: quotes, backslashes and control characters escaped, everything
/// else (UTF-8 included) as it is. The API's writer, event figures, webhook bodies, exports and
/// the history file's small JSON texts all write strings with it.
public enum JSONText {
    private static let hex = Array("0123456789abcdef".utf8)

    /// Appends `text` to `bytes` as a JSON string, quotes included.
    public static func append(_ text: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0a: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0d: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                          hex[Int(byte >> 4)], hex[Int(byte & 0xf)]])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// `text` as a JSON string, quotes included.
    public static func string(_ text: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + 2)
        append(text, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether `text` needs no escaping at all (the common case for names): its bytes can be copied.
    public static func isPlain(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 >= 0x20 && $0 != 0x22 && $0 != 0x5c }
    }

    /// Reader counts by type as a JSON object, keys sorted; `nil` when there are none.
    public static func counts(_ counts: [String: Int]) -> String? {
        guard !counts.isEmpty else { return nil }
        if counts.count == 1, let (key, n) = counts.first, isPlain(key) { return "{\"\(key)\":\(n)}" }
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        for (i, key) in counts.keys.sorted().enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            append(key, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            bytes.append(contentsOf: String(counts[key] ?? 0).utf8)
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// An event's figures as a JSON object, keys sorted; `nil` when there are none. Whole numbers
    /// are written without a fraction.
    public static func figures(_ figures: [String: MonitorEvent.Figure]) -> String? {
        guard !figures.isEmpty else { return nil }
        var out = "{"
        for (i, key) in figures.keys.sorted().enumerated() {
            if i > 0 { out += "," }
            out += string(key) + ":"
            switch figures[key]! {
            case let .number(value):
                out += !value.isFinite ? "null"
                    : value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
            case let .text(text): out += string(text)
            }
        }
        return out + "}"
    }
}
