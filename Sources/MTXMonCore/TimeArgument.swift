/// Reads the instants people and Grafana-style tools write in a URL: RFC 3339
/// (`2026-11-25T08:00:00Z`, `…+01:00`, fractions allowed), unix seconds (`1764057600`, `1764057600.5`),
/// `now`, and `now` plus or minus a duration (`now-15m`, `now-24h`).
public enum TimeArgument {
    /// Unix seconds above this are taken for milliseconds sent by mistake (year 5138 and later).
    static let largestUnixSeconds: Double = 1e11

    /// Unix milliseconds for `text`, relative to `now` (unix ms) where it says so.
    public static func milliseconds(_ text: String, parameter: String, now: Int64) throws(QueryError) -> Int64 {
        let value = text.trimmingWhitespace()
        if value == "now" { return now }
        if value.hasPrefix("now-") || value.hasPrefix("now+") {
            let sign: Int64 = value.dropFirst(3).first == "-" ? -1 : 1
            guard let offset = try? DurationParser.milliseconds(String(value.dropFirst(4))) else {
                throw QueryError(parameter, "\(parameter)='\(text)': the offset after 'now' is not a duration; "
                    + "use e.g. \(parameter)=now-15m or now-24h")
            }
            return now + sign * offset
        }
        if let first = value.first, first.isNumber || first == "-", !value.contains(where: { $0 == ":" }) {
            guard let seconds = Double(value), seconds.isFinite else {
                throw invalid(parameter, text)
            }
            guard seconds >= 0 else {
                throw QueryError(parameter, "\(parameter)='\(text)' is before 1970: use unix seconds such as "
                    + "\(parameter)=\(now / 1_000 - 3_600)")
            }
            guard seconds < largestUnixSeconds else {
                throw QueryError(parameter, "\(parameter)='\(text)' looks like milliseconds: this API takes unix "
                    + "seconds, e.g. \(parameter)=\(now / 1_000 - 3_600)")
            }
            return Int64((seconds * 1_000).rounded())
        }
        guard let ms = rfc3339(value) else { throw invalid(parameter, text) }
        return ms
    }

    static func invalid(_ parameter: String, _ text: String) -> QueryError {
        QueryError(parameter, "\(parameter)='\(text)' is not a time: use RFC 3339 (2026-11-25T08:00:00Z), "
            + "unix seconds (1764057600) or now-15m")
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM)`; `t`, `z` and a space for `T` are accepted as RFC 3339 allows.
    /// Also how MediaMTX's `created` (nanoseconds, `Z`) is read.
    public static func rfc3339(_ text: String) -> Int64? {
        var text = text
        // Read where the string keeps its bytes: every connection's `created` goes through here.
        return text.withUTF8 { rfc3339(bytes: $0) }
    }

    public static func rfc3339(bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard bytes.count >= 20 else { return nil }
        func number(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[start..<start + count] {
                guard (48...57).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard let year = number(0, 4), bytes[4] == 45, let month = number(5, 2), bytes[7] == 45,
              let day = number(8, 2), bytes[10] == 84 || bytes[10] == 116 || bytes[10] == 32,
              let hour = number(11, 2), bytes[13] == 58, let minute = number(14, 2), bytes[16] == 58,
              let second = number(17, 2),
              (1...12).contains(month), (1...daysIn(month, year)).contains(day),
              hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var fractionMs = 0
        if bytes[index] == 46 {  // '.'
            index += 1
            var digits = 0
            while index < bytes.count, (48...57).contains(bytes[index]) {
                if digits < 3 { fractionMs = fractionMs * 10 + Int(bytes[index] - 48) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            var scale = digits
            while scale < 3 { fractionMs *= 10; scale += 1 }
        }
        guard index < bytes.count else { return nil }
        var offsetMinutes = 0
        switch bytes[index] {
        case 90, 122:  // 'Z', 'z'
            guard index + 1 == bytes.count else { return nil }
        case 43, 45:  // '+', '-'
            guard index + 6 == bytes.count, let oh = number(index + 1, 2), bytes[index + 3] == 58,
                  let om = number(index + 4, 2), oh < 24, om < 60 else { return nil }
            offsetMinutes = (oh * 60 + om) * (bytes[index] == 45 ? -1 : 1)
        default:
            return nil
        }
        let days = daysFromCivil(year, month, day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3_600 + minute * 60 + min(second, 59))
            - Int64(offsetMinutes * 60)
        return seconds * 1_000 + Int64(fractionMs)
    }

    static func daysIn(_ month: Int, _ year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's algorithm).
    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

extension TimeArgument {
    /// `2026-11-25T08:00:00.000Z` for unix milliseconds: the time column of CSV answers.
    public static func rfc3339(milliseconds ms: Int64) -> String {
        let seconds = ms >= 0 ? ms / 1_000 : (ms - 999) / 1_000
        let millis = Int(ms - seconds * 1_000)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let (y, m, d) = civil(days: days)
        let (year, month, day) = (Int(y), Int(m), Int(d))
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3_600, 2)):"
            + "\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(millis, 3))Z"
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's civil_from_days).
    public static func civil(days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
