import Foundation
import MTXMonCore

/// A day of 100 paths as MediaMTX would report them every 2 s: each path with a publisher (an
/// RTSP session, every 10th an SRT connection) and two RTSP readers. Bitrates wander around a
/// level of their own, counters rise with them, loss counters rarely move, gauges are noisy as
/// real ones are (an RTT with libsrt's microsecond resolution, rates with many digits).
/// Deterministic: the same seed gives the same day.
struct StorageData {
    static let paths = 100
    static let interval: Int64 = 2_000

    struct Connection {
        var id: String
        var proto: ConnectionProtocol
        var role: ConnectionRole
        var bytes: Int64 = 0
        var packets: Int64 = 0
        var lost: Int64 = 0
        var retrans: Int64 = 0
        var dropped: Int64 = 0
        var rtcp: Int64 = 0
        var rtt = 0.0
        var jitter = 0.0
        var recvRate = 0.0
        var sendRate = 0.0
        var linkCapacity = 0.0
    }

    struct Path {
        var name: String
        var level: Double
        var inbound: Int64 = 0
        var outbound: Int64 = 0
        var connections: [Connection]
    }

    var generator: SplitMix
    var paths: [Path]
    let start: Int64
    var poll = 0

    init(start: Int64, seed: UInt64 = 15) {
        self.start = start
        generator = SplitMix(seed: seed)
        var generator = self.generator
        paths = (0..<Self.paths).map { i in
            let srt = i % 10 == 0
            return Path(name: "live/cam\(String(format: "%03d", i))", level: 1_000_000 + Double(generator.next() % 5_000_000),
                        connections: [Connection(id: Self.uuid(&generator), proto: srt ? .srt : .rtsp, role: .publisher)]
                            + (0..<2).map { _ in Connection(id: Self.uuid(&generator), proto: .rtsp, role: .reader) })
        }
        self.generator = generator
    }

    static func uuid(_ g: inout SplitMix) -> String {
        let a = g.next(), b = g.next()
        let hex = String(format: "%016llx%016llx", a, b)
        let c = Array(hex)
        return "\(String(c[0..<8]))-\(String(c[8..<12]))-\(String(c[12..<16]))-\(String(c[16..<20]))-\(String(c[20..<32]))"
    }

    /// The 2 s grid: what Prometheus's scrape-timestamp alignment aims for.
    func gridTs(_ poll: Int) -> Int64 { start + Int64(poll) * Self.interval }

    /// Advances one poll: every figure moves as it would over 2 s. Returns the poll's time as
    /// mtxmon stamps it (the grid plus a few ms of round trip).
    mutating func step() -> Int64 {
        let hour = Int(Int64(poll) * Self.interval / 3_600_000)
        for p in paths.indices {
            let noise = 1 + (Double(generator.next() % 6_001) - 3_000) / 100_000
            let bytes = Int64(paths[p].level * noise / 8 * 2)
            paths[p].inbound += bytes
            for c in paths[p].connections.indices {
                var conn = paths[p].connections[c]
                // One reader of the first paths reconnects every hour under a new id.
                if c == 2, p < 10, poll > 0, Int64(poll) * Self.interval % 3_600_000 == 0 {
                    conn = Connection(id: Self.uuid(&generator), proto: .rtsp, role: .reader)
                }
                conn.bytes += bytes
                conn.packets += bytes / (conn.proto == .srt ? 1_316 : 1_200)
                conn.rtcp += poll % 5 == 0 ? 1 : 0
                if generator.next() % 500 == 0 { conn.lost += Int64(1 + generator.next() % 4) }
                if conn.proto == .srt {
                    if generator.next() % 300 == 0 { conn.retrans += Int64(1 + generator.next() % 6) }
                    if generator.next() % 20_000 == 0 { conn.dropped += 1 }
                    conn.rtt = Double(20_000 + Int(generator.next() % 5_000) + hour * 10) / 1_000
                    conn.recvRate = Double(bytes) * 8 / 2 / 1_000_000 * (1 + Double(generator.next() % 1_000) / 1e6)
                    conn.sendRate = Double(generator.next() % 100_000) / 77_777
                    conn.linkCapacity = 80 + Double(generator.next() % 400_000) / 3_333
                } else {
                    conn.jitter = Double(generator.next() % 20_000) / 1_000
                }
                paths[p].connections[c] = conn
            }
            paths[p].outbound += bytes * 2
        }
        let ts = gridTs(poll) + Int64(generator.next() % 6)
        poll += 1
        return ts
    }

    /// The poll as the collector's normaliser makes it.
    func samples() -> ([PathSample], [ConnectionSample]) {
        var result: [PathSample] = []
        var connections: [ConnectionSample] = []
        for p in paths {
            let publisher = p.connections[0]
            var sample = PathSample(name: p.name, online: true, sourceType: publisher.proto == .srt ? "srtConn" : "rtspSession",
                                    sourceID: publisher.id, inboundBytes: p.inbound, outboundBytes: p.outbound, readers: 2,
                                    readersByType: ["rtspSession": 2])
            sample.inboundFramesInError = 0
            if publisher.proto == .srt {
                sample.srt = SRTLink(connectionID: publisher.id, rttMs: publisher.rtt, recvRateMbps: publisher.recvRate,
                                     linkCapacityMbps: publisher.linkCapacity, tsbpdDelayMs: 120,
                                     packetsReceived: publisher.packets, packetsReceivedLoss: publisher.lost,
                                     packetsReceivedRetrans: publisher.retrans, packetsReceivedDrop: publisher.dropped)
            }
            result.append(sample)
            for c in p.connections {
                var s = ConnectionSample(id: c.id, proto: c.proto, role: c.role, path: p.name, remoteAddr: "10.1.2.3:40000",
                                         state: c.role == .publisher ? "publish" : "read",
                                         inboundBytes: c.role == .publisher ? c.bytes : 0,
                                         outboundBytes: c.role == .reader ? c.bytes : 0)
                if c.proto == .srt {
                    s.counters.packetsReceived = c.packets
                    s.counters.packetsReceivedLoss = c.lost
                    s.counters.packetsReceivedRetrans = c.retrans
                    s.counters.packetsReceivedDrop = c.dropped
                    s.counters.packetsReceivedBelated = 0
                    s.counters.packetsReceivedUndecrypt = 0
                    s.rttMs = c.rtt
                    s.recvRateMbps = c.recvRate
                    s.sendRateMbps = c.sendRate
                    s.linkCapacityMbps = c.linkCapacity
                    s.latencyMs = 120
                } else if c.role == .publisher {
                    s.counters.rtpPacketsReceived = c.packets
                    s.counters.rtpPacketsLost = c.lost
                    s.counters.rtpPacketsInError = 0
                    s.counters.rtcpPacketsReceived = c.rtcp
                    s.counters.rtcpPacketsInError = 0
                    s.jitter = c.jitter
                } else {
                    s.counters.rtpPacketsSent = c.packets
                    s.counters.rtpPacketsReportedLost = c.lost
                    s.counters.rtpPacketsDiscarded = 0
                }
                connections.append(s)
            }
        }
        return (result, connections)
    }
}

/// A small seeded generator, so runs are comparable.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
