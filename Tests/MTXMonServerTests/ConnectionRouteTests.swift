import Foundation
import SQLiteHistory
import History
import HummingbirdTesting
import MTXMonCore
import MTXMonServer
import SnapshotCache
import Testing
import TestSupport

/// A JSON number as a Double, whether written with a fraction or not; `nil` for null or absent.
private func number(_ value: Any?) -> Double? { (value as? NSNumber)?.doubleValue }

private func history(_ client: any TestClientProtocol, _ query: String,
                     id: String = ConnectionFixture.publisherID) async throws -> [String: Any] {
    try await client.execute(uri: "/api/v1/connections/\(id)/history?\(query)", method: .get) { response in
        #expect(response.status == .ok, "\(query): \(text(response))")
        return try object(response)
    }
}

private func points(_ body: [String: Any]) throws -> [[String: Any]] {
    try #require(body["points"] as? [[String: Any]])
}

@Suite struct ConnectionListRouteTests {
    @Test func anUnknownPathIsA404WithTheDocumentedErrorShape() async throws {
        let fixture = try ConnectionFixture()
        defer { fixture.remove() }
        let cache = InProcessSnapshotCache(ttl: .seconds(60))
        await cache.publish(ConnectionFixture.snapshot(ConnectionFixture.polls - 1))
        try await withAPI(fixture.environment(cache: cache)) { client in
            try await client.execute(uri: "/api/v1/paths/srt/nope/connections", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(errorCode(response) == "unknown_path")
                let body = try object(response)
                #expect(Set(body.keys) == ["error"])
                let error = try #require(body["error"] as? [String: Any])
                #expect(Set(error.keys) == ["code", "message"])
                let message = try #require(error["message"] as? String)
                #expect(message.contains("'srt/nope'"), "names the path: \(message)")
                #expect(message.contains("GET /api/v1/paths"), "names the fix: \(message)")
            }
        }
    }

    /// The latest snapshot's connections, publisher first; the SRT one carries its health worked
    /// out from the stored polls of the past minute, the RTSP one none.
    @Test func theCurrentListCarriesEveryFigureAndTheSRTHealth() async throws {
        let fixture = try ConnectionFixture()
        defer { fixture.remove() }
        let cache = InProcessSnapshotCache(ttl: .seconds(60))
        await cache.publish(ConnectionFixture.snapshot(ConnectionFixture.polls - 1))
        try await withAPI(fixture.environment(cache: cache)) { client in
            try await client.execute(uri: "/api/v1/paths/srt%2Ffeed/connections", method: .get) { response in
                #expect(response.status == .ok)
                let body = try object(response)
                #expect(body["path"] as? String == "srt/feed")
                #expect(body["ts"] as? Int64 == ConnectionFixture.last)
                let connections = try #require(body["connections"] as? [[String: Any]])
                #expect(connections.map { $0["id"] as? String } == [ConnectionFixture.publisherID,
                                                                   ConnectionFixture.readerID])
                let publisher = connections[0]
                #expect(publisher["protocol"] as? String == "srt")
                #expect(publisher["role"] as? String == "publisher")
                #expect(publisher["remoteAddr"] as? String == "10.0.0.7:4000")
                #expect(number(publisher["rttMs"]) == 49, "poll 69: 20 + 9 + 20")
                #expect(publisher["latencyMs"] as? Int == 120)
                #expect(number(publisher["recvRateMbps"]) == 3)
                #expect(number(publisher["sendRateMbps"]) == 0.25)
                #expect(number(publisher["linkCapacityMbps"]) == 50)
                #expect(publisher["inboundBytes"] as? Int64 == Int64(250_000 * 69))
                #expect((publisher["counters"] as? [String: Any])?["packetsReceivedLoss"] as? Int == 14)
                #expect((publisher["deltas"] as? [String: Any])?["packetsReceived"] as? Int == 1_000)

                let health = try #require(publisher["health"] as? [String: Any])
                #expect(Set(health.keys) == ["rtt10s", "rtt60s", "latencyMs", "margin", "marginVerdict", "loss10s",
                                             "loss60s", "lossVerdict"])
                // Past 10 s: polls 65–69, RTTs 45…49. Past 60 s: polls 40–69, 30…39 twice and 40…49.
                let ten = try #require(health["rtt10s"] as? [String: Any])
                #expect(ten["seconds"] as? Int == 10)
                #expect(ten["samples"] as? Int == 5)
                #expect(number(ten["p50"]) == 47)
                #expect(number(ten["p95"]) == 49)
                #expect(number(ten["variation"]).map { abs($0 - 2.0.squareRoot()) < 1e-9 } == true)
                let minute = try #require(health["rtt60s"] as? [String: Any])
                #expect(minute["samples"] as? Int == 30)
                #expect(number(minute["p50"]) == 37)
                #expect(number(minute["p95"]) == 48)
                #expect(health["latencyMs"] as? Int == 120)
                #expect(number(health["margin"]).map { abs($0 - 120.0 / 49) < 1e-9 } == true)
                let margin = try #require(health["marginVerdict"] as? [String: Any])
                #expect(margin["level"] as? String == "critical")
                #expect(margin["rule"] as? String == LinkHealth.marginRule)
                #expect((margin["reason"] as? String)?.contains("raise the SRT latency to at least 196 ms") == true)
                // Lost on polls 43, 53 and 63 (2 each), none dropped since poll 25.
                #expect((health["loss10s"] as? [String: Any])?["lost"] as? Int == 0)
                let loss60 = try #require(health["loss60s"] as? [String: Any])
                #expect(loss60["lost"] as? Int == 6)
                #expect(loss60["retransmitted"] as? Int == 6)
                #expect(loss60["dropped"] as? Int == 0)
                let loss = try #require(health["lossVerdict"] as? [String: Any])
                #expect(loss["level"] as? String == "recent")
                #expect(loss["rule"] as? String == LinkHealth.lossRule)

                let reader = connections[1]
                #expect(reader["protocol"] as? String == "rtsp")
                #expect(reader["role"] as? String == "reader")
                #expect(number(reader["jitter"]) == 1, "69 mod 4")
                #expect(reader["rttMs"] is NSNull)
                #expect(reader["health"] is NSNull, "link health is for SRT only")
            }
        }
    }
}

