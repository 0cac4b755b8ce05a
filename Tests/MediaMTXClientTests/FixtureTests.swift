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

    /// The connections of one captured line of a list, normalised.
    func connections(_ name: String, line: Int, proto: ConnectionProtocol) throws -> [ConnectionSample] {
        try connections(Fixtures.lines(name)[line - 1], proto: proto)
    }

    func connections(_ capture: (t: Int64, body: Data), proto: ConnectionProtocol) throws -> [ConnectionSample] {
        let items = try JSONDecoder().decode(ListPage<WireConnection>.self, from: capture.body).items ?? []
        let reply = proto == .srt
            ? PollReply(ts: capture.t, paths: [], readAt: [], srtConns: items)
            : PollReply(ts: capture.t, paths: [], readAt: [], srtConns: [],
                        lists: [ConnectionList(proto: proto, items: items, readAt: [])])
        return Normalise.connections(reply).samples
    }

    /// Every captured list normalises to the figures in the file, checked against values read
    /// off the capture by hand (line 10, t = 1795563621958…960), so a misspelt field fails.
    @Test func srtConnectionsOfARealServer() throws {
        let samples = try connections("srtconns_list", line: 10, proto: .srt)
        #expect(samples.map(\.id) == ["34366d0d-27c8-429d-8b5e-0eaeb8e52dcd", "b02545cd-31d9-4fc1-8e77-7ad5a8dff73e"])
        let (publisher, reader) = (samples[0], samples[1])
        #expect(publisher.proto == .srt && publisher.role == .publisher && publisher.path == "srt1")
        #expect(publisher.state == "publish")
        // SRT carries only the deprecated byte names.
        #expect(publisher.inboundBytes == 8_856_408 && publisher.outboundBytes == 0)
        #expect(publisher.rttMs == 0.2747292545019274)
        #expect(publisher.recvRateMbps == 4.320032846477514)
        #expect(publisher.linkCapacityMbps == 2560.1978146957977)
        #expect(publisher.latencyMs == 120)
        #expect(publisher.counters.packetsReceived == 6_749)
        #expect(publisher.counters.packetsReceivedLoss == 0 && publisher.counters.packetsReceivedDrop == 0)
        #expect(reader.role == .reader && reader.state == "read")
        #expect(reader.inboundBytes == 0 && reader.outboundBytes == 5_444_912)
        #expect(reader.rttMs == 0.1676268599510208)
        #expect(reader.counters.packetsSent == 4_133 && reader.counters.packetsSendLoss == 0)
        #expect(reader.linkCapacityMbps == 4393.6270751953125)
    }

    @Test func rtspSessionsOfARealServer() throws {
        let samples = try connections("rtspsessions_list", line: 10, proto: .rtsp)
        #expect(samples.map(\.id) == ["eb61a405-264e-4e06-864a-c2ad65aa3564", "c40cb284-e0f4-41f9-9415-4568f092e592",
                                      "a730d0a0-0817-42d3-bef6-91733c5d98b6"])
        #expect(samples.map(\.role) == [.publisher, .reader, .reader])
        #expect(samples.allSatisfy { $0.path == "cam1" && $0.proto == .rtsp })
        #expect(samples[0].inboundBytes == 4_307_684 && samples[0].outboundBytes == 0)
        #expect(samples[0].jitter == 464.82767672337934)
        #expect(samples[0].counters.rtpPacketsReceived == 3_632)
        #expect(samples[1].outboundBytes == 2_912_288 && samples[1].counters.rtpPacketsSent == 2_485)
        // The UDP reader's control channel shows a few inbound bytes.
        #expect(samples[2].inboundBytes == 432 && samples[2].outboundBytes == 2_900_734)
        #expect(samples[2].counters.rtpPacketsSent == 2_476)
        #expect(samples[1].jitter == 0)
    }

    @Test func rtmpConnectionsOfARealServer() throws {
        let samples = try connections("rtmpconns_list", line: 10, proto: .rtmp)
        #expect(samples.map(\.id) == ["212af1b6-9784-443b-9b86-e4a1a5d2855e", "b1029c0f-4ed2-424b-b860-319d55dad21f"])
        #expect(samples.map(\.role) == [.publisher, .reader])
        #expect(samples.allSatisfy { $0.path == "live1" && $0.proto == .rtmp })
        #expect(samples[0].inboundBytes == 2_256_439 && samples[0].outboundBytes == 3_467)
        #expect(samples[0].userAgent == "FMLE/3.0 (compatible; Lavf59.27.100)")
        #expect(samples[1].inboundBytes == 3_435 && samples[1].outboundBytes == 1_399_938)
        #expect(samples.allSatisfy { $0.counters.framesDiscarded == 0 })
    }

    /// Line 3: the RTMP publisher's first seconds, `state: "idle"` and `path: ""`; it belongs to
    /// no path yet (an empty name is no path, and no path row can be made for it).
    @Test func anIdleConnectionWithAnEmptyPathHasNoPath() throws {
        let samples = try connections("rtmpconns_list", line: 3, proto: .rtmp)
        #expect(samples.count == 1)
        #expect(samples[0].id == "212af1b6-9784-443b-9b86-e4a1a5d2855e")
        #expect(samples[0].role == .idle && samples[0].state == "idle")
        #expect(samples[0].path == nil)
        #expect(samples[0].inboundBytes == 269_664 && samples[0].outboundBytes == 3_467)
        #expect(samples[0].remoteAddr == "127.0.0.1:59832")
    }

    /// Across the whole capture each list has both roles, and every item becomes one sample.
    @Test func everyCapturedConnectionBecomesOneSample() throws {
        for (name, proto) in [("srtconns_list", ConnectionProtocol.srt), ("rtspsessions_list", .rtsp), ("rtmpconns_list", .rtmp)] {
            var roles = Set<ConnectionRole>()
            var count = 0
            for (index, capture) in try Fixtures.lines(name).enumerated() {
                let line = index + 1
                let samples = try connections(capture, proto: proto)
                count += samples.count
                roles.formUnion(samples.map(\.role))
                #expect(samples.allSatisfy { $0.path != "" }, "\(name) line \(line)")
            }
            #expect(roles.isSuperset(of: [.publisher, .reader]), "\(name) has both roles")
            #expect(count > 90, "\(name)")
        }
    }

    /// The SRT publisher that came back at t = 64 s has a new id: a new connection, created
    /// since the previous poll, whose counters at its first poll are its increases; the old one is gone.
    @Test func aReconnectedPublisherIsANewConnection() throws {
        var tracker = ConnectionTracker(maxGapMs: 7_000)
        var publishers: [String] = []
        var seen = Set<String>()
        for (index, line) in try Fixtures.lines("srtconns_list").enumerated() {
            let items = try JSONDecoder().decode(ListPage<WireConnection>.self, from: line.body).items ?? []
            let (samples, _) = Normalise.connections(PollReply(ts: line.t, paths: [], readAt: [], srtConns: items))
            for sample in tracker.derive(samples, at: line.t, listsRead: [.srt]) {
                defer { seen.insert(sample.id) }
                if !seen.contains(sample.id) {
                    if index == 0 {
                        #expect(sample.deltas == nil, "at mtxmon's first poll nothing says when a connection began")
                    } else {
                        #expect(sample.deltas?.packetsReceived == sample.counters.packetsReceived,
                                "a connection created since the previous poll counts from 0")
                    }
                }
                guard sample.role == .publisher else { continue }
                if publishers.last != sample.id {
                    publishers.append(sample.id)
                } else {
                    #expect(sample.deltas?.packetsReceived.map { $0 >= 0 } == true)
                }
            }
        }
        #expect(publishers.count == 2)
    }
}
