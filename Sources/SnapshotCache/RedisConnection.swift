import CHiredis
#if canImport(Glibc)
import Glibc
#endif

/// A Redis failure, worded for the operator.
public struct RedisError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String
    public var description: String { message }
}

/// A Redis reply reduced to what mtxmon needs.
public enum RedisReply: Sendable, Equatable {
    case string(String)
    case integer(Int64)
    case array([RedisReply])
    case status(String)
    case null
}

/// One blocking hiredis connection. Not `Sendable`: whoever creates it owns it and serialises
/// every call (the cache's actor, or a subscriber's own task).
final class RedisConnection {
    private let context: UnsafeMutablePointer<redisContext>

    /// Connects, authenticates when `password` is set, selects `database` when it is not 0, and
    /// bounds every later call by `timeoutMs`.
    init(host: String, port: Int, username: String? = nil, password: String?, database: Int = 0,
         timeoutMs: Int) throws(RedisError) {
        let tv = timeval(tv_sec: timeoutMs / 1000, tv_usec: (timeoutMs % 1000) * 1000)
        guard let context = redisConnectWithTimeout(host, Int32(port), tv) else {
            throw RedisError(message: "Redis at \(host):\(port): cannot allocate a connection")
        }
        if context.pointee.err != 0 {
            let reason = Self.errorString(context)
            redisFree(context)
            throw RedisError(message: "Redis at \(host):\(port) is unreachable (\(reason)): check REDIS_HOST and REDIS_PORT, or unset REDIS_HOST to keep the snapshot in process")
        }
        redisSetTimeout(context, tv)
        self.context = context
        if let password, !password.isEmpty {
            do {
                _ = try command(["AUTH"] + (username.map { [$0] } ?? []) + [password])
            } catch {
                throw RedisError(message: "Redis at \(host):\(port) refused the password (\(error)): check REDIS_PASSWORD "
                    + "(or the password in REDIS_URL)")
            }
        }
        if database != 0 {
            do {
                _ = try command(["SELECT", String(database)])
            } catch {
                throw RedisError(message: "Redis at \(host):\(port) refused database \(database) (\(error)): check the "
                    + "database number in REDIS_URL against the server's `databases` setting")
            }
        }
    }

    deinit { redisFree(context) }

    static func errorString(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// False once hiredis has seen an I/O or protocol error: the connection must be replaced.
    var isBroken: Bool { context.pointee.err != 0 }

    /// Sends one command and waits for its reply.
    func command(_ arguments: [String]) throws(RedisError) -> RedisReply {
        try pipeline([arguments])[0]
    }

    /// Waits for the next reply the server pushes (a subscriber's messages).
    func nextReply() throws(RedisError) -> RedisReply {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else {
            throw RedisError(message: "Redis connection failed: \(Self.errorString(context))")
        }
        defer { freeReplyObject(raw) }
        return try Self.convert(raw.assumingMemoryBound(to: redisReply.self)).get()
    }

    /// Sends a command without waiting for its reply (a subscriber's keepalive `PING`).
    func send(_ arguments: [String]) throws(RedisError) {
        let rc = withArgv(arguments) { argc, argv, lengths in redisAppendCommandArgv(context, argc, argv, lengths) }
        guard rc == REDIS_OK else { throw RedisError(message: "Redis: \(Self.errorString(context))") }
        var done: Int32 = 0
        repeat {
            guard redisBufferWrite(context, &done) == REDIS_OK else {
                throw RedisError(message: "Redis connection failed: \(Self.errorString(context))")
            }
        } while done == 0
    }

    /// The next reply the server pushes, or `nil` when none arrives within `timeoutMs`.
    ///
    /// Waits with `poll(2)` rather than a socket timeout: hiredis treats a timed-out read as a
    /// broken connection, while a quiet channel is normal for a subscriber.
    func nextPushed(timeoutMs: Int32) throws(RedisError) -> RedisReply? {
        if let reply = try bufferedReply() { return reply }
        var descriptor = pollfd(fd: Int32(context.pointee.fd), events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, timeoutMs)
        if ready == 0 || (ready < 0 && errno == EINTR) { return nil }
        guard ready > 0 else { throw RedisError(message: "Redis connection failed: poll errno \(errno)") }
        guard redisBufferRead(context) == REDIS_OK else {
            throw RedisError(message: "Redis connection failed: \(Self.errorString(context))")
        }
        return try bufferedReply()
    }

    private func bufferedReply() throws(RedisError) -> RedisReply? {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReplyFromReader(context, &raw) == REDIS_OK else {
            throw RedisError(message: "Redis protocol error: \(Self.errorString(context))")
        }
        guard let raw else { return nil }
        defer { freeReplyObject(raw) }
        return try Self.convert(raw.assumingMemoryBound(to: redisReply.self)).get()
    }

    /// Sends several commands in one write and reads their replies in order.
    func pipeline(_ commands: [[String]]) throws(RedisError) -> [RedisReply] {
        for arguments in commands {
            let rc = withArgv(arguments) { argc, argv, lengths in
                redisAppendCommandArgv(context, argc, argv, lengths)
            }
            guard rc == REDIS_OK else { throw RedisError(message: "Redis: \(Self.errorString(context))") }
        }
        var replies: [RedisReply] = []
        var firstError: RedisError?
        for _ in commands {
            do {
                replies.append(try nextReply())
            } catch where !isBroken {
                // A command error (e.g. WRONGTYPE): read the remaining replies, then report it.
                replies.append(.null)
                if firstError == nil { firstError = error }
            }
        }
        if let firstError { throw firstError }
        return replies
    }

    static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> Result<RedisReply, RedisError> {
        let r = reply.pointee
        func text() -> String {
            guard let str = r.str else { return "" }
            return String(decoding: UnsafeRawBufferPointer(start: str, count: Int(r.len)), as: UTF8.self)
        }
        switch Int32(r.type) {
        case REDIS_REPLY_STRING: return .success(.string(text()))
        case REDIS_REPLY_STATUS: return .success(.status(text()))
        case REDIS_REPLY_INTEGER: return .success(.integer(r.integer))
        case REDIS_REPLY_NIL: return .success(.null)
        case REDIS_REPLY_ERROR: return .failure(RedisError(message: "Redis: \(text())"))
        case REDIS_REPLY_ARRAY:
            var items: [RedisReply] = []
            for index in 0..<Int(r.elements) {
                guard let element = r.element[index] else { items.append(.null); continue }
                switch convert(element) {
                case let .success(value): items.append(value)
                case let .failure(error): return .failure(error)
                }
            }
            return .success(.array(items))
        default:
            return .failure(RedisError(message: "Redis: unexpected reply type \(r.type)"))
        }
    }

    /// Copies the arguments into C buffers with explicit lengths (binary-safe) for hiredis.
    private func withArgv<R>(
        _ arguments: [String],
        _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R
    ) -> R {
        let pointers = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: arguments.count)
        var owned: [UnsafeMutableRawPointer] = []
        var lengths: [Int] = []
        defer {
            owned.forEach { $0.deallocate() }
            pointers.deallocate()
        }
        for (index, argument) in arguments.enumerated() {
            let bytes = Array(argument.utf8)
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
            if !bytes.isEmpty {
                bytes.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
            }
            owned.append(buffer)
            lengths.append(bytes.count)
            pointers[index] = UnsafePointer(buffer.assumingMemoryBound(to: CChar.self))
        }
        return lengths.withUnsafeBufferPointer { body(Int32(arguments.count), pointers, $0.baseAddress!) }
    }
}
