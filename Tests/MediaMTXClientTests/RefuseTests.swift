import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MediaMTXSimulator
import Testing
import TestSupport

/// `POST /sim/fault?mode=refuse`: the simulator stops listening for a while, as a stopped MediaMTX.
@Suite struct RefuseTests {
    @Test func theListenerClosesThenListensAgainOnTheSamePort() async throws {
        let simulator = Simulator(options: .init(paths: 2))
        try await withRefusingSimulator(simulator) { listener, url in
            let port = await listener.port
            // Long enough that the refusal is seen between two checks on a loaded machine.
            #expect(try await post(url + "/sim/fault?mode=refuse&ms=3000").status == 204)
            try await eventually("connections to \(port) are refused") { connectErrno(port: port) == ECONNREFUSED }
            try await eventually("\(port) listens again") { connectErrno(port: port) == 0 }
            let reply = try await get(url + "/v3/paths/list")
            #expect(reply.status == 200 && reply["itemCount"] as? Int == 2)
            #expect(await listener.port == port)
        }
    }

    @Test func aServerThatCannotCloseSaysSoAndBadRequestsAreNamed() async throws {
        let simulator = Simulator(options: .init(paths: 1))
        let unable = try await withSimulator(simulator) { url in
            try await post(url + "/sim/fault?mode=refuse&ms=100").status
        }
        #expect(unable == 501)
        let statuses = try await withRefusingSimulator(simulator) { _, url in
            [
                try await post(url + "/sim/fault?mode=refuse&ms=0").status,
                try await post(url + "/sim/fault?mode=refuse&list=paths").status,
                try await post(url + "/sim/fault?mode=nope").status,
                try await get(url + "/v3/paths/list").status,
            ]
        }
        #expect(statuses == [400, 400, 400, 200])
    }
}
