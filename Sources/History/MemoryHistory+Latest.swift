import MTXMonCore

/// The newest state rebuilt from the rows, by the rules of `SQLiteHistory`'s `LatestState`: what
/// a collector that starts remembers, and what `serve` shows when no snapshot is cached.
extension MemoryHistory {
    /// Each of the server's paths whose newest row is from `since` on, with that row, and its
    /// figures at the last poll it was online when that is the newest row or the one before it
    /// (the row before an offline marker).
    func remembered(server: String, since: Int64) -> [(path: RememberedPath, row: PathRow)] {
        knownPaths(server: server).compactMap { ref in
            let rows = rows(of: ref)
            guard let newest = rows.last, newest.stored.ts >= since else { return nil }
            let before = rows.count > 1 ? rows[rows.count - 2].stored : nil
            return (RememberedPath(name: ref.name, newest: newest.stored, before: before), newest)
        }
    }

    public func latestSnapshots(forgetAfterMs: Int64) async throws -> [Snapshot] {
        try await serverNames().compactMap { latest(server: $0, forgetAfterMs: forgetAfterMs) }
    }

    public func latestSnapshot(server: String, forgetAfterMs: Int64) async throws -> Snapshot? {
        latest(server: server, forgetAfterMs: forgetAfterMs)
    }

    /// The newest state by `PathStates.rebuilt`, from the rows kept.
    func latest(server: String, forgetAfterMs: Int64) -> Snapshot? {
        let list = polls[server] ?? []
        guard let ts = list.last(where: \.ok)?.ts else { return nil }
        let paths = remembered(server: server, since: ts - forgetAfterMs).map { known, row in
            var sample = row.stored.sample(name: known.name)
            sample.readersByType = row.readersByType
            return (known: known, newest: sample)
        }
        let failedSince = list.first { $0.ts > ts }?.ts
        return PathStates.rebuilt(server: server, answeredAt: ts, paths: paths, failedSince: failedSince,
                                  lastPollTs: list.last?.ts, lastError: list.last?.error)
    }
}
