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
            guard case let MediaMTXError.unreachable(url, _) = $0 else { return false }
            return url.contains("\(port)") && "\($0)".contains("MEDIA_MTX_API_URL")
        }
    }

    @Test func infoGivesTheVersionOrNothingOnOldServers() async throws {
        for generation in APIGeneration.allCases {
            let simulator = Simulator(options: .init(paths: 1, generation: generation))
            let info = try await withSimulator(simulator) { url in
                try await MediaMTXClient(endpoint: .init(baseURL: url)).info()
            }
            #expect(info?.version == (generation == .v1_20 ? "v1.20.1" : nil))
        }
    }
}
