import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif

/// The `sd_notify(3)` protocol without libsystemd: one datagram of `KEY=VALUE` lines to the socket named
/// by `NOTIFY_SOCKET`, which systemd sets for `Type=notify` units. A path starting with `@` is a socket in
/// the abstract namespace. Outside systemd (no `NOTIFY_SOCKET`) every call does nothing.
public struct SystemdNotify: Sendable {
    /// The socket address, as systemd gave it; `nil` when not started by systemd with `Type=notify`.
    public let socketPath: String?

    public init(environment: [String: String]) {
        let path = environment["NOTIFY_SOCKET"] ?? ""
        socketPath = (path.hasPrefix("/") || path.hasPrefix("@")) && path.utf8.count > 1 ? path : nil
    }

    /// `READY=1`: start-up is over; systemd starts the units ordered after this one.
    public func ready(status: String) {
        send("READY=1\nSTATUS=\(status)\nMAINPID=\(getpid())")
    }

    /// `STOPPING=1`: a graceful shutdown has begun.
    public func stopping() {
        send("STOPPING=1\nSTATUS=stopping")
    }

    /// Sends `state`; returns false when there is no socket or the kernel refused the datagram.
    /// Never throws: a supervisor that cannot be told is no reason to stop collecting.
    @discardableResult
    public func send(_ state: String) -> Bool {
        guard let socketPath else { return false }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var path = Array(socketPath.utf8)
        let abstract = path.first == UInt8(ascii: "@")
        if abstract { path[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { bytes in
            bytes.copyBytes(from: path)
        }
        // An abstract name is exactly its bytes; a file path is NUL-terminated.
        let length = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + path.count + (abstract ? 0 : 1)

        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let message = Array(state.utf8)
        let sent = message.withUnsafeBytes { body in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, body.baseAddress, body.count, Int32(MSG_NOSIGNAL), $0, socklen_t(length))
                }
            }
        }
        return sent == message.count
    }
}

/// Sends `STOPPING=1` as soon as a graceful shutdown begins and, for commands without an HTTP server,
/// `READY=1` when the service group starts. Put it last in the group: it is then told of the shutdown first.
public struct SystemdNotifier: Service {
    let notify: SystemdNotify
    let readyStatus: String?

    /// `readyStatus`: send `READY=1` with this status on start; `nil` when something else says ready
    /// (the HTTP server, once it listens).
    public init(_ notify: SystemdNotify, readyOnStart readyStatus: String? = nil) {
        self.notify = notify
        self.readyStatus = readyStatus
    }

    public func run() async throws {
        if let readyStatus { notify.ready(status: readyStatus) }
        // Cancellation (the group failing) ends the wait too; systemd learns of the stop either way.
        try? await gracefulShutdown()
        notify.stopping()
    }
}

/// An HTTP application that calls `onRunning` once its server listens, then behaves as `base`.
struct AnnouncingApplication<Base: ApplicationProtocol>: ApplicationProtocol {
    typealias Context = Base.Context
    typealias Responder = Base.Responder

    let base: Base
    let onRunning: @Sendable () async -> Void

    var responder: Responder { get async throws { try await base.responder } }
    var server: HTTPServerBuilder { base.server }
    var eventLoopGroup: any EventLoopGroup { base.eventLoopGroup }
    var configuration: ApplicationConfiguration { base.configuration }
    var logger: Logger { base.logger }
    var services: [any Service] { base.services }
    var processesRunBeforeServerStart: [@Sendable () async throws -> Void] { base.processesRunBeforeServerStart }

    @Sendable func onServerRunning(_ channel: any Channel) async {
        await base.onServerRunning(channel)
        await onRunning()
    }
}
