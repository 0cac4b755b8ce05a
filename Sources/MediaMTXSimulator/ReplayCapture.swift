import Foundation

/// Why a capture cannot be replayed, worded so the fix is plain.
public enum ReplayError: Error, CustomStringConvertible, Sendable {
    case noPathsList(directory: String)
    case emptyPathsList(file: String)
    case unreadable(file: String, reason: String)
    case badLine(file: String, line: Int, reason: String)
    case stepOutOfRange(step: Int, stepCount: Int)

    public var description: String {
        switch self {
        case let .noPathsList(directory):
            "\(directory) has no paths_list.jsonl: give a capture directory with one <list>_list.jsonl per "
                + "list, such as Tests/Fixtures/mediamtx-v1.20.1-outages"
        case let .emptyPathsList(file):
            "\(file) has no lines: a replay needs at least one poll of paths/list"
        case let .unreadable(file, reason):
            "\(file) cannot be read: \(reason)"
        case let .badLine(file, line, reason):
            "\(file) line \(line): \(reason); each line must be {\"t\": unix_ms, \"status\"?, \"body\": {...}} "
                + "or {\"t\": unix_ms, \"error\": \"...\"}"
        case let .stepOutOfRange(step, stepCount):
            "step \(step) is outside the capture: use 0 to \(stepCount - 1)"
        }
    }
}

/// One poll of one endpoint as the capture recorded it.
struct CapturedLine: Sendable {
    enum Outcome: Sendable {
        case answered(status: Int, body: JSON)
        /// The request got no answer (a refused connection while MediaMTX was down).
        case failed(String)
    }

    let t: Int64
    let outcome: Outcome

    var failed: Bool { if case .failed = outcome { true } else { false } }

    /// Every line of a `.jsonl` capture file, blank lines skipped.
    static func load(_ url: URL) throws(ReplayError) -> [CapturedLine] {
        let name = url.lastPathComponent
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw .unreadable(file: url.path, reason: "\(error.localizedDescription)")
        }
        var lines: [CapturedLine] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard line.contains(where: { !$0.isWhitespace }) else { continue }
            do {
                lines.append(try decode(line))
            } catch {
                throw .badLine(file: name, line: index + 1, reason: "\(error)")
            }
        }
        return lines
    }

    static func decode(_ line: Substring) throws -> CapturedLine {
        let value = try JSON.parse(line)
        let t: Int64
        switch value["t"] {
        case let .int(ms)?: t = ms
        case let .double(ms)? where ms.rounded() == ms && abs(ms) < 1e15: t = Int64(ms)
        default: throw LineError("no \"t\" in unix milliseconds")
        }
        if case let .string(error)? = value["error"] { return CapturedLine(t: t, outcome: .failed(error)) }
        guard let body = value["body"] else { throw LineError("neither \"body\" nor \"error\"") }
        var status = 200
        if let field = value["status"] {
            guard case let .int(code) = field, (100...599).contains(code) else { throw LineError("\"status\" is not an HTTP status") }
            status = Int(code)
        }
        return CapturedLine(t: t, outcome: .answered(status: status, body: body))
    }

    struct LineError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}

/// For each time in `times`, the index of the line of `lines` nearest to it, if within `tolerance` ms.
func nearest(_ lines: [CapturedLine], to times: [Int64], within tolerance: Int64?) -> [Int?] {
    let order = lines.indices.sorted { lines[$0].t < lines[$1].t }
    return times.map { t in
        // The first line at or after `t`, then the one before it: one of the two is nearest.
        var low = 0, high = order.count
        while low < high {
            let mid = (low + high) / 2
            if lines[order[mid]].t < t { low = mid + 1 } else { high = mid }
        }
        let candidates = [low - 1, low].filter { order.indices.contains($0) }.map { order[$0] }
        guard let best = candidates.min(by: { abs(lines[$0].t - t) < abs(lines[$1].t - t) }) else { return nil }
        if let tolerance, abs(lines[best].t - t) > tolerance { return nil }
        return best
    }
}
