@testable import Collector
import MediaMTXSimulator
import MTXMonCore
import SQLiteHistory
import Testing
import TestSupport

/// A server's version is forgotten while it does not answer (it may come back another), but kept
/// as its last known one, and known again from the first poll it answers: not a minute later,
/// when `/v3/info` is next due.
@Suite struct VersionAfterOutageTests {
    @Test(arguments: [SimulatorFault.serverError, .garbage])
    func theVersionIsKnownFromTheFirstAnsweredPollAfterAnOutage(_ fault: SimulatorFault) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteHistory(path: dir.file("v.sqlite"))
        let simulator = Simulator(options: SimulatorOptions(paths: 2))
        try await withSimulator(simulator) { url in
            var driven = await TransitionTests.Driven(url, store: store)
            #expect(try await driven.poll().serverVersion == "v1.20.1")
            simulator.fault = fault
            let down = try await driven.poll()
            #expect(!down.answered && down.serverVersion == nil)
            #expect(driven.collector.status.servers[ServerName.default]?.serverVersion == nil)
            #expect(driven.collector.status.servers[ServerName.default]?.lastVersion == "v1.20.1",
                    "what it was when it last answered is kept, said as such")
            simulator.fault = .none
            let back = try await driven.poll()
            #expect(back.answered)
            #expect(back.serverVersion == "v1.20.1", "the snapshot of the first answered poll")
            #expect(driven.collector.status.servers[ServerName.default]?.serverVersion == "v1.20.1",
                    "the status of the first answered poll")
        }
    }
}
