import Foundation
import MediaMTXSimulator
import Testing
import TestSupport

/// The capture model behind `mtxmon simulate --replay`, without a server.
@Suite struct ReplayTests {
    @Test func stepsAreThePathsPollsRefusedWhereTheCaptureWasRefused() throws {
        let replay = try Replay(directory: Fixtures.outagesDirectory)
        let records = try Fixtures.records("paths_list", in: Fixtures.outagesDirectory)
        #expect(replay.stepCount == records.count)
        #expect((0..<replay.stepCount).map { replay.t(at: $0) } == records.map(\.t))
        #expect((0..<replay.stepCount).map { replay.isRefused(at: $0) } == records.map { $0.error != nil })
        // Two outages, per the capture's README: MediaMTX stopped at 360 s for 20 s, and from ~578 s to the end.
        #expect(replay.refusedStretches.count == 2)
        #expect(replay.refusedStretches.last?.upperBound == replay.stepCount - 1)
        for stretch in replay.refusedStretches {
            #expect(stretch.allSatisfy { records[$0].error != nil })
            #expect(records[stretch.lowerBound - 1].error == nil)
        }
    }

    @Test func realTimeMovesOneStepPerTwoSecondsAndStaysOnTheLast() throws {
        let replay = try Replay(directory: Fixtures.outagesDirectory)
        #expect(replay.step(after: .zero, speed: 1) == 0)
        #expect(replay.step(after: .milliseconds(1_999), speed: 1) == 0)
        #expect(replay.step(after: .seconds(2), speed: 1) == 1)
        #expect(replay.step(after: .seconds(2), speed: 10) == 10)
        #expect(replay.step(after: .seconds(100_000), speed: 1) == replay.stepCount - 1)
    }

    @Test func eachListAnswersItsLineNearestTheStep() throws {
        let directory = Fixtures.outagesDirectory
        let replay = try Replay(directory: directory)
        let paths = try Fixtures.records("paths_list", in: directory)
        for list in ["srtconns", "rtspsessions", "hlsmuxers"] {
            let records = try Fixtures.records(list + "_list", in: directory)
            for step in [0, 5, 120, 181, 192, 291] {
                let nearest = try #require(records.min { abs($0.t - paths[step].t) < abs($1.t - paths[step].t) })
                let reply = try #require(replay.list(list, at: step))
                #expect(reply.status == 200)
                #expect(try canonical(reply.body) == canonical(nearest.body), "\(list) at step \(step)")
            }
        }
    }

    @Test func listsTheCaptureLacksAreEmptyAndUnknownOnesAreNot() throws {
        let replay = try Replay(directory: Fixtures.outagesDirectory)
        for list in ["webrtcsessions", "rtspssessions", "rtmpsconns", "moqsessions"] {
            let reply = try #require(replay.list(list, at: 10))
            #expect(reply == ReplayReply(status: 200, body: .object([("itemCount", 0), ("pageCount", 0), ("items", .array([]))])))
        }
        #expect(replay.list("nonsense", at: 10) == nil)
    }

    /// A list polled more than a second away from a step was not polled in that round; a
    /// captured error status is served as captured.
    @Test func aListOutsideTheToleranceIsEmptyAndAnErrorStatusIsKept() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try write(directory, "paths_list", [
            #"{"t":1000,"status":200,"body":{"itemCount":0,"pageCount":0,"items":[]}}"#,
            #"{"t":3000,"status":200,"body":{"itemCount":0,"pageCount":0,"items":[]}}"#,
            #"{"t":5000,"error":"refused"}"#,
        ])
        try write(directory, "srtconns_list", [#"{"t":1500,"body":{"itemCount":1,"pageCount":1,"items":[{"id":"a"}]}}"#])
        try write(directory, "rtmpconns_list", [#"{"t":3001,"status":500,"body":{"status":"error","error":"boom"}}"#])
        let replay = try Replay(directory: URL(fileURLWithPath: directory.path))
        #expect(replay.list("srtconns", at: 0)?.body["itemCount"] == 1)
        #expect(replay.list("srtconns", at: 1)?.body["itemCount"] == 0)
        #expect(replay.list("rtmpconns", at: 1) == ReplayReply(status: 500, body: .object([("status", "error"), ("error", "boom")])))
        #expect(replay.isRefused(at: 2))
        #expect(replay.info(at: 0).body == .object([("version", "v1.20.1")]))
    }

    @Test func infoComesFromTheCaptureWhenItHasOne() throws {
        let replay = try Replay(directory: Fixtures.liveDirectory)
        let info = try Fixtures.records("info", in: Fixtures.liveDirectory)
        let paths = try Fixtures.records("paths_list", in: Fixtures.liveDirectory)
        let nearest = try #require(info.min { abs($0.t - paths[40].t) < abs($1.t - paths[40].t) })
        #expect(try canonical(replay.info(at: 40).body) == canonical(nearest.body))
        // The live capture's lines carry no status: they were all answered.
        #expect(replay.list("paths", at: 40)?.status == 200)
    }

    @Test func aBadLineIsNamedByFileAndLine() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = URL(fileURLWithPath: directory.path)
        #expect { try Replay(directory: url) } throws: { "\($0)".contains("no paths_list.jsonl") }
        try write(directory, "paths_list", [#"{"t":1000,"body":{"items":[]}}"#, #"{"t":3000,"body":{"items":[}}"#])
        #expect { try Replay(directory: url) } throws: { "\($0)".contains("paths_list.jsonl line 2:") }
        try write(directory, "paths_list", [#"{"t":1000,"body":{"items":[]}}"#])
        try write(directory, "srtconns_list", ["", #"{"t":1000,"body":{}}"#, #"{"body":{}}"#])
        #expect { try Replay(directory: url) } throws: { "\($0)".contains("srtconns_list.jsonl line 3: no \"t\"") }
    }

    @Test func jsonKeepsKeyOrderAndNumbersAsWritten() throws {
        let text = #"{"b":1,"a":[true,null,-2.5e-3,"q\"\u00e9\ud83d\ude00"],"c":{},"d":9007199254740993}"#
        let value = try JSON.parse(text)
        #expect(value.serialized() == #"{"b":1,"a":[true,null,-0.0025,"q\"é😀"],"c":{},"d":9007199254740993}"#)
        for bad in ["{", #"{"a" 1}"#, "[1,]", "01x", "nan", "\"\u{01}\"", "{} {}"] {
            #expect(throws: JSONParseError.self, "\(bad)") { try JSON.parse(bad) }
        }
    }

    func write(_ directory: TemporaryDirectory, _ name: String, _ lines: [String]) throws {
        try (lines.joined(separator: "\n") + "\n").write(toFile: directory.file(name + ".jsonl"), atomically: true, encoding: .utf8)
    }
}

/// `value` written as `PlainHTTP.canonical` writes a capture line's body.
func canonical(_ value: JSON) throws -> Data? {
    try canonical(Data(value.serialized().utf8))
}
