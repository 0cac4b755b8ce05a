import AsyncHTTPClient
import Foundation
@testable import MediaMTXClient
import MediaMTXSimulator
import MTXMonCore
import NIOCore
import Testing
import TestSupport

/// The hand-written reader gives what `JSONDecoder` gives for every reply a real MediaMTX and the
/// simulator write, and an error, never a crash, for anything else.
@Suite struct WireReaderTests {
    func both<T: Decodable>(_ type: T.Type, _ data: Data) throws -> (fast: String, slow: String) {
        let fast = try #require(try WireReader.decode(type, ByteBuffer(bytes: data)))
        let slow = try JSONDecoder().decode(type, from: data)
        var a = "", b = ""
        dump(fast, to: &a)
        dump(slow, to: &b)
        return (a, b)
    }

    @Test(.enabled(if: Fixtures.available))
    func everyCapturedReplyReadsAsJSONDecoderReadsIt() throws {
        var replies = 0
        for directory in [Fixtures.liveDirectory, Fixtures.outagesDirectory] {
            let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".jsonl") }
            for name in names.map({ String($0.dropLast(6)) }) {
                for record in try Fixtures.records(name, in: directory) {
                    guard let body = record.body, record.status == nil || record.status == 200 else { continue }
                    let (fast, slow): (String, String)
                    switch name {
                    case "info": (fast, slow) = try both(WireInfo.self, body)
                    case _ where name.hasPrefix("paths_list"): (fast, slow) = try both(ListPage<WirePath>.self, body)
                    case _ where name.hasSuffix("_list"): (fast, slow) = try both(ListPage<WireConnection>.self, body)
                    default: continue
                    }
                    #expect(fast == slow, "\(name) at \(record.t)")
                    replies += 1
                }
            }
        }
        #expect(replies > 500)
    }

    @Test(arguments: APIGeneration.allCases)
    func everySimulatedListReadsAsJSONDecoderReadsIt(_ generation: APIGeneration) async throws {
        let simulator = Simulator(options: SimulatorOptions(paths: 30, readers: 2, srtEvery: 3, rtspsEvery: 5,
                                                            rtmpsEvery: 7, idleRTMP: 2, generation: generation))
        try await withSimulator(simulator) { url in
            for list in ["/v3/paths/list"] + ConnectionProtocol.allCases.map(\.listPath) {
                let response = try await HTTPClient.shared.execute(
                    HTTPClientRequest(url: url + list + "?itemsPerPage=1000"), timeout: .seconds(10))
                guard response.status == .ok else { continue }
                let data = Data(buffer: try await response.body.collect(upTo: 16 << 20))
                let (fast, slow) = list == "/v3/paths/list" ? try both(ListPage<WirePath>.self, data)
                    : try both(ListPage<WireConnection>.self, data)
                #expect(fast == slow, "\(list)")
            }
        }
    }

    @Test func escapesNumbersAndNullsReadExactly() throws {
        let text = #"""
            {"pageCount": 1, "itemCount": 2, "extra": {"a": [1, 2.5e-3, {"b": null}], "c": "\u00e9"},
             "items": [
               {"id": "caf\u00e9 \ud83c\udfa5 \"q\" \\ \/ \n\t", "msRTT": 0.1, "mbpsReceiveRate": 1.7976931348623157e308,
                "inboundBytes": 9223372036854775807, "outboundBytes": -9223372036854775808, "path": null,
                "rtpPacketsJitter": -0.0, "isCDN": false, "packetsSent": 0, "unknown": [[[]]]},
               {"id": "x", "msRTT": 12.345678901234567, "mbpsSendRate": 1E2}
             ]}
            """#
        let (fast, slow) = try both(ListPage<WireConnection>.self, Data(text.utf8))
        #expect(fast == slow)
    }

    @Test func badRepliesAreErrorsThatSayWhereAndNeverCrash() throws {
        func failure(_ text: String) -> String? {
            do {
                _ = try WireReader.decode(ListPage<WireConnection>.self, ByteBuffer(string: text))
                return nil
            } catch {
                return error.description
            }
        }
        #expect(failure(#"{"items": [{"id": "a"}, {"inboundBytes": "12"}]}"#)?.contains("'inboundBytes' of item 1") == true)
        #expect(failure(#"{"items": [{"inboundBytes": 99999999999999999999}]}"#)?.contains("64-bit") == true)
        #expect(failure(#"{"items": [{"inboundBytes": 1.5}]}"#)?.contains("whole number") == true)
        #expect(failure(#"{"items": [{"id": "a"}]} trailing"#)?.contains("after the reply") == true)
        #expect(failure(#"{"items": [{"id": "a\ud800"}]}"#)?.contains("surrogate") == true)
        #expect(failure(#"<html>"#) != nil)
        #expect(failure(String(repeating: "[", count: 200)) != nil)

        // Every cut and many mutations of a real reply: an answer or an error, nothing else.
        let good = Data(#"{"pageCount":1,"items":[{"id":"a","msRTT":1.5,"inboundBytes":12,"state":"publish","x":{"y":[1,"z"]}}]}"#.utf8)
        for cut in 0..<good.count { _ = failure(String(decoding: good.prefix(cut), as: UTF8.self)) }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5_000 {
            var bytes = [UInt8](good)
            bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            _ = try? WireReader.decode(ListPage<WireConnection>.self, ByteBuffer(bytes: bytes))
        }
    }
}
