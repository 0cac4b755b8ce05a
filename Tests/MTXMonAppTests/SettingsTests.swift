import Foundation
import MediaMTXClient
import MTXMonApp
import SnapshotCache
import MTXMonCore
import Testing

@Suite struct SettingsTests {
    @Test func anEmptyEnvironmentGivesTheEmbeddedDefaults() throws {
        let settings = try Settings.load(environment: [:])
        #expect(settings.mediaMTX.baseURL == "http://localhost:9997")
        #expect(settings.interval == .seconds(2))
        #expect(settings.redis == nil, "no REDIS_HOST keeps the snapshot in process")
        #expect(settings.database == "./mtxmon.sqlite")
        #expect(settings.listen == HostPort(host: "127.0.0.1", port: 9990))
        #expect(settings.snapshotTTL == .seconds(10))
    }

    @Test func theCommandLineWinsOverTheEnvironment() throws {
        let settings = try Settings.load(
            environment: ["MTXMON_INTERVAL": "5s", "MEDIA_MTX_API_URL": "http://a:9997", "REDIS_HOST": "r",
                          "REDIS_PORT": "6380", "REDIS_KEY": "k"],
            overrides: SettingsOverrides(mediaMTXURL: "http://b:9997/", interval: "1s"))
        #expect(settings.interval == .seconds(1))
        #expect(settings.mediaMTX.baseURL == "http://b:9997")
        #expect(settings.redis?.port == 6380)
        #expect(settings.redis?.key == "k")
        #expect(settings.redis?.channel == "mediamtx:streams:updates")
    }

    @Test func everyBadValueIsNamedWithAnExampleAtOnce() {
        #expect {
            try Settings.load(environment: [
                "MTXMON_INTERVAL": "often", "REDIS_HOST": "r", "REDIS_PORT": "99999", "MEDIA_MTX_API_URL": "ftp://x",
                "MTXMON_LISTEN": "nowhere", "MTXMON_LOG_LEVEL": "loud", "MEDIA_MTX_API_PASS": "p",
            ])
        } throws: { error in
            let text = "\(error)"
            return ["MTXMON_INTERVAL", "REDIS_PORT", "MEDIA_MTX_API_URL", "MTXMON_LISTEN", "MTXMON_LOG_LEVEL",
                    "MEDIA_MTX_API_USER", "e.g."].allSatisfy(text.contains)
        }
    }

    @Test func credentialsBecomeBasicAuth() throws {
        let settings = try Settings.load(environment: ["MEDIA_MTX_API_USER": "u", "MEDIA_MTX_API_PASS": "p"])
        #expect(settings.mediaMTX.credentials == .basic(user: "u", password: "p"))
    }
}

/// `MTXMON_SERVERS` and `MTXMON_SERVERS_FILE`: a fleet, each server's credentials and interval,
/// and every bad entry named with the fix.
@Suite struct FleetSettingsTests {
    @Test func aSingleURLIsOneServerCalledDefault() throws {
        let settings = try Settings.load(environment: ["MEDIA_MTX_API_URL": "http://m:9997"])
        #expect(settings.servers.map(\.name) == ["default"])
        #expect(settings.servers.first?.endpoint.baseURL == "http://m:9997")
    }

    @Test func theListNamesEachServerAndSharesTheEnvironmentsCredentials() throws {
        let settings = try Settings.load(environment: [
            "MTXMON_SERVERS": " ingest=http://10.0.0.5:9997/ , edge-1=https://edge1:9997",
            "MEDIA_MTX_API_USER": "mtxmon", "MEDIA_MTX_API_PASS": "pw",
        ])
        #expect(settings.servers.map(\.name) == ["ingest", "edge-1"])
        #expect(settings.servers.map(\.endpoint.baseURL) == ["http://10.0.0.5:9997", "https://edge1:9997"])
        #expect(settings.servers.allSatisfy { $0.endpoint.credentials == .basic(user: "mtxmon", password: "pw") })
        #expect(settings.mediaMTX.baseURL == "http://10.0.0.5:9997")
    }