@Suite struct ConnectionHistoryRouteTests {
    @Test func anUnknownConnectionIsA404NamingWhereIdsComeFrom() async throws {
        let fixture = try ConnectionFixture()
        defer { fixture.remove() }
        try await withAPI(fixture.environment()) { client in
            try await client.execute(uri: "/api/v1/connections/no-such-id/history", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(errorCode(response) == "unknown_connection")
                let message = (try object(response)["error"] as? [String: Any])?["message"] as? String ?? ""
                #expect(message.contains("'no-such-id'"))
                #expect(message.contains("GET /api/v1/paths/{name}/connections"))
            }
        }
    }

    @Test(arguments: [
        ("/api/v1/connections/\(String(repeating: "a", count: 257))/history", "bad_id"),
        ("/api/v1/connections/\(String(repeating: "%C3%A9", count: 129))/history", "bad_id"),  // 258 bytes
        ("/api/v1/connections/srt%2-pub-1/history", "bad_id"),
        ("/api/v1/connections/srt%FF/history", "bad_id"),
        ("/api/v1/connections/srt-pub-1/history?from=yesterday", "bad_from"),
        ("/api/v1/connections/srt-pub-1/history?step=fast", "bad_step"),
        ("/api/v1/connections/srt-pub-1/history?step=10s&agg=median", "bad_agg"),
        ("/api/v1/connections/srt-pub-1/history?step=1m&agg=last", "bad_agg"),
        ("/api/v1/connections/srt-pub-1/history?from=now-30d", "bad_step"),
        ("/api/v1/connections/srt-pub-1/history?fields=bitrate", "bad_fields"),
        ("/api/v1/connections/srt-pub-1/history?fields=rttMs,", "bad_fields"),
    ])
    func badInputIsA400NamingTheParameter(uri: String, code: String) async throws {
        let fixture = try ConnectionFixture()
        defer { fixture.remove() }
        try await withAPI(fixture.environment()) { client in
            try await client.execute(uri: uri, method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(errorCode(response) == code)
            }
        }
    }

