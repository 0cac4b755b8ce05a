import MTXMonCore
import Testing

/// Polls as a server of 300 paths with a reader each gives them, every tenth over SRT.
struct PollFactory {
    var random = SplitMix(seed: 7)
    var counters: [Int64]
    let paths: Int

    init(paths: Int = 300) {
        self.paths = paths
        counters = [Int64](repeating: 0, count: paths * 2)
    }

    static func id(_ i: Int, _ kind: String) -> String {
        let hex = String(i * 7_919 + (kind == "p" ? 0 : 1), radix: 16)
        return "6b1f\(String(repeating: "0", count: max(0, 4 - hex.count)))\(hex)-2c4e-4a9b-8d3e-1f2a3b4c5d6e"
    }

    mutating func batch(_ n: Int, server: String = "default") -> PollBatch {
        let ts = 1_796_000_000_000 + Int64(n) * 2_000 + Int64(random.next() % 40)
        var paths: [PathSample] = []
        var connections: [ConnectionSample] = []
        for i in 0..<self.paths {
            let rate = 250_000 + Int64(random.next() % 5_000)
            counters[2 * i] += rate
            counters[2 * i + 1] += rate
            let srt = i % 10 == 0
            var path = PathSample(name: "live/cam\(i)", online: true, sourceType: srt ? "srtConn" : "rtspSession",
                                  sourceID: Self.id(i, "p"), inboundBytes: counters[2 * i],
                                  outboundBytes: counters[2 * i + 1],
                                  bitrateIn: n == 0 ? nil : Double(rate * 4), bitrateOut: n == 0 ? nil : Double(rate * 4),
                                  readers: 1, readersByType: ["webRTCSession": 1], inboundFramesInError: 0,
                                  reset: n == 0)
            if srt {
                path.srt = SRTLink(connectionID: Self.id(i, "p"), rttMs: 20 + Double(random.next() % 1_000) / 100,
                                   recvRateMbps: 2.01, linkCapacityMbps: 80 + Double(random.next() % 50),
                                   tsbpdDelayMs: 120, packetsReceived: counters[2 * i] / 1_316,
                                   packetsReceivedLoss: Int64(n / 50), packetsReceivedRetrans: Int64(n / 40),
                                   packetsReceivedDrop: 0)
            }
            path.state = .online
            path.since = 1_796_000_000_000
            path.server = server
            paths.append(path)
            var counters = ConnectionCounters()
            counters.rtpPacketsReceived = self.counters[2 * i] / 1_200
            counters.rtpPacketsLost = Int64(n / 100)
            var publisher = ConnectionSample(id: Self.id(i, "p"), proto: srt ? .srt : .rtsp, role: .publisher,
                                             path: path.name, remoteAddr: "10.0.\(i / 250).\(i % 250):40\(i % 90)",
                                             state: "publish", inboundBytes: self.counters[2 * i], counters: counters)
            publisher.bitrateIn = path.bitrateIn
            publisher.deltas = n == 0 ? nil : ConnectionCounters(values: [nil, nil, nil, nil, nil, nil, nil, nil, nil,
                                                                          nil, rate / 1_200, 0])
            publisher.server = server
            var reader = ConnectionSample(id: Self.id(i, "r"), proto: .webrtc, role: .reader, path: path.name,
                                          remoteAddr: "192.168.1.\(i % 250):5\(i % 1_000)", state: "read",
                                          outboundBytes: self.counters[2 * i + 1])
            reader.bitrateOut = path.bitrateOut
            reader.server = server
            connections += [publisher, reader]
        }
        var snapshot = Snapshot(ts: ts, paths: paths, serverVersion: "v1.20.1", connections: connections,
                                server: server)
        snapshot.events = nil
        return PollBatch(poll: PollRecord(ts: ts, ok: true, durationMs: 14, pathCount: self.paths, server: server),
                         snapshot: snapshot)
    }
}

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

@Suite struct HeldPollCodecTests {
    @Test func pollsComeBackAsTheyWentInAndAreSmall() throws {
        var factory = PollFactory()
        var encoder = HeldPollCodec.Encoder()
        var decoder = HeldPollCodec.Decoder()
        var bytes = 0
        let polls = 200
        for n in 0..<polls {
            var batch = factory.batch(n)
            if n == 3 {
                batch.events = [MonitorEvent(.offline, severity: .critical, ts: batch.poll.ts, path: "live/cam3",
                                             message: "gone", figures: ["readers": .number(2), "cause": .text("x")])]
                batch.notify = [0]
            }
            let record = encoder.encode(batch)
            bytes += record.count
            #expect(try decoder.decode(record) == batch, "poll \(n)")
        }
        // The target for a held poll of 300 paths: at most 20 KB (it is some 0.9 MB in memory).
        #expect(bytes / polls <= 20_000, "\(bytes / polls) bytes a poll")
    }

    @Test func aFailedPollAFleetAndExtremeFiguresRoundTrip() throws {
        var encoder = HeldPollCodec.Encoder()
        var decoder = HeldPollCodec.Decoder()
        var a = PollFactory(paths: 3), b = PollFactory(paths: 2)
        var batches: [PollBatch] = []
        for n in 0..<5 {
            batches.append(a.batch(n, server: "a"))
            batches.append(b.batch(n, server: "b"))
            batches.append(PollBatch(poll: PollRecord(ts: 1_796_000_000_000 + Int64(n), ok: false, durationMs: 1_800,
                                                      error: "MediaMTX refuses", reason: "refused", server: "c"),
                                     snapshot: nil))
        }
        var extreme = a.batch(9, server: "a")
        extreme.snapshot?.paths[0].inboundBytes = .max
        extreme.snapshot?.paths[0].outboundBytes = .min
        extreme.snapshot?.paths[1].bitrateIn = 0.5
        extreme.snapshot?.paths[1].bitrateOut = -.infinity
        extreme.snapshot?.paths[2].name = "nul\u{0}byte ✓"
        extreme.snapshot?.connections[0].counters[3] = .min
        extreme.snapshot?.connections[0].jitter = 1e300
        batches.append(extreme)
        batches.append(a.batch(10, server: "a"))
        for batch in batches {
            let decoded = try decoder.decode(encoder.encode(batch))
            #expect(decoded.poll == batch.poll)
            #expect(decoded.snapshot?.paths.count == batch.snapshot?.paths.count)
            #expect(decoded == batch || decoded.snapshot?.paths[1].bitrateOut == -.infinity)
        }
    }

    @Test func aDamagedRecordCostsItsGroupAndDecodingGoesOnAtTheNextKeyframe() throws {
        var factory = PollFactory(paths: 5)
        var encoder = HeldPollCodec.Encoder()
        var records: [[UInt8]] = []
        var batches: [PollBatch] = []
        for n in 0..<(HeldPollCodec.groupSize + 3) {
            batches.append(factory.batch(n))
            records.append(encoder.encode(batches[n]))
        }
        records[2] = Array(records[2].prefix(records[2].count / 2))
        var decoder = HeldPollCodec.Decoder()
        var decoded = 0
        for (n, record) in records.enumerated() {
            if let batch = try? decoder.decode(record) {
                #expect(batch == batches[n])
                decoded += 1
            }
        }
        // Records 0 and 1 before the damage, then the next group whole.
        #expect(decoded == 2 + 3)
        #expect(HeldPollCodec.Decoder.isKeyframe(records[HeldPollCodec.groupSize]))
    }
}
