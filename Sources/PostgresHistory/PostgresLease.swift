import Foundation
import Logging
import MTXMonCore
import NIOConcurrencyHelpers
import PostgresNIO
import ServiceLifecycle

/// The lead of an active–standby pair of collectors, as a lease row with a fencing token.
///
/// Each process tries to take or renew the lease every `renewEvery` (a quarter of the poll
/// interval) for 1.2 intervals, in the database's clock. The standby takes it at its first
/// try after that, within 1.45 intervals of the leader's last renewal, and polls at the next tick
/// of the grid both share: the gap a killed leader leaves is at most 3 intervals.
///
/// Writes are fenced too (`PostgresHistory.fence`): an append checks the lease in its own
/// transaction, and a process that no longer holds it stores only polls from before the current
/// holder took the lead, so that an old leader's held polls are kept and no tick is written twice.
public final class PostgresLease: Service, Leadership, @unchecked Sendable {
    let history: PostgresHistory
    public let scope: String
    public let holder: String
    let leaseMs: Int64
    let renewEvery: Duration
    let logger: Logger
    let state = NIOLockedValueBox(Held())

    struct Held {
        var token: Int64?
        /// Whether the database answered a try yet: before, the lead is not known.
        var answered = false
        var failing = false
    }

    /// `scope` names what is polled (by default the servers' names): pairs for other servers,
    /// at other sites, share the database without sharing a lead.
    public init(history: PostgresHistory, scope: String, interval: Duration, logger: Logger,
                holder: String = "\(ProcessInfo.processInfo.hostName)/\(getpid())/\(UUID().uuidString.prefix(8))") {
        self.history = history
        self.scope = scope
        self.holder = holder
        let intervalMs = max(Int64(100), interval.milliseconds)
        leaseMs = intervalMs * 6 / 5
        renewEvery = .milliseconds(intervalMs / 4)
        self.logger = logger
    }

    /// The scope of a collector of `servers`: their names, sorted.
    public static func scope(servers: [String]) -> String { "collect:" + servers.sorted().joined(separator: ",") }

    /// A process stops polling only when the database answers that another holds the lead. While
    /// renewals fail or hang (the database down, or this process cut from it) the last holder goes
    /// on polling and holds its polls: no other can take the lease from a database it cannot reach
    /// either, and if one did (a cut on this side only, or this process paused past its lease),
    /// the fence stores only the polls from before it took the lead. `nil` until the first answer.
    public func leads() -> Bool? {
        state.withLockedValue { $0.answered ? $0.token != nil : nil }
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            await renew()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.renewEvery) }
        }
        await release()
    }

    /// Takes the lease if it is free or already this process's, and renews it.
    func renew() async {
        do {
            let taken = try await history.run { [self] client in
                try await client.query("""
                    WITH now AS (SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS ms)
                    INSERT INTO leader AS l (scope, holder, token, since_ms, expires_ms)
                    SELECT \(scope), \(holder), 1, now.ms, now.ms + \(leaseMs) FROM now
                    ON CONFLICT (scope) DO UPDATE SET
                        holder = EXCLUDED.holder,
                        token = CASE WHEN l.holder = EXCLUDED.holder AND l.expires_ms >= EXCLUDED.since_ms
                                     THEN l.token ELSE l.token + 1 END,
                        since_ms = CASE WHEN l.holder = EXCLUDED.holder AND l.expires_ms >= EXCLUDED.since_ms
                                        THEN l.since_ms ELSE EXCLUDED.since_ms END,
                        expires_ms = EXCLUDED.expires_ms
                    WHERE l.holder = EXCLUDED.holder OR l.expires_ms < EXCLUDED.since_ms
                    RETURNING token
                    """, logger: self.logger).one(Int64.self)
            }
            let was = state.withLockedValue { held in
                let was = held.token
                held.token = taken
                held.answered = true
                if held.failing { logger.notice("the lead is checked again", metadata: ["scope": "\(scope)"]) }
                held.failing = false
                return was
            }
            history.fence(taken.map { PostgresHistory.Fence(scope: scope, holder: holder, token: $0) })
            if let taken, taken != was {
                logger.info("took the lead of the collectors", metadata: ["scope": "\(scope)", "token": "\(taken)"])
            }
        } catch {
            // Not renewed: the lead lapses on its own when the lease runs out.
            let first = state.withLockedValue { held in
                defer { held.failing = true }
                return !held.failing
            }
            if first {
                logger.warning("the lead cannot be checked: PostgreSQL does not answer; a leader goes on polling and holds its polls, a standby waits",
                               metadata: ["scope": "\(scope)", "error": "\(error)"])
            }
        }
    }

    /// Frees the lease at a shutdown, so that the standby takes over at once.
    func release() async {
        guard state.withLockedValue({ $0.token }) != nil else { return }
        state.withLockedValue { $0.token = nil }
        _ = try? await history.run { [self] client in
            try await client.query("""
                UPDATE leader SET expires_ms = 0 WHERE scope = \(scope) AND holder = \(holder)
                """, logger: self.logger)
        }
    }
}
