import Foundation
import Synchronization

/// A reply the replay gives: the captured HTTP status and JSON body.
public struct ReplayReply: Sendable, Equatable {
    public let status: Int
    public let body: JSON

    public init(status: Int, body: JSON) {
        self.status = status
        self.body = body
    }
}

/// A recorded MediaMTX served back one poll at a time. A step is a line of `paths_list.jsonl`;
/// every other list answers with its line nearest in time to that one. Thread-safe: the HTTP
/// front end (`ReplayServer`) reads the current step while a driver moves it.
public final class Replay: Sendable {
    /// The capture's polling interval: a real-time replay moves one step per this much time.
    public static let stepInterval: Duration = .seconds(2)
    /// A list polled further than this from a step's paths poll was not polled in that round.
    public static let matchToleranceMs: Int64 = 1_000
    /// The state lists of MediaMTX v1.20.1 (`/v3/<name>/list`): those the capture lacks answer empty.
    public static let knownLists = [
        "paths", "hlsmuxers", "hlssessions", "rtspconns", "rtspsessions", "rtspsconns", "rtspssessions",
        "rtmpconns", "rtmpsconns", "srtconns", "webrtcsessions", "moqsessions",
    ]

    public let directory: URL
    public let stepCount: Int
    /// Lists answered at `/v3/<name>/list`: the known ones and any other the capture holds.
    public let listNames: [String]
    /// Runs of consecutive steps at which MediaMTX refused connections.
    public let refusedStretches: [ClosedRange<Int>]

    private let paths: [CapturedLine]
    /// Per list, per step: the line of that list's capture for the step, nil when not captured.
    private let lines: [String: [CapturedLine?]]
    private let info: [CapturedLine?]
    private let current = Mutex(0)

    public init(directory: URL) throws(ReplayError) {
        let fileManager = FileManager.default
        let pathsURL = directory.appendingPathComponent("paths_list.jsonl")
        guard fileManager.fileExists(atPath: pathsURL.path) else { throw .noPathsList(directory: directory.path) }
        let paths = try CapturedLine.load(pathsURL)
        guard !paths.isEmpty else { throw .emptyPathsList(file: pathsURL.path) }
        let times = paths.map(\.t)

        var lines: [String: [CapturedLine?]] = [:]
        let files = (try? fileManager.contentsOfDirectory(atPath: directory.path)) ?? []
        for file in files.sorted() where file.hasSuffix("_list.jsonl") && file != "paths_list.jsonl" {
            let captured = try CapturedLine.load(directory.appendingPathComponent(file))
            lines[String(file.dropLast("_list.jsonl".count))] = nearest(captured, to: times, within: Self.matchToleranceMs)
                .map { $0.map { captured[$0] } }
        }
        let infoURL = directory.appendingPathComponent("info.jsonl")
        if fileManager.fileExists(atPath: infoURL.path) {
            let captured = try CapturedLine.load(infoURL)
            info = nearest(captured, to: times, within: nil).map { $0.map { captured[$0] } }
        } else {
            info = Array(repeating: nil, count: paths.count)
        }

        self.directory = directory
        self.paths = paths
        self.lines = lines
        stepCount = paths.count
        listNames = Self.knownLists + lines.keys.filter { !Self.knownLists.contains($0) }.sorted()
        refusedStretches = Self.stretches(paths.map(\.failed))
    }

    static func stretches(_ refused: [Bool]) -> [ClosedRange<Int>] {
        var result: [ClosedRange<Int>] = []
        var start: Int?
        for (index, flag) in (refused + [false]).enumerated() {
            if flag, start == nil { start = index }
            if !flag, let first = start {
                result.append(first...index - 1)
                start = nil
            }
        }
        return result
    }

    // MARK: Steps

    /// The step being served, from 0 to `stepCount - 1`.
    public var step: Int {
        get { current.withLock { $0 } }
        set {
            precondition((0..<stepCount).contains(newValue), "\(ReplayError.stepOutOfRange(step: newValue, stepCount: stepCount))")
            current.withLock { $0 = newValue }
        }
    }

    /// The capture's unix time in milliseconds of `step`'s paths poll.
    public func t(at step: Int) -> Int64 { paths[step].t }

    /// True when MediaMTX refused the paths poll of `step`: it was not running.
    public func isRefused(at step: Int) -> Bool { paths[step].failed }

    /// The step a real-time replay is at `elapsed` after it began, `speed` times as fast as the
    /// capture: it stays on the last step once there.
    public func step(after elapsed: Duration, speed: Double) -> Int {
        let steps = (elapsed / Self.stepInterval * speed).rounded(.down)
        guard steps.isFinite, steps > 0 else { return 0 }
        return steps >= Double(stepCount - 1) ? stepCount - 1 : Int(steps)
    }

    // MARK: Replies

    /// The reply to `/v3/<name>/list?page=&itemsPerPage=` at the current step; nil for a list
    /// MediaMTX does not have (a 404).
    public func list(_ name: String, page: Int = 0, itemsPerPage: Int = Paging.defaultItemsPerPage) -> ReplayReply? {
        list(name, at: step, page: page, itemsPerPage: itemsPerPage)
    }

    public func list(_ name: String, at step: Int, page: Int = 0,
                     itemsPerPage: Int = Paging.defaultItemsPerPage) -> ReplayReply? {
        guard listNames.contains(name) else { return nil }
        let line = name == "paths" ? paths[step] : lines[name]?[step]
        guard let line else { return ReplayReply(status: 200, body: Paging.page([], page: page, itemsPerPage: itemsPerPage)) }
        switch line.outcome {
        case let .failed(error):
            return Self.unanswered(error)
        case let .answered(status, body):
            guard status == 200, case let .array(items)? = body["items"] else { return ReplayReply(status: status, body: body) }
            return ReplayReply(status: 200, body: Paging.page(items, page: page, itemsPerPage: itemsPerPage))
        }
    }

    /// The reply to `/v3/paths/get/<name>` at the current step, from that step's paths poll.
    public func path(named name: String) -> ReplayReply {
        guard let reply = list("paths", at: step, itemsPerPage: Int.max) else { return Self.pathNotFound }
        guard reply.status == 200 else { return reply }
        guard case let .array(items)? = reply.body["items"],
              let item = items.first(where: { $0["name"] == .string(name) }) else { return Self.pathNotFound }
        return ReplayReply(status: 200, body: item)
    }

    /// The reply to `/v3/info` at the current step: the capture's nearest `info.jsonl` line,
    /// or the version both shipped captures were taken from.
    public func info(at step: Int? = nil) -> ReplayReply {
        guard let line = info[step ?? self.step] else {
            return ReplayReply(status: 200, body: .object([("version", .string(APIGeneration.v1_20.version))]))
        }
        switch line.outcome {
        case let .failed(error): return Self.unanswered(error)
        case let .answered(status, body): return ReplayReply(status: status, body: body)
        }
    }

    static let pathNotFound = ReplayReply(status: 404, body: .object([("status", "error"), ("error", "path not found")]))

    /// A request the capture saw fail while the server was up (a single list failing in a
    /// round that otherwise answered): a connection cannot be refused on its own, so it fails
    /// as a 503 naming what the capture saw.
    static func unanswered(_ error: String) -> ReplayReply {
        ReplayReply(status: 503, body: .object([("status", "error"), ("error", .string("not answered in the capture: \(error)"))]))
    }
}
