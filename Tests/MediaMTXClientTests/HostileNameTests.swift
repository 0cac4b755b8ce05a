import Foundation
@testable import MediaMTXClient
import MTXMonCore
import NIOCore
import Testing

/// Names are kept byte for byte, or left out with the reason; never repaired into another name,
/// and figures no MediaMTX can report are not taken as real.
@Suite struct HostileNameTests {
    func paths(_ json: String) throws -> [PathSample] {
        let page = try #require(try WireReader.decode(ListPage<WirePath>.self, ByteBuffer(string: json)))
        return Normalise.samples(paths: page.items ?? [], srtConns: [])
    }

    @Test func twoNamesBrokenDifferentlyAreNotMergedIntoOne() throws {
        // "cam\xff" and "cam\xfe": repaired, both would read "cam\u{FFFD}".
        var bytes = Array(#"{"itemCount":3,"pageCount":1,"items":[{"name":"cam"#.utf8) + [0xFF]
        bytes += Array(#"","online":true},{"name":"cam"#.utf8) + [0xFE]
        bytes += Array(#"","online":true},{"name":"ok","online":true}]}"#.utf8)
        let page = try #require(try WireReader.decode(ListPage<WirePath>.self, ByteBuffer(bytes: bytes)))
        let samples = Normalise.samples(paths: page.items ?? [], srtConns: [])
        #expect(samples.map(\.name) == ["ok"])
    }

    @Test func aNameWithANulIsKeptWhole() throws {
        let samples = try paths(#"{"itemCount":1,"pageCount":1,"items":[{"name":"nul\u0000byte","online":true}]}"#)
        #expect(samples.map(\.name) == ["nul\u{0}byte"])
    }

    @Test func impossibleGaugesAreAbsentNotStored() throws {
        let json = #"""
            {"itemCount":1,"pageCount":1,"items":[{"id":"c1","state":"publish","path":"p","msRTT":-5,
             "mbpsReceiveRate":-1,"mbpsLinkCapacity":12,"msReceiveTsbPdDelay":-120,"packetsReceived":-3}]}
            """#
        let page = try #require(try WireReader.decode(ListPage<WireSRTConn>.self, ByteBuffer(string: json)))
        let link = Normalise.srtLink(try #require(page.items?.first))
        #expect(link.rttMs == nil)
        #expect(link.recvRateMbps == nil)
        #expect(link.linkCapacityMbps == 12)
        #expect(link.tsbpdDelayMs == nil)
        #expect(link.packetsReceived == nil)
    }
}
