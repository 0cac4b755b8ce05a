import History
import MTXMonCore
import Testing

/// Retention: what lies before the cut goes, what lies after stays, and paths stay known.
@Suite struct PruneTests {
    typealias F = Fixture
    static let target = "https://hooks.example/h"

    /// Four minutes of cam every 10 s, with its publisher throughout, a reader for the first
    /// minute, and an event owed to a webhook at 20 s and at 150 s.
    static func poll(_ i: Int64) -> PollBatch {
        var connections = [F.connection("pub", .publisher, path: "cam", in: 1_000 * i)]
        if i <= 5 { connections.append(F.connection("early-reader", .reader, path: "cam", out: 500 * i)) }
        let events = i == 2 || i == 15 ? [F.event(.bitrateLow, .warning, at: F.t(10 * i), path: "cam")] : []
        return F.answered(at: F.t(10 * i), [F.online("cam", in: 1_000 * i)], connections: connections, events: events,
                          notify: events.isEmpty ? [] : [0])
    }

    @Test(arguments: Store.allCases)
    func pruneRemovesWhatIsBeforeTheCutAndKeepsTheRest(_ store: Store) async throws {
        let opened = try await store.open()
        defer { opened.close() }
        let history = opened.history
        // The file removes a sealed chunk only whole: the first two minutes are sealed on their own.
        _ = try await history.append((0..<12).map(Self.poll), deliverTo: [Self.target])
        _ = try await history.compact()
        _ = try await history.append((12..<24).map(Self.poll), deliverTo: [Self.target])
        let cam = PathRef(name: "cam")
        let everything = HistoryRange(from: F.t(0), to: F.t(230))

        let dry = try await history.prune(rawBefore: F.t(120), rollupsBefore: F.t(120), minutesBefore: nil, batch: 5,
                                          dryRun: true)
        #expect(dry.samples == 12 && dry.polls == 12 && dry.events == 1)
        #expect(try await history.points(cam, range: everything).count == 24, "a dry run removes nothing")

        let report = try await history.prune(rawBefore: F.t(120), rollupsBefore: F.t(120), minutesBefore: nil,
                                             batch: 5, dryRun: false)
        #expect(report.samples == 12 && report.polls == 12 && report.events == 1 && report.connections == 1)

        let points = try await history.points(cam, range: everything)
        #expect(points.count == 12 && points.first?.t == F.t(120) && points.last?.t == F.t(230))
        #expect(try await history.firstPollTs() == F.t(120))
        #expect(try await history.polls(server: ServerName.default).lastPoll?.ts == F.t(230))
        #expect(try await history.paths(server: nil) == [cam], "paths stay known")
        let rates = try await history.windowRates(cam, from: F.t(0), to: F.t(230), maxGapMs: F.maxGapMs)
        #expect(rates.samples == 12 && rates.coveredFrom == F.t(120) && rates.bytesIn == 11_000)

        #expect(try await history.connection(id: "early-reader", server: nil) == nil, "last seen before the cut")
        let publisher = try #require(try await history.connection(id: "pub", server: nil))
        #expect(publisher.lastTs == F.t(230))
        let rows = try await history.connectionPoints(publisher.ref, from: F.t(0), to: F.t(230), through: .counters)
        #expect(rows.map(\.t) == (12..<24).map { F.t(10 * $0) })

        let (events, _) = try await history.events(EventQuery(from: F.t(0), to: F.t(230)))
        #expect(events.map(\.ts) == [F.t(150)])
        #expect(try await history.deliveryBacklog() == [
            DeliveryBacklog(target: Self.target, pending: 1, oldestTs: F.t(150), attempts: 0, lastError: nil),
        ], "the delivery owed for the pruned event went with it")

        let again = try await history.prune(rawBefore: F.t(120), rollupsBefore: F.t(120), minutesBefore: nil,
                                            batch: 5, dryRun: false)
        #expect(again.samples == 0 && again.polls == 0 && again.events == 0 && again.connections == 0)
    }
}
