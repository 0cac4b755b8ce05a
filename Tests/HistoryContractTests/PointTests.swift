import History
import MTXMonCore
import Testing

/// Points of a path: every sample, or one per bucket of a step, by the aggregation asked for.
/// Bitrates are whole numbers here, so every sum is exact and each answer a literal.
@Suite struct PointTests {
    typealias F = Fixture

    /// Three minutes of cam every 10 s: bitrate 1,000 + 250 i, readers i mod 3, offline at 70 s,
    /// restarted at 80 s.
    static let polls: [PollBatch] = (Int64(0)..<18).map { i in
        var cam = F.online("cam", in: 1_000 * i, bitrateIn: 1_000 + 250 * Double(i), readers: Int(i % 3),
                           reset: i == 8)
        if i == 7 {
            cam.online = false
            cam.state = .offline
            cam.bitrateIn = nil
        }
        return F.answered(at: F.t(10 * i), [cam])
    }

    static func point(_ s: Int64, samples: Int, online: Bool = true, reset: Bool = false, inbound: Int64,
                      bitrate: Double?, readers: Double) -> HistoryPoint {
        HistoryPoint(t: F.t(s), samples: samples, online: online, reset: reset, inboundBytes: inbound, outboundBytes: 0,
                     bitrateIn: bitrate, readers: readers)
    }

    /// The answers for the three minutes, asked before and after the file compacts its rows.
    func answers(_ history: any HistoryReader, step: Int64?, _ aggregation: Aggregation = .avg,
                 fields: PointFields = .everything) async throws -> [HistoryPoint] {
        let range = HistoryRange(from: F.t(0), to: F.t(3_600) - 1, step: step, aggregation: aggregation)
        return try await history.points(PathRef(name: "cam"), range: range, fields: fields)
    }

    @Test(arguments: Store.allCases)
    func stepsOfAMinuteFoldEachMinutesSamples(_ store: Store) async throws {
        let opened = try await store.open()
        defer { opened.close() }
        let history = opened.history
        _ = try await history.append(Self.polls, deliverTo: [])
        let minutes = [
            Self.point(0, samples: 6, inbound: 5_000, bitrate: 1_625, readers: 1),
            // 70 s had no bitrate: five in the average.
            Self.point(60, samples: 6, reset: true, inbound: 11_000, bitrate: 3_200, readers: 1),
            Self.point(120, samples: 6, inbound: 17_000, bitrate: 4_625, readers: 1),
        ]
        for compacted in [false, true] {
            if compacted { _ = try await history.compact() }
            #expect(try await answers(history, step: 60_000) == minutes, "compacted: \(compacted)")
            #expect(try await answers(history, step: 60_000, .max).map(\.bitrateIn) == [2_250, 3_750, 5_250])
            #expect(try await answers(history, step: 60_000, .min).map(\.bitrateIn) == [1_000, 2_500, 4_000])
            #expect(try await answers(history, step: 60_000, .last).map(\.bitrateIn) == [2_250, 3_750, 5_250])
            #expect(try await answers(history, step: 60_000, .max).map(\.readers) == [2, 2, 2])
            #expect(try await answers(history, step: 60_000, fields: [.bitrateIn])
                == minutes.map { $0.narrowed(to: [.bitrateIn]) })
        }
    }

    @Test(arguments: Store.allCases)
    func stepsShorterThanAMinuteAndAnHourFoldTheSameSamples(_ store: Store) async throws {
        let opened = try await store.open()
        defer { opened.close() }
        let history = opened.history
        _ = try await history.append(Self.polls, deliverTo: [])
        let halves = [
            Self.point(0, samples: 3, inbound: 2_000, bitrate: 1_250, readers: 1),
            Self.point(30, samples: 3, inbound: 5_000, bitrate: 2_000, readers: 1),
            Self.point(60, samples: 3, reset: true, inbound: 8_000, bitrate: 2_750, readers: 1),
            Self.point(90, samples: 3, inbound: 11_000, bitrate: 3_500, readers: 1),
            Self.point(120, samples: 3, inbound: 14_000, bitrate: 4_250, readers: 1),
            Self.point(150, samples: 3, inbound: 17_000, bitrate: 5_000, readers: 1),
        ]
        // 1,000 + 250 i for i in 0..<18 but 7: 17 bitrates summing to 53,500.
        let hour = [Self.point(0, samples: 18, reset: true, inbound: 17_000, bitrate: 53_500.0 / 17, readers: 1)]
        for compacted in [false, true] {
            if compacted { _ = try await history.compact() }
            #expect(try await answers(history, step: 30_000) == halves, "compacted: \(compacted)")
            #expect(try await answers(history, step: 3_600_000) == hour, "compacted: \(compacted)")
            #expect(try await answers(history, step: 3_600_000, .min).map(\.bitrateIn) == [1_000])
            let raw = try await answers(history, step: nil)
            #expect(raw.count == 18 && raw.allSatisfy { $0.samples == 1 })
            #expect(raw[7] == HistoryPoint(t: F.t(70), online: false, inboundBytes: 7_000, outboundBytes: 0,
                                           readers: 1))
        }
    }
}
