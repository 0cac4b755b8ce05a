import AsyncHTTPClient
import Crypto
import Foundation
import History
import Logging
import Metrics
import MTXMonCore
import NIOCore
import ServiceLifecycle

/// How webhooks are sent.
public struct WebhookSettings: Sendable {
    /// Every receiver gets every event the collector's throttle lets through.
    public var targets: [String]
    /// Signs each body with HMAC-SHA256 when set (`X-Mtxmon-Signature: sha256=<hex>`).
    public var secret: String?
    /// A receiver that has not answered in this long is tried again later.
    public var requestTimeout: Duration
    /// Retries of one event stop once it is this old (it stays in `GET /api/v1/events`).
    public var giveUpAfter: Duration
    /// The longest wait between two tries: a receiver back from an outage gets its backlog within it.
    public var maxBackoff: Duration
    /// Mail through SMTP, a receiver beside the webhooks (its URL is among `targets`).
    public var mail: MailSettings?

    public init(targets: [String], secret: String? = nil, requestTimeout: Duration = .seconds(10),
                giveUpAfter: Duration = .seconds(86_400), maxBackoff: Duration = .seconds(10)) {
        self.targets = targets
        self.secret = secret
        self.requestTimeout = requestTimeout
        self.giveUpAfter = giveUpAfter
        self.maxBackoff = maxBackoff
    }
}

/// What the sender did, for `/healthz` and tests.
public struct WebhookTotals: Sendable, Equatable {
    public var delivered = 0
    /// Tries that failed and are tried again (5xx, 408, 429, no answer).
    public var retried = 0
    /// Events a receiver refused (other 4xx) or that were older than the retry span.
    public var dropped = 0
    public var lastError: String?
    public init() {}
}

/// Sends the stored events owed to each receiver, oldest first, one at a time per receiver: at
/// least once (a delivery is forgotten only once the receiver took it), in order (a receiver sees
/// each path's events in the order they happened), through outages of the receiver (retried
/// with backoff, for a day by default), never holding a poll (it reads the queue the collector
/// writes, in a loop of its own).
public final class WebhookSender: Service, Sendable {
    let store: any HistoryWriter
    let settings: WebhookSettings
    let logger: Logger
    let client: HTTPClient
    private let counters = Mutex(WebhookTotals())
    private let delivered = Counter(label: "mtxmon_webhook_deliveries_total", dimensions: [("result", "delivered")])
    private let retried = Counter(label: "mtxmon_webhook_deliveries_total", dimensions: [("result", "retried")])
    private let dropped = Counter(label: "mtxmon_webhook_deliveries_total", dimensions: [("result", "dropped")])

    /// What each receiver's last attempt gave, for `/healthz`.
    public let status: WebhookStatus

    public init(store: any HistoryWriter, settings: WebhookSettings, logger: Logger, client: HTTPClient = .shared,
                status: WebhookStatus? = nil) {
        self.store = store
        self.settings = settings
        self.logger = logger
        self.client = client
        self.status = status ?? WebhookStatus(entries: settings.targets)
    }

    public var totals: WebhookTotals { counters.withLock { $0 } }

    public func run() async throws {
        for url in settings.targets { try? await store.renameDeliveries(from: url, to: WebhookTarget.key(url)) }
        if let dropped = try? await store.dropDeliveries(notTo: settings.targets.map(WebhookTarget.key)), dropped > 0 {
            logger.notice("webhook deliveries to receivers no longer configured were dropped",
                          metadata: ["deliveries": "\(dropped)"])
        }
        await withDiscardingTaskGroup { group in
            for target in settings.targets {
                group.addTask { await self.serve(target) }
            }
        }
    }

