import Foundation
import SQLiteHistory
import History
import Hummingbird
import HummingbirdTesting
import Logging
import MTXMonCore
import MTXMonServer
import SnapshotCache
import Testing
import TestSupport

/// Runs `body` against the API router over the fixture, without a socket.
func withAPI(_ environment: APIEnvironment, _ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
    var logger = Logger(label: "test.api")
    logger.logLevel = .critical
    let app = Application(router: APIServer.router(environment, logger: logger))
    try await app.test(.router) { client in try await body(client) }
}

func object(_ response: TestResponse) throws -> [String: Any] {
    try #require(JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
}

func text(_ response: TestResponse) -> String { String(buffer: response.body) }

/// Checks the API's error shape and returns its code ("" when the shape is wrong).
func errorCode(_ response: TestResponse) -> String {
    #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
    let error = (try? object(response))?["error"] as? [String: Any]
    #expect((error?["message"] as? String)?.isEmpty == false, "an error has a message")
    return error?["code"] as? String ?? ""
}

@Suite struct PathRouteTests {
    @Test func listsTheCachedSnapshotAndFlagsItStaleAfterThreeIntervals() async throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        let cache = InProcessSnapshotCache(ttl: .seconds(60))
        let ts = HistoryFixture.now - 1_000
        await cache.publish(Snapshot(ts: ts, paths: [HistoryFixture.cam(5), HistoryFixture.srt(5)], serverVersion: "v1.20.1"))
        try await withAPI(fixture.environment(cache: cache)) { client in
            try await client.execute(uri: "/api/v1/paths", method: .get) { response in
                #expect(response.status == .ok)
                let body = try object(response)
                #expect(body["ts"] as? Int64 == ts)
                #expect(body["stale"] as? Bool == false)
                #expect(body["source"] as? String == "cache")
                let paths = try #require(body["paths"] as? [[String: Any]])
                #expect(paths.map { $0["name"] as? String } == ["live/cam1", "srt/feed"])
                #expect(paths[0]["bitrateIn"] as? Int == 1_000_000)
                #expect(paths[0]["readers"] as? Int == 2)
                #expect(paths[0]["srt"] is NSNull)
                let srt = try #require(paths[1]["srt"] as? [String: Any])
                #expect(srt["rttMs"] as? Double == 25)
                #expect(srt["packetsLost"] as? Int == 5)
            }
        }
        try await withAPI(fixture.environment(cache: cache, now: ts + 3 * HistoryFixture.interval + 1)) { client in
            try await client.execute(uri: "/api/v1/paths", method: .get) { response in
                let body = try object(response)
                #expect(body["stale"] as? Bool == true)
            }
        }
    }

    @Test func fallsBackToTheLastPollInTheFileWhenTheCacheIsEmpty() async throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        try await withAPI(fixture.environment()) { client in
            try await client.execute(uri: "/api/v1/paths", method: .get) { response in
                let body = try object(response)
                #expect(body["source"] as? String == "history")
                #expect(body["ts"] as? Int64 == HistoryFixture.base + 59 * HistoryFixture.interval)
                let paths = try #require(body["paths"] as? [[String: Any]])
                // srt/feed's last row is long before the last poll: MediaMTX stopped listing it.
                #expect(paths.map { $0["name"] as? String } == ["live/cam1", "srt/feed"])
                #expect(paths.map { $0["state"] as? String } == ["online", "offline"])
                #expect(paths[0]["inboundBytes"] as? Int64 == HistoryFixture.camInbound(59))
                #expect(paths[0]["readersByType"] as? [String: Int] == ["rtspSession": 2])
                #expect(paths[1]["online"] as? Bool == false)
                #expect(paths[1]["bitrateIn"] is NSNull)
                let seen = try #require(paths[1]["lastSeen"] as? [String: Any])
                #expect(seen["ts"] as? Int64 == HistoryFixture.base + 9 * HistoryFixture.interval)
            }
        }
    }

    @Test func onePathByLiteralOrEscapedSlashAndUnknownIsA404() async throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        try await withAPI(fixture.environment()) { client in
            for uri in ["/api/v1/paths/live/cam1", "/api/v1/paths/live%2Fcam1"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .ok)
                    let path = try #require(try object(response)["path"] as? [String: Any])
                    #expect(path["name"] as? String == "live/cam1")
                }
            }
            try await client.execute(uri: "/api/v1/paths/live/cam9", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(errorCode(response) == "unknown_path")
            }
        }
    }
}

