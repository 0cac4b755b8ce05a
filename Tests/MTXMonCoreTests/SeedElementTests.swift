import Foundation
import MTXMonCore
import Testing

@Suite struct SeedElementTests {
    /// Old clients read exactly these keys; they must stay, with these types.
    @Test func keepsTheOriginalKeysAndAddsNewOnes() throws {
        let srt = SRTLink(connectionID: "c", rttMs: 12.5, recvRateMbps: 4.0, linkCapacityMbps: 90)
        let snapshot = Snapshot(ts: 1_700_000_000_000, paths: [
            PathSample(name: "cam", online: true, sourceType: "rtspSession", inboundBytes: 10, outboundBytes: 20,
                       bitrateIn: 1_000, bitrateOut: nil, readers: 2),
            PathSample(name: "srt", online: true, sourceType: "srtConn", inboundBytes: 5, readers: 0, srt: srt),
        ])
        let data = try JSONEncoder().encode(snapshot.seedElements)
        let array = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        #expect(array.count == 2)
        let cam = array[0]
        #expect(Set(cam.keys) == ["name", "sourceType", "bytesReceived", "readers", "online", "bitrateIn",
                                  "bitrateOut", "outboundBytes", "ts"])
        #expect(cam["name"] as? String == "cam")
        #expect(cam["readers"] as? Int == 2)
        #expect(cam["bytesReceived"] as? Int == 10)
        #expect(cam["bitrateOut"] is NSNull)
        #expect(cam["ts"] as? Int == 1_700_000_000_000)
        let srtElement = array[1]
        #expect(srtElement["rtt"] as? Double == 12.5)
        #expect(srtElement["recvRateMbps"] as? Double == 4.0)
        #expect(srtElement["linkCapacityMbps"] as? Double == 90)
    }
}
