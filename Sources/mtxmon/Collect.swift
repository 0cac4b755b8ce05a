import ArgumentParser
import Collector
import Foundation
import MTXMonApp
import MTXMonCore

struct Collect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Poll MediaMTX every interval; write history to SQLite and the latest snapshot to the cache.",
        discussion: SettingsHelp.text(for: .collect))

    @OptionGroup var options: CommonOptions

    func run() async throws {
        let (settings, logger, _, store) = try await options.start(label: "mtxmon.collect")
        var collector = App.makeCollector(settings, cache: App.makeCache(settings), store: store,
                                          status: CollectorStatus(), logger: logger)
        let lease = App.makeLeadership(settings, store: store, collector: &collector, logger: logger)
        // Ready for systemd once the settings hold and the history file is open: polling starts now.
        let notifier = SystemdNotifier(SystemdNotify(environment: ProcessInfo.processInfo.environment),
                                       readyOnStart: "collecting from \(settings.mediaMTX.baseURL)")
        let webhooks = App.makeWebhooks(settings, store: store, logger: logger)
        let compactor = App.makeCompactor(settings, store: store, logger: logger)
        // Stopped from the last: systemd hears of it, then the collector stops polling.
        // The lease is stopped last, after the last tick is written; then the standby takes over.
        try await App.run((lease.map { [$0] } ?? []) + (webhooks.map { [$0] } ?? []) + [compactor, collector, notifier],
                          logger: logger)
    }
}
