import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A datagram socket standing in for systemd's notification socket: bound to a file path or, for a name
/// starting with `@`, in the abstract namespace. `NOTIFY_SOCKET=<address>` points mtxmon at it.
final class NotifySocket: @unchecked Sendable {
    let address: String
    private let fd: Int32
    private let lock = NSLock()
    private var received: [String] = []

    init(address: String) throws {
        self.address = address
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("socket(AF_UNIX, SOCK_DGRAM) failed") }
        var sun = sockaddr_un()
        sun.sun_family = sa_family_t(AF_UNIX)
        var path = Array(address.utf8)
        let abstract = path.first == UInt8(ascii: "@")
        if abstract { path[0] = 0 }
        withUnsafeMutableBytes(of: &sun.sun_path) { $0.copyBytes(from: path) }
        let length = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + path.count + (abstract ? 0 : 1)
        let bound = withUnsafePointer(to: &sun) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(length)) }
        }
        guard bound == 0 else {
            close(fd)
            throw TestSupportError("cannot bind \(address): errno \(errno)")
        }
    }

    /// Every datagram received so far, oldest first; reads what has arrived without waiting.
    var messages: [String] {
        lock.withLock {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = recv(fd, &buffer, buffer.count, 0)
                guard n > 0 else { break }
                received.append(String(decoding: buffer[..<n], as: UTF8.self))
            }
            return received
        }
    }

    /// The `KEY=VALUE` assignments of every datagram so far.
    var assignments: [String] { messages.flatMap { $0.split(separator: "\n").map(String.init) } }

    deinit {
        close(fd)
        if !address.hasPrefix("@") { unlink(address) }
    }
}
