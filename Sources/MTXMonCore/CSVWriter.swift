/// One text cell of CSV as mtxmon writes it: RFC 4180 quoting where needed, and a cell a
/// spreadsheet would run as a formula (starting `=`, `+`, `-`, `@`, a tab or a carriage return)
/// made plain text with a leading `'`, as OWASP advises against CSV injection. Path names and
/// messages come from MediaMTX and its clients, so they may be written to make a spreadsheet act.
/// Numbers are not cells of this kind: their minus sign stays.
public enum CSVCell {
    public static func text(_ text: String) -> String {
        var text = text
        if let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { text = "'" + text }
        guard text.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 10 || $0 == 13 })
        else { return text }
        var quoted = "\""
        for scalar in text.unicodeScalars {
            if scalar == "\"" { quoted += "\"" }
            quoted.unicodeScalars.append(scalar)
        }
        return quoted + "\""
    }
}

/// RFC 4180 CSV, the one writer of every CSV mtxmon answers or exports: fields quoted only when
/// they need it (`CSVCell`), LF line ends (spreadsheets take them), an absent figure a blank
/// cell rather than the word null.
public struct CSVWriter: Sendable {
    public var bytes: [UInt8] = []

    public init() {}

    /// Text written as it is: a header line, or a figure already formatted.
    public mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }

    /// A text cell, then its separator.
    public mutating func field(_ text: String?, last: Bool = false) {
        if let text { bytes.append(contentsOf: CSVCell.text(text).utf8) }
        end(last: last)
    }

    /// A number without a separator after it; nothing when absent.
    public mutating func value(_ value: Double?, decimals: Int = 3) {
        guard let value, value.isFinite else { return }
        JSONText.append(value, decimals: decimals, to: &bytes)
    }

    /// A number rounded to `decimals` places, then its separator.
    public mutating func number(_ value: Double?, decimals: Int = 3, last: Bool = false) {
        self.value(value, decimals: decimals)
        end(last: last)
    }

    /// An integer, then its separator.
    public mutating func integer(_ value: Int64?, last: Bool = false) {
        if let value { JSONText.append(value, to: &bytes) }
        end(last: last)
    }

    /// The separator after a cell: a comma, or the end of the line.
    public mutating func end(last: Bool) { bytes.append(last ? 10 : UInt8(ascii: ",")) }
}
