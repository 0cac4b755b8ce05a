/// The environment the long-running commands read, as their `--help` lists it. One list, held by a
/// test to every name the settings code reads, so a new setting cannot be missing from the help;
/// each entry says which command uses it, so `collect` and `serve` list only their own.
public enum SettingsHelp {
    public struct Commands: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// Polls MediaMTX and writes the history (`collect`, and `run`).
        public static let collect = Commands(rawValue: 1)
        /// Answers HTTP (`serve`, and `run`).
        public static let serve = Commands(rawValue: 2)
        public static let run: Commands = [.collect, .serve]
    }

    public struct Entry: Sendable {
        public let name: String
        public let text: String
        public let commands: Commands
    }

    public struct Group: Sendable {
        public let title: String
        public let entries: [Entry]
    }

    private static func entry(_ name: String, _ text: String, _ commands: Commands = .run) -> Entry {
        Entry(name: name, text: text, commands: commands)
    }

    public static let groups: [Group] = [
        Group(title: "MediaMTX", entries: [
            entry("MEDIA_MTX_API_URL", "control API of the one server (--mediamtx; default http://localhost:9997)"),
            entry("MEDIA_MTX_API_USER", "basic-auth user for it", .collect),
            entry("MEDIA_MTX_API_PASS", "its password", .collect),
            entry("MEDIA_MTX_API_TOKEN", "a bearer token instead of user and password", .collect),
            entry("MTXMON_SERVERS", "a fleet instead: name=url,name=url"),
            entry("MTXMON_SERVERS_FILE", "a fleet in YAML, with each server's credentials and interval"),
            entry("MTXMON_PAGE_SIZE", "items per page of MediaMTX's lists (default 1000)", .collect),
            entry("MTXMON_INTERVAL", "time between polls (--interval; default 2s)"),
            entry("MTXMON_FORGET_AFTER", "how long a path MediaMTX stopped listing stays known, offline (default 24h)"),
        ]),
        Group(title: "History", entries: [
            entry("MTXMON_DB", "SQLite file or postgres:// URL (--db; default ./mtxmon.sqlite)"),
            entry("MTXMON_DB_PASSWORD_FILE", "file whose first line is the PostgreSQL password"),
            entry("MTXMON_LEADER_SCOPE", "what an active-standby pair on PostgreSQL shares its lead for "
                + "(default: the servers' names)", .collect),
            entry("MTXMON_SEAL_EVERY", "polls kept as recent rows before they are sealed into chunks (default 120)",
                  .collect),
            entry("MTXMON_HOLD_FILE", "where polls wait while the history refuses writes (default <db>.hold; "
                + "off: memory only)", .collect),
            entry("MTXMON_HOLD_RESERVE", "space reserved for it at start (default 32MiB)", .collect),
            entry("MTXMON_HOLD_MAX", "its largest size (default 1GiB)", .collect),
            entry("MTXMON_HOLD_MEMORY", "polls waiting in memory past it (default 64MiB)", .collect),
        ]),
        Group(title: "Redis (unset: the latest snapshot stays in process)", entries: [
            entry("REDIS_URL", "redis://[[user]:password@]host[:port][/db], instead of the four below"),
            entry("REDIS_HOST", "its host"),
            entry("REDIS_PORT", "its port (default 6379)"),
            entry("REDIS_PASSWORD", "its AUTH password"),
            entry("REDIS_KEY", "key of the latest snapshot (default mediamtx:streams:latest)"),
            entry("REDIS_CHANNEL", "channel of each snapshot (default mediamtx:streams:updates)"),
        ]),
        Group(title: "HTTP API and dashboard", entries: [
            entry("MTXMON_LISTEN", "host:port (--listen; default 127.0.0.1:9990)", .serve),
            entry("MTXMON_API_TOKEN", "bearer token every endpoint but /healthz and /readyz needs", .serve),
            entry("MTXMON_CORS_ORIGINS", "origins whose pages may call the API, comma-separated", .serve),
            entry("MTXMON_METRICS_MAX_SERIES", "most stream series one /metrics scrape writes (default 20000; 0: none)",
                  .serve),
            entry("MTXMON_HTTP_MAX_HEAD", "request line and headers (default 32KiB)", .serve),
            entry("MTXMON_HTTP_MAX_HEADERS", "header fields (default 100)", .serve),
            entry("MTXMON_HTTP_MAX_BODY", "request body (default 64KiB)", .serve),
            entry("MTXMON_HTTP_READ_TIMEOUT", "time to send a whole request (default 10s)", .serve),
            entry("MTXMON_HTTP_IDLE_TIMEOUT", "how long a kept-alive connection may idle (default 60s)", .serve),
        ]),
        Group(title: "Events, webhooks and mail", entries: [
            entry("MTXMON_WEBHOOK_URL", "receivers of incidents, comma-separated; slack+ or ntfy+ before a URL "
                + "picks that format", .collect),
            entry("MTXMON_WEBHOOK_MIN_SEVERITY", "lowest severity sent: info, warning or critical (default warning)",
                  .collect),
            entry("MTXMON_WEBHOOK_SECRET", "signs each request (X-Mtxmon-Signature)", .collect),
            entry("MTXMON_SMTP_URL", "incidents by mail: smtp://[user:password@]host:587 or smtps://host:465",
                  .collect),
            entry("MTXMON_SMTP_FROM", "the sender", .collect),
            entry("MTXMON_SMTP_TO", "the recipients, comma-separated", .collect),
            entry("MTXMON_SMTP_STARTTLS", "1 or 0 (default 1 on smtp:// except to a relay on loopback)", .collect),
            entry("MTXMON_SMTP_CA_FILE", "CA certificates the mail server's is checked against", .collect),
            entry("MTXMON_ALERT_OFFLINE_PATHS", "name patterns whose going offline opens an incident "
                + "(default *; none)", .collect),
            entry("MTXMON_BITRATE_DROP", "share of its recent median a path's bitrate falls under to count as "
                + "dropped (0-0.95, 0: off; default 0.5)", .collect),
            entry("MTXMON_BITRATE_DROP_PATHS", "per name pattern, e.g. live/*=0.3,backup/*=0", .collect),
            entry("MTXMON_BITRATE_HOLD", "how long a drop must hold before it is told (default 10s)", .collect),
            entry("MTXMON_HEALTH_LOSS", "% of RTP packets lost at which a stream is degraded (default 1)",
                  .collect),
            entry("MTXMON_HEALTH_LOSS_PATHS", "per name pattern, e.g. wifi/*=3,lab/*=0", .collect),
            entry("MTXMON_HEALTH_WINDOW", "window stream health takes its rates over (default 10s)", .collect),
        ]),
        Group(title: "Process", entries: [
            entry("MTXMON_LOG_LEVEL", "trace, debug, info, notice, warning, error or critical (--log-level; "
                + "default info)"),
            entry("MALLOC_ARENA_MAX", "glibc's malloc arenas (default here 2)"),
            entry("NOTIFY_SOCKET", "set by systemd: readiness is told there"),
            entry("JOURNAL_STREAM", "set by systemd: log lines carry the journal's priorities"),
        ]),
    ]

    /// Every name, whichever command reads it.
    public static var names: [String] { groups.flatMap { $0.entries.map(\.name) } }

    /// The help's list for `commands`: a section per group, a name and its text a line each (text
    /// wrapped under itself), no line past `width`, so ArgumentParser's own wrapping leaves it alone.
    public static func text(for commands: Commands, width: Int = 78) -> String {
        var lines = ["Environment (a flag given wins over its variable):"]
        let nameWidth = groups.flatMap(\.entries).map(\.name.count).max() ?? 0
        let indent = String(repeating: " ", count: 2 + nameWidth + 2)
        for group in groups {
            let entries = group.entries.filter { !$0.commands.isDisjoint(with: commands) }
            guard !entries.isEmpty else { continue }
            lines.append("")
            lines.append(group.title)
            for entry in entries {
                let head = "  " + entry.name + String(repeating: " ", count: nameWidth - entry.name.count + 2)
                for (i, part) in wrap(entry.text, width - indent.count).enumerated() {
                    lines.append((i == 0 ? head : indent) + part)
                }
            }
        }
        return lines.joined(separator: "\n")
    }

    static func wrap(_ text: String, _ width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty, line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }
}
