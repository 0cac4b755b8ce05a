import History
import MTXMonCore
import Testing

/// What only the history in memory does: it has nothing to compact, convert or tidy, and says so.
@Suite struct MemoryHistoryTests {
    @Test func itHasNothingToCompactAndNamesItselfMemory() async throws {
        let history = MemoryHistory()
        _ = try await history.append([Fixture.answered(at: Fixture.t(0), [Fixture.online("cam", in: 1)])],
                                     deliverTo: [])
        #expect(history.location == "memory")
        #expect(await history.needsCompaction() == false)
        #expect(try await history.compact() == SealReport())
        #expect(try await history.convertOlderRows(maxChunks: 10)
            == ConversionProgress(rowsLeft: 0, rowsMoved: 0, chunks: 0, done: true))
        try await history.finish()
        try await history.check()
        #expect(try await history.quarantine() == QuarantineSummary())
        #expect(try await history.points(PathRef(name: "cam"), range: HistoryRange(from: 0, to: .max)).count == 1,
                "compacting changed nothing")
    }
}
