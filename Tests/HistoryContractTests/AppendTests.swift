import History
import MTXMonCore
import Testing

/// Writes: a batch written again stores nothing twice; a row the store refuses costs only itself.
@Suite struct AppendTests {
    typealias F = Fixture
    static let target = "https://hooks.example/h"

    static func poll(_ i: Int64, inbound: Int64? = nil) -> PollBatch {
        F.answered(at: F.t(10 * i), [F.online("cam", in: inbound ?? 1_000 * i)],
                   connections: [F.connection("pub", .publisher, path: "cam", in: 1_000 * i)],
                   events: [F.event(.readersJoined, .info, at: F.t(10 * i), path: "cam")], notify: [0])
    }

    @Test(arguments: Store.allCases)
    func writingTheSameBatchesAgainStoresNothingTwice(_ store: Store) async throws {
        let opened = try await store.open()
        defer { opened.close() }
        let history = opened.history
        let batches = [Self.poll(0), Self.poll(1)]
        let first = try await history.append(batches, deliverTo: [Self.target])
        #expect(first.events.map(\.id) == [1, 2] && first.skipped.isEmpty)

        // Again as they were (a held poll written twice), then with other figures at the same times.
        let again = try await history.append(batches, deliverTo: [Self.target])
        #expect(again.events.isEmpty && again.skipped.isEmpty)
        _ = try await history.append([Self.poll(1, inbound: 99)], deliverTo: [Self.target])
        // And once more after the file sealed them into a chunk.
        _ = try await history.compact()
        _ = try await history.append(batches, deliverTo: [Self.target])

        let cam = PathRef(name: "cam")
        let points = try await history.points(cam, range: HistoryRange(from: F.t(0), to: F.t(10)))
        #expect(points.map(\.inboundBytes) == [0, 1_000], "the first write of a poll is kept")
        #expect(try await history.windowRates(cam, from: F.t(0), to: F.t(10), maxGapMs: F.maxGapMs).samples == 2)
        let rows = try await history.connectionPoints(ConnectionRef(id: "pub"), from: F.t(0), to: F.t(10),
                                                      through: .counters)
        #expect(rows.map(\.t) == [F.t(0), F.t(10)])
        #expect(try await history.events(EventQuery(from: F.t(0), to: F.t(10))).events.map(\.id) == [2, 1])
        #expect(try await history.deliveryBacklog().map(\.pending) == [2], "no webhook is owed an event twice")
        #expect(try await history.polls(server: ServerName.default).lastPoll?.ts == F.t(10))
        #expect(try await history.firstPollTs() == F.t(0))
    }

    @Test(arguments: Store.allCases)
    func aPathNameTheStoreRefusesIsLeftOutAndReportedAndTheRestStored(_ store: Store) async throws {
        let opened = try await store.open()
        defer { opened.close() }
        let history = opened.history
        let longest = String(repeating: "y", count: 1_024)
        let tooLong = String(repeating: "x", count: 1_025)
        let batch = F.answered(at: F.t(0), [
            F.online("cam", in: 1), F.online(tooLong, in: 2), F.online("", in: 3), F.online(longest, in: 4),
        ], connections: [
            F.connection("watcher", .reader, path: tooLong), F.connection("", .reader, path: "cam"),
        ])

        let report = try await history.append([batch], deliverTo: [])
        #expect(report.skipped.map { [$0.kind, $0.name] } == [["path", tooLong], ["path", ""], ["connection", ""]])
        #expect(report.skipped.allSatisfy { $0.ts == F.t(0) && $0.reason.contains("CHECK") })
        #expect(try await history.paths(server: nil) == [PathRef(name: "cam"), PathRef(name: longest)])
        #expect(try await history.points(PathRef(name: longest), range: HistoryRange(from: F.t(0), to: F.t(0)))
            .map(\.inboundBytes) == [4])
        #expect(try await history.connection(id: "watcher", server: nil)?.path == nil,
                "a connection naming a refused path keeps its row without the path")
        #expect(try await history.connectionPoints(ConnectionRef(id: "watcher"), from: F.t(0), to: F.t(0),
                                                   through: .counters).count == 1)
    }
}
