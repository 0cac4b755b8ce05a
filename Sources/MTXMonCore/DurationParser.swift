/// Parses the durations operators type: `500ms`, `2s`, `5m`, `1h`, `7d`, `1w`, or bare seconds.
public enum DurationParser {
    public struct Invalid: Error, CustomStringConvertible, Equatable {
        public let text: String
        public init(text: String) { self.text = text }
        public var description: String {
            "'\(text)' is not a duration: use a number with a unit ms, s, m, h, d or w, e.g. 2s, 5m, 7d"
        }
    }

    /// Milliseconds in `text`; bare numbers are seconds. Rejects negatives, zero is allowed.
    public static func milliseconds(_ text: String) throws(Invalid) -> Int64 {
        let trimmed = text.trimmingWhitespace()
        let units: [(String, Double)] = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000),
                                         ("d", 86_400_000), ("w", 604_800_000)]
        var number = Substring(trimmed)
        var factor = 1_000.0
        for (suffix, value) in units where trimmed.hasSuffix(suffix) {
            number = trimmed.dropLast(suffix.count)
            factor = value
            break
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isNumber || $0 == "." }),
              let value = Double(number), value.isFinite, value >= 0, value * factor < 1e15
        else { throw Invalid(text: text) }
        return Int64((value * factor).rounded())
    }

    /// `ms` in the largest unit that holds it whole, as `milliseconds(_:)` reads it back: `1m`,
    /// `90s`, `7d`, `1500ms`.
    public static func text(milliseconds ms: Int64) -> String {
        let units: [(String, Int64)] = [("w", 604_800_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000),
                                        ("s", 1_000)]
        for (suffix, size) in units where ms != 0 && ms % size == 0 { return "\(ms / size)\(suffix)" }
        return "\(ms)ms"
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
