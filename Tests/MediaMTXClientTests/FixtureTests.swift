import Foundation
@testable import MediaMTXClient
import MTXMonCore
import Testing
import TestSupport

/// The collector's maths on the replies of a real MediaMTX v1.20.1 under real streams.
@Suite(.enabled(if: Fixtures.available, "needs ../shared/fixtures"))
struct FixtureTests {
    /// Every poll of the capture, normalised and derived as the collector does it.
    func replay() throws -> [Snapshot] {
        let paths = try Fixtures.lines("paths_list")
        let srt = try Fixtures.lines("srtconns_list")
        var tracker = RateTracker(maxGapMs: 7_000)
        var snapshots: [Snapshot] = []
        for (index, line) in paths.enumerated() {
            let page = try JSONDecoder().decode(ListPage<WirePath>.self, from: line.body)
            // srtconns was polled in the same round, a few ms apart.
            let conns = try JSONDecoder().decode(ListPage<WireSRTConn>.self, from: srt[index].body)
            let samples = Normalise.samples(paths: page.items ?? [], srtConns: conns.items ?? [])
            snapshots.append(Snapshot(ts: line.t, paths: tracker.derive(samples, at: line.t)))
        }
        return snapshots
    }

    @Test func pathBitratesMatchTheEncodersWithinTheirPacketisationOverhead() throws {
        let snapshots = try replay()
        // Settled samples (after 20 s), per the capture's README: cam1 2.153–2.156, live1 1.146–1.148 Mbit/s.
        let settled = snapshots.filter { $0.ts > snapshots[0].ts + 20_000 }
        let cam = settled.compactMap { $0.path(named: "cam1")?.bitrateIn }
        let live = settled.compactMap { $0.path(named: "live1")?.bitrateIn }
        #expect(cam.count > 50)
        #expect(live.count > 50)
        let camMean = cam.reduce(0, +) / Double(cam.count)
        let liveMean = live.reduce(0, +) / Double(live.count)
        #expect(abs(camMean - 2_155_000) / 2_155_000 < 0.01)
        #expect(abs(liveMean - 1_147_000) / 1_147_000 < 0.01)
    }

    @Test func outboundFollowsTheReaderCount() throws {
        let snapshots = try replay()
        let t0 = snapshots[0].ts
        func cam(_ from: Int64, _ to: Int64) -> [PathSample] {
            snapshots.filter { $0.ts > t0 + from && $0.ts < t0 + to }.compactMap { $0.path(named: "cam1") }
        }
        let twoReaders = cam(20_000, 110_000)
        let oneReader = cam(130_000, 180_000)
        #expect(twoReaders.allSatisfy { $0.readers == 2 && $0.readersByType == ["rtspSession": 2] })
        #expect(oneReader.allSatisfy { $0.readers == 1 })
        let twoOut = twoReaders.compactMap(\.bitrateOut).reduce(0, +) / Double(twoReaders.count)
        let oneOut = oneReader.compactMap(\.bitrateOut).reduce(0, +) / Double(oneReader.count)
        #expect(abs(twoOut - 4_310_000) / 4_310_000 < 0.02)
        #expect(abs(oneOut - 2_156_000) / 2_156_000 < 0.02)
    }

    @Test func theSRTPublisherRestartIsANewRunNeverANegativeRate() throws {
        let snapshots = try replay()
        let t0 = snapshots[0].ts
        let srt = snapshots.map { ($0.ts - t0, $0.path(named: "srt1")) }
        // The path vanished while its publisher was away (t ≈ 60–64 s) …
        #expect(srt.contains { $0.0 > 60_000 && $0.0 < 66_000 && $0.1 == nil })
        // … and came back with no bitrate for its first sample, then a plausible one.
        let back = try #require(srt.first { $0.0 > 60_000 && $0.1 != nil })
        #expect(back.1?.bitrateIn == nil)
        for (_, sample) in srt {
            if let rate = sample?.bitrateIn { #expect(rate >= 0 && rate < 10_000_000) }
        }
        let settled = srt.filter { $0.0 > 90_000 }.compactMap { $0.1?.bitrateIn }
        let mean = settled.reduce(0, +) / Double(settled.count)
        #expect(abs(mean - 4_175_000) / 4_175_000 < 0.01)
    }

    @Test func srtFieldsComeFromThePublishingConnection() throws {
        let snapshots = try replay()
        let withSRT = snapshots.compactMap { $0.path(named: "srt1")?.srt }
        #expect(withSRT.count > 60)
        for link in withSRT {
            #expect(link.rttMs != nil)
            #expect(link.tsbpdDelayMs == 120)
            // The publisher's receive rate, not the reader's (0) send side.
            #expect((link.recvRateMbps ?? 0) > 3.5)
        }
        let camLinks: [SRTLink] = snapshots.compactMap { $0.path(named: "cam1")?.srt }
        #expect(camLinks.isEmpty)
    }

    @Test func aConfiguredPathWithoutPublisherIsListedOffline() throws {
        let snapshots = try replay()
        let idle = snapshots.compactMap { $0.path(named: "idle") }
        #expect(idle.count == snapshots.count)
        #expect(idle.allSatisfy { !$0.online && $0.sourceType == nil && $0.inboundBytes == 0 })
    }

    @Test func anEmptyListHasNoPages() throws {
        let pages = try Fixtures.lines("srtconns_list").map {
            try JSONDecoder().decode(ListPage<WireSRTConn>.self, from: $0.body)
        }
        let empty = pages.filter { ($0.items ?? []).isEmpty }
        #expect(!empty.isEmpty)
        #expect(empty.allSatisfy { $0.pageCount == 0 && $0.itemCount == 0 })
    }
}

@Suite struct NormaliseTests {
    @Test func bothGenerationsNormaliseAlike() throws {
        let old = #"{"name":"a","ready":true,"source":{"type":"rtmpConn","id":"x"},"bytesReceived":10,"bytesSent":20,"readers":[{"type":"hlsMuxer","id":"h"}]}"#
        let new = #"{"name":"a","online":true,"ready":false,"source":{"type":"rtmpConn","id":"x"},"inboundBytes":10,"outboundBytes":20,"readers":[{"type":"hlsMuxer","id":"h"}],"inboundFramesInError":3}"#
        let a = Normalise.samples(paths: [try JSONDecoder().decode(WirePath.self, from: Data(old.utf8))], srtConns: [])
        let b = Normalise.samples(paths: [try JSONDecoder().decode(WirePath.self, from: Data(new.utf8))], srtConns: [])
        #expect(a[0].online && b[0].online)
        #expect(a[0].inboundBytes == 10 && b[0].inboundBytes == 10)
        #expect(a[0].outboundBytes == 20 && b[0].outboundBytes == 20)
        #expect(a[0].readersByType == ["hlsMuxer": 1])
        #expect(b[0].inboundFramesInError == 3)
        #expect(a[0].inboundFramesInError == nil)
    }