@Suite struct HistoryRouteTests {
    @Test func rawHistoryKeepsGapsAndTheFirstSampleOfEachRunHasNoBitrate() async throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        try await withAPI(fixture.environment()) { client in
            try await client.execute(uri: "/api/v1/history/live/cam1", method: .get) { response in
                #expect(response.status == .ok)
                let body = try object(response)
                #expect(body["from"] as? Int64 == HistoryFixture.now - 3_600_000)
                #expect(body["to"] as? Int64 == HistoryFixture.now)
                #expect(body["step"] is NSNull)
                let points = try #require(body["points"] as? [[String: Any]])
                #expect(points.count == 55)
                let times = points.compactMap { $0["t"] as? Int64 }
                #expect(!times.contains(HistoryFixture.base + 40 * HistoryFixture.interval), "no point in the outage")
                let noBitrate = points.filter { $0["bitrateIn"] is NSNull }.compactMap { $0["t"] as? Int64 }
                #expect(noBitrate == [0, 30, 45].map { HistoryFixture.base + $0 * HistoryFixture.interval })
                #expect(points.filter { $0["reset"] as? Bool == true }.count == 1)
                #expect(points[1]["bitrateIn"] as? Int == 1_001_000)
                #expect(points[1]["bitrateOut"] as? Int == 2_002_000)
            }
        }
    }

    @Test(arguments: [("avg", 1_002_500), ("min", 1_001_000), ("max", 1_004_000), ("last", 1_004_000)])
    func bucketsAggregateAsAskedAndEmptyBucketsAreLeftOut(agg: String, firstBucket: Int) async throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        try await withAPI(fixture.environment()) { client in
            let uri = "/api/v1/history/live/cam1?from=\(HistoryFixture.base / 1_000)&to=now&step=10s&agg=\(agg)"
            try await client.execute(uri: uri, method: .get) { response in
                #expect(response.status == .ok)
                let body = try object(response)
                #expect(body["step"] as? Int == 10_000)
                #expect(body["agg"] as? String == agg)
                let points = try #require(body["points"] as? [[String: Any]])
                // 60 polls in 10 s buckets is 12; the one holding polls 40–44 had no sample.
                #expect(points.count == 11)
                #expect(points.allSatisfy { ($0["t"] as? Int64 ?? 1) % 10_000 == 0 })
                #expect(!points.contains { $0["t"] as? Int64 == HistoryFixture.base + 80_000 })
                #expect(points[0]["samples"] as? Int == 5)
                #expect(points[0]["bitrateIn"] as? Int == firstBucket)
                #expect(points.first { $0["t"] as? Int64 == HistoryFixture.base + 60_000 }?["reset"] as? Bool == true)
                #expect(points[0]["inboundBytes"] as? Int64 == HistoryFixture.camInbound(4), "counters at the bucket's last sample")
            }
        }
    }

    @Test func manyPathsAtOnceByNameOrAll() async throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        try await withAPI(fixture.environment()) { client in
            try await client.execute(uri: "/api/v1/history?paths=srt/feed,live%2Fcam1&step=1m", method: .get) { response in
                #expect(response.status == .ok)
                let series = try #require(try object(response)["series"] as? [[String: Any]])
                #expect(series.map { $0["path"] as? String } == ["srt/feed", "live/cam1"])
                let srtPoints = try #require(series[0]["points"] as? [[String: Any]])
                #expect(srtPoints.count == 1)
                #expect(srtPoints[0]["rttMs"] as? Double == 24.5, "average of 20…29")
            }
            try await client.execute(uri: "/api/v1/history", method: .get) { response in
                let series = try #require(try object(response)["series"] as? [[String: Any]])
                #expect(series.map { $0["path"] as? String } == ["live/cam1", "srt/feed"])
            }
            // Outside every sample: the listing of all paths leaves empty series out.
            try await client.execute(uri: "/api/v1/history?from=now-10d&to=now-9d&step=1h", method: .get) { response in
                let series = try #require(try object(response)["series"] as? [Any])
                #expect(series.isEmpty)
            }
            try await client.execute(uri: "/api/v1/history?paths=live/cam1,nope", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(errorCode(response) == "unknown_path")
            }
        }
    }

    @Test func fieldsNarrowEachPointToWhatAChartNeeds() async throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        try await withAPI(fixture.environment()) { client in
            try await client.execute(uri: "/api/v1/history/live/cam1?fields=bitrateIn,readers", method: .get) { response in
                let points = try #require(try object(response)["points"] as? [[String: Any]])
                #expect(points.count == 55)
                #expect(points.allSatisfy { Set($0.keys) == ["t", "bitrateIn", "readers"] })
            }
            try await client.execute(uri: "/api/v1/history/live/cam1?fields=bitrateIn&format=csv", method: .get) { response in
                let lines = text(response).split(separator: "\n")
                #expect(lines[0] == "server,path,t,time,bitrateIn")
                #expect(lines[2] == "default,live/cam1,1800000002000,2027-01-15T08:00:02.000Z,1001000")
            }
            try await client.execute(uri: "/api/v1/history/live/cam1?fields=bitrate", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(errorCode(response) == "bad_fields")
            }
        }
    }

    /// `format=columns` holds the same numbers as the points, one array per figure.
    @Test func columnsHoldThePointsFigureByFigure() async throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        try await withAPI(fixture.environment()) { client in
            for query in ["/api/v1/history/srt/feed?", "/api/v1/history/live/cam1?fields=bitrateIn,readers&",
                          "/api/v1/history/live/cam1?step=1m&", "/api/v1/history?step=10s&fields=rttMs&",
                          "/api/v1/history?"] {
                var byPoints: [[String: Any]] = []
                try await client.execute(uri: query + "format=json", method: .get) { response in
                    let body = try object(response)
                    byPoints = body["points"] != nil ? [body] : try #require(body["series"] as? [[String: Any]])
                }
                try await client.execute(uri: query + "format=columns", method: .get) { response in
                    #expect(response.status == .ok)
                    let body = try object(response)
                    let bySeries = body["columns"] != nil ? [body] : try #require(body["series"] as? [[String: Any]])
                    #expect(bySeries.count == byPoints.count, "\(query)")
                    for (columnsSeries, pointsSeries) in zip(bySeries, byPoints) {
                        let columns = try #require(columnsSeries["columns"] as? [String: [Any]], "\(query)")
                        let points = try #require(pointsSeries["points"] as? [[String: Any]])
                        #expect(!points.isEmpty, "\(query)")
                        #expect(Set(columns.keys) == Set(points.flatMap(\.keys)), "\(query)")
                        for (name, values) in columns {
                            #expect(values.count == points.count, "\(query) \(name)")
                            for (value, point) in zip(values, points) {
                                #expect("\(value)" == "\(point[name] ?? NSNull())", "\(query) \(name)")
                            }
                        }
                    }
                }
            }
            try await client.execute(uri: "/api/v1/rates/live/cam1?format=columns", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(errorCode(response) == "bad_format")
            }
        }
    }

    @Test func csvByParameterOrAcceptHeader() async throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        try await withAPI(fixture.environment()) { client in
            for (uri, headers) in [("/api/v1/history/srt/feed?format=csv", HTTPFields()),
                                   ("/api/v1/history/srt/feed", [.accept: "text/csv"])] {
                try await client.execute(uri: uri, method: .get, headers: headers) { response in
                    #expect(response.headers[.contentType]?.hasPrefix("text/csv") == true)
                    let lines = text(response).split(separator: "\n")
                    #expect(lines.count == 11)
                    #expect(lines[0].hasPrefix("server,path,t,time,samples,online,reset,bitrateIn"))
                    #expect(lines[1] == "default,srt/feed,1800000000000,2027-01-15T08:00:00.000Z,1,1,0,,,0,0,0,20,2.1,50")
                }
            }
        }
    }
}

