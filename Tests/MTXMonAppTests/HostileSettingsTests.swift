import Foundation
import MediaMTXClient
import MTXMonApp
import MTXMonCore
import SnapshotCache
import Testing

/// Credentials where URLs go are used and taken out; limits and REDIS_URL are read or refused by name.
@Suite struct HostileSettingsTests {
    static let secret = "Pl4nted-Secr3t-7q"

    @Test func userinfoInAServerURLIsBasicAuthAndLeavesTheURL() throws {
        let settings = try Settings.load(environment: [
            "MTXMON_SERVERS": "edge=http://mtx:\(Self.secret)@10.0.0.5:9997,plain=http://10.0.0.6:9997",
        ])
        let edge = try #require(settings.servers.first { $0.name == "edge" })
        #expect(edge.endpoint.baseURL == "http://10.0.0.5:9997")
        #expect(edge.endpoint.credentials == .basic(user: "mtx", password: Self.secret))
        #expect(settings.servers.first { $0.name == "plain" }?.endpoint.credentials == nil)
        let single = try Settings.load(environment: ["MEDIA_MTX_API_URL": "http://u:p%40ss@h:9997"])
        #expect(single.mediaMTX.baseURL == "http://h:9997")
        #expect(single.mediaMTX.credentials == .basic(user: "u", password: "p@ss"))
    }

    @Test(arguments: [
        ["MTXMON_SERVERS": "edge=http://u:\(secret)@127.0.0.1:notaport"],
        ["MTXMON_SERVERS": "edge=http://u:\(secret)@h:1,edge=http://x:\(secret)@h:2"],
        ["MEDIA_MTX_API_URL": "ftp://u:\(secret)@host/"],
        ["MTXMON_WEBHOOK_URL": "ftp://hook:\(secret)@h/x"],
        ["REDIS_URL": "redis://:\(secret)@h:port/2"],
        ["REDIS_URL": "rediss://:\(secret)@h:1"],
    ])
    func refusedSettingsAreNamedWithoutTheirSecret(_ environment: [String: String]) {
        #expect {
            try Settings.load(environment: environment)
        } throws: { error in
            let text = "\(error)"
            return !text.contains(Self.secret) && environment.keys.allSatisfy(text.contains)
        }
    }

    @Test func redisURLIsReadWholeOrRefusedByName() throws {
        let settings = try Settings.load(environment: ["REDIS_URL": "redis://app:pw@10.1.2.3:6380/2"])
        let redis = try #require(settings.redis)
        #expect(redis.host == "10.1.2.3")
        #expect(redis.port == 6380)
        #expect(redis.username == "app")
        #expect(redis.password == "pw")
        #expect(redis.database == 2)
        #expect(try Settings.load(environment: ["REDIS_URL": "redis://[::1]"]).redis?.host == "::1")
        for bad in ["nonsense", "redis://", "redis://h:0", "redis://h/x", "redis://h?db=1", "unix:///tmp/r.sock"] {
            #expect(throws: SettingsError.self, "\(bad)") { try Settings.load(environment: ["REDIS_URL": bad]) }
        }
        #expect {
            try Settings.load(environment: ["REDIS_URL": "redis://h", "REDIS_HOST": "h"])
        } throws: { "\($0)".contains("REDIS_URL and REDIS_HOST") }
    }

    @Test func httpLimitsAndTheHoldAreSettings() throws {
        let settings = try Settings.load(environment: [
            "MTXMON_HTTP_MAX_HEAD": "16KiB", "MTXMON_HTTP_MAX_HEADERS": "50", "MTXMON_HTTP_MAX_BODY": "1024",
            "MTXMON_HTTP_READ_TIMEOUT": "5s", "MTXMON_HTTP_IDLE_TIMEOUT": "2m", "MTXMON_DB": "/var/lib/m/h.sqlite",
            "MTXMON_HOLD_RESERVE": "8MiB", "MTXMON_HOLD_MEMORY": "16MiB",
        ])
        #expect(settings.httpLimits.maxHeadBytes == 16_384)
        #expect(settings.httpLimits.maxHeaders == 50)
        #expect(settings.httpLimits.maxBodyBytes == 1_024)
        #expect(settings.httpLimits.readTimeout == .seconds(5))
        #expect(settings.httpLimits.idleTimeout == .seconds(120))
        #expect(settings.hold.path == "/var/lib/m/h.sqlite.hold")
        #expect(settings.hold.reserve == 8 << 20)
        #expect(settings.hold.maxMemory == 16 << 20)
        #expect(try Settings.load(environment: ["MTXMON_HOLD_FILE": "off"]).hold.path == nil)
        #expect {
            try Settings.load(environment: ["MTXMON_HTTP_MAX_HEAD": "huge", "MTXMON_HOLD_MAX": "2MiB",
                                            "MTXMON_HOLD_RESERVE": "8MiB", "MTXMON_HTTP_IDLE_TIMEOUT": "never"])
        } throws: { error in
            ["MTXMON_HTTP_MAX_HEAD", "MTXMON_HOLD_RESERVE", "MTXMON_HTTP_IDLE_TIMEOUT"].allSatisfy("\(error)".contains)
        }
    }

    @Test func theServersFileAloneIsAFleet() throws {
        let settings = try Settings.load(
            environment: ["MTXMON_SERVERS_FILE": "/etc/mtxmon/servers.yml"],
            readFile: { _ in "servers:\n  - name: a\n    url: http://10.0.0.5:9997\n    pass: x\n    user: u\n" })
        #expect(settings.servers.map(\.name) == ["a"])
    }

    @Test func everySecretGivenIsMaskedInLogLines() throws {
        _ = try Settings.load(environment: [
            "MTXMON_SERVERS": "edge=http://mtx:\(Self.secret)@10.0.0.5:9997",
            "REDIS_URL": "redis://:redis-secret-9@h:6379", "MTXMON_API_TOKEN": "tok-secret-1",
            "MTXMON_WEBHOOK_URL": "https://hooks.example/x?token=hook-secret-5",
        ])
        let basic = MediaMTXEndpoint.basicToken(user: "mtx", password: Self.secret)
        let line = "a \(Self.secret) b redis-secret-9 c tok-secret-1 d hook-secret-5 e \(basic)"
        let scrubbed = Secrets.scrub(line)
        for secret in [Self.secret, "redis-secret-9", "tok-secret-1", "hook-secret-5", basic] {
            #expect(!scrubbed.contains(secret))
        }
        #expect(scrubbed.hasPrefix("a *** b"))
    }
}
