import SQLiteHistory
import History
import MTXMonCore
import MTXMonServer
import SnapshotCache
import TestSupport

/// A history file of two connections of `srt/feed`, 70 polls 2 s apart from `base` (a whole
/// hour, so every bucket of 10 s, 1 m or 5 m starts on a poll): polls 0–29 fill minute 0,
/// 30–59 minute 1, 60–69 minute 2.
///
/// `srt-pub-1`, the SRT publisher: 250,000 bytes per poll; bitrate 1,000,000 + 1,000 × (i mod 5)
/// (none on poll 0); RTT 20 + (i mod 10) + 10 × (i div 30), so each minute averages 10 ms more;
/// receive rate 2 on even polls and 3 on odd ones; send rate 0.25; link capacity 50 + (i mod 3);
/// latency 120 ms; 2 packets lost (and retransmitted) on polls 3, 13, 23, …; 1 dropped on poll 25.
/// `rtsp-rdr-1`, an RTSP reader: jitter i mod 4, 1 packet reported lost on every 7th poll.
struct ConnectionFixture {
    static let base: Int64 = 1_800_000_000_000
    static let interval: Int64 = 2_000
    static let polls = 70
    static let last: Int64 = base + Int64(polls - 1) * interval
    static let now: Int64 = last + 1_000
    static let publisherID = "srt-pub-1"
    static let readerID = "rtsp-rdr-1"

    let directory: TemporaryDirectory
    let store: SQLiteHistory

    init() throws {
        directory = try TemporaryDirectory()
        store = try SQLiteHistory(path: directory.file("history.sqlite"))
        let batches = (0..<Self.polls).map { i in
            let ts = Self.ts(i)
            return PollBatch(poll: PollRecord(ts: ts, ok: true, durationMs: 10, pathCount: 1),
                             snapshot: Self.snapshot(i))
        }
        try store.append(batches)
    }

    static func ts(_ i: Int) -> Int64 { base + Int64(i) * interval }

    static func snapshot(_ i: Int) -> Snapshot {
        Snapshot(ts: ts(i), paths: [PathSample(name: "srt/feed", online: true, sourceType: "srtConn",
                                               inboundBytes: 250_000 * Int64(i), readers: 1)],
                 serverVersion: "v1.20.1", connections: [publisher(i), reader(i)])
    }

    static func bitrate(_ i: Int) -> Double? { i == 0 ? nil : 1_000_000 + 1_000 * Double(i % 5) }
    static func rtt(_ i: Int) -> Double { 20 + Double(i % 10) + 10 * Double(i / 30) }
    static func recvRate(_ i: Int) -> Double { i % 2 == 0 ? 2 : 3 }
    static func linkCapacity(_ i: Int) -> Double { 50 + Double(i % 3) }
    static func lost(_ i: Int) -> Int64 { i % 10 == 3 ? 2 : 0 }
    static func dropped(_ i: Int) -> Int64 { i == 25 ? 1 : 0 }
    static func jitter(_ i: Int) -> Double { Double(i % 4) }
    static func readerLost(_ i: Int) -> Int64 { i > 0 && i % 7 == 0 ? 1 : 0 }

    static func publisher(_ i: Int) -> ConnectionSample {
        var counters = ConnectionCounters()
        counters.packetsReceived = 1_000 * Int64(i)
        counters.packetsReceivedLoss = (0...i).map(lost).reduce(0, +)
        counters.packetsReceivedRetrans = counters.packetsReceivedLoss
        counters.packetsReceivedDrop = (0...i).map(dropped).reduce(0, +)
        var c = ConnectionSample(id: publisherID, proto: .srt, role: .publisher, path: "srt/feed",
                                 remoteAddr: "10.0.0.7:4000", state: "publish", inboundBytes: 250_000 * Int64(i),
                                 counters: counters)
        c.bitrateIn = bitrate(i)
        c.bitrateOut = i == 0 ? nil : 0
        c.rttMs = rtt(i)
        c.recvRateMbps = recvRate(i)
        c.sendRateMbps = 0.25
        c.linkCapacityMbps = linkCapacity(i)
        c.latencyMs = 120
        if i > 0 {
            var deltas = ConnectionCounters()
            deltas.packetsReceived = 1_000
            deltas.packetsReceivedLoss = lost(i)
            deltas.packetsReceivedRetrans = lost(i)
            deltas.packetsReceivedDrop = dropped(i)
            c.deltas = deltas
        }
        return c
    }

    static func reader(_ i: Int) -> ConnectionSample {
        var counters = ConnectionCounters()
        counters.rtpPacketsSent = 900 * Int64(i)
        counters.rtpPacketsReportedLost = (0...i).map(readerLost).reduce(0, +)
        var c = ConnectionSample(id: readerID, proto: .rtsp, role: .reader, path: "srt/feed",
                                 remoteAddr: "192.168.1.20:51000", state: "read",
                                 outboundBytes: 250_000 * Int64(i), counters: counters)
        c.bitrateOut = bitrate(i)
        c.bitrateIn = i == 0 ? nil : 0
        c.jitter = jitter(i)
        if i > 0 {
            var deltas = ConnectionCounters()
            deltas.rtpPacketsSent = 900
            deltas.rtpPacketsReportedLost = readerLost(i)
            c.deltas = deltas
        }
        return c
    }

    func environment(cache: any SnapshotCache = InProcessSnapshotCache(ttl: .seconds(60))) -> APIEnvironment {
        APIEnvironment(cache: cache, history: store, intervalMs: Self.interval, mediaMTXURL: "http://127.0.0.1:9997",
                       now: { Self.now })
    }

    func remove() { directory.remove() }
}