@Suite struct RateRouteTests {
    @Test func increasesAreResetAwareAndCountTheGapButNotItsReaders() async throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        try await withAPI(fixture.environment()) { client in
            try await client.execute(uri: "/api/v1/rates/live/cam1?window=1h", method: .get) { response in
                #expect(response.status == .ok)
                let body = try object(response)
                let window = try #require(body["window"] as? [String: Any])
                #expect(window["coveredMs"] as? Int64 == 59 * HistoryFixture.interval)
                #expect(window["samples"] as? Int == 55)
                #expect(body["resets"] as? Int == 1)
                // 29 × 250,000 + 100,000 after the reconnect + 9 × 250,000 + 1,500,000 across the
                // failed polls + 14 × 250,000.
                #expect(body["bytesIn"] as? Int64 == 14_600_000)
                #expect(body["bytesOut"] as? Int64 == 29_200_000)
                let bitrate = try #require(body["bitrateIn"] as? [String: Any])
                #expect(bitrate["avg"] as? Int == 989_831, "14.6 MB × 8 ÷ 118 s")
                #expect(bitrate["min"] as? Int == 1_000_000)
                #expect(bitrate["max"] as? Int == 1_004_000)
                #expect(bitrate["last"] as? Int == 1_004_000)
                // 53 two-second stretches × 2 readers; the 12 s gap is not counted.
                #expect(body["readerMinutes"] as? Double == 3.53)
                #expect(body["srt"] is NSNull)
            }
        }
    }

    @Test func srtLossAndRetransmissionRatios() async throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        try await withAPI(fixture.environment()) { client in
            try await client.execute(uri: "/api/v1/rates/srt/feed?window=2m", method: .get) { response in
                let srt = try #require(try object(response)["srt"] as? [String: Any])
                #expect(srt["packetsReceived"] as? Int == 9_000)
                #expect(srt["packetsLost"] as? Int == 9)
                #expect(srt["packetsRetransmitted"] as? Int == 18)
                #expect(srt["lossRatio"] as? Double == 0.000999, "9 ÷ 9,009")
                #expect(srt["retransmissionRatio"] as? Double == 0.002)
                #expect(srt["lostPerSecond"] as? Double == 0.5)
            }
            try await client.execute(uri: "/api/v1/rates/srt/feed?window=2m&format=csv", method: .get) { response in
                let lines = text(response).split(separator: "\n")
                #expect(lines.count == 2)
                #expect(lines[1].hasPrefix("default,srt/feed,"))
                #expect(lines[1].contains(",9000,9,18,0,0.000999,0.002,0.5,1,"))
            }
        }
    }
}

