import ArgumentParser
import Collector
import Foundation
import MTXMonApp
import MTXMonCore

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the HTTP API alone, reading the snapshot from Redis and history from the SQLite file "
            + "or PostgreSQL database that separate `mtxmon collect` processes write.",
        discussion: SettingsHelp.text(for: .serve))

    @OptionGroup var options: CommonOptions
    @OptionGroup var address: ListenOption

    func run() async throws {
        let (settings, logger, registry, store) = try await options.start(label: "mtxmon.serve", listen: address.listen)
        let hub = App.makeHub(settings, feed: App.makeRemoteFeed(settings, store: store, logger: logger), logger: logger)
        var environment = App.apiEnvironment(settings, cache: App.makeCache(settings), store: store,
                                             registry: registry, status: nil, live: hub)
        // A node of a shared history that was named no server lists the servers the history has,
        // not the `default` one assumed for a single-server install.
        if !settings.serversGiven { environment.serverURLs = [:] }
        logger.info("serving", metadata: ["listen": "\(settings.listen)", "history": "\(store.location)"])
        let notify = SystemdNotify(environment: ProcessInfo.processInfo.environment)
        let server = App.makeServer(environment, settings: settings, logger: logger) {
            notify.ready(status: "serving on \(settings.listen)")
        }
        try await listening(on: settings.listen) {
            try await App.run([server, SystemdNotifier(notify)], logger: logger)
        }
    }
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Collect and serve in one process: the usual way to run mtxmon. Without REDIS_HOST the latest "
            + "snapshot stays in process.",
        discussion: SettingsHelp.text(for: .run))

    @OptionGroup var options: CommonOptions
    @OptionGroup var address: ListenOption

    func run() async throws {
        let (settings, logger, registry, store) = try await options.start(label: "mtxmon.run", listen: address.listen)
        let compactor = App.makeCompactor(settings, store: store, logger: logger)
        let (cache, feed) = App.makeCacheAndLocalFeed(settings)
        let status = CollectorStatus()
        var collector = App.makeCollector(settings, cache: cache, store: store, status: status, logger: logger)
        let lease = App.makeLeadership(settings, store: store, collector: &collector, logger: logger)
        var environment = App.apiEnvironment(settings, cache: cache, store: store, registry: registry, status: status,
                                             live: App.makeHub(settings, feed: feed, logger: logger))
        let receivers = WebhookStatus(entries: settings.events.receiverEntries)
        environment.webhookStatus = receivers
        logger.info("serving", metadata: ["listen": "\(settings.listen)", "history": "\(store.location)",
                                          "cache": "\(cache.label)"])
        let notify = SystemdNotify(environment: ProcessInfo.processInfo.environment)
        let server = App.makeServer(environment, settings: settings, logger: logger) {
            notify.ready(status: "collecting from \(settings.mediaMTX.baseURL), serving on \(settings.listen)")
        }
        let webhooks = App.makeWebhooks(settings, store: store, logger: logger, status: receivers)
        // Stopped from the last: systemd hears of it, the collector stops polling, then the rest.
        try await listening(on: settings.listen) {
            try await App.run((lease.map { [$0] } ?? []) + [server] + (webhooks.map { [$0] } ?? [])
                                  + [compactor, collector, SystemdNotifier(notify)], logger: logger)
        }
    }
}

/// Runs `body`, whose HTTP server listens on `address`; a failure to listen comes out naming the
/// address and the setting to change, not as the socket call's errno.
func listening(on address: HostPort, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch {
        throw ListenFailure(error, address: "\(address)", setting: "MTXMON_LISTEN (or --listen)") ?? error
    }
}
