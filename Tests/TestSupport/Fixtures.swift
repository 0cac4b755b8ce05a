import Foundation

/// Replies captured from a real MediaMTX v1.20.1, kept in `Tests/Fixtures`.
public enum Fixtures {
    /// Live streams for 180 s (`MTXMON_FIXTURES` points elsewhere): what `lines(_:)` reads.
    public static var directory: URL {
        if let override = ProcessInfo.processInfo.environment["MTXMON_FIXTURES"] {
            return URL(fileURLWithPath: override)
        }
        return liveDirectory
    }

    /// Live streams for 180 s: publishers and readers leaving and coming back.
    public static var liveDirectory: URL { packageRoot.appendingPathComponent("Tests/Fixtures/mediamtx-v1.20.1-live") }

    /// Publisher restarts, a killed publisher, and MediaMTX itself stopped twice (refused polls).
    public static var outagesDirectory: URL {
        packageRoot.appendingPathComponent("Tests/Fixtures/mediamtx-v1.20.1-outages")
    }

    /// One entry per line of `name.jsonl`: the capture time and the reply body as raw JSON.
    public static func lines(_ name: String) throws -> [(t: Int64, body: Data)] {
        try records(name, in: directory).map { ($0.t, $0.body!) }
    }

    /// One poll of a capture: a reply (`status` nil where the capture did not record it) or a failure.
    public struct Record: Sendable {
        public let t: Int64
        public let status: Int?
        public let body: Data?
        public let error: String?
    }

    /// Every line of `name.jsonl` in `directory`, failed polls included.
    public static func records(_ name: String, in directory: URL) throws -> [Record] {
        let text = try String(contentsOf: directory.appendingPathComponent(name + ".jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            let body = try object["body"].map { try JSONSerialization.data(withJSONObject: $0) }
            return Record(t: (object["t"] as! NSNumber).int64Value, status: (object["status"] as? NSNumber)?.intValue,
                          body: body, error: object["error"] as? String)
        }
    }

    public static var available: Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent("paths_list.jsonl").path)
    }
}
