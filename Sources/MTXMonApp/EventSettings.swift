import MTXMonCore
import Webhooks

/// The event and webhook settings: `MTXMON_WEBHOOK_URL`, `MTXMON_WEBHOOK_MIN_SEVERITY`,
/// `MTXMON_WEBHOOK_SECRET`, `MTXMON_BITRATE_DROP`, `MTXMON_BITRATE_DROP_PATHS`, `MTXMON_BITRATE_HOLD`,
/// `MTXMON_HEALTH_LOSS`, `MTXMON_HEALTH_LOSS_PATHS`, `MTXMON_HEALTH_WINDOW`.
public struct EventSettings: Sendable {
    /// Receivers of each event at or above `minSeverity` (none: events are stored and served only).
    public var webhookURLs: [String] = []
    public var minSeverity: MonitorEvent.Severity = .warning
    public var secret: String?
    /// Mail through SMTP, beside the webhooks (`MTXMON_SMTP_*`).
    public var mail: MailSettings?
    public var rules = EventRules()
    public var health = HealthRules()
    /// `MTXMON_ALERT_OFFLINE_PATHS`: whose going offline opens an incident.
    public var offlinePaths = ["*"]

    public init() {}

    static func load(_ value: (String) -> String?, problems: inout [String]) -> EventSettings {
        var settings = EventSettings()
        if let list = value("MTXMON_WEBHOOK_URL") {
            for raw in list.split(separator: ",", omittingEmptySubsequences: false) {
                let url = String(raw).trimmingCharacters()
                let plain = WebhookTarget.split(url).url
                guard (plain.hasPrefix("http://") || plain.hasPrefix("https://")), plain.count > 10,
                      !plain.contains(where: \.isWhitespace) else {
                    problems.append("MTXMON_WEBHOOK_URL entry '\(Redaction.url(url))' is not an http(s) URL with an "
                        + "optional format (json, slack, ntfy) before it: list receivers separated by commas, e.g. "
                        + "https://alerts.example.net/mtxmon,slack+https://hooks.slack.com/services/T0/B0/X,ntfy+https://ntfy.sh/mtxmon")
                    continue
                }
                if settings.webhookURLs.contains(url) { continue }
                if settings.webhookURLs.contains(where: { WebhookTarget.key($0) == WebhookTarget.key(url) }) {
                    problems.append("MTXMON_WEBHOOK_URL lists \(WebhookTarget.key(url)) twice with different "
                        + "credentials: list each receiver once")
                    continue
                }
                settings.webhookURLs.append(url)
            }
        }
        if let text = value("MTXMON_WEBHOOK_MIN_SEVERITY") {
            if let severity = MonitorEvent.Severity(rawValue: text.lowercased()) { settings.minSeverity = severity } else {
                problems.append("MTXMON_WEBHOOK_MIN_SEVERITY='\(text)' is not info, warning or critical: e.g. warning")
            }
        }
        settings.mail = loadMail(value, problems: &problems)
        if let list = value("MTXMON_ALERT_OFFLINE_PATHS") {
            let patterns = list.split(separator: ",").map { String($0).trimmingCharacters() }.filter { !$0.isEmpty }
            settings.offlinePaths = patterns == ["none"] ? [] : patterns
            if patterns.isEmpty {
                problems.append("MTXMON_ALERT_OFFLINE_PATHS is empty: list name patterns (e.g. live/*,studio/*), or none")
            }
        }
        settings.secret = value("MTXMON_WEBHOOK_SECRET")
        if settings.secret != nil, settings.webhookURLs.isEmpty {
            problems.append("MTXMON_WEBHOOK_SECRET is set without MTXMON_WEBHOOK_URL: set the receiver too, or unset the secret")
        }
        var share = settings.rules.bitrate.dropShare
        if let text = value("MTXMON_BITRATE_DROP") {
            if let n = Double(text), n >= 0, n <= 0.95 { share = n } else {
                problems.append("MTXMON_BITRATE_DROP='\(text)' must be a share from 0 (off) to 0.95 of a path's recent "
                    + "median bitrate, e.g. 0.5")
            }
        }
        var hold = settings.rules.bitrate.holdMs
        if let text = value("MTXMON_BITRATE_HOLD") {
            do {
                let ms = try DurationParser.milliseconds(text)
                if ms > 3_600_000 { problems.append("MTXMON_BITRATE_HOLD='\(text)' must be at most 1h, e.g. 10s") } else {
                    hold = ms
                }
            } catch {
                problems.append("MTXMON_BITRATE_HOLD=\(error)")
            }
        }
        settings.rules.bitrate = BitrateRule(dropShare: share, holdMs: hold)
        if let list = value("MTXMON_BITRATE_DROP_PATHS") {
            for raw in list.split(separator: ",") {
                let entry = String(raw).trimmingCharacters()
                guard let eq = entry.lastIndex(of: "="), let n = Double(entry[entry.index(after: eq)...]), n >= 0, n <= 0.95,
                      eq != entry.startIndex else {
                    problems.append("MTXMON_BITRATE_DROP_PATHS entry '\(entry)' is not pattern=share: write e.g. "
                        + "live/*=0.3,backup/*=0 (0 turns the rule off for those paths)")
                    continue
                }
                settings.rules.pathShares.append(.init(pattern: String(entry[..<eq]), share: n))
            }
        }
        loadHealth(value, into: &settings.health, problems: &problems)
        return settings
    }