    /// One receiver's queue, until shutdown. `url` may hold credentials; the queue is keyed,
    /// and logs name the receiver, without them.
    func serve(_ url: String) async {
        let target = WebhookTarget.key(url)
        var failing = false
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let next: Delivery?
            do {
                next = try await store.nextDelivery(to: target)
            } catch {
                logger.warning("the webhook queue could not be read; retried shortly", metadata: ["error": "\(error)"])
                next = nil
            }
            guard let delivery = next else {
                await pause(.milliseconds(250))
                continue
            }
            let now = WallClock.nowMs()
            if delivery.dueMs > now {
                await pause(.milliseconds(min(delivery.dueMs - now, 1_000)))
                continue
            }
            let outcome = await send(delivery, to: url)
            switch outcome {
            case .delivered: status.record(target, result: "delivered", at: WallClock.nowMs())
            case let .refused(reason): status.record(target, result: "refused", at: WallClock.nowMs(), error: reason)
            case let .failed(reason): status.record(target, result: "failed", at: WallClock.nowMs(), error: reason)
            }
            do {
                switch outcome {
                case .delivered:
                    try await store.settle(delivery)
                    count { $0.delivered += 1 }
                    delivered.increment()
                    if failing {
                        failing = false
                        logger.notice("webhook receiver takes events again", metadata: ["url": "\(Delivery.shown(target))"])
                    }
                case let .refused(reason):
                    try await drop(delivery, reason: reason)
                    logger.warning("webhook receiver refused an event; it is not sent again",
                                   metadata: ["url": "\(Delivery.shown(target))", "event": "\(delivery.event.id ?? 0)",
                                              "error": "\(reason)"])
                case let .failed(reason):
                    if now - delivery.event.ts > settings.giveUpAfter.milliseconds {
                        try await drop(delivery, reason: reason)
                        logger.error("webhook event given up: the receiver did not take it within the retry span",
                                     metadata: ["url": "\(Delivery.shown(target))", "event": "\(delivery.event.id ?? 0)"])
                        continue
                    }
                    let wait = Self.backoff(attempts: delivery.attempts, max: settings.maxBackoff)
                    try await store.retry(delivery, at: now + wait.milliseconds, error: reason)
                    count {
                        $0.retried += 1
                        $0.lastError = reason
                    }
                    retried.increment()
                    if !failing {
                        failing = true
                        logger.error("webhook receiver fails; events are kept and retried in order with backoff",
                                     metadata: ["url": "\(Delivery.shown(target))", "error": "\(reason)"])
                    }
                }
            } catch {
                logger.warning("the webhook queue could not be updated; the event may be sent again",
                               metadata: ["error": "\(error)"])
                await pause(.seconds(1))
            }
        }
    }

    /// The event is owed no more although the receiver did not take it.
    private func drop(_ delivery: Delivery, reason: String) async throws {
        try await store.settle(delivery)
        count {
            $0.dropped += 1
            $0.lastError = reason
        }
        dropped.increment()
    }

    enum Outcome: Equatable {
        case delivered
        case refused(String)
        case failed(String)
    }

    /// A user and password in `url` are sent as basic auth, not as part of the URL. The body
    /// takes the receiver's format (see `WebhookFormat`); the signature covers it whatever it is.
    func send(_ delivery: Delivery, to entry: String) async -> Outcome {
        let (format, url) = WebhookTarget.split(entry)
        if format == .email {
            guard let mail = settings.mail else { return .refused("no MTXMON_SMTP_URL for this receiver") }
            return await MailSender.send(delivery.event, settings: mail, timeout: settings.requestTimeout).map(Outcome.failed)
                ?? .delivered
        }
        let (body, headers) = WebhookBodies.make(delivery.event, format: format)
        let (plain, user, password) = Redaction.credentials(in: url)
        var request = HTTPClientRequest(url: plain)
        if let user {
            let token = Data("\(user):\(password ?? "")".utf8).base64EncodedString()
            request.headers.add(name: "Authorization", value: "Basic \(token)")
        }
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.headers.add(name: "User-Agent", value: "mtxmon/\(BuildInfo.version)")
        request.headers.add(name: "X-Mtxmon-Event", value: String(delivery.event.id ?? 0))
        if let secret = settings.secret {
            request.headers.add(name: "X-Mtxmon-Signature", value: Self.signature(body, secret: secret))
        }
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await client.execute(request, timeout: .milliseconds(settings.requestTimeout.milliseconds))
            _ = try? await response.body.collect(upTo: 64 << 10)
            switch response.status.code {
            case 200..<300: return .delivered
            case 408, 425, 429, 500...: return .failed("HTTP \(response.status.code)")
            default: return .refused("HTTP \(response.status.code)")
            }
        } catch {
            return .failed(Redaction.url(Self.describe(error)))
        }
    }

    /// A failed request in the words an operator fixes it by.
    static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        if text.contains("Connection refused") { return "connection refused: is the receiver running on that port?" }
        if text.contains("deadlineExceeded") || text.contains("readTimeout") || text.contains("connectTimeout") {
            return "no answer within the request timeout"
        }
        if text.lowercased().contains("dns") || text.contains("getaddrinfo") { return "the host name does not resolve" }
        return text
    }

    /// The event as `GET /api/v1/events` lists it (see `WebhookBodies.json`).
    public static func body(_ event: MonitorEvent) -> [UInt8] { WebhookBodies.json(event) }

    /// `sha256=` and the hex HMAC-SHA256 of the body under the shared secret.
    public static func signature(_ body: [UInt8], secret: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8)))
        return "sha256=" + code.map { String(format: "%02x", $0) }.joined()
    }

    /// 1 s, 2 s, 4 s … up to `max`.
    static func backoff(attempts: Int, max: Duration) -> Duration {
        let seconds = 1 << Swift.min(attempts, 16)
        return Swift.min(.seconds(seconds), max)
    }

    private func count(_ body: (inout WebhookTotals) -> Void) { counters.withLock { body(&$0) } }

    private func pause(_ duration: Duration) async {
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: duration) }
    }
}

import Synchronization
