import MTXMonCore

/// Retention: what the file's `prune` removes, removed at once (there is no writer to make way for).
extension MemoryHistory {
    /// Rows and polls before `rawBefore`, events before `rollupsBefore` (with the deliveries owed
    /// for them), and connections last seen before the earlier of `rawBefore` and `minutesBefore`.
    /// Paths stay known, as the file keeps their rows. The report counts rows: path rows as
    /// `samples`, connection rows as `connectionSamples`; there are no chunks, rollups or pages.
    public func prune(rawBefore: Int64, rollupsBefore: Int64, minutesBefore: Int64?, batch: Int,
                      dryRun: Bool) async throws -> PruneReport {
        let connectionsBefore = min(rawBefore, minutesBefore ?? rollupsBefore)
        var report = PruneReport()
        report.samples = pathRows.values.reduce(0) { $0 + $1.insertionIndex { $0.stored.ts < rawBefore } }
        report.polls = polls.values.reduce(0) { $0 + $1.insertionIndex { $0.ts < rawBefore } }
        report.events = events.count { $0.ts < rollupsBefore }
        report.connectionSamples = connections.values.reduce(0) { $0 + $1.rows.insertionIndex { $0.ts < rawBefore } }
        report.connections = connections.values.count { $0.info.lastTs < connectionsBefore }
        guard !dryRun else { return report }
        for (ref, rows) in pathRows { pathRows[ref] = rows.filter { $0.stored.ts >= rawBefore } }
        for (server, list) in polls { polls[server] = list.filter { $0.ts >= rawBefore } }
        let goneEvents = Set(events.filter { $0.ts < rollupsBefore }.compactMap(\.id))
        events.removeAll { $0.ts < rollupsBefore }
        deliveries.removeAll { goneEvents.contains($0.eventID) }
        connections = connections.filter { $0.value.info.lastTs >= connectionsBefore }
        for (ref, c) in connections { connections[ref]?.rows = c.rows.filter { $0.ts >= rawBefore } }
        return report
    }
}
