import History
import MTXMonCore
import PostgresHistory
import Testing
import TestSupport

/// A single-server install's history (`default`) renamed to the fleet name its server gets: the
/// same stream's samples, rates, events and silences answer to the new name as one series, and
/// what is not safe is refused with nothing changed.
@Suite struct ServerRenameTests {
    typealias F = Fixture

    /// Long after the fixture's polls: no collector is writing.
    static let later = F.t(3_600)

    static func polls(_ server: String, seconds: [Int64], from counter: Int64 = 0) -> [PollBatch] {
        seconds.enumerated().map { i, s in
            let bytes = counter + 1_000 * Int64(i)
            return F.answered(server, at: F.t(s), [F.online("cam1", in: bytes, bitrateIn: i == 0 && counter == 0 ? nil : 800)],
                              connections: [F.connection("pub", .publisher, path: "cam1", in: bytes)],
                              events: i == 0 && counter == 0 ? [F.event(.offline, .warning, at: F.t(s), server: server, path: "cam1")] : [])
        }
    }

    @Test(arguments: Store.allCases)
    func aRenamedServerKeepsItsStreamsHistoryAsOneSeriesUnderTheNewName(_ store: Store) async throws {
        let opened = try await store.open()
        defer { opened.close() }
        let history = opened.history
        _ = try await history.append(Self.polls(ServerName.default, seconds: [0, 10, 20]), deliverTo: [])
        try await history.saveSilence(Silence(id: "s1", server: ServerName.default, startsAt: F.t(0), endsAt: F.t(7_200),
                                              comment: "maintenance"))

        let moved = try await history.renameServer(ServerRename(from: ServerName.default, to: "ingest", now: Self.later,
                                                                fallbackIntervalMs: F.intervalMs))
        #expect(moved == RenamedServer(polls: 3, paths: 1))
        // The collector started with MTXMON_SERVERS=ingest=… goes on from the stored counters.
        _ = try await history.append(Self.polls("ingest", seconds: [30, 40], from: 3_000), deliverTo: [])

        let reopened = try await opened.restarted()
        defer { if store == .postgres { (reopened as? PostgresHistory)?.close() } }
        #expect(try await reopened.serverNames() == ["ingest"])
        #expect(try await reopened.paths(server: nil) == [PathRef(server: "ingest", name: "cam1")])
        #expect(try await reopened.polls(server: ServerName.default).lastPoll == nil)
        let cam1 = PathRef(server: "ingest", name: "cam1")
        let points = try await reopened.points(cam1, range: HistoryRange(from: F.t(0), to: F.t(40)))
        #expect(points.map(\.t) == [0, 10, 20, 30, 40].map(F.t), "one series across the rename")
        #expect(points.map(\.bitrateIn) == [nil, 800, 800, 800, 800])
        let rates = try await reopened.windowRates(cam1, from: F.t(0), to: F.t(40), maxGapMs: F.maxGapMs)
        #expect(rates.bytesIn == 4_000)
        #expect(try await reopened.rememberedPaths(server: "ingest", since: 0).map(\.name) == ["cam1"])
        #expect(try await reopened.connection(id: "pub", server: "ingest")?.firstTs == F.t(0))
        let events = try await reopened.events(EventQuery(from: F.t(0), to: F.t(40), server: "ingest", limit: 10)).events
        #expect(events.map(\.server) == ["ingest"])
        #expect(try await reopened.silences(endingAfter: F.t(0)).map(\.server) == ["ingest"])
        #expect(try await reopened.latestSnapshots(forgetAfterMs: 86_400_000).map(\.serverName) == ["ingest"])
    }

    @Test(arguments: Store.allCases)
    func aRenameThatIsNotSafeIsRefusedAndChangesNothing(_ store: Store) async throws {
        let opened = try await store.open()
        defer { opened.close() }
        let history = opened.history
        _ = try await history.append(Self.polls("a", seconds: [0, 10]) + Self.polls("b", seconds: [0, 10]), deliverTo: [])
        func refusal(_ from: String, _ to: String, now: Int64 = Self.later) async -> ServerRenameRefusal? {
            do {
                _ = try await history.renameServer(ServerRename(from: from, to: to, now: now,
                                                                fallbackIntervalMs: F.intervalMs))
                return nil
            } catch {
                return error as? ServerRenameRefusal
            }
        }
        #expect(await refusal("default", "c") == .noHistory(server: "default", servers: ["a", "b"]))
        #expect(await refusal("a", "b") == .taken(server: "b"), "two histories are not merged")
        #expect(await refusal("a", "a") == .sameName("a"))
        guard case .badName = await refusal("a", "c/d") else {
            Issue.record("a name the schema would refuse is refused first")
            return
        }
        // a was polled 5 s before: its collector is writing (3 intervals of 10 s).
        let running = await refusal("a", "c", now: F.t(15))
        guard case let .collectorRunning(_, ageMs, waitMs) = running, ageMs == 5_000, waitMs == 25_000 else {
            Issue.record("a collector polled 5 s ago: \(String(describing: running))")
            return
        }
        #expect(try await history.serverNames() == ["a", "b"])
        #expect(try await history.points(PathRef(server: "a", name: "cam1"), range: HistoryRange(from: F.t(0), to: F.t(10))).count == 2)

        if store == .postgres, let database = opened.database {
            // A collector of a pair holds the lead for a and b: its polls may be held, not yet written.
            _ = try await PostgresServer.shared().query(database, """
                INSERT INTO leader (scope, holder, token, since_ms, expires_ms)
                VALUES ('collect:a,b', 'host/1', 1, 0, (extract(epoch FROM clock_timestamp()) * 1000)::bigint + 600000)
                """)
            #expect(await refusal("a", "c") == .leaseHeld(scope: "collect:a,b", holder: "host/1"))
            _ = try await PostgresServer.shared().query(database, "UPDATE leader SET expires_ms = 0")
        }
        #expect(await refusal("a", "c") == nil, "no collector, a free name: renamed")
        #expect(try await history.serverNames() == ["b", "c"])
    }
}