    @Test func duplicateAndNamelessItemsAreSkipped() throws {
        let items = try JSONDecoder().decode([WirePath].self, from: Data(#"[{"name":"a","inboundBytes":1},{"inboundBytes":5},{"name":"a","inboundBytes":9}]"#.utf8))
        let samples = Normalise.samples(paths: items, srtConns: [])
        #expect(samples.map(\.name) == ["a"])
        #expect(samples[0].inboundBytes == 1)
    }

    /// Every connection of every captured list becomes one sample with its role, bytes and the
    /// protocol's own figures, under MediaMTX's id.
    @Test func connectionListsOfARealServer() throws {
        for (name, proto) in [("srtconns_list", ConnectionProtocol.srt), ("rtspsessions_list", .rtsp), ("rtmpconns_list", .rtmp)] {
            var sawReader = false
            var sawPublisher = false
            for line in try Fixtures.lines(name) {
                let items = try JSONDecoder().decode(ListPage<WireConnection>.self, from: line.body).items ?? []
                let reply = proto == .srt
                    ? PollReply(ts: line.t, paths: [], readAt: [], srtConns: items)
                    : PollReply(ts: line.t, paths: [], readAt: [], srtConns: [],
                                lists: [ConnectionList(proto: proto, items: items, readAt: [])])
                let (samples, _) = Normalise.connections(reply)
                #expect(samples.map(\.id) == items.compactMap(\.id), "\(name)")
                for (sample, item) in zip(samples, items) {
                    #expect(sample.proto == proto)
                    #expect(sample.role == (item.state == "publish" ? .publisher : item.state == "read" ? .reader : .idle))
                    #expect(sample.inboundBytes == item.inboundBytes ?? item.bytesReceived)
                    #expect(sample.outboundBytes == item.outboundBytes ?? item.bytesSent)
                    sawReader = sawReader || sample.role == .reader
                    sawPublisher = sawPublisher || sample.role == .publisher
                    switch proto {
                    case .srt:
                        #expect(sample.rttMs == item.msRTT)
                        // The latency that matters is the receiver's for a publisher, the sender's for a reader.
                        #expect(sample.latencyMs == (sample.role == .publisher ? item.msReceiveTsbPdDelay : item.msSendTsbPdDelay))
                        #expect(sample.counters.packetsReceivedLoss == item.packetsReceivedLoss)
                        #expect(sample.counters.packetsSendLoss == item.packetsSendLoss)
                    case .rtsp:
                        #expect(sample.jitter == item.inboundRTPPacketsJitter)
                        #expect(sample.counters.rtpPacketsReceived == item.inboundRTPPackets)
                        #expect(sample.counters.rtpPacketsSent == item.outboundRTPPackets)
                    default:
                        #expect(sample.counters.framesDiscarded == item.outboundFramesDiscarded)
                    }
                }
            }
            #expect(sawReader && sawPublisher, "\(name) has both roles")
        }
    }

    /// The SRT publisher that came back at t = 64 s has a new id: a new connection whose deltas
    /// start afresh, and the old one is gone.
    @Test func aReconnectedPublisherIsANewConnection() throws {
        var tracker = ConnectionTracker(maxGapMs: 7_000)
        var publishers: [String] = []
        for line in try Fixtures.lines("srtconns_list") {
            let items = try JSONDecoder().decode(ListPage<WireConnection>.self, from: line.body).items ?? []
            let (samples, _) = Normalise.connections(PollReply(ts: line.t, paths: [], readAt: [], srtConns: items))
            for sample in tracker.derive(samples, at: line.t) where sample.role == .publisher {
                if publishers.last != sample.id {
                    publishers.append(sample.id)
                    #expect(sample.deltas == nil, "the first poll of a connection has no deltas")
                } else {
                    #expect(sample.deltas?.packetsReceived.map { $0 >= 0 } == true)
                }
            }
        }
        #expect(publishers.count == 2)
    }
}
