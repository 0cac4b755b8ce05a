import Hummingbird
import MTXMonCore

/// Reading what a request asks for, with the API's errors for what cannot be used.
enum RequestInput {
    /// MediaMTX allows path names up to this many bytes; mtxmon's schema stores no longer ones.
    static let maxPathNameBytes = 1_024

    /// The path name after the route prefix. Names contain `/` (`live/cam1`): both the literal
    /// and the escaped form (`live%2Fcam1`) are accepted.
    static func pathName(_ context: some RequestContext) throws -> String {
        let raw = context.parameters.getCatchAll().joined(separator: "/")
        return try decodePathName(raw)
    }

    static func decodePathName(_ raw: String) throws -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(raw.utf8.count)
        var iterator = raw.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                throw APIError(.badRequest, "bad_path", "the path name has a '%' that is not followed by two hex "
                    + "digits: escape it as %25, e.g. /api/v1/paths/live%2Fcam1")
            }
            bytes.append(high << 4 | low)
        }
        return try validatePathName(bytes)
    }

    /// A name's bytes as text, refused when empty, over-long, not UTF-8 or holding control characters.
    static func validatePathName(_ bytes: [UInt8]) throws -> String {
        guard !bytes.isEmpty else {
            throw APIError(.badRequest, "bad_path", "no path name given: e.g. /api/v1/history/live/cam1")
        }
        guard bytes.count <= maxPathNameBytes else {
            throw APIError(.badRequest, "bad_path", "the path name is \(bytes.count) bytes long; MediaMTX path "
                + "names are at most \(maxPathNameBytes): check the URL")
        }
        guard let name = String(validating: bytes, as: UTF8.self) else {
            throw APIError(.badRequest, "bad_path", "the path name is not UTF-8 text: percent-encode the UTF-8 "
                + "bytes of the name, e.g. /api/v1/paths/caf%C3%A9")
        }
        guard !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
            throw APIError(.badRequest, "bad_path", "the path name holds a control character, which MediaMTX "
                + "path names never do: check the URL")
        }
        return name
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// `?server=`: which MediaMTX server of the fleet a path or connection is on; `nil` when not
    /// given (a name on one server needs none).
    static func server(_ request: Request) throws -> String? {
        guard let name = query(request, "server") else { return nil }
        if let problem = ServerName.problem(name) {
            throw APIError(.badRequest, "bad_server", "server: \(problem): use a name GET /api/v1/servers lists, "
                + "e.g. server=default")
        }
        return name
    }

    /// `?from=&to=` of a listing (events, incidents): the past day by default; `from` after `to`
    /// is 400 `bad_from`.
    static func listingRange(_ request: Request, now: Int64) throws -> (from: Int64, to: Int64) {
        let from = try query(request, "from").map {
            try TimeArgument.milliseconds($0, parameter: "from", now: now)
        } ?? now - 86_400_000
        let to = try query(request, "to").map {
            try TimeArgument.milliseconds($0, parameter: "to", now: now)
        } ?? now
        guard from <= to else {
            throw APIError(.badRequest, "bad_from", "from is after to: swap them, e.g. from=now-1h&to=now")
        }
        return (from, to)
    }

    /// A query parameter, `nil` when absent or empty.
    static func query(_ request: Request, _ name: String) -> String? {
        guard let value = request.uri.queryParameters.get(name), !value.isEmpty else { return nil }
        return value
    }

    enum Format { case json, csv, columns }

    /// `format=csv|json` wins (and `columns` where `columns` allows it: history's one array
    /// per figure); otherwise `Accept: text/csv` asks for CSV.
    static func format(_ request: Request, columns: Bool = false) throws -> Format {
        if let format = query(request, "format") {
            switch format.lowercased() {
            case "json": return .json
            case "csv": return .csv
            case "columns" where columns: return .columns
            default:
                throw APIError(.badRequest, "bad_format", "format='\(format)' is not known: use format=json, format=csv"
                    + (columns ? " or format=columns" : ""))
            }
        }
        if let accept = request.headers[.accept], accept.contains("text/csv") { return .csv }
        return .json
    }
}