@Suite struct ErrorTests {
    @Test(arguments: [
        ("/api/v1/history/live/cam1?from=yesterday", 400, "bad_from"),
        ("/api/v1/history/live/cam1?from=now&to=now-1h", 400, "bad_from"),
        ("/api/v1/history/live/cam1?to=1800000000000", 400, "bad_to"),
        ("/api/v1/history/live/cam1?step=5y", 400, "bad_step"),
        ("/api/v1/history/live/cam1?step=0", 400, "bad_step"),
        ("/api/v1/history/live/cam1?from=now-30d", 400, "bad_step"),
        ("/api/v1/history/live/cam1?agg=median&step=1m", 400, "bad_agg"),
        ("/api/v1/history/live/cam1?format=xml", 400, "bad_format"),
        ("/api/v1/history/live/cam9", 404, "unknown_path"),
        ("/api/v1/history?paths=a,,b", 400, "bad_path"),
        ("/api/v1/history/caf%FF", 400, "bad_path"),
        ("/api/v1/history/50%", 400, "bad_path"),
        ("/api/v1/rates/live/cam1?window=forever", 400, "bad_window"),
        ("/api/v1/rates/live/cam1?window=401d", 400, "bad_window"),
        ("/api/v1/rates/live/cam1?at=soon", 400, "bad_at"),
        ("/api/v1/nothing", 404, "no_such_endpoint"),
    ])
    func everyBadRequestIsA4xxWithACodeAndAMessage(uri: String, status: Int, code: String) async throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        try await withAPI(fixture.environment()) { client in
            try await client.execute(uri: uri, method: .get) { response in
                #expect(response.status.code == status)
                #expect(errorCode(response) == code)
            }
        }
    }

    @Test func anOverLongPathNameIsRefused() async throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        try await withAPI(fixture.environment()) { client in
            try await client.execute(uri: "/api/v1/paths/" + String(repeating: "a", count: 1_025), method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(errorCode(response) == "bad_path")
            }
        }
    }

    @Test func aRangeTooLongForRawResolutionNamesTheStepThatFits() async throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        try await withAPI(fixture.environment()) { client in
            try await client.execute(uri: "/api/v1/history/live/cam1?from=now-24h", method: .get) { response in
                let message = try #require((try object(response)["error"] as? [String: Any])?["message"] as? String)
                #expect(message.contains("step=8s"), "86,400 s ÷ 11,000 points → 8 s: \(message)")
            }
            try await client.execute(uri: "/api/v1/history/live/cam1?from=now-24h&step=8s", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }
}

