import Foundation
import Logging
import MTXMonCore

/// `SUBSCRIBE`s to the snapshot channel on a connection of its own, for `mtxmon serve`.
///
/// hiredis blocks, so each stream of messages is read by a thread of its own rather than by a
/// task that would hold one of the few cooperative threads. A lost connection is retried with
/// the cache's backoff (0.5 s doubling to 30 s) and reported once per outage; a silent one is
/// probed with `PING` so a dead peer behind a quiet network is noticed within a minute.
public final class RedisSubscriber: SnapshotFeed {
    public let settings: RedisSettings
    public let label: String
    let logger: Logger

    public init(settings: RedisSettings, logger: Logger) {
        self.settings = settings
        self.label = "redis \(settings.host):\(settings.port) \(settings.channel)"
        self.logger = logger
    }

    public func messages() -> AsyncStream<FeedMessage> {
        let (stream, continuation) = AsyncStream.makeStream(of: FeedMessage.self, bufferingPolicy: .bufferingNewest(16))
        let stop = StopFlag()
        continuation.onTermination = { _ in stop.set() }
        let settings = settings
        let logger = logger
        let thread = Thread {
            SubscriberLoop(settings: settings, logger: logger, stop: stop, output: continuation).run()
            continuation.finish()
        }
        thread.name = "mtxmon-redis-subscriber"
        thread.start()
        return stream
    }
}

/// Set once, read by the subscriber thread between waits.
final class StopFlag: @unchecked Sendable {
    private var value = false
    private let lock = NSLock()
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}

/// The subscriber thread's body: connect, subscribe, read, and start over after a failure.
struct SubscriberLoop {
    let settings: RedisSettings
    let logger: Logger
    let stop: StopFlag
    let output: AsyncStream<FeedMessage>.Continuation
    /// How long one wait for a message lasts: the delay before a stop is noticed.
    static let waitMs: Int32 = 200
    static let pingAfterSilence: Duration = .seconds(20)
    static let deadAfterSilence: Duration = .seconds(40)
    static let foreignMessage = "a message on the snapshot channel is not an mtxmon snapshot; ignored. Is another "
        + "program publishing there? Set REDIS_CHANNEL to a channel of mtxmon's own"

    func run() {
        var backoff = Backoff(initial: .milliseconds(500), maximum: .seconds(30))
        var down: ContinuousClock.Instant?
        while !stop.isSet {
            do {
                let connection = try RedisConnection(host: settings.host, port: settings.port,
                                                      username: settings.username,
                                                      password: settings.password, database: settings.database,
                                                      timeoutMs: settings.timeoutMs)
                _ = try connection.command(["SUBSCRIBE", settings.channel])
                backoff.reset()
                if let down {
                    logger.notice("snapshot channel listened to again",
                                  metadata: ["channel": "\(settings.channel)", "outage_ms": "\(down.duration(to: .now).milliseconds)"])
                }
                down = nil
                output.yield(.connected)
                try listen(on: connection)
            } catch {
                if down == nil {
                    down = .now
                    logger.error("snapshot channel lost; live clients get no updates until it is back, reconnecting with backoff",
                                 metadata: ["channel": "\(settings.channel)", "error": "\(error)"])
                    output.yield(.disconnected("\(error)"))
                }
                pause(backoff.next())
            }
        }
    }

    private func listen(on connection: RedisConnection) throws(RedisError) {
        var heard = ContinuousClock.now
        var pinged = false
        var undecodable = 0
        while !stop.isSet {
            guard let reply = try connection.nextPushed(timeoutMs: Self.waitMs) else {
                let silence = heard.duration(to: .now)
                if silence > Self.deadAfterSilence {
                    throw RedisError(message: "Redis did not answer PING for \(silence)")
                }
                if silence > Self.pingAfterSilence, !pinged {
                    try connection.send(["PING"])
                    pinged = true
                }
                continue
            }
            heard = .now
            pinged = false
            guard case let .array(items) = reply, items.count == 3, items[0] == .string("message"),
                  case let .string(payload) = items[2] else { continue }
            do {
                output.yield(.snapshot(try JSONDecoder().decode(Snapshot.self, from: Data(payload.utf8))))
            } catch {
                undecodable += 1
                // One line per 100 so a foreign publisher on the channel cannot flood the log.
                if undecodable % 100 == 1 {
                    logger.warning("\(Self.foreignMessage)",
                        metadata: ["channel": "\(settings.channel)", "error": "\(error)", "ignored": "\(undecodable)"])
                }
            }
        }
    }

    /// Sleeps in short slices so that a stop is not held up by a 30 s backoff.
    private func pause(_ delay: Duration) {
        let until = ContinuousClock.now + delay
        while !stop.isSet, ContinuousClock.now < until {
            Thread.sleep(forTimeInterval: 0.1)
        }
    }
}
