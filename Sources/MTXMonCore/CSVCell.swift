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