@Suite struct AccessTests {
    @Test func aTokenGuardsEverythingButHealthz() async throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        try await withAPI(fixture.environment(token: "s3cret")) { client in
            try await client.execute(uri: "/api/v1/history/live/cam1", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
                #expect(errorCode(response) == "unauthorized")
            }
            for wrong in ["Bearer s3cre", "Bearer s3cret2", "Basic s3cret", "s3cret"] {
                try await client.execute(uri: "/api/v1/paths", method: .get, headers: [.authorization: wrong]) { response in
                    #expect(response.status == .unauthorized, "\(wrong)")
                }
            }
            try await client.execute(uri: "/api/v1/history/live/cam1", method: .get,
                                     headers: [.authorization: "Bearer s3cret"]) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func corsOnlyForListedOrigins() async throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        try await withAPI(fixture.environment(cors: ["https://ops.example"])) { client in
            try await client.execute(uri: "/api/v1/paths", method: .get, headers: [.origin: "https://ops.example"]) { response in
                #expect(response.headers[.accessControlAllowOrigin] == "https://ops.example")
            }
            try await client.execute(uri: "/api/v1/paths", method: .get, headers: [.origin: "https://evil.example"]) { response in
                #expect(response.headers[.accessControlAllowOrigin] == nil)
            }
            try await client.execute(uri: "/api/v1/paths", method: .options, headers: [
                .origin: "https://ops.example", .accessControlRequestMethod: "GET",
            ]) { response in
                #expect(response.status == .noContent)
                #expect(response.headers[.accessControlAllowMethods]?.contains("GET") == true)
            }
        }
        try await withAPI(fixture.environment()) { client in
            try await client.execute(uri: "/api/v1/paths", method: .get, headers: [.origin: "https://ops.example"]) { response in
                #expect(response.headers[.accessControlAllowOrigin] == nil, "off unless origins are listed")
            }
        }
    }
}

