import SQLiteHistory
import History
import Logging
import MTXMonCore
import MTXMonServer
import SnapshotCache
import TestSupport

/// A history file with values worked out by hand, on a 2 s grid starting at `base`.
///
/// `live/cam1`: 60 polls, 2 readers, 250,000 bytes in per poll (1 Mbit/s); its publisher reconnects
/// before poll 30 (the counter restarts at 100,000); polls 40–44 failed (no samples), while
/// MediaMTX's counters went on. Stored bitrates are 1,000,000 + 1,000 × (i mod 5), so the
/// aggregations differ. `srt/feed`: 10 polls over SRT with packet counters.
struct HistoryFixture {
    static let base: Int64 = 1_800_000_000_000
    static let interval: Int64 = 2_000
    /// Just after the last poll.
    static let now: Int64 = base + 60 * interval

    let directory: TemporaryDirectory
    let store: SQLiteHistory

    init() throws {
        directory = try TemporaryDirectory()
        store = try SQLiteHistory(path: directory.file("history.sqlite"))
        var batches: [PollBatch] = []
        for i in 0..<60 {
            let ts = Self.base + Int64(i) * Self.interval
            if (40..<45).contains(i) {
                batches.append(PollBatch(poll: PollRecord(ts: ts, ok: false, durationMs: 1_800, error: "timeout"),
                                         snapshot: nil))
                continue
            }
            var paths = [Self.cam(i)]
            if i < 10 { paths.append(Self.srt(i)) }
            batches.append(PollBatch(poll: PollRecord(ts: ts, ok: true, durationMs: 12, pathCount: paths.count),
                                     snapshot: Snapshot(ts: ts, paths: paths)))
        }
        try store.append(batches)
    }

    static func camInbound(_ i: Int) -> Int64 {
        i < 30 ? 250_000 * Int64(i) : 100_000 + 250_000 * Int64(i - 30)
    }

    static func cam(_ i: Int) -> PathSample {
        let firstOfRun = i == 0 || i == 30 || i == 45
        let bitrate = firstOfRun ? nil : 1_000_000 + 1_000 * Double(i % 5)
        return PathSample(
            name: "live/cam1", online: true, sourceType: "rtspSession", inboundBytes: camInbound(i),
            outboundBytes: 2 * camInbound(i), bitrateIn: bitrate, bitrateOut: bitrate.map { $0 * 2 }, readers: 2,
            readersByType: ["rtspSession": 2], reset: i == 30)
    }

    static func srt(_ i: Int) -> PathSample {
        let n = Int64(i)
        return PathSample(
            name: "srt/feed", online: true, sourceType: "srtConn", inboundBytes: 500_000 * n,
            bitrateIn: i == 0 ? nil : 2_000_000, readers: 0,
            srt: SRTLink(connectionID: "c1", rttMs: 20 + Double(i), recvRateMbps: 2.1, linkCapacityMbps: 50,
                         tsbpdDelayMs: 120, packetsReceived: 1_000 * n, packetsReceivedLoss: n,
                         packetsReceivedRetrans: 2 * n, packetsReceivedDrop: 0))
    }

    func environment(
        cache: any SnapshotCache = InProcessSnapshotCache(ttl: .seconds(60)), now: Int64 = HistoryFixture.now,
        token: String? = nil, cors: [String] = []
    ) -> APIEnvironment {
        APIEnvironment(cache: cache, history: store, intervalMs: Self.interval, apiToken: token, corsOrigins: cors,
                       mediaMTXURL: "http://127.0.0.1:9997", now: { now })
    }

    func remove() { directory.remove() }
}
