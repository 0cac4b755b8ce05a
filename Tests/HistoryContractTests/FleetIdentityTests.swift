import History
import MTXMonCore
import Testing

/// A path is (server, name) and a connection (server, id): two servers' `cam1` and their
/// publishers with the same MediaMTX id never mix, and a name alone that two servers have is refused.
@Suite struct FleetIdentityTests {
    typealias F = Fixture

    /// Both servers answer at the very same milliseconds; b is nine times busier and has a path of its own.
    static let polls: [PollBatch] = (Int64(0)..<3).flatMap { i -> [PollBatch] in
        let ts = F.t(10 * i)
        return [
            F.answered("a", at: ts, [F.online("cam1", in: 1_000 * i, bitrateIn: i == 0 ? nil : 800)],
                       connections: [F.connection("pub", .publisher, path: "cam1", in: 1_000 * i,
                                                  remote: "10.0.0.1:1")]),
            F.answered("b", at: ts, [F.online("cam1", in: 9_000 * i, bitrateIn: i == 0 ? nil : 7_200),
                                     F.online("only-b", in: 5)],
                       connections: [F.connection("pub", .publisher, path: "cam1", in: 9_000 * i,
                                                  remote: "10.0.0.2:2")]),
        ]
    }

    @Test(arguments: Store.allCases)
    func twoServersKeepTheirSamePathNamesApart(_ store: Store) async throws {
        let opened = try await store.open()
        defer { opened.close() }
        let history = opened.history
        _ = try await history.append(Self.polls, deliverTo: [])

        #expect(try await history.serverNames() == ["a", "b"])
        #expect(try await history.paths(server: nil) == [PathRef(server: "a", name: "cam1"),
                                                         PathRef(server: "b", name: "cam1"),
                                                         PathRef(server: "b", name: "only-b")])
        #expect(try await history.paths(server: "a") == [PathRef(server: "a", name: "cam1")])
        await #expect(throws: AmbiguousPath(name: "cam1", servers: ["a", "b"])) {
            try await history.path(named: "cam1", server: nil)
        }
        #expect(try await history.path(named: "cam1", server: "b") == PathRef(server: "b", name: "cam1"))
        #expect(try await history.path(named: "only-b", server: nil) == PathRef(server: "b", name: "only-b"))
        #expect(try await history.path(named: "cam1", server: "c") == nil)
        #expect(try await history.path(named: "", server: nil) == nil)

        let range = HistoryRange(from: F.t(0), to: F.t(20))
        #expect(try await history.points(PathRef(server: "a", name: "cam1"), range: range).map(\.bitrateIn)
            == [nil, 800, 800])
        #expect(try await history.points(PathRef(server: "b", name: "cam1"), range: range).map(\.bitrateIn)
            == [nil, 7_200, 7_200])
        let a = try await history.windowRates(PathRef(server: "a", name: "cam1"), from: F.t(0), to: F.t(20),
                                              maxGapMs: F.maxGapMs)
        let b = try await history.windowRates(PathRef(server: "b", name: "cam1"), from: F.t(0), to: F.t(20),
                                              maxGapMs: F.maxGapMs)
        #expect(a.bytesIn == 2_000 && b.bytesIn == 18_000)
        let latest = try await history.latestSnapshots(forgetAfterMs: 86_400_000)
        #expect(latest.map(\.serverName) == ["a", "b"])
        #expect(latest.map { $0.paths.map(\.name) } == [["cam1"], ["cam1", "only-b"]])
    }

    @Test(arguments: Store.allCases)
    func twoServersKeepTheirSameConnectionIdsApart(_ store: Store) async throws {
        let opened = try await store.open()
        defer { opened.close() }
        let history = opened.history
        _ = try await history.append(Self.polls, deliverTo: [])

        await #expect(throws: AmbiguousPath("connection", name: "pub", servers: ["a", "b"])) {
            try await history.connection(id: "pub", server: nil)
        }
        #expect(try await history.connection(id: "pub", server: "a") == ConnectionInfo(
            server: "a", id: "pub", proto: "rtsp", role: "publisher", path: "cam1", remoteAddr: "10.0.0.1:1",
            firstTs: F.t(0), lastTs: F.t(20)))
        #expect(try await history.connection(id: "pub", server: "b")?.remoteAddr == "10.0.0.2:2")
        #expect(try await history.connection(id: "pub", server: "c") == nil)
        let points = try await history.connectionPoints(ConnectionRef(server: "b", id: "pub"), from: F.t(0),
                                                        to: F.t(20), through: .counters)
        #expect(points.map(\.inboundBytes) == [0, 9_000, 18_000])
        await #expect(throws: AmbiguousPath("connection", name: "pub", servers: ["a", "b"])) {
            try await history.linkSamples(ids: ["pub"], server: nil, now: F.t(20))
        }
        let link = try await history.linkSamples(ids: ["pub"], server: "a", now: F.t(20))
        #expect(link["pub"]?.firstTs == F.t(0) && link["pub"]?.samples.map(\.ts) == [F.t(0), F.t(10), F.t(20)])
    }
}
