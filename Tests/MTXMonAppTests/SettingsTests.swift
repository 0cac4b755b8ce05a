import MediaMTXClient
import MTXMonApp
import SnapshotCache
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
