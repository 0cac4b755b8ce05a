import Foundation
@testable import MediaMTXClient
import MediaMTXSimulator
import MTXMonCore
import Testing
import TestSupport

@Suite struct ClientTests {
    @Test(arguments: APIGeneration.allCases)
    func readsEveryPageOfMoreThanAHundredPaths(_ generation: APIGeneration) async throws {
        let simulator = Simulator(options: .init(paths: 250, srtEvery: 10, generation: generation))
        try await withSimulator(simulator) { url in
            let client = MediaMTXClient(endpoint: .init(baseURL: url, pageSize: 100))
            let reply = try await client.poll()
            #expect(reply.paths.count == 250)
            #expect(Set(reply.paths.compactMap(\.name)).count == 250)
            #expect(reply.srtConns.filter { $0.state == "publish" }.count == 25)
            let samples = Normalise.samples(paths: reply.paths, srtConns: reply.srtConns)
            let expected: [String] = stride(from: 0, to: 250, by: 10).map { (index: Int) -> String in
                let digits = String(index)
                return "sim/" + String(repeating: "0", count: 4 - digits.count) + digits
            }
            let withSRT: [String] = samples.filter { $0.srt != nil }.map(\.name)
            #expect(withSRT == expected)
        }
    }

    /// A reply past the body limit is said to be too large, with the setting that makes pages
    /// smaller, not taken for a MediaMTX that cannot be reached.
    @Test func aReplyTooLargeIsNamedAsSuch() async throws {
        let simulator = Simulator(options: .init(paths: 30))
        try await withSimulator(simulator) { url in
            let client = MediaMTXClient(endpoint: .init(baseURL: url, pageSize: 100, maxBodyBytes: 2_048))
            await #expect {
                _ = try await client.poll()
            } throws: { error in
                guard let error = error as? MediaMTXError, case .tooLarge = error else { return false }
                return error.reason == .body && error.description.contains("MTXMON_PAGE_SIZE")
                    && !error.description.contains("unreachable")
            }
        }
    }

    /// MediaMTX's logs and any proxy in front of it can tell mtxmon's requests by their User-Agent.
    @Test func everyRequestNamesMTXMonAndItsVersion() async throws {
        let simulator = Simulator(options: .init(paths: 3, readers: 1, srtEvery: 2), nowMs: WallClock.nowMs())
        try await withSimulator(simulator) { url in
            let client = MediaMTXClient(endpoint: .init(baseURL: url))
            _ = try await client.poll()
            _ = try await client.info()
        }
        #expect(simulator.userAgents == ["mtxmon/\(BuildInfo.version)"])
    }

    @Test func bothGenerationsGiveTheSameSamples() async throws {
        let now = WallClock.nowMs()
        var results: [[PathSample]] = []
        for generation in APIGeneration.allCases {
            let simulator = Simulator(options: .init(paths: 7, readers: 2, srtEvery: 3, generation: generation), nowMs: now)
            let samples = try await withSimulator(simulator) { url in
                let reply = try await MediaMTXClient(endpoint: .init(baseURL: url, pageSize: 3)).poll()
                return Normalise.samples(paths: reply.paths, srtConns: reply.srtConns)
            }
            results.append(samples)
        }
        let (old, new) = (results[0], results[1])
        #expect(old.map(\.name) == new.map(\.name))
        #expect(old.map(\.online) == new.map(\.online))
        #expect(old.map(\.sourceType) == new.map(\.sourceType))
        #expect(old.map(\.readers) == new.map(\.readers))
        #expect(old.map { $0.srt?.connectionID } == new.map { $0.srt?.connectionID })
        // Reader type names differ where MediaMTX renamed them (hlsMuxer → hlsSession); counts agree.
        #expect(old.map { $0.readersByType.values.reduce(0, +) } == new.map { $0.readersByType.values.reduce(0, +) })
    }

    @Test func failuresSayWhatIsWrongAndHowToFixIt() async throws {
        let simulator = Simulator(options: .init(paths: 2))
        try await withSimulator(simulator) { url in
            // A generous timeout where an answer is awaited, so a loaded machine is not mistaken for a slow MediaMTX.
            let client = MediaMTXClient(endpoint: .init(baseURL: url, requestTimeout: .seconds(10)))
            let impatient = MediaMTXClient(endpoint: .init(baseURL: url, requestTimeout: .milliseconds(300)))
            simulator.fault = .serverError
            await #expect { try await client.poll() } throws: {
                guard case let MediaMTXError.status(_, code, body) = $0 else { return false }
                return code == 500 && body.contains("simulated failure")
            }
            simulator.fault = .garbage
            await #expect { try await client.poll() } throws: {
                guard case let MediaMTXError.badJSON(url, _) = $0 else { return false }
                return url.contains("/v3/") && $0.localizedDescription.isEmpty == false
            }
            simulator.fault = .slow(.seconds(2))
            await #expect { try await impatient.poll() } throws: {
                guard case MediaMTXError.timedOut = $0 else { return false }
                return true
            }
            simulator.fault = .none
            simulator.requireBasicAuth(user: "mon", password: "secret")
            await #expect { try await client.poll() } throws: {
                guard case MediaMTXError.unauthorized = $0 else { return false }
                return "\($0)".contains("MEDIA_MTX_API_USER")
            }
            let authed = MediaMTXClient(endpoint: .init(baseURL: url, credentials: .basic(user: "mon", password: "secret")))
            let count = try await authed.poll().paths.count
            #expect(count == 2)
        }
    }

    @Test func anUnreachableServerIsNamed() async throws {
        let port = try freePort()
        let client = MediaMTXClient(endpoint: .init(baseURL: "http://127.0.0.1:\(port)", requestTimeout: .seconds(1)))
        await #expect { try await client.poll() } throws: {
            guard case let MediaMTXError.refused(url) = $0 else { return false }
            return url.contains("\(port)") && "\($0)".contains("MEDIA_MTX_API_URL")
        }
    }

    @Test func infoGivesTheVersionOrNothingOnOldServers() async throws {
        for generation in APIGeneration.allCases {
            let simulator = Simulator(options: .init(paths: 1, generation: generation))
            let info = try await withSimulator(simulator) { url in
                try await MediaMTXClient(endpoint: .init(baseURL: url)).info()
            }
            #expect(info?.version == (generation == .v1_12 ? nil : generation.version))
        }
    }

    /// v1.21's list names are asked of a v1.21, the old ones of older servers; a server that
    /// turns out to answer only the other generation's names (a 404, then an answer) is asked by
    /// those from then on, and the switch is told once.
    @Test func theListNamesFollowTheVersionAndA404() async throws {
        #expect(ListNaming.renamesLists(version: "v1.21.1") == true)
        #expect(ListNaming.renamesLists(version: "1.22.0-rc1") == true)
        #expect(ListNaming.renamesLists(version: "v1.20.1") == false)
        #expect(ListNaming.renamesLists(version: "v2.0.0") == true)
        #expect(ListNaming.renamesLists(version: "development") == nil)
        let simulator = Simulator(options: .init(paths: 3, readers: 2, srtEvery: 2, generation: .v1_21))
        try await withSimulator(simulator) { url in
            // Not told the version: the old names 404, the new ones answer and are kept.
            let client = MediaMTXClient(endpoint: .init(baseURL: url))
            let first = try await client.poll()
            #expect(first.namingChange?.contains("v1.21's list names") == true)
            #expect(client.naming.renamed == true)
            #expect(first.srtConns.count == 4 && first.failedLists.isEmpty)
            let second = try await client.poll()
            #expect(second.namingChange == nil && second.srtConns.count == 4)
            #expect(Set(second.lists.map(\.proto)) == [.rtsp, .rtmp, .webrtc])
            // Told the version first: the new names from the start.
            let told = MediaMTXClient(endpoint: .init(baseURL: url))
            _ = try await told.info()
            #expect(told.naming.renamed == true)
            #expect(try await told.poll().namingChange == nil)
        }
        let older = Simulator(options: .init(paths: 1, generation: .v1_20))
        try await withSimulator(older) { url in
            let client = MediaMTXClient(endpoint: .init(baseURL: url))
            _ = try await client.info()
            #expect(client.naming.renamed == false)
            #expect(try await client.poll().namingChange == nil)
        }
    }

    /// A poll of a server whose RTMP list misbehaves in one of the ways a real one can: the
    /// paths and every other list are read, the RTMP list is named with what went wrong.
    @Test(arguments: [SimulatorFault.serverError, .unauthorized, .garbage, .badItem, .slow(.seconds(8))])
    func oneFailingConnectionListCostsOnlyItsOwnConnections(_ fault: SimulatorFault) async throws {
        // Paths 1 and 4 are published over RTMP, the others over RTSP, WebRTC and SRT.
        let simulator = Simulator(options: .init(paths: 6, readers: 1, srtEvery: 3))
        simulator.setFault(fault, list: "rtmpconns")
        try await withSimulator(simulator) { url in
            let client = MediaMTXClient(endpoint: .init(baseURL: url, requestTimeout: .seconds(10)))
            // A hung list gives up at the lists' deadline and the poll goes on; the deadline is
            // generous so that the lists that work answer in time on a loaded machine.
            let slow = if case .slow = fault { true } else { false }
            let reply = try await client.poll(listsDeadline: slow ? .now + .seconds(4) : nil)
            #expect(reply.paths.count == 6)
            #expect(reply.failedLists.map(\.proto) == [.rtmp])
            #expect(!reply.lists.contains { $0.proto == .rtmp })
            #expect(reply.lists.map(\.proto).contains(.rtsp))
            #expect(reply.srtConns.count >= 2)
            let failure = try #require(reply.failedLists.first)
            #expect("\(failure)".contains("/v3/rtmpconns/list"))
            #expect("\(failure)".contains("its paths are kept"))
            switch (fault, failure.error) {
            case (.serverError, .status(_, 500, _)), (.unauthorized, .unauthorized), (.garbage, .badJSON),
                 (.slow, .timedOut): break
            case let (.badItem, .badJSON(_, detail)): #expect(detail.contains("inboundBytes"), "\(detail)")
            default: Issue.record("\(fault) gave \(failure.error)")
            }
        }
    }

    /// The SRT list is a connection list like the others: when it fails the paths stay, without
    /// their SRT figures for that poll.
    @Test func aFailingSRTListKeepsThePaths() async throws {
        let simulator = Simulator(options: .init(paths: 4, srtEvery: 2))
        simulator.setFault(.serverError, list: "srtconns")
        try await withSimulator(simulator) { url in
            let reply = try await MediaMTXClient(endpoint: .init(baseURL: url, requestTimeout: .seconds(10))).poll()
            #expect(reply.paths.count == 4)
            #expect(reply.srtConns.isEmpty)
            #expect(reply.failedLists.map(\.proto) == [.srt])
            #expect(Normalise.samples(paths: reply.paths, srtConns: reply.srtConns).allSatisfy { $0.srt == nil })
        }
    }

    /// A failing path list still fails the poll: without it there is nothing to record.
    @Test func aFailingPathListFailsThePoll() async throws {
        let simulator = Simulator(options: .init(paths: 2))
        simulator.setFault(.serverError, list: "paths")
        try await withSimulator(simulator) { url in
            await #expect { try await MediaMTXClient(endpoint: .init(baseURL: url)).poll() } throws: {
                guard case let MediaMTXError.status(url, 500, _) = $0 else { return false }
                return url.contains("/v3/paths/list")
            }
        }
    }

    /// The TLS twins are lists of their own: asked for when a path's source or reader uses them,
    /// and their items become connections of their protocol.
    @Test(arguments: APIGeneration.allCases)
    func rtspsAndRTMPSListsAreReadWhenPathsUseThem(_ generation: APIGeneration) async throws {
        // Path 0 is published over RTSPS, paths 1–3 over RTMPS; their readers use the plain protocols.
        let simulator = Simulator(options: .init(paths: 4, readers: 1, rtspsEvery: 4, rtmpsEvery: 1,
                                                 generation: generation))
        try await withSimulator(simulator) { url in
            let reply = try await MediaMTXClient(endpoint: .init(baseURL: url)).poll()
            #expect(reply.failedLists.isEmpty)
            let protocols = reply.lists.map(\.proto)
            #expect(protocols.contains(.rtsps) && protocols.contains(.rtmps))
            let connections = Normalise.connections(reply).samples
            let rtsps = connections.filter { $0.proto == .rtsps }
            let rtmps = connections.filter { $0.proto == .rtmps }
            #expect(rtsps.map(\.path) == ["sim/0000"])
            #expect(rtsps.first?.role == .publisher)
            #expect((rtsps.first?.inboundBytes ?? -1) >= 0)
            #expect(Set(rtmps.compactMap(\.path)) == ["sim/0001", "sim/0002", "sim/0003"])
            #expect(rtmps.allSatisfy { $0.role == .publisher })
            let sources = Normalise.samples(paths: reply.paths, srtConns: reply.srtConns).map(\.sourceType)
            #expect(sources == ["rtspsSession", "rtmpsConn", "rtmpsConn", "rtmpsConn"])
        }
    }

    /// A list the server version lacks (v1.12 has no `hlssessions`) answers 404: read as empty,
    /// not as a failure.
    @Test func aListTheVersionLacksIsSkipped() async throws {
        let simulator = Simulator(options: .init(paths: 5, readers: 3, generation: .v1_12))
        try await withSimulator(simulator) { url in
            let client = MediaMTXClient(endpoint: .init(baseURL: url))
            await #expect { try await client.list(WireConnection.self, "/v3/hlssessions/list") } throws: {
                guard case MediaMTXError.notFound = $0 else { return false }
                return true
            }
            let skipped = await client.optionalList(WireConnection.self, .hls, deadline: nil)
            #expect((try? skipped.get())?.0.isEmpty == true)
            // A poll meets the same 404 when a path names a list the server lacks.
            simulator.setFault(.notFound, list: "webrtcsessions")
            let reply = try await client.poll()
            #expect(reply.failedLists.isEmpty)
            #expect(reply.lists.first { $0.proto == .webrtc }?.items.isEmpty == true)
            #expect(reply.lists.first { $0.proto == .rtsp }?.items.isEmpty == false)
            #expect(reply.paths.count == 5)
        }
    }
}