    /// `MTXMON_SMTP_URL` (`smtp://[user:password@]host:587` or `smtps://…:465`), `MTXMON_SMTP_FROM`,
    /// `MTXMON_SMTP_TO` (addresses separated by commas), `MTXMON_SMTP_STARTTLS` (`1` requires
    /// STARTTLS on `smtp://`; the default, except to a relay on loopback), `MTXMON_SMTP_CA_FILE`.
    static func loadMail(_ value: (String) -> String?, problems: inout [String]) -> MailSettings? {
        guard let url = value("MTXMON_SMTP_URL")?.trimmingCharacters(), !url.isEmpty else {
            for name in ["MTXMON_SMTP_FROM", "MTXMON_SMTP_TO"] where value(name) != nil {
                problems.append("\(name) is set without MTXMON_SMTP_URL: set the mail server too, e.g. smtp://mail.example.net:587")
            }
            return nil
        }
        guard url.hasPrefix("smtp://") || url.hasPrefix("smtps://"), url.count > 9, !url.contains(where: \.isWhitespace) else {
            problems.append("MTXMON_SMTP_URL='\(Redaction.url(url))' is not an smtp:// or smtps:// URL: e.g. "
                + "smtp://user:password@mail.example.net:587")
            return nil
        }
        func address(_ text: String) -> Bool {
            let plain = text.contains("<") ? String(text.split(separator: "<").last?.dropLast() ?? "") : text
            return plain.contains("@") && !plain.contains(where: \.isWhitespace) && plain.count >= 3
        }
        let from = value("MTXMON_SMTP_FROM")?.trimmingCharacters() ?? ""
        if !address(from) {
            problems.append("MTXMON_SMTP_FROM='\(from)' is not a mail address: the sender of alerts, e.g. mtxmon@example.net")
        }
        let to = (value("MTXMON_SMTP_TO") ?? "").split(separator: ",").map { String($0).trimmingCharacters() }
        if to.isEmpty || !to.allSatisfy(address) {
            problems.append("MTXMON_SMTP_TO='\(value("MTXMON_SMTP_TO") ?? "")' must list mail addresses separated by "
                + "commas, e.g. oncall@example.net,ops@example.net")
        }
        let host = Redaction.url(url).split(separator: "/").dropFirst(1).first.map(String.init) ?? ""
        let loopback = host.hasPrefix("127.") || host.hasPrefix("localhost") || host.hasPrefix("[::1]")
        var startTLS = url.hasPrefix("smtp://") && !loopback
        if let text = value("MTXMON_SMTP_STARTTLS") {
            switch text.lowercased() {
            case "1", "true", "yes", "on": startTLS = true
            case "0", "false", "no", "off": startTLS = false
            default: problems.append("MTXMON_SMTP_STARTTLS='\(text)' is not 1 or 0")
            }
        }
        return MailSettings(url: url, from: from, to: to, startTLS: startTLS, caFile: value("MTXMON_SMTP_CA_FILE"))
    }

    /// Every receiver: the webhooks' entries and the mail server's URL.
    public var receiverEntries: [String] { webhookURLs + (mail.map { [$0.url] } ?? []) }

    /// The stream health thresholds an operator may move: the publisher's RTP loss (globally
    /// and per path pattern) and the window rates are taken over.
    static func loadHealth(_ value: (String) -> String?, into rules: inout HealthRules, problems: inout [String]) {
        if let text = value("MTXMON_HEALTH_LOSS") {
            if let n = Double(text.trimmingCharacters().filter { $0 != "%" }), n > 0, n <= 50 {
                rules.loss = .init(degraded: n, bad: max(n, rules.loss.bad * n / rules.loss.degraded))
            } else {
                problems.append("MTXMON_HEALTH_LOSS='\(text)' must be the % of RTP packets lost at which a stream is "
                    + "degraded, from 0.01 to 50, e.g. 1 (bad at 5 × that)")
            }
        }
        if let text = value("MTXMON_HEALTH_WINDOW") {
            do {
                let ms = try DurationParser.milliseconds(text)
                if ms < 2_000 || ms > 600_000 {
                    problems.append("MTXMON_HEALTH_WINDOW='\(text)' must be from 2s to 10m, e.g. 10s")
                } else {
                    rules.windowMs = ms
                }
            } catch {
                problems.append("MTXMON_HEALTH_WINDOW=\(error)")
            }
        }
        if let list = value("MTXMON_HEALTH_LOSS_PATHS") {
            for raw in list.split(separator: ",") {
                let entry = String(raw).trimmingCharacters()
                guard let eq = entry.lastIndex(of: "="), eq != entry.startIndex,
                      let n = Double(entry[entry.index(after: eq)...].filter { $0 != "%" }), n >= 0, n <= 50 else {
                    problems.append("MTXMON_HEALTH_LOSS_PATHS entry '\(entry)' is not pattern=percent: write e.g. "
                        + "wifi/*=3,studio/*=0.5 (0 leaves loss unjudged for those paths)")
                    continue
                }
                rules.pathLoss.append(.init(pattern: String(entry[..<eq]), percent: n))
            }
        }
    }
}
