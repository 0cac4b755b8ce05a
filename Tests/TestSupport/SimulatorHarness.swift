import Foundation
import Hummingbird
import Logging
import MediaMTXSimulator
import NIOCore
import ServiceLifecycle

/// The MediaMTX simulator served on a free loopback port for the length of `body`.
public func withSimulator<T: Sendable>(
    _ simulator: Simulator, _ body: @Sendable (_ baseURL: String) async throws -> T
) async throws -> T {
    let port = try freePort()
    var logger = Logger(label: "test.simulator")
    logger.logLevel = .critical
    let app = Application(
        router: SimulatorServer.router(simulator),
        configuration: .init(address: .hostname("127.0.0.1", port: port)),
        logger: logger)
    // Stopped by a graceful shutdown, not by cancellation: cancelling the server task can drop
    // connections it accepted but had not yet handled, which NIO treats as a programming error.
    let services = ServiceGroup(configuration: .init(services: [app], logger: logger))
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            try await services.run()
            return nil
        }
        do {
            try await eventually("simulator listens on \(port)") { canConnect(port: port) }
            let result = try await body("http://127.0.0.1:\(port)")
            await services.triggerGracefulShutdown()
            return result
        } catch {
            await services.triggerGracefulShutdown()
            throw error
        }
    }
}

/// A fresh folder under the system's temporary directory, removed by `remove()`.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init() throws {
        path = NSTemporaryDirectory() + "mtxmon-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public func file(_ name: String) -> String { path + "/" + name }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// The package root, for tests that read files from the checkout (migrations, the spec).
public var packageRoot: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}
