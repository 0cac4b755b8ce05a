import History
import Logging
import MTXMonCore
import ServiceLifecycle

/// Seals recent rows into compact chunks, rolls up the complete minutes and hours, and moves rows
/// of an older layout into the current one: beside the collector, never in its tick. A seal is
/// one transaction, so a kill at any moment leaves every row sealed or not; the collector's own
/// stop seals what is left.
public struct HistoryCompactor: Service {
    let store: any HistoryWriter
    /// How often it looks whether enough recent rows wait.
    let every: Duration
    let logger: Logger

    public init(store: any HistoryWriter, every: Duration, logger: Logger) {
        self.store = store
        self.every = every
        self.logger = logger
    }

    public func run() async throws {
        var failing = OutageTracker()
        var olderRowsLeft = true
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: every) }
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            if await store.needsCompaction() {
                do {
                    let report = try await store.compact()
                    if case .ended = failing.recordSuccess(at: WallClock.nowMs()) {
                        logger.notice("recent rows are sealed into chunks again")
                    }
                    if report.quarantined > 0 {
                        logger.error("rows or chunks the seal could not read were moved to the quarantine table",
                                     metadata: ["count": "\(report.quarantined)"])
                    }
                    for path in report.unrolled {
                        logger.error("a path could not be rolled up and was left out of this roll-up",
                                     metadata: ["path": "\(path)"])
                    }
                } catch {
                    if case .started = failing.recordFailure(at: WallClock.nowMs(), reason: "\(error)") {
                        logger.warning("recent rows could not be sealed into chunks; they stay readable, tried again at the next look",
                                       metadata: ["error": "\(error)"])
                    }
                }
            }
            if olderRowsLeft { olderRowsLeft = await convertSome() }
        }
    }

    /// Moves some rows of an older layout; false once none is left.
    func convertSome() async -> Bool {
        do {
            let progress = try await store.convertOlderRows(maxChunks: 40)
            if progress.done {
                if progress.rowsMoved > 0 { logger.notice("every row from before chunks is in chunks now") }
                return false
            }
            return true
        } catch {
            logger.warning("rows from before chunks could not be moved; they stay readable where they are, tried again shortly",
                           metadata: ["error": "\(error)"])
            return true
        }
    }
}