    @Test func theFileGivesCredentialsAndIntervalsAndAddsServers() throws {
        let file = """
            servers:
              - name: ingest
                token: abc
              - name: edge1
                url: https://edge1:9997
                user: viewer
                pass: secret
                interval: 10s
            """
        let settings = try Settings.load(
            environment: ["MTXMON_SERVERS": "ingest=http://10.0.0.5:9997", "MTXMON_SERVERS_FILE": "/etc/mtxmon/servers.yaml"],
            readFile: { path in
                #expect(path == "/etc/mtxmon/servers.yaml")
                return file
            })
        #expect(settings.servers.map(\.name) == ["ingest", "edge1"])
        #expect(settings.servers[0].endpoint.credentials == .bearer(token: "abc"))
        #expect(settings.servers[1].endpoint.credentials == .basic(user: "viewer", password: "secret"))
        #expect(settings.servers[1].interval == .seconds(10) && settings.servers[0].interval == nil)
    }

    @Test func everyBadEntryIsNamedWithTheFix() {
        #expect {
            try Settings.load(environment: [
                "MTXMON_SERVERS": "a=http://a:9997,a=http://b:9997,bad name=http://c:9997,d=ftp://d,e,,-x=http://x:1",
            ])
        } throws: { error in
            let text = "\(error)"
            return text.contains("names server 'a' twice") && text.contains("'bad name'")
                && text.contains("'ftp://d' is not an http(s) URL") && text.contains("entry 'e' is not name=url")
                && text.contains("an empty entry") && text.contains("must start with a letter or a digit")
        }
        #expect {
            try Settings.load(environment: ["MTXMON_SERVERS": "a=http://a:9997", "MEDIA_MTX_API_URL": "http://m:9997"])
        } throws: { "\($0)".contains("unset MEDIA_MTX_API_URL") }
        #expect {
            try Settings.load(environment: ["MTXMON_SERVERS_FILE": "/x.yaml"], readFile: { _ in "servers: [{url: 3}]" })
        } throws: { "\($0)".contains("/x.yaml") && "\($0)".contains("missing name") }
        #expect {
            try Settings.load(environment: ["MTXMON_SERVERS_FILE": "/x.yaml", "MTXMON_INTERVAL": "2s"], readFile: { _ in
                "servers:\n  - name: a\n    url: http://a:9997\n    interval: 3s\n  - name: b\n    token: t\n    user: u\n"
            })
        } throws: { error in
            "\(error)".contains("whole multiple of MTXMON_INTERVAL") && "\(error)".contains("server 'b' has no url")
        }
        #expect {
            try Settings.load(environment: ["MTXMON_SERVERS_FILE": "/missing.yaml"], readFile: { _ in
                throw CocoaError(.fileNoSuchFile)
            })
        } throws: { "\($0)".contains("MTXMON_SERVERS_FILE='/missing.yaml' cannot be read") }
    }
}

/// Webhooks and event rules: good values taken, bad ones named with the fix before anything starts.
@Suite struct EventSettingsTests {
    @Test func webhooksAndRules() throws {
        let settings = try Settings.load(environment: [
            "MTXMON_WEBHOOK_URL": "https://a.example/h, http://b.example:8080/x",
            "MTXMON_WEBHOOK_MIN_SEVERITY": "Critical", "MTXMON_WEBHOOK_SECRET": "s",
            "MTXMON_BITRATE_DROP": "0.4", "MTXMON_BITRATE_DROP_PATHS": "live/*=0.3,backup/*=0", "MTXMON_BITRATE_HOLD": "20s",
        ])
        #expect(settings.events.webhookURLs == ["https://a.example/h", "http://b.example:8080/x"])
        #expect(settings.events.minSeverity == .critical && settings.events.secret == "s")
        #expect(settings.events.rules.bitrate.dropShare == 0.4 && settings.events.rules.bitrate.holdMs == 20_000)
        #expect(settings.events.rules.bitrateRule(for: "backup/x") == nil)
        #expect(settings.events.rules.bitrateRule(for: "live/x")?.dropShare == 0.3)
        #expect(try Settings.load(environment: [:]).events.webhookURLs.isEmpty)
    }

