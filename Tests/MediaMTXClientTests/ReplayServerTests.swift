import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import MediaMTXClient
import MediaMTXSimulator
import Testing
import TestSupport

/// The outages capture served over HTTP as MediaMTX, refusing connections where it was down.
@Suite struct ReplayServerTests {
    let directory = Fixtures.outagesDirectory

    @Test func everyAnsweredStepServesItsCapturedPathsAndSRTConnections() async throws {
        let replay = try Replay(directory: directory)
        let paths = try Fixtures.records("paths_list", in: directory)
        let srt = try Fixtures.records("srtconns_list", in: directory)
        try await withReplayServer(replay) { server, url in
            try await withHTTPClient { http in
            for step in paths.indices where paths[step].error == nil {
                try await server.go(to: step)
                let srtLine = try #require(srt.min { abs($0.t - paths[step].t) < abs($1.t - paths[step].t) })
                let pathsReply = try await get(url + "/v3/paths/list", keepAliveOn: http)
                let srtReply = try await get(url + "/v3/srtconns/list", keepAliveOn: http)
                #expect(pathsReply.status == 200 && srtReply.status == 200)
                // Every list is under a page of 100, so the captured body is the whole reply.
                #expect(try pathsReply.canonical == canonical(paths[step].body), "paths at step \(step)")
                #expect(try srtReply.canonical == canonical(srtLine.body), "srtconns at step \(step)")
            }
            }
        }
    }

    @Test func onePerPageGivesTheCapturedItemsInOrder() async throws {
        let replay = try Replay(directory: directory)
        let paths = try Fixtures.records("paths_list", in: directory)
        let rtsp = try Fixtures.records("rtspsessions_list", in: directory)
        try await withReplayServer(replay) { server, url in
            for (list, records) in [("paths", paths), ("rtspsessions", rtsp)] {
                // The first and the last step at which the list is longest: before the outages and after.
                let counts = try records.map { try object($0.body)["itemCount"] as? Int ?? 0 }
                let longest = try #require(counts.max())
                for index in [try #require(counts.firstIndex(of: longest)), try #require(counts.lastIndex(of: longest))] {
                    let line = records[index]
                    let step = try #require(paths.indices.min { abs(paths[$0].t - line.t) < abs(paths[$1].t - line.t) })
                    try await server.go(to: step)
                    let items = try #require(try object(line.body)["items"] as? [Any])
                    #expect(items.count >= 2, "\(list) at step \(step)")
                    for page in 0...items.count {
                        let reply = try await get(url + "/v3/\(list)/list?itemsPerPage=1&page=\(page)")
                        #expect(reply.status == 200)
                        #expect(reply["itemCount"] as? Int == items.count)
                        #expect(reply["pageCount"] as? Int == items.count)
                        let served = try #require(reply["items"] as? [Any])
                        let expected = page < items.count ? [items[page]] : []
                        #expect(try sortedJSON(served) == sortedJSON(expected), "\(list) page \(page) at step \(step)")
                    }
                }
            }
            let empty = try await get(url + "/v3/webrtcsessions/list?page=2")
            #expect(empty.status == 200)
            #expect(try empty.canonical == sortedJSON(["itemCount": 0, "pageCount": 0, "items": [Any]()]))
            #expect(try await get(url + "/v3/paths/list?itemsPerPage=0").status == 400)
        }
    }

    @Test func aRefusedStepRefusesConnectionsAndAnAnsweredOneServesOnTheSamePort() async throws {
        let replay = try Replay(directory: directory)
        let outage = try #require(replay.refusedStretches.first)
        let paths = try Fixtures.records("paths_list", in: directory)
        try await withReplayServer(replay) { server, url in
            let port = await server.port
            try await server.go(to: outage.lowerBound - 1)
            #expect(try await get(url + "/v3/paths/list").status == 200)

            try await server.go(to: outage.lowerBound)
            #expect(connectErrno(port: port) == ECONNREFUSED)
            #expect(await !server.isListening)
            // The collector's client sees what it saw from the real server: refused connections,
            // told as such (it does not retry a refused connect into its deadline).
            let client = MediaMTXClient(endpoint: .init(baseURL: url, requestTimeout: .seconds(5)))
            await #expect { try await client.poll() } throws: {
                guard case MediaMTXError.refused = $0 else { return false }
                return true
            }

            try await server.go(to: outage.upperBound + 1)
            #expect(await server.port == port)
            let back = try await get(url + "/v3/paths/list")
            #expect(try back.canonical == canonical(paths[outage.upperBound + 1].body))
            let polled = try await withHTTPClient { http in
                try await MediaMTXClient(endpoint: .init(baseURL: url), http: http).poll().paths.count
            }
            #expect(polled == (back["itemCount"] as? Int))

            try await server.go(to: replay.stepCount - 1)
            #expect(connectErrno(port: port) == ECONNREFUSED)
            try await server.go(to: 0)
            #expect(try await get(url + "/v3/paths/list").status == 200)
        }
    }

    @Test func startingOnARefusedStepListensOnlyOnceAnswered() async throws {
        let replay = try Replay(directory: directory)
        let outage = try #require(replay.refusedStretches.first)
        replay.step = outage.lowerBound
        try await withReplayServer(replay) { server, url in
            let port = await server.port
            #expect(port != 0)
            #expect(connectErrno(port: port) == ECONNREFUSED)
            try await server.go(to: outage.upperBound + 1)
            #expect(try await get(url + "/v3/paths/list").status == 200)
            await #expect(throws: ReplayError.self) { try await server.go(to: replay.stepCount) }
        }
    }

    @Test func infoAndPathsGetAnswerAsMediaMTX() async throws {
        let replay = try Replay(directory: directory)
        try await withReplayServer(replay) { server, url in
            try await server.go(to: 100)
            let info = try await MediaMTXClient(endpoint: .init(baseURL: url)).info()
            #expect(info?.version == "v1.20.1")
            let cam = try await get(url + "/v3/paths/get/cam1")
            #expect(cam.status == 200 && cam["name"] as? String == "cam1")
            let nope = try await get(url + "/v3/paths/get/nope")
            #expect(nope.status == 404 && nope["error"] as? String == "path not found")
        }
    }
}
