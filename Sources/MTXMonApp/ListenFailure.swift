import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// A listening socket that could not be opened, in words that name the address and the setting to
/// change. NIO's own error ("bind(descriptor:ptr:bytes:): Address already in use) (errno: 98)")
/// names neither, and an operator who started a second copy, or a trial beside a real MediaMTX,
/// needs both.
public struct ListenFailure: Error, CustomStringConvertible {
    public let description: String

    /// The failure `error` is when it came from listening on `address`; `nil` for any other error.
    /// `setting` is what the operator changes, e.g. "MTXMON_LISTEN (or --listen)".
    public init?(_ error: any Error, address: String, setting: String) {
        let cause: String
        var wanted = "a host:port this host can listen on"
        if let error = error as? IOError, "\(error)".hasPrefix("bind(") {
            switch error.errnoCode {
            case EADDRINUSE:
                cause = "another process listens there"
                wanted = "a free host:port"
            case EADDRNOTAVAIL: cause = "no interface of this host has that address"
            case EACCES: cause = "this user may not listen there (ports below 1024 need privileges)"
            default: cause = String(cString: strerror(error.errnoCode))
            }
        } else if let error = error as? SocketAddressError.UnknownHost, address.contains(error.host) {
            cause = "the host name does not resolve"
        } else {
            return nil
        }
        description = "cannot listen on \(address): \(cause); set \(setting) to \(wanted)"
    }
}