    @Test func badValuesStopStartup() {
        #expect {
            try Settings.load(environment: [
                "MTXMON_WEBHOOK_URL": "ftp://x,https://ok.example/h", "MTXMON_WEBHOOK_MIN_SEVERITY": "loud",
                "MTXMON_BITRATE_DROP": "1.5", "MTXMON_BITRATE_DROP_PATHS": "live/*", "MTXMON_BITRATE_HOLD": "2h",
            ])
        } throws: { error in
            let text = "\(error)"
            return text.contains("'ftp://x' is not an http(s) URL") && text.contains("'loud' is not info, warning or critical")
                && text.contains("MTXMON_BITRATE_DROP='1.5'") && text.contains("'live/*' is not pattern=share")
                && text.contains("MTXMON_BITRATE_HOLD='2h' must be at most 1h")
        }
        #expect { try Settings.load(environment: ["MTXMON_WEBHOOK_SECRET": "s"]) } throws: {
            "\($0)".contains("without MTXMON_WEBHOOK_URL")
        }
    }

    @Test func receiverFormatsAndMail() throws {
        let settings = try Settings.load(environment: [
            "MTXMON_WEBHOOK_URL": "slack+https://hooks.slack.com/services/T/B/X,ntfy+https://u:p@ntfy.example/alerts",
            "MTXMON_SMTP_URL": "smtp://mailer:pw@mail.example.net:587", "MTXMON_SMTP_FROM": "mtxmon <mtxmon@example.net>",
            "MTXMON_SMTP_TO": "oncall@example.net, ops@example.net",
        ])
        #expect(settings.events.receiverEntries.map(WebhookTarget.key)
            == ["slack+https://hooks.slack.com/services/T/B/X", "ntfy+https://ntfy.example/alerts", "smtp://mail.example.net:587"])
        let mail = try #require(settings.events.mail)
        #expect(mail.to == ["oncall@example.net", "ops@example.net"] && mail.startTLS, "STARTTLS by default off loopback")
        #expect(try Settings.load(environment: ["MTXMON_SMTP_URL": "smtp://127.0.0.1:2525", "MTXMON_SMTP_FROM": "a@b.c",
                                                "MTXMON_SMTP_TO": "d@e.f"]).events.mail?.startTLS == false)
        #expect {
            try Settings.load(environment: ["MTXMON_SMTP_URL": "mail.example.net", "MTXMON_SMTP_TO": "nobody",
                                            "MTXMON_WEBHOOK_URL": "teams+https://x.example/h"])
        } throws: { error in
            let text = "\(error)"
            return text.contains("MTXMON_SMTP_URL='mail.example.net' is not an smtp:// or smtps:// URL")
                && text.contains("'teams+https://x.example/h' is not an http(s) URL with an optional format")
        }
        #expect {
            try Settings.load(environment: ["MTXMON_SMTP_URL": "smtp://m.example:25", "MTXMON_SMTP_TO": "nobody"])
        } throws: { error in
            "\(error)".contains("MTXMON_SMTP_FROM='' is not a mail address") && "\(error)".contains("MTXMON_SMTP_TO='nobody'")
        }
    }

    @Test func healthThresholdsAndTheirMistakes() throws {
        let health = try Settings.load(environment: [
            "MTXMON_HEALTH_LOSS": "2%", "MTXMON_HEALTH_LOSS_PATHS": "wifi/*=4, lab/*=0", "MTXMON_HEALTH_WINDOW": "20s",
        ]).events.health
        #expect(health.loss.degraded == 2 && health.loss.bad == 10 && health.windowMs == 20_000)
        #expect(health.loss(for: "wifi/cam")?.degraded == 4 && health.loss(for: "lab/x") == nil)
        #expect(try Settings.load(environment: [:]).events.health == HealthRules())
        #expect {
            try Settings.load(environment: [
                "MTXMON_HEALTH_LOSS": "lots", "MTXMON_HEALTH_LOSS_PATHS": "wifi/*", "MTXMON_HEALTH_WINDOW": "1s",
            ])
        } throws: { error in
            let text = "\(error)"
            return text.contains("MTXMON_HEALTH_LOSS='lots' must be the % of RTP packets lost")
                && text.contains("MTXMON_HEALTH_LOSS_PATHS entry 'wifi/*' is not pattern=percent")
                && text.contains("MTXMON_HEALTH_WINDOW='1s' must be from 2s to 10m")
        }
    }
}