    @Test func anEscapedIdFindsTheIdMediaMTXReported() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteHistory(path: dir.file("h.sqlite"))
        let id = "rtmp conn/1:é"
        try store.append([PollBatch(
            poll: PollRecord(ts: ConnectionFixture.base, ok: true, durationMs: 3, pathCount: 1),
            snapshot: Snapshot(ts: ConnectionFixture.base, paths: [PathSample(name: "cam", online: true)],
                               connections: [ConnectionSample(id: id, proto: .rtmp, role: .publisher, path: "cam")]))])
        let environment = APIEnvironment(cache: InProcessSnapshotCache(ttl: .seconds(60)), history: store,
                                         intervalMs: 2_000, now: { ConnectionFixture.now })
        try await withAPI(environment) { client in
            let uri = "/api/v1/connections/rtmp%20conn%2F1%3A%C3%A9/history"
            try await client.execute(uri: uri, method: .get) { response in
                #expect(response.status == .ok)
                let body = try object(response)
                #expect(body["id"] as? String == id)
                #expect(try points(body).count == 1)
            }
        }
    }

    @Test func lastAtAWholeMinuteStepNamesWhatWorksInstead() async throws {
        let fixture = try ConnectionFixture()
        defer { fixture.remove() }
        try await withAPI(fixture.environment()) { client in
            try await client.execute(uri: "/api/v1/connections/srt-pub-1/history?step=2m&agg=last",
                                     method: .get) { response in
                let message = (try object(response)["error"] as? [String: Any])?["message"] as? String ?? ""
                #expect(message.contains("step=120s"), "\(message)")
                #expect(message.contains("agg=avg"), "\(message)")
                #expect(message.contains("step=30s"), "\(message)")
            }
            // The same aggregation is fine over the raw polls.
            let body = try await history(client, "step=30s&agg=last")
            #expect(body["agg"] as? String == "last")
        }
    }

    /// `fields` narrows each point to what a chart needs, raw and bucketed, with the same values.
    @Test func fieldsNarrowEachPointToTheAskedMembers() async throws {
        let fixture = try ConnectionFixture()
        defer { fixture.remove() }
        try await withAPI(fixture.environment()) { client in
            for range in ["from=\(ConnectionFixture.base / 1_000)&to=now", "from=\(ConnectionFixture.base / 1_000)&step=10s"] {
                let whole = try points(try await history(client, range))
                #expect(!whole.isEmpty)
                // One set per depth a read stops at: the bitrate, the gauges, the counters' increases.
                for asked in [["bitrateIn", "role"], ["rttMs", "jitter"], ["rttMs", "lost"]] {
                    let narrow = try points(try await history(client, range + "&fields=" + asked.joined(separator: ",")))
                    #expect(narrow.count == whole.count, "\(range) \(asked)")
                    #expect(narrow.allSatisfy { Set($0.keys) == Set(["t"] + asked) }, "\(range) \(asked)")
                    for (n, w) in zip(narrow, whole) {
                        for key in ["t"] + asked { #expect("\(n[key]!)" == "\(w[key]!)", "\(range) \(key)") }
                    }
                }
            }
        }
    }

    /// `format=columns` and `format=csv` carry the points of the JSON answer, figure for figure.
    @Test func columnsAndCSVCarryThePointsOfTheJSONAnswer() async throws {
        let fixture = try ConnectionFixture()
        defer { fixture.remove() }
        try await withAPI(fixture.environment()) { client in
            for range in ["from=\(ConnectionFixture.base / 1_000)&to=now", "from=\(ConnectionFixture.base / 1_000)&step=10s",
                          "from=\(ConnectionFixture.base / 1_000)&to=now&fields=bitrateIn,lost"] {
                let whole = try points(try await history(client, range))
                let body = try await history(client, range + "&format=columns")
                #expect(body["points"] == nil, "\(range)")
                let columns = try #require(body["columns"] as? [String: [Any]], "\(range)")
                #expect(Set(columns.keys) == Set(whole.first?.keys.map { $0 } ?? []), "\(range)")
                for (key, values) in columns {
                    #expect(values.count == whole.count, "\(range) \(key)")
                    for (i, value) in values.enumerated() { #expect("\(value)" == "\(whole[i][key]!)", "\(range) \(key) \(i)") }
                }
                try await client.execute(uri: "/api/v1/connections/\(ConnectionFixture.publisherID)/history?\(range)&format=csv",
                                         method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType]?.hasPrefix("text/csv") == true)
                    let lines = String(buffer: response.body).split(separator: "\n", omittingEmptySubsequences: false)
                    let header = lines[0].split(separator: ",").map(String.init)
                    #expect(Array(header.prefix(3)) == ["id", "t", "time"], "\(range)")
                    #expect(lines.count == whole.count + 2 && lines.last == "", "\(range)")
                    for (i, line) in lines.dropFirst().dropLast().enumerated() {
                        let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                        #expect(cells.count == header.count && cells[1] == "\(whole[i]["t"]!)", "\(range) row \(i)")
                        for (key, cell) in zip(header.dropFirst(3), cells.dropFirst(3)) {
                            let json = whole[i][key]!
                            let expected = json is NSNull ? "" : key == "reset" ? ((json as? Bool) == true ? "1" : "0") : "\(json)"
                            #expect(cell == expected || Double(cell) == (json as? NSNumber)?.doubleValue,
                                    "\(range) row \(i) \(key): \(cell) against \(json)")
                        }
                    }
                }
            }
        }
    }

    @Test func rawPointsAreTheStoredPolls() async throws {
        let fixture = try ConnectionFixture()
        defer { fixture.remove() }
        try await withAPI(fixture.environment()) { client in
            let body = try await history(client, "from=\(ConnectionFixture.base / 1_000)&to=now")
            #expect(body["id"] as? String == ConnectionFixture.publisherID)
            #expect(body["protocol"] as? String == "srt")
            #expect(body["role"] as? String == "publisher")
            #expect(body["path"] as? String == "srt/feed")
            #expect(body["remoteAddr"] as? String == "10.0.0.7:4000")
            #expect(body["firstSeen"] as? Int64 == ConnectionFixture.base)
            #expect(body["lastSeen"] as? Int64 == ConnectionFixture.last)
            #expect(body["from"] as? Int64 == ConnectionFixture.base)
            #expect(body["to"] as? Int64 == ConnectionFixture.now)
            #expect(body["step"] is NSNull)
            #expect(body["agg"] is NSNull)
            #expect(body["source"] as? String == "samples")
            let list = try points(body)
            #expect(list.count == ConnectionFixture.polls)
            for (i, p) in list.enumerated() {
                let stored = ConnectionFixture.publisher(i)
                #expect(p["t"] as? Int64 == ConnectionFixture.ts(i))
                #expect(p["role"] as? String == "publisher")
                #expect(p["inboundBytes"] as? Int64 == stored.inboundBytes)
                #expect(p["outboundBytes"] as? Int64 == 0)
                #expect(number(p["bitrateIn"]) == stored.bitrateIn, "poll \(i)")
                #expect(number(p["bitrateOut"]) == stored.bitrateOut, "poll \(i)")
                #expect(p["reset"] as? Bool == false)
                #expect(number(p["rttMs"]) == stored.rttMs, "poll \(i)")
                #expect(number(p["recvRateMbps"]) == stored.recvRateMbps, "poll \(i)")
                #expect(number(p["sendRateMbps"]) == 0.25)
                #expect(number(p["linkCapacityMbps"]) == stored.linkCapacityMbps, "poll \(i)")
                #expect(p["latencyMs"] as? Int == 120)
                #expect(p["jitter"] is NSNull)
                #expect(p["lost"] as? Int64 == (i == 0 ? nil : ConnectionFixture.lost(i)), "poll \(i)")
                #expect(p["retransmitted"] as? Int64 == (i == 0 ? nil : ConnectionFixture.lost(i)), "poll \(i)")
                #expect(p["dropped"] as? Int64 == (i == 0 ? nil : ConnectionFixture.dropped(i)), "poll \(i)")
                if i == 0 { #expect(p["lost"] is NSNull, "no increase on a connection's first poll") }
            }
            // The reader's jitter is a gauge, stored as reported.
            let reader = try points(try await history(client, "from=\(ConnectionFixture.base / 1_000)",
                                                      id: ConnectionFixture.readerID))
            #expect(reader.map { number($0["jitter"]) } == (0..<ConnectionFixture.polls).map(ConnectionFixture.jitter))
            #expect(reader.map { $0["lost"] as? Int64 ?? -1 }
                == (0..<ConnectionFixture.polls).map { $0 == 0 ? -1 : ConnectionFixture.readerLost($0) })
        }
    }

    /// Bucket 0 holds polls 0–4: bitrates none, 1,001,000 … 1,004,000; RTTs 20 … 24; link
    /// capacity 50, 51, 52, 50, 51; receive rate 2, 3, 2, 3, 2; 2 packets lost on poll 3.
    @Test(arguments: [
        ("avg", 1_002_500.0, 22.0, 50.8, 2.4, 1.2),
        ("min", 1_001_000.0, 20.0, 50.0, 2.0, 0.0),
        ("max", 1_004_000.0, 24.0, 52.0, 3.0, 3.0),
        ("last", 1_004_000.0, 24.0, 51.0, 2.0, 0.0),
    ])
    func stepsFoldThePollsByTheAggregation(agg: String, bitrate: Double, rtt: Double, capacity: Double,
                                           recvRate: Double, jitter: Double) async throws {
        let fixture = try ConnectionFixture()
        defer { fixture.remove() }
        try await withAPI(fixture.environment()) { client in
            let query = "from=\(ConnectionFixture.base / 1_000)&step=10s&agg=\(agg)"
            let body = try await history(client, query)
            #expect(body["step"] as? Int == 10_000)
            #expect(body["agg"] as? String == agg)
            #expect(body["source"] as? String == "samples")
            let list = try points(body)
            // 140 s of polls in 10 s buckets.
            #expect(list.map { $0["t"] as? Int64 } == (0..<14).map { ConnectionFixture.base + Int64($0) * 10_000 })
            let first = list[0]
            #expect(number(first["bitrateIn"]) == bitrate)
            #expect(number(first["rttMs"]) == rtt)
            #expect(number(first["linkCapacityMbps"]) == capacity)
            #expect(number(first["recvRateMbps"]) == recvRate)
            #expect(number(first["sendRateMbps"]) == 0.25)
            #expect(first["latencyMs"] as? Int == 120)
            #expect(first["inboundBytes"] as? Int64 == 1_000_000, "the counter at the bucket's newest poll")
            // Increases are summed whatever the aggregation: polls 3, 13, 23, … fall in every other bucket.
            let lost: [Int64?] = (0..<14).map { $0 % 2 == 0 ? 2 : 0 }
            #expect(list.map { $0["lost"] as? Int64 } == lost)
            #expect(list.map { $0["retransmitted"] as? Int64 } == lost)
            #expect(list.map { $0["dropped"] as? Int64 } == [0, 0, 0, 0, 0, 1] + Array(repeating: 0, count: 8))
            // RTSP jitter (0, 1, 2, 3, 0 in bucket 0) is a gauge like the others.
            let reader = try points(try await history(client, query, id: ConnectionFixture.readerID))
            #expect(number(reader[0]["jitter"]) == jitter)
            #expect(reader[0]["rttMs"] is NSNull)
            // Polls 7 and 14 reported a loss each: buckets 0 (polls 0–4) has none, 1 (5–9) one.
            #expect(reader.prefix(3).map { $0["lost"] as? Int64 } == [0, 1, 1])
        }
    }

    /// Minute 0: RTTs 20…29 three times, bitrates over polls 1–29 (residues summing to 60),
    /// 6 lost, 1 dropped; minute 1: RTTs 30…39, 6 lost; minute 2 (polls 60–69): RTTs 40…49, 2 lost.
    @Test(arguments: [
        ("avg", [24.5, 34.5, 44.5], [1_002_069.0, 1_002_000.0, 1_002_000.0]),
        ("min", [20.0, 30.0, 40.0], [1_000_000.0, 1_000_000.0, 1_000_000.0]),
        ("max", [29.0, 39.0, 49.0], [1_004_000.0, 1_004_000.0, 1_004_000.0]),
    ])
    func wholeMinuteStepsReadTheMinuteRollups(agg: String, rtt: [Double], bitrate: [Double]) async throws {
        let fixture = try ConnectionFixture()
        defer { fixture.remove() }
        try await withAPI(fixture.environment()) { client in
            let body = try await history(client, "from=\(ConnectionFixture.base / 1_000)&step=1m&agg=\(agg)")
            #expect(body["step"] as? Int == 60_000)
            #expect(body["agg"] as? String == agg)
            #expect(body["source"] as? String == "minutes")
            let list = try points(body)
            #expect(list.map { $0["t"] as? Int64 } == [0, 1, 2].map { ConnectionFixture.base + $0 * 60_000 })
            #expect(list.map { number($0["rttMs"]) } == rtt)
            #expect(list.map { number($0["bitrateIn"]) } == bitrate)
            #expect(list.map { $0["lost"] as? Int64 } == [6, 6, 2])
            #expect(list.map { $0["retransmitted"] as? Int64 } == [6, 6, 2])
            #expect(list.map { $0["dropped"] as? Int64 } == [1, 0, 0])
            #expect(list.map { $0["inboundBytes"] as? Int64 } == [29, 59, 69].map { 250_000 * $0 })
            #expect(list.allSatisfy { $0["latencyMs"] as? Int == 120 })
            // Not rolled up: said in the API description, null here rather than made up.
            for field in ["recvRateMbps", "sendRateMbps", "linkCapacityMbps", "jitter"] {
                #expect(list.allSatisfy { $0[field] is NSNull }, "\(field)")
            }
        }
    }

    /// One 5 m bucket over minutes of 30, 30 and 10 polls: each minute weighs by its polls,
    /// (24.5 × 30 + 34.5 × 30 + 44.5 × 10) ÷ 70 = 31.643, not the 34.5 of their plain mean.
    @Test func bucketsOfSeveralMinutesWeighEachMinuteByItsPolls() async throws {
        let fixture = try ConnectionFixture()
        defer { fixture.remove() }
        try await withAPI(fixture.environment()) { client in
            let list = try points(try await history(client, "from=\(ConnectionFixture.base / 1_000)&step=5m"))
            #expect(list.count == 1)
            let bucket = try #require(list.first)
            #expect(bucket["t"] as? Int64 == ConnectionFixture.base)
            #expect(number(bucket["rttMs"]) == 31.643)
            // 69 bitrates: 69 × 1,000,000 + 140,000 (residues 60 + 60 + 20 thousands) ÷ 69.
            #expect(number(bucket["bitrateIn"]) == 1_002_029)
            #expect(bucket["lost"] as? Int64 == 14)
            #expect(bucket["dropped"] as? Int64 == 1)
            #expect(bucket["inboundBytes"] as? Int64 == Int64(250_000 * 69))
            let highest = try points(try await history(client,
                                                       "from=\(ConnectionFixture.base / 1_000)&step=5m&agg=max"))
            #expect(number(highest.first?["rttMs"]) == 49)
        }
    }

    /// After the raw samples are pruned the connection is still known, raw history is empty,
    /// and whole-minute steps answer from the rollups with the same figures as before.
    @Test func aRangePastTheRawSamplesIsAnsweredFromTheMinuteRollups() async throws {
        let fixture = try ConnectionFixture()
        defer { fixture.remove() }
        let report = try fixture.store.prune(rawBefore: ConnectionFixture.now, rollupsBefore: ConnectionFixture.base)
        #expect(report.samples == ConnectionFixture.polls, "every poll's chunk went")
        #expect(report.connections == 0)
        try await withAPI(fixture.environment()) { client in
            let raw = try await history(client, "from=\(ConnectionFixture.base / 1_000)")
            #expect(try points(raw).isEmpty)
            #expect(raw["firstSeen"] as? Int64 == ConnectionFixture.base)
            #expect(try points(try await history(client, "from=\(ConnectionFixture.base / 1_000)&step=10s")).isEmpty,
                    "a step that is not whole minutes reads the raw samples")
            let minutes = try points(try await history(client, "from=\(ConnectionFixture.base / 1_000)&step=1m"))
            #expect(minutes.map { number($0["rttMs"]) } == [24.5, 34.5, 44.5])
            #expect(minutes.map { $0["lost"] as? Int64 } == [6, 6, 2])
            let five = try points(try await history(client, "from=\(ConnectionFixture.base / 1_000)&step=5m&agg=min"))
            #expect(number(five.first?["rttMs"]) == 20)
        }
    }
}