@Suite struct ServiceRouteTests {
    @Test func healthzIsOkWhileAPollIsRecentAndSaysWhyWhenNot() async throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        try await withAPI(fixture.environment()) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                let body = try object(response)
                #expect(body["status"] as? String == "ok")
                let last = try #require(body["lastPoll"] as? [String: Any])
                #expect(last["ageMs"] as? Int64 == HistoryFixture.interval)
                #expect((body["sqlite"] as? [String: Any])?["reachable"] as? Bool == true)
            }
        }
        try await withAPI(fixture.environment()) { client in
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
                let body = try object(response)
                #expect(body["ready"] as? Bool == true)
            }
        }
        // Ten minutes without a poll: mtxmon itself still works (200, liveness), but what it serves
        // is not current (degraded, and /readyz 503).
        try await withAPI(fixture.environment(now: HistoryFixture.now + 600_000)) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                let body = try object(response)
                #expect(body["status"] as? String == "degraded")
                #expect(body["ready"] as? Bool == false)
                let problems = try #require(body["problems"] as? [String])
                #expect(problems.contains { $0.contains("no successful poll for 60") && $0.contains("collector running") },
                        "\(problems)")
            }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let body = try object(response)
                let reasons = try #require(body["reasons"] as? [String])
                #expect(reasons.contains { $0.contains("no successful poll") })
            }
        }
    }

    @Test func servesItsOwnOpenAPIDocument() async throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        try await withAPI(fixture.environment()) { client in
            try await client.execute(uri: "/openapi.yaml", method: .get) { response in
                #expect(response.status == .ok)
                #expect(text(response).hasPrefix("openapi: 3.1"))
            }
        }
    }
}

@Suite struct AnswerBoundTests {
    /// A whole fleet's raw history over hours is refused before it is read, naming the way out;
    /// the same paths at a coarser step are answered.
    @Test func anAnswerTooLargeIsRefusedWithTheStepThatFits() async throws {
        let fixture = try HistoryFixture()
        defer { fixture.remove() }
        // 250 paths known to the file, as `scripts/run --simulate` gives: 3 h raw of each was a 67 MB answer.
        let values = (0..<250).map { "(1, 'many/\($0)')" }.joined(separator: ",")
        _ = try sqlite3Blocking(fixture.store.path, "INSERT INTO path (server_id, name) VALUES \(values)")
        try await withAPI(fixture.environment()) { client in
            try await client.execute(uri: "/api/v1/history?from=now-3h&step=1s", method: .get) { response in
                #expect(response.status.code == 400)
                #expect(errorCode(response) == "bad_step")
                #expect(text(response).contains("paths=") && text(response).contains("use step="))
            }
            try await client.execute(uri: "/api/v1/history?from=now-3h&step=1m", method: .get) { response in
                #expect(response.status.code == 200)
            }
        }
    }
}

@Suite struct LiveFeedGateTests {
    @Test func withoutATokenOnlyThePagesOwnOriginOrNoBrowserOpensTheFeed() {
        let gate = LiveFeedGate(token: nil, allowedOrigins: ["https://ops.example"])
        func refused(_ origin: String?) -> Int? {
            gate.refusal(path: "/api/v1/ws", query: nil, authorization: nil, origin: origin, host: "mon:9990")?.status
        }
        #expect(refused(nil) == nil)
        #expect(refused("http://mon:9990") == nil)
        #expect(refused("https://mon:9990") == nil)
        #expect(refused("https://ops.example") == nil)
        #expect(refused("ws://mon") == nil)
        #expect(refused("http://evil.example") == 403)
        #expect(refused("null") == 403)
        #expect(gate.refusal(path: "/api/v1/paths", query: nil, authorization: nil, origin: "http://evil", host: "m") == nil)
    }

    @Test func withATokenTheFeedNeedsIt() {
        let gate = LiveFeedGate(token: "s3cret", allowedOrigins: [])
        #expect(gate.refusal(path: "/api/v1/ws", query: nil, authorization: nil, origin: nil, host: nil)?.status == 401)
        #expect(gate.refusal(path: "/api/v1/ws", query: "token=wrong", authorization: nil, origin: nil, host: nil)?.code
            == "unauthorized")
        #expect(gate.refusal(path: "/api/v1/ws", query: "a=1&token=s3cret", authorization: nil, origin: nil, host: nil)
            == nil)
        #expect(gate.refusal(path: "/api/v1/ws", query: nil, authorization: "Bearer s3cret", origin: "http://x",
                             host: "y") == nil)
    }
}
