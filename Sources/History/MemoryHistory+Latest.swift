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
            let s = newest.stored
            var path = RememberedPath(name: ref.name, ts: s.ts, online: s.online, inboundBytes: s.inboundBytes,
                                      outboundBytes: s.outboundBytes, sourceType: s.sourceType)
            let before = rows.count > 1 ? rows[rows.count - 2].stored : nil
            let seen = s.online ? s : before.flatMap { $0.online ? $0 : nil }
            path.lastSeen = seen.map { LastSeen(ts: $0.ts, bitrateIn: $0.bitrateIn, bitrateOut: $0.bitrateOut,
                                                readers: Int($0.readers)) }
            return (path, newest)
        }
    }

    public func latestSnapshots(forgetAfterMs: Int64) async throws -> [Snapshot] {
        try await serverNames().compactMap { latest(server: $0, forgetAfterMs: forgetAfterMs) }
    }

    public func latestSnapshot(server: String, forgetAfterMs: Int64) async throws -> Snapshot? {
        latest(server: server, forgetAfterMs: forgetAfterMs)
    }

    /// Paths the last answered poll did not list are `offline` (for `forgetAfterMs` after their
    /// last row); when polls failed after it, every path is `unknown`, as the collector says it.
    func latest(server: String, forgetAfterMs: Int64) -> Snapshot? {
        let list = polls[server] ?? []
        guard let ts = list.last(where: \.ok)?.ts else { return nil }
        let samples = remembered(server: server, since: ts - forgetAfterMs).map { known, row in
            known.ts == ts ? Self.listed(row, known) : Self.unlisted(known)
        }
        let failed = list.filter { $0.ts > ts }
        guard let since = failed.first?.ts, let last = list.last else {
            return Snapshot(ts: ts, paths: samples).named(server)
        }
        let unknown = samples.map { $0.unknown(since: since, at: ts) }
        return Snapshot(ts: last.ts, paths: unknown, reachable: false, error: last.error).named(server)
    }

    /// A path the last answered poll listed, with its figures then.
    static func listed(_ row: PathRow, _ known: RememberedPath) -> PathSample {
        let s = row.stored
        let srt = s.rttMs == nil && s.recvRateMbps == nil && s.srtPacketsReceived == nil ? nil : SRTLink(
            connectionID: "", rttMs: s.rttMs, recvRateMbps: s.recvRateMbps, linkCapacityMbps: s.linkCapacityMbps,
            tsbpdDelayMs: s.tsbpdDelayMs, packetsReceived: s.srtPacketsReceived, packetsReceivedLoss: s.srtPacketsLost,
            packetsReceivedRetrans: s.srtPacketsRetransmitted, packetsReceivedDrop: s.srtPacketsDropped)
        var sample = PathSample(
            name: known.name, online: s.online, sourceType: s.sourceType, inboundBytes: s.inboundBytes,
            outboundBytes: s.outboundBytes, bitrateIn: s.bitrateIn, bitrateOut: s.bitrateOut, readers: Int(s.readers),
            readersByType: row.readersByType, inboundFramesInError: s.framesInError, reset: s.reset, srt: srt)
        sample.state = sample.online ? .online : .offline
        sample.lastSeen = known.lastSeen
        return sample
    }

    /// A path the last answered poll did not list: offline since its newest row if that row says so.
    static func unlisted(_ known: RememberedPath) -> PathSample {
        var sample = PathSample(name: known.name, online: false, inboundBytes: known.inboundBytes,
                                outboundBytes: known.outboundBytes)
        sample.state = .offline
        sample.since = known.online ? nil : known.ts
        sample.lastSeen = known.lastSeen
        sample.listed = false
        return sample
    }
}
