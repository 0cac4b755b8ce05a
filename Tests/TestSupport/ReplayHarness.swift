import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import MediaMTXSimulator

/// `replay` served on a free loopback port for the length of `body`, stopped even when it throws.
public func withReplayServer<T: Sendable>(
    _ replay: Replay, _ body: @Sendable (_ server: ReplayServer, _ baseURL: String) async throws -> T
) async throws -> T {
    let server = ReplayServer(replay: replay, logger: quietLogger("test.replay"))
    do {
        try await server.start(host: "127.0.0.1", port: 0)
        let result = try await body(server, "http://127.0.0.1:\(await server.port)")
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}

/// The simulator on a free loopback port whose `mode=refuse` really closes it, for the length
/// of `body`; the listener is handed over so a test can see its port.
public func withRefusingSimulator<T: Sendable>(
    _ simulator: Simulator, _ body: @Sendable (_ listener: PortListener, _ baseURL: String) async throws -> T
) async throws -> T {
    let logger = quietLogger("test.simulator")
    let listener = PortListener(router: SimulatorServer.router(simulator), logger: logger)
    do {
        // Opened here so the port is known before the test starts; `serve` finds it open.
        try await listener.open()
        let url = "http://127.0.0.1:\(await listener.port)"
        let result = try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await listener.serve(simulator, logger: logger)
                return nil
            }
            defer { group.cancelAll() }
            return try await body(listener, url)
        }
        await listener.close()
        return result
    } catch {
        await listener.close()
        throw error
    }
}

/// A logger for a test's own parts: only what would be a failure's cause is printed.
public func quietLogger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = .critical
    return logger
}

/// 0 when something accepts TCP connections on 127.0.0.1:`port`, else the `errno` of the
/// failed connect (`ECONNREFUSED` when nothing listens).
public func connectErrno(port: Int) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return errno }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    return result == 0 ? 0 : errno
}
